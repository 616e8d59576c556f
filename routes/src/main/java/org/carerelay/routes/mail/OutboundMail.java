package org.carerelay.routes.mail;

import java.util.List;
import java.util.Objects;

/**
 * A mail the gateway wants to send, before it is turned into RFC 822 bytes by {@link MailComposer}.
 *
 * @param kind        short tag such as {@code registration-code}; ends up in the header
 *                    {@value MailComposer#KIND_HEADER} and in outbox file names
 * @param to          recipient address (RFC 822 syntax, one or more comma separated)
 * @param subject     subject line, may contain umlauts
 * @param textBody    plain text body
 * @param attachments attachments, possibly empty
 */
public record OutboundMail(String kind, String to, String subject, String textBody, List<Attachment> attachments) {

    public OutboundMail {
        Objects.requireNonNull(kind, "kind");
        Objects.requireNonNull(to, "to");
        Objects.requireNonNull(subject, "subject");
        textBody = textBody == null ? "" : textBody;
        attachments = attachments == null ? List.of() : List.copyOf(attachments);
    }

    /** A mail without attachments. */
    public OutboundMail(String kind, String to, String subject, String textBody) {
        this(kind, to, subject, textBody, List.of());
    }

    /**
     * One attachment.
     *
     * @param fileName    file name shown to the recipient
     * @param contentType MIME type, e.g. {@code application/pdf}
     * @param content     raw bytes (transferred base64 encoded)
     */
    public record Attachment(String fileName, String contentType, byte[] content) {

        public Attachment {
            Objects.requireNonNull(fileName, "fileName");
            Objects.requireNonNull(contentType, "contentType");
            Objects.requireNonNull(content, "content");
        }
    }
}
