package org.carerelay.routes.mail;

import jakarta.mail.Message;
import jakarta.mail.Multipart;
import jakarta.mail.Part;
import jakarta.mail.internet.InternetAddress;
import jakarta.mail.internet.MimeMessage;
import org.junit.jupiter.api.Test;

import java.io.InputStream;
import java.nio.charset.StandardCharsets;
import java.util.List;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

class MailComposerTest {

    private final MailComposer composer = new MailComposer("CareRelay <noreply@carerelay.example>");

    @Test
    void composingAMail_findsTheMimeEncodersByName_notByAClassPathScanPerMail() {
        composer.toRfc822(new OutboundMail("notification", "praxis@example.org", "Neue Nachricht von Müller", "Guten Tag,\nÄrger.",
                List.of()));

        // FactoryFinder asks this property before it scans the class path (ServiceLoader) in every encode
        String pinned = System.getProperty(jakarta.mail.util.StreamProvider.class.getName());
        assertThat(pinned).isNotNull();
        assertThat(jakarta.mail.util.StreamProvider.provider().getClass().getName()).isEqualTo(pinned);
    }

    @Test
    void composedMailWithAttachment_parsesBackWithSameSubjectRecipientAndBytes() throws Exception {
        byte[] pdf = {0x25, 0x50, 0x44, 0x46, 0x00, (byte) 0xff, 0x10};
        OutboundMail mail = new OutboundMail("registration-code", "praxis@example.org",
                "Ihr Registrierungscode für Müller & Söhne – Größe ß", "Guten Tag,\nanbei der Brief.",
                List.of(new OutboundMail.Attachment("Registrierung.pdf", "application/pdf", pdf)));

        byte[] rfc822 = composer.toRfc822(mail);
        String raw = new String(rfc822, StandardCharsets.US_ASCII);
        MimeMessage parsed = MailComposer.parse(rfc822);

        assertThat(parsed.getSubject()).isEqualTo("Ihr Registrierungscode für Müller & Söhne – Größe ß");
        assertThat(raw).contains("Subject: =?UTF-8?");
        assertThat(parsed.getRecipients(Message.RecipientType.TO))
                .extracting(a -> ((InternetAddress) a).getAddress()).containsExactly("praxis@example.org");
        assertThat(((InternetAddress) parsed.getFrom()[0]).getAddress()).isEqualTo("noreply@carerelay.example");
        assertThat(parsed.getHeader(MailComposer.KIND_HEADER, null)).isEqualTo("registration-code");
        assertThat(parsed.getMessageID()).matches("<[0-9a-f-]{36}@carerelay\\.example>");
        assertThat(parsed.getSentDate()).isNotNull();

        Multipart multipart = (Multipart) parsed.getContent();
        assertThat(multipart.getCount()).isEqualTo(2);
        Part text = multipart.getBodyPart(0);
        assertThat(text.isMimeType("text/plain")).isTrue();
        assertThat(text.getContentType()).containsIgnoringCase("charset=UTF-8");
        assertThat(((String) text.getContent()).replace("\r\n", "\n")).isEqualTo("Guten Tag,\nanbei der Brief.");
        Part attachment = multipart.getBodyPart(1);
        assertThat(attachment.getFileName()).isEqualTo("Registrierung.pdf");
        assertThat(attachment.isMimeType("application/pdf")).isTrue();
        assertThat(attachment.getDisposition()).isEqualToIgnoringCase(Part.ATTACHMENT);
        assertThat(raw).containsIgnoringCase("Content-Transfer-Encoding: base64");
        try (InputStream in = attachment.getInputStream()) {
            assertThat(in.readAllBytes()).isEqualTo(pdf);
        }
    }

    @Test
    void mailWithoutAttachments_isSinglePartUtf8Text() throws Exception {
        byte[] rfc822 = composer.toRfc822(new OutboundMail("notice", "a@example.org", "Hinweis", "Grüße"));

        MimeMessage parsed = MailComposer.parse(rfc822);

        assertThat(parsed.isMimeType("text/plain")).isTrue();
        assertThat(parsed.getContent()).isEqualTo("Grüße");
    }

    @Test
    void invalidRecipient_isRejectedWithoutEchoingTheAddress() {
        OutboundMail mail = new OutboundMail("notice", "not an address@@", "Hinweis", "x");

        assertThatThrownBy(() -> composer.toRfc822(mail))
                .isInstanceOf(IllegalArgumentException.class)
                .hasMessageNotContaining("not an address");
    }
}
