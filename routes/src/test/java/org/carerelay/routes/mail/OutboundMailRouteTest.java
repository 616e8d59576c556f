package org.carerelay.routes.mail;

import com.icegreen.greenmail.configuration.GreenMailConfiguration;
import com.icegreen.greenmail.junit5.GreenMailExtension;
import com.icegreen.greenmail.util.ServerSetupTest;
import jakarta.mail.Message;
import jakarta.mail.Multipart;
import jakarta.mail.Part;
import jakarta.mail.internet.InternetAddress;
import jakarta.mail.internet.MimeMessage;
import org.apache.camel.CamelContext;
import org.apache.camel.Exchange;
import org.apache.camel.component.mail.MailEndpoint;
import org.apache.camel.component.mock.MockEndpoint;
import org.apache.camel.impl.DefaultCamelContext;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.RegisterExtension;
import org.junit.jupiter.api.io.TempDir;

import java.io.IOException;
import java.io.InputStream;
import java.net.ServerSocket;
import java.nio.file.FileSystems;
import java.nio.file.Files;
import java.nio.file.attribute.PosixFilePermissions;
import java.nio.file.Path;
import java.time.LocalDateTime;
import java.util.List;
import java.util.Properties;
import java.util.UUID;
import java.util.concurrent.TimeUnit;
import java.util.stream.Stream;

import static org.assertj.core.api.Assertions.assertThat;
import static org.junit.jupiter.api.Assumptions.assumeTrue;

class OutboundMailRouteTest {

    private static final String FROM_URI = "direct:mail";
    private static final String DEAD_LETTER_URI = "mock:dead";
    private static final RedeliveryPolicySettings FAST_RETRIES = new RedeliveryPolicySettings(2, 10, 2.0, 50);

    @RegisterExtension
    static final GreenMailExtension GREEN_MAIL = new GreenMailExtension(ServerSetupTest.SMTP.dynamicPort())
            .withConfiguration(GreenMailConfiguration.aConfig().withUser("relay@carerelay.example", "relay", "secret"));

    private final MailComposer composer = new MailComposer("CareRelay <noreply@carerelay.example>");
    private final byte[] attachmentBytes = {1, 2, 3, 4, (byte) 0xfe, 0};
    private CamelContext context;

    @AfterEach
    void stopContext() throws Exception {
        if (context != null) {
            context.close();
        }
    }

    @Test
    void smtpConfigured_mailArrivesAtServerWithAttachment() throws Exception {
        int port = GREEN_MAIL.getSmtp().getPort();
        start(new MailTransportSettings("localhost", port, "relay", "secret", false, false, null));

        byte[] rfc822 = registrationMail();
        String messageId = MailComposer.parse(rfc822).getMessageID();
        context.createProducerTemplate().sendBody(FROM_URI, rfc822);

        assertThat(GREEN_MAIL.waitForIncomingEmail(5_000, 1)).isTrue();
        MimeMessage received = GREEN_MAIL.getReceivedMessages()[0];
        assertThat(received.getSubject()).isEqualTo("Ihr Registrierungscode für CareRelay");
        assertThat(received.getMessageID()).isEqualTo(messageId);
        assertThat(((InternetAddress) received.getRecipients(Message.RecipientType.TO)[0]).getAddress())
                .isEqualTo("praxis@example.org");
        Part attachment = ((Multipart) received.getContent()).getBodyPart(1);
        assertThat(attachment.getFileName()).isEqualTo("Brief.pdf");
        try (InputStream in = attachment.getInputStream()) {
            assertThat(in.readAllBytes()).isEqualTo(attachmentBytes);
        }
        assertThat(context.getEndpoint(DEAD_LETTER_URI, MockEndpoint.class).getReceivedCounter()).isZero();
    }

    @Test
    void noSmtpHost_exactlyOneEmlFileAppearsInOutboxAndNoTempFileRemains(@TempDir Path tempDir) throws Exception {
        Path outbox = tempDir.resolve("mail outbox");
        start(MailTransportSettings.outboxOnly(outbox));

        byte[] rfc822 = registrationMail();
        context.createProducerTemplate().sendBody(FROM_URI, rfc822);

        List<Path> files;
        try (Stream<Path> listing = Files.list(outbox)) {
            files = listing.toList();
        }
        assertThat(files).hasSize(1);
        Path eml = files.get(0);
        assertThat(eml.getFileName().toString())
                .matches("\\d{8}-\\d{9}-registration-code-[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}\\.eml");
        assertThat(Files.readAllBytes(eml)).isEqualTo(rfc822);
        assertThat(MailComposer.parse(Files.readAllBytes(eml)).getSubject())
                .isEqualTo("Ihr Registrierungscode für CareRelay");
        assertThat(context.getEndpoint(DEAD_LETTER_URI, MockEndpoint.class).getReceivedCounter()).isZero();
    }

    @Test
    void outboxMailWithARegistrationCode_isReadableByTheOwnerOnly(@TempDir Path tempDir) throws Exception {
        assumeTrue(FileSystems.getDefault().supportedFileAttributeViews().contains("posix"));
        Path outbox = tempDir.resolve("outbox");
        start(MailTransportSettings.outboxOnly(outbox));

        context.createProducerTemplate().sendBody(FROM_URI, registrationMail());

        assertThat(PosixFilePermissions.toString(Files.getPosixFilePermissions(outbox))).isEqualTo("rwx------");
        try (Stream<Path> listing = Files.list(outbox)) {
            for (Path eml : listing.toList()) {
                assertThat(PosixFilePermissions.toString(Files.getPosixFilePermissions(eml))).as(eml.toString())
                        .isEqualTo("rw-------");
            }
        }
    }

    @Test
    void smtpServerDown_mailLandsUnchangedInDeadLetterAfterRedeliveries() throws Exception {
        start(new MailTransportSettings("localhost", unusedPort(), null, null, false, false, null));
        MockEndpoint dead = context.getEndpoint(DEAD_LETTER_URI, MockEndpoint.class);
        dead.expectedMessageCount(1);

        byte[] rfc822 = registrationMail();
        context.createProducerTemplate().sendBody(FROM_URI, rfc822);

        dead.assertIsSatisfied(5_000);
        Exchange deadLetter = dead.getReceivedExchanges().get(0);
        assertThat(deadLetter.getIn().getBody(byte[].class)).isEqualTo(rfc822);
        assertThat(deadLetter.getIn().getHeader(OutboundMailRoute.HEADER_ATTEMPTS, Integer.class))
                .isEqualTo(1 + FAST_RETRIES.maxRedeliveries());
        assertThat(deadLetter.getIn().getHeader(OutboundMailRoute.HEADER_FAILURE_CAUSE, String.class))
                .contains("MailConnectException");
        assertThat(deadLetter.getProperty(Exchange.EXCEPTION_CAUGHT, Throwable.class))
                .isInstanceOf(jakarta.mail.MessagingException.class);
    }

    @Test
    void startTlsAndCredentials_areSetOnEndpointNotInUri() throws Exception {
        start(new MailTransportSettings("mail.example.org", 587, "relay", "s3cr3t", true, false, null));

        MailEndpoint endpoint = context.getEndpoints().stream()
                .filter(MailEndpoint.class::isInstance).map(MailEndpoint.class::cast)
                .findFirst().orElseThrow();

        Properties props = endpoint.getConfiguration().getAdditionalJavaMailProperties();
        assertThat(props).containsEntry("mail.smtp.starttls.enable", "true")
                .containsEntry("mail.smtp.starttls.required", "true");
        assertThat(endpoint.getConfiguration().getUsername()).isEqualTo("relay");
        assertThat(endpoint.getConfiguration().getPassword()).isEqualTo("s3cr3t");
        assertThat(endpoint.getEndpointUri()).isEqualTo("smtp://mail.example.org:587").doesNotContain("s3cr3t");
        assertThat(context.getRoute(OutboundMailRoute.ROUTE_ID)).isNotNull();
    }

    @Test
    void sslOnConnect_usesSmtpsEndpoint() throws Exception {
        start(new MailTransportSettings("mail.example.org", 465, null, null, true, true, null));

        assertThat(context.getEndpoints()).anySatisfy(e -> assertThat(e.getEndpointUri()).isEqualTo("smtps://mail.example.org:465"));
    }

    @Test
    void kindWithOddCharacters_isSanitisedForFileNames() {
        assertThat(OutboundMailRoute.sanitiseKind("Registration Code!")).isEqualTo("registration-code");
        assertThat(OutboundMailRoute.sanitiseKind("../../etc/passwd")).isEqualTo("etc-passwd");
        assertThat(OutboundMailRoute.sanitiseKind("Ärger")).isEqualTo("rger");
        assertThat(OutboundMailRoute.sanitiseKind(null)).isEqualTo("mail");
        assertThat(OutboundMailRoute.sanitiseKind("  ")).isEqualTo("mail");
        assertThat(OutboundMailRoute.outboxFileName(LocalDateTime.of(2025, 3, 7, 9, 5, 1, 42_000_000), "notice",
                UUID.fromString("00000000-0000-0000-0000-000000000001")))
                .isEqualTo("20250307-090501042-notice-00000000-0000-0000-0000-000000000001.eml");
    }

    @Test
    void settingsToString_neverShowsPassword() {
        assertThat(new MailTransportSettings("h", 25, "u", "s3cr3t", false, false, null).toString())
                .doesNotContain("s3cr3t");
    }

    private void start(MailTransportSettings settings) throws Exception {
        context = new DefaultCamelContext();
        context.addRoutes(new OutboundMailRoute(FROM_URI, settings, DEAD_LETTER_URI, FAST_RETRIES));
        context.start();
    }

    private byte[] registrationMail() {
        return composer.toRfc822(new OutboundMail("registration-code", "praxis@example.org",
                "Ihr Registrierungscode für CareRelay", "Guten Tag,\nanbei Ihr Brief.",
                List.of(new OutboundMail.Attachment("Brief.pdf", "application/pdf", attachmentBytes))));
    }

    private static int unusedPort() throws IOException {
        try (ServerSocket socket = new ServerSocket(0)) {
            return socket.getLocalPort();
        }
    }
}
