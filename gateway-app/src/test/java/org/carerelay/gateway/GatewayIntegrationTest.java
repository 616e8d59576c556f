package org.carerelay.gateway;

import ca.uhn.fhir.context.FhirContext;
import ca.uhn.fhir.rest.client.api.IGenericClient;
import ca.uhn.fhir.rest.client.api.ServerValidationModeEnum;
import ca.uhn.fhir.rest.client.interceptor.BearerTokenAuthInterceptor;
import ca.uhn.fhir.rest.server.exceptions.BaseServerResponseException;
import com.icegreen.greenmail.util.GreenMail;
import com.icegreen.greenmail.util.ServerSetup;
import jakarta.mail.internet.MimeMessage;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.file.Path;
import java.time.Duration;
import java.util.Arrays;
import java.util.List;
import java.util.UUID;
import org.carerelay.fhir.ErrorCode;
import org.carerelay.fhir.OperationOutcomes;
import org.hl7.fhir.r4.model.OperationOutcome;
import org.springframework.boot.test.context.SpringBootTest;
import org.springframework.boot.test.web.server.LocalServerPort;
import org.springframework.test.context.DynamicPropertyRegistry;
import org.springframework.test.context.DynamicPropertySource;

/**
 * Base of the integration tests: one gateway per test JVM on embedded PostgreSQL and embedded
 * Artemis, SMTP into GreenMail, driven over real HTTP. All tests share the context (Spring caches
 * it), so each test creates its own organisations instead of relying on global state.
 */
@SpringBootTest(webEnvironment = SpringBootTest.WebEnvironment.RANDOM_PORT)
public abstract class GatewayIntegrationTest {

    protected static final String ADMIN_TOKEN = "test-admin-token-0123456789abcdef";
    protected static final String FAX_DOMAIN = "fax.test.example";
    protected static final FhirContext FHIR = FhirContext.forR4Cached();
    protected static final GreenMail GREEN_MAIL;
    private static final Path DATA_DIR = Path.of("target", "it-data", UUID.randomUUID().toString());
    /** The gateway's MLLP listener port in tests. */
    protected static final int HL7_PORT = TestPorts.free();
    /**
     * The MLLP listener with mutual TLS, on in every integration test: all test classes share one
     * context (a second one would start a second embedded PostgreSQL and Artemis on the same data
     * directory). Its server key and CA are made by {@link TestPki} before the context starts.
     */
    protected static final int HL7_TLS_PORT = TestPorts.free();
    protected static final TestPki PKI = TestPki.create(Path.of("target", "it-pki", UUID.randomUUID().toString()), "CareRelay Test CA");


    static {
        GREEN_MAIL = new GreenMail(new ServerSetup(0, "127.0.0.1", ServerSetup.PROTOCOL_SMTP));
        GREEN_MAIL.start();
        FHIR.getRestfulClientFactory().setServerValidationMode(ServerValidationModeEnum.NEVER);
        FHIR.getRestfulClientFactory().setSocketTimeout(60_000);
    }

    @DynamicPropertySource
    static void gatewayProperties(DynamicPropertyRegistry registry) {
        registry.add("carerelay.data-dir", () -> DATA_DIR.toString());
        registry.add("carerelay.db.embedded-durable", () -> false); // speed; the crash test runs durable
        registry.add("carerelay.security.admin-token", () -> ADMIN_TOKEN);
        registry.add("carerelay.mail.smtp.host", () -> "127.0.0.1");
        registry.add("carerelay.mail.smtp.port", () -> GREEN_MAIL.getSmtp().getPort());
        registry.add("carerelay.mail.smtp.starttls", () -> false);
        registry.add("carerelay.mail.from", () -> "carerelay@test.example");
        registry.add("carerelay.fax.domain", () -> FAX_DOMAIN);
        registry.add("carerelay.security.auth-failure-limit", () -> 10_000);
        registry.add("carerelay.registration.max-code-requests-per-day", () -> 3);
        // every test registers from 127.0.0.1; limit tests use their own forwarded addresses
        registry.add("carerelay.registration.max-code-requests-per-address", () -> 100_000);
        registry.add("carerelay.registration.max-code-attempts-per-address", () -> 100_000);
        // forwarded headers switched on as in production; only 127.0.0.2 is a trusted proxy
        registry.add("server.forward-headers-strategy", () -> "native");
        registry.add("carerelay.security.trusted-proxies", () -> "127.0.0.2");
        registry.add("carerelay.security.max-token-age", () -> "90d");
        registry.add("carerelay.fhir.max-request-bytes", () -> 1_048_576);
        registry.add("carerelay.attachments.max-bytes", () -> 524_288);
        registry.add("carerelay.pipeline.redelivery-delay", () -> "200ms");
        registry.add("carerelay.pipeline.redelivery-multiplier", () -> "1.5");
        registry.add("carerelay.pipeline.max-redelivery-delay", () -> "1s");
        registry.add("carerelay.pipeline.max-attempts", () -> 4);
        registry.add("carerelay.pipeline.connect-timeout", () -> "1s");
        registry.add("carerelay.pipeline.response-timeout", () -> "2s");
        registry.add("carerelay.pipeline.sweep-interval", () -> "1s");
        registry.add("carerelay.metrics.sample-interval", () -> "500ms");
        registry.add("carerelay.egress.allowed", () -> "127.0.0.0/8"); // fake partner systems run on loopback
        registry.add("carerelay.hl7.host", () -> "127.0.0.1");
        registry.add("carerelay.hl7.port", () -> HL7_PORT);
        registry.add("carerelay.hl7.read-timeout", () -> "2s");
        registry.add("carerelay.hl7.receive-timeout", () -> "10s");
        registry.add("carerelay.hl7.sender-charsets.CS15SENDER", () -> "ISO-8859-15");
        registry.add("carerelay.hl7.trust-loopback", () -> false); // senders must be allow-listed, as in production
        registry.add("carerelay.hl7.tls.enabled", () -> true);
        registry.add("carerelay.hl7.tls.port", () -> HL7_TLS_PORT);
        registry.add("carerelay.hl7.tls.keystore", () -> PKI.serverKeystore().toString());
        registry.add("carerelay.hl7.tls.keystore-password", () -> TestPki.PASSWORD);
        registry.add("carerelay.hl7.tls.truststore", () -> PKI.truststore().toString());
        registry.add("carerelay.hl7.tls.truststore-password", () -> TestPki.PASSWORD);
    }

    @LocalServerPort
    protected int port;

    protected String baseUrl() {
        return "http://127.0.0.1:" + port + "/fhir";
    }

    /** The web inbox's base (the server root). */
    public String webUrl() {
        return "http://127.0.0.1:" + port;
    }

    protected IGenericClient client(String token) {
        IGenericClient client = FHIR.newRestfulGenericClient(baseUrl());
        if (token != null) {
            client.registerInterceptor(new BearerTokenAuthInterceptor(token));
        }
        return client;
    }

    protected IGenericClient admin() {
        return client(ADMIN_TOKEN);
    }

    protected IGenericClient anonymous() {
        return client(null);
    }

    protected static ErrorCode errorCodeOf(BaseServerResponseException e) {
        return OperationOutcomes.codeOf((OperationOutcome) e.getOperationOutcome());
    }

    protected static List<MimeMessage> mailsTo(String address) {
        return Arrays.stream(GREEN_MAIL.getReceivedMessages()).filter(m -> {
            try {
                return Arrays.stream(m.getAllRecipients()).anyMatch(a -> a.toString().equalsIgnoreCase(address));
            } catch (Exception e) {
                return false;
            }
        }).toList();
    }

    protected HttpResponse<String> http(String method, String path, String token, String contentType, byte[] body)
            throws Exception {
        HttpRequest.Builder builder = HttpRequest.newBuilder(URI.create("http://127.0.0.1:" + port + path))
                .timeout(Duration.ofSeconds(60))
                .method(method, body == null ? HttpRequest.BodyPublishers.noBody() : HttpRequest.BodyPublishers.ofByteArray(body));
        if (token != null) {
            builder.header("Authorization", "Bearer " + token);
        }
        if (contentType != null) {
            builder.header("Content-Type", contentType);
        }
        if (path.startsWith("/fhir")) {
            builder.header("Accept", "application/fhir+json");
        }
        return HttpClient.newHttpClient().send(builder.build(), HttpResponse.BodyHandlers.ofString());
    }

    protected static String unique(String prefix) {
        return prefix + "-" + UUID.randomUUID().toString().substring(0, 8);
    }
}
