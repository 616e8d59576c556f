package org.carerelay.gateway.config;

import java.nio.file.Path;
import java.time.Duration;
import java.util.List;
import java.util.Map;
import org.springframework.boot.context.properties.ConfigurationProperties;

/**
 * Every {@code carerelay.*} setting. Defaults live in the bundled {@code application.yml}; the
 * README's configuration reference lists them with their environment variable names.
 */
@ConfigurationProperties("carerelay")
public record CareRelayProperties(
        Path dataDir,
        Db db,
        Broker broker,
        Queue queue,
        Mail mail,
        Fax fax,
        Security security,
        Registration registration,
        Fhir fhir,
        Directory directory,
        Operator operator,
        Crypto crypto,
        Attachments attachments,
        Pipeline pipeline,
        Invitation invitation,
        Notification notification,
        Hl7 hl7) {

    /**
     * {@code embeddedDurable}: fsync and synchronous commit on for the embedded server (default).
     * {@code connectionTimeout}: how long a request waits for a database connection before it is
     * answered {@code 503} (default 5 s).
     */
    public record Db(String url, String user, String password, boolean embeddedDurable, Duration connectionTimeout) {
        public static final Duration DEFAULT_CONNECTION_TIMEOUT = Duration.ofSeconds(5);

        public boolean external() {
            return url != null && !url.isBlank();
        }

        public Duration connectionTimeoutOrDefault() {
            return connectionTimeout == null || connectionTimeout.isZero() || connectionTimeout.isNegative()
                    ? DEFAULT_CONNECTION_TIMEOUT : connectionTimeout;
        }
    }

    public record Broker(String url, String user, String password) {
    }

    public record Queue(String mail) {
    }

    /**
     * {@code consumers}: how many mails of the mail queue are sent at once per node, each over its own
     * SMTP connection (default 4; less than 1 counts as 1). One mail mostly waits for the SMTP server's
     * answers, so a single consumer sends only as many mails per second as round trips allow.
     */
    public record Mail(String from, Smtp smtp, int consumers) {

        public int effectiveConsumers() {
            return Math.max(1, consumers);
        }

        public record Smtp(String host, int port, String username, String password, boolean starttls, boolean ssl) {
        }
    }

    public record Fax(String domain) {
    }

    /**
     * {@code trustedProxies}: addresses or CIDR ranges of reverse proxies whose
     * {@code X-Forwarded-For}/{@code X-Forwarded-Proto} are believed (empty: none, the peer's
     * address is the client's). {@code maxTokenAge}: participant tokens older than this are refused
     * ({@code 0} = never expire); {@code tokenExpiryWarning}: how long before that responses carry a
     * {@code Warning}. {@code messageRateLimit} messages per organisation and
     * {@code messageRateWindow} ({@code 0} = no limit).
     */
    public record Security(String adminToken, int authFailureLimit, Duration authFailureWindow,
            List<String> trustedProxies, Duration maxTokenAge, Duration tokenExpiryWarning,
            int messageRateLimit, Duration messageRateWindow) {
    }

    /**
     * {@code maxCodeAttempts}: wrong entries of one code (from all addresses) before it is void (0: never);
     * {@code maxCodeAttemptsPerAddress} / {@code maxCodeRequestsPerAddress}: code entries and code
     * requests per client address and day; {@code codeResendAfter}: a pending code younger than
     * this is not replaced or sent again.
     */
    public record Registration(Duration codeTtl, int maxCodeAttempts, int maxCodeRequestsPerDay,
            int maxCodeAttemptsPerAddress, int maxCodeRequestsPerAddress, Duration codeResendAfter) {
    }

    public record Fhir(long maxRequestBytes, String publicBaseUrl) {
    }

    public record Directory(String demoFile, boolean loadDemo) {
    }

    public record Operator(String name, String address) {
    }

    /**
     * Routing pipeline: queue names, broker redelivery with exponential backoff, delivery timeouts.
     * {@code deliveryConsumers}: consumers of each delivery queue, {@code 0} = sized to the machine
     * ({@link #effectiveDeliveryConsumers()}); {@code mllpMaxConnections}, {@code mllpIdleTimeout}:
     * the kept-alive MLLP connections per recipient.
     */
    public record Pipeline(String queuePrefix, int concurrentConsumers, Duration redeliveryDelay,
            double redeliveryMultiplier, Duration maxRedeliveryDelay, int maxAttempts, Duration sweepInterval,
            Duration connectTimeout, Duration responseTimeout, int deliveryConsumers, int mllpMaxConnections,
            Duration mllpIdleTimeout) {

        /**
         * The configured number, else four per processor (a delivery mostly waits for the partner's
         * answer), at least 4 and at most 16 (the database pool has 20 connections).
         */
        public int effectiveDeliveryConsumers() {
            return deliveryConsumers > 0 ? deliveryConsumers
                    : Math.min(16, Math.max(4, 4 * Runtime.getRuntime().availableProcessors()));
        }
    }

    public record Invitation(Duration reminderAfter, int maxReminders, Duration reminderCheckInterval) {
    }

    /** Deprecated: the FHIR base in notification mails; see {@link PublicUrls}. */
    public record Notification(String baseUrl) {
    }

    /**
     * The HL7v2 MLLP listener for care software, and the optional second listener with mutual TLS.
     * {@code trustLoopback}: a loopback peer on the plain listener counts as authenticated for any
     * organisation (the embedded default only; off in the built-in defaults and in production).
     */
    public record Hl7(boolean enabled, String host, int port, int maxFrameBytes, Duration receiveTimeout,
            Duration readTimeout, Duration idleTimeout, int maxConnections, Duration duplicateRetention, Tls tls,
            Map<String, String> senderCharsets,
            boolean trustLoopback) {

        /**
         * MLLP over TLS with client certificates: {@code keystore} is a PKCS#12 file with the
         * server key and certificate, {@code truststore} a PKCS#12 or PEM file with the CA
         * certificates that issue the participants' client certificates.
         */
        public record Tls(boolean enabled, int port, String keystore, String keystorePassword, String truststore,
                String truststorePassword) {
        }
    }

    /**
     * {@code dataKey}: encrypts messages at rest. {@code keystore}/{@code keystorePassword}: the
     * PKCS#12 file with the CA, signing and storage keys for attachments; empty = created on first
     * start under {@code <data-dir>/keys}.
     */
    public record Crypto(String dataKey, String keystore, String keystorePassword) {
    }

    /** Upload limits for attachments (Binary) and consent documents. */
    public record Attachments(long maxBytes, List<String> allowedTypes) {
    }

    public Path outboxDir() {
        return dataDir.resolve("outbox");
    }
}
