package org.carerelay.routes.mail;

import jakarta.activation.DataHandler;
import jakarta.mail.MessagingException;
import jakarta.mail.Session;
import jakarta.mail.internet.AddressException;
import jakarta.mail.internet.InternetAddress;
import jakarta.mail.internet.MimeBodyPart;
import jakarta.mail.internet.MimeMessage;
import jakarta.mail.internet.MimeMultipart;
import jakarta.mail.util.ByteArrayDataSource;
import jakarta.mail.util.StreamProvider;
import java.util.ServiceConfigurationError;

import java.io.ByteArrayInputStream;
import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.util.Date;
import java.util.Locale;
import java.util.Objects;
import java.util.Properties;
import java.util.UUID;

/**
 * Turns an {@link OutboundMail} into RFC 822 bytes (and back). The bytes are what travels over the mail queue,
 * so the queue holds complete, self-describing mails.
 */
public final class MailComposer {

    /** Header carrying {@link OutboundMail#kind()}. */
    public static final String KIND_HEADER = "X-CareRelay-Kind";

    private static final String UTF_8 = StandardCharsets.UTF_8.name();

    static {
        pinStreamProvider();
    }

    private static final Session SESSION = Session.getInstance(new Properties());

    /**
     * Jakarta Mail API 2.1 looks its {@link StreamProvider} up anew in every
     * {@code MimeUtility.encode}/{@code decode} and {@code MimeBodyPart.writeTo}: a
     * {@link java.util.ServiceLoader} scan of the class path each time, most of the CPU a
     * notification cost. Its {@code FactoryFinder} asks the system property named after the
     * interface first; naming the implementation the scan found once turns every later lookup into
     * a class-name lookup. A value set by the operator (e.g. {@code -Djakarta.mail.util.StreamProvider=…})
     * is left as it is.
     */
    static void pinStreamProvider() {
        String key = StreamProvider.class.getName();
        try {
            if (System.getProperty(key) == null) {
                System.setProperty(key, StreamProvider.provider().getClass().getName());
            }
        } catch (RuntimeException | ServiceConfigurationError e) {
            // not pinned: Jakarta Mail keeps looking the provider up itself (slower, still correct)
        }
    }

    private final InternetAddress from;
    private final String messageIdDomain;

    /**
     * @param fromAddress sender address, e.g. {@code CareRelay <noreply@example.org>}
     * @throws IllegalArgumentException if the address cannot be parsed
     */
    public MailComposer(String fromAddress) {
        Objects.requireNonNull(fromAddress, "fromAddress");
        try {
            this.from = new InternetAddress(fromAddress, true);
        } catch (AddressException e) {
            throw new IllegalArgumentException("invalid from address", e);
        }
        String address = from.getAddress();
        int at = address.lastIndexOf('@');
        this.messageIdDomain = at >= 0 && at < address.length() - 1
                ? address.substring(at + 1).toLowerCase(Locale.ROOT)
                : "carerelay.invalid";
    }

    /**
     * Builds the mail and returns its RFC 822 bytes.
     *
     * @throws IllegalArgumentException if the recipient address is invalid
     * @throws IllegalStateException    if the MIME structure cannot be written
     */
    public byte[] toRfc822(OutboundMail mail) {
        Objects.requireNonNull(mail, "mail");
        String messageId = "<" + UUID.randomUUID() + "@" + messageIdDomain + ">";
        try {
            MimeMessage message = new FixedIdMimeMessage(SESSION, messageId);
            message.setFrom(from);
            message.setRecipients(MimeMessage.RecipientType.TO, parseRecipients(mail.to()));
            message.setSubject(mail.subject(), UTF_8);
            message.setSentDate(new Date());
            message.setHeader(KIND_HEADER, mail.kind());

            if (mail.attachments().isEmpty()) {
                message.setText(mail.textBody(), UTF_8);
            } else {
                MimeMultipart multipart = new MimeMultipart("mixed");
                MimeBodyPart text = new MimeBodyPart();
                text.setText(mail.textBody(), UTF_8);
                multipart.addBodyPart(text);
                for (OutboundMail.Attachment attachment : mail.attachments()) {
                    multipart.addBodyPart(toBodyPart(attachment));
                }
                message.setContent(multipart);
            }
            message.saveChanges();

            ByteArrayOutputStream out = new ByteArrayOutputStream();
            message.writeTo(out);
            return out.toByteArray();
        } catch (MessagingException | IOException e) {
            throw new IllegalStateException("cannot compose mail of kind " + mail.kind(), e);
        }
    }

    /**
     * Parses RFC 822 bytes into a {@link MimeMessage} (bound to a session without properties).
     *
     * @throws IllegalArgumentException if the bytes cannot be parsed
     */
    public static MimeMessage parse(byte[] rfc822) {
        Objects.requireNonNull(rfc822, "rfc822");
        try {
            return new MimeMessage(SESSION, new ByteArrayInputStream(rfc822));
        } catch (MessagingException e) {
            throw new IllegalArgumentException("not an RFC 822 message", e);
        }
    }

    private static InternetAddress[] parseRecipients(String to) {
        try {
            InternetAddress[] addresses = InternetAddress.parse(to, true);
            if (addresses.length == 0) {
                throw new IllegalArgumentException("no recipient");
            }
            return addresses;
        } catch (AddressException e) {
            // the address itself is deliberately not part of the message (it may end up in logs)
            throw new IllegalArgumentException("invalid recipient address");
        }
    }

    private static MimeBodyPart toBodyPart(OutboundMail.Attachment attachment) throws MessagingException {
        MimeBodyPart part = new MimeBodyPart();
        part.setDataHandler(new DataHandler(new ByteArrayDataSource(attachment.content(), attachment.contentType())));
        part.setFileName(attachment.fileName());
        part.setDisposition(MimeBodyPart.ATTACHMENT);
        part.setHeader("Content-Transfer-Encoding", "base64");
        return part;
    }

    /** Keeps our own Message-ID instead of the one Jakarta Mail would derive from the local host name. */
    private static final class FixedIdMimeMessage extends MimeMessage {
        private final String messageId;

        FixedIdMimeMessage(Session session, String messageId) {
            super(session);
            this.messageId = messageId;
        }

        @Override
        protected void updateMessageID() throws MessagingException {
            setHeader("Message-ID", messageId);
        }
    }
}
