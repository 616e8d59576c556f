package org.carerelay.routes.mail;

import jakarta.mail.MessagingException;
import jakarta.mail.internet.MimeMessage;
import org.apache.camel.Exchange;
import org.apache.camel.LoggingLevel;
import org.apache.camel.builder.DeadLetterChannelBuilder;
import org.apache.camel.builder.RouteBuilder;
import org.apache.camel.component.mail.MailEndpoint;
import org.apache.camel.model.RouteDefinition;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

import java.nio.file.Path;
import java.time.LocalDateTime;
import java.time.format.DateTimeFormatter;
import java.util.Locale;
import java.util.Objects;
import java.util.Properties;
import java.util.UUID;

/**
 * Delivers queued mails. The body is a complete RFC 822 mail as {@code byte[]} (see {@link MailComposer}).
 * With an SMTP host configured the mail goes out via SMTP, over connections kept open between mails
 * ({@link KeptAliveMailSender}), otherwise it is written as {@code .eml} file into an outbox directory.
 * Failures are redelivered with exponential backoff and finally moved, unchanged, to the dead letter
 * endpoint. A JMS {@code fromUri} must acknowledge a mail only after the route is done with it
 * (see {@link #DEFAULT_FROM_URI}): the in-memory redelivery can wait for many minutes.
 *
 * <p>Logs contain only the mail kind and Message-ID, never recipients or content.
 */
public final class OutboundMailRoute extends RouteBuilder {

    public static final String ROUTE_ID = "outbound-mail";
    /**
     * Acknowledged only once the route is done with a mail (sent, written or dead-lettered): the JMS
     * listener's default acknowledges before the route runs, and a mail in flight would be lost with its node.
     */
    public static final String DEFAULT_FROM_URI = "jms:queue:carerelay.mail?acknowledgementModeName=CLIENT_ACKNOWLEDGE";
    public static final String DEFAULT_DEAD_LETTER_URI = "jms:queue:carerelay.mail.dlq";

    /** Exchange property holding the sanitised mail kind (for logs and file names). */
    public static final String PROPERTY_KIND = "CareRelayMailKind";
    /** Exchange property holding the Message-ID of the mail (for logs). */
    public static final String PROPERTY_MESSAGE_ID = "CareRelayMailMessageId";

    /** Header on dead letters: number of delivery attempts made. */
    public static final String HEADER_ATTEMPTS = "CareRelayMailDeliveryAttempts";
    /** Header on dead letters: class name(s) of the final failure (no message text, it may contain addresses). */
    public static final String HEADER_FAILURE_CAUSE = "CareRelayMailFailureCause";

    private static final String PROPERTY_REDELIVERIES = "CareRelayMailRedeliveries";
    private static final Logger LOG = LoggerFactory.getLogger(OutboundMailRoute.class);
    private static final DateTimeFormatter FILE_TIMESTAMP = DateTimeFormatter.ofPattern("yyyyMMdd-HHmmssSSS");
    private static final String UNKNOWN_KIND = "mail";
    private static final int MAX_KIND_LENGTH = 40;

    private final String fromUri;
    private final MailTransportSettings settings;
    private final String deadLetterUri;
    private final RedeliveryPolicySettings redelivery;
    private final KeptAliveMailSender.Limits connectionLimits;

    /** Dead letters go to {@value #DEFAULT_DEAD_LETTER_URI}, default redelivery policy. */
    public OutboundMailRoute(String fromUri, MailTransportSettings settings) {
        this(fromUri, settings, DEFAULT_DEAD_LETTER_URI);
    }

    /** Default redelivery policy ({@link RedeliveryPolicySettings#DEFAULTS}). */
    public OutboundMailRoute(String fromUri, MailTransportSettings settings, String deadLetterUri) {
        this(fromUri, settings, deadLetterUri, RedeliveryPolicySettings.DEFAULTS);
    }

    /** SMTP connections kept as {@link KeptAliveMailSender.Limits#DEFAULTS} allows. */
    public OutboundMailRoute(String fromUri, MailTransportSettings settings, String deadLetterUri,
                             RedeliveryPolicySettings redelivery) {
        this(fromUri, settings, deadLetterUri, redelivery, KeptAliveMailSender.Limits.DEFAULTS);
    }

    public OutboundMailRoute(String fromUri, MailTransportSettings settings, String deadLetterUri,
                             RedeliveryPolicySettings redelivery, KeptAliveMailSender.Limits connectionLimits) {
        this.connectionLimits = Objects.requireNonNull(connectionLimits, "connectionLimits");
        this.fromUri = Objects.requireNonNull(fromUri, "fromUri");
        this.settings = Objects.requireNonNull(settings, "settings");
        this.deadLetterUri = Objects.requireNonNull(deadLetterUri, "deadLetterUri");
        this.redelivery = Objects.requireNonNull(redelivery, "redelivery");
    }

    @Override
    public void configure() throws Exception {
        DeadLetterChannelBuilder deadLetter = deadLetterChannel(deadLetterUri);
        deadLetter
                .useOriginalMessage()
                .maximumRedeliveries(redelivery.maxRedeliveries())
                .redeliveryDelay(redelivery.initialDelayMs())
                .useExponentialBackOff()
                .backOffMultiplier(redelivery.multiplier())
                .maximumRedeliveryDelay(redelivery.maxDelayMs())
                // Camel's own messages may quote exception texts (SMTP replies name recipients): log ourselves
                .logRetryAttempted(false)
                .logExhausted(false)
                .logStackTrace(false)
                .logRetryStackTrace(false)
                .logExhaustedMessageHistory(false)
                .logExhaustedMessageBody(false)
                .onRedelivery(OutboundMailRoute::logRedelivery)
                .onPrepareFailure(OutboundMailRoute::logDeadLetter);

        RouteDefinition route = from(fromUri)
                .routeId(ROUTE_ID)
                .errorHandler(deadLetter);

        route.process(this::inspect).id("mail-inspect");

        if (settings.smtpEnabled()) {
            KeptAliveMailSender sender = new KeptAliveMailSender(connectionLimits);
            getContext().addService(sender); // stopped (its connections closed) with the context
            route.process(OutboundMailRoute::toMimeMessage).id("mail-parse")
                    .to(smtpEndpoint(sender)).id("mail-smtp")
                    .process(ex -> LOG.info("Mail sent via SMTP: kind={}, messageId={}",
                            ex.getProperty(PROPERTY_KIND), ex.getProperty(PROPERTY_MESSAGE_ID)))
                    .id("mail-log-sent");
            from("timer:" + ROUTE_ID + "-connections?period=" + Math.max(1_000, connectionLimits.idle().toMillis() / 2))
                    .routeId(ROUTE_ID + "-connections")
                    .process(exchange -> sender.closeIdle());
        } else {
            route.process(OutboundMailRoute::setOutboxFileName).id("mail-file-name")
                    .to(outboxUri()).id("mail-outbox")
                    .process(ex -> LOG.info("Mail written to outbox: kind={}, messageId={}, file={}",
                            ex.getProperty(PROPERTY_KIND), ex.getProperty(PROPERTY_MESSAGE_ID),
                            ex.getIn().getHeader(Exchange.FILE_NAME_PRODUCED)))
                    .id("mail-log-written");
        }
    }

    /** Normalises the body to {@code byte[]} and remembers kind and Message-ID for logs and file names. */
    private void inspect(Exchange exchange) throws Exception {
        byte[] raw = exchange.getIn().getMandatoryBody(byte[].class);
        exchange.getIn().setBody(raw);
        MimeMessage message = MailComposer.parse(raw);
        exchange.setProperty(PROPERTY_KIND, sanitiseKind(message.getHeader(MailComposer.KIND_HEADER, null)));
        exchange.setProperty(PROPERTY_MESSAGE_ID, messageId(message));
    }

    private static void toMimeMessage(Exchange exchange) {
        // camel-mail sends a MimeMessage body as is (recipients, headers and MIME structure from the message)
        exchange.getIn().setBody(MailComposer.parse(exchange.getIn().getBody(byte[].class)));
    }

    private static void setOutboxFileName(Exchange exchange) {
        exchange.getIn().setHeader(Exchange.FILE_NAME,
                outboxFileName(LocalDateTime.now(), exchange.getProperty(PROPERTY_KIND, String.class), UUID.randomUUID()));
    }

    /** The SMTP endpoint, sending through {@code sender}: Camel configures it as it would its own sender. */
    private MailEndpoint smtpEndpoint(KeptAliveMailSender sender) {
        String scheme = settings.sslOnConnect() ? "smtps" : "smtp";
        String uri = scheme + "://" + settings.smtpHost().strip()
                + (settings.smtpPort() > 0 ? ":" + settings.smtpPort() : "");
        MailEndpoint endpoint = getContext().getEndpoint(uri, MailEndpoint.class);
        endpoint.getConfiguration().setJavaMailSender(sender);
        if (settings.hasCredentials()) {
            // set programmatically so the password never appears in an endpoint URI
            endpoint.getConfiguration().setUsername(settings.username());
            endpoint.getConfiguration().setPassword(settings.password());
        }
        Properties props = new Properties();
        // a connection is closed after its mails were taken: QUIT need not wait for the relay's answer
        props.setProperty("mail." + scheme + ".quitwait", "false");
        if (settings.startTls() && !settings.sslOnConnect()) {
            props.setProperty("mail.smtp.starttls.enable", "true");
            props.setProperty("mail.smtp.starttls.required", "true");
        }
        endpoint.getConfiguration().setAdditionalJavaMailProperties(props);
        return endpoint;
    }

    private String outboxUri() {
        Path directory = settings.outboxDirectory().toAbsolutePath().normalize();
        // write under a temporary name, then rename: readers polling for *.eml never see half written files
        return "file:" + directory.toString().replace('\\', '/')
                + "?tempFileName=${file:name}.tmp&fileExist=Fail&autoCreate=true"
                // mails carry registration codes: owner-only, whatever the process umask
                + "&chmod=600&chmodDirectory=700";
    }

    /** {@code yyyyMMdd-HHmmssSSS-<kind>-<uuid>.eml}. */
    static String outboxFileName(LocalDateTime timestamp, String kind, UUID uuid) {
        return FILE_TIMESTAMP.format(timestamp) + "-" + sanitiseKind(kind) + "-" + uuid + ".eml";
    }

    /** Lower case, only {@code [a-z0-9-]}, runs of other characters become one {@code -}; {@code mail} if empty. */
    static String sanitiseKind(String kind) {
        if (kind == null) {
            return UNKNOWN_KIND;
        }
        String sanitised = kind.strip().toLowerCase(Locale.ROOT)
                .replaceAll("[^a-z0-9-]+", "-")
                .replaceAll("-{2,}", "-")
                .replaceAll("^-|-$", "");
        if (sanitised.length() > MAX_KIND_LENGTH) {
            sanitised = sanitised.substring(0, MAX_KIND_LENGTH).replaceAll("-$", "");
        }
        return sanitised.isEmpty() ? UNKNOWN_KIND : sanitised;
    }

    private static String messageId(MimeMessage message) throws MessagingException {
        String id = message.getMessageID();
        return id == null ? "(none)" : id;
    }

    private static void logRedelivery(Exchange exchange) {
        int redelivery = exchange.getIn().getHeader(Exchange.REDELIVERY_COUNTER, 0, Integer.class);
        exchange.setProperty(PROPERTY_REDELIVERIES, redelivery);
        Throwable cause = exchange.getException() != null
                ? exchange.getException()
                : exchange.getProperty(Exchange.EXCEPTION_CAUGHT, Throwable.class);
        LOG.warn("Mail delivery failed, redelivery {}: kind={}, messageId={}, cause={}",
                redelivery, exchange.getProperty(PROPERTY_KIND), exchange.getProperty(PROPERTY_MESSAGE_ID),
                causeType(cause));
    }

    /** Runs on the original message just before it goes to the dead letter endpoint. */
    private static void logDeadLetter(Exchange exchange) {
        Throwable cause = exchange.getProperty(Exchange.EXCEPTION_CAUGHT, Throwable.class);
        int attempts = 1 + exchange.getProperty(PROPERTY_REDELIVERIES, 0, Integer.class);
        String causeType = causeType(cause);
        exchange.getIn().setHeader(HEADER_ATTEMPTS, attempts);
        exchange.getIn().setHeader(HEADER_FAILURE_CAUSE, causeType);
        LOG.error("Mail delivery given up after {} attempt(s), moving to dead letter endpoint: kind={}, messageId={}, "
                        + "cause={}", attempts, exchange.getProperty(PROPERTY_KIND),
                exchange.getProperty(PROPERTY_MESSAGE_ID), causeType);
    }

    /** Exception class names only: messages of mail exceptions can contain addresses. */
    private static String causeType(Throwable cause) {
        if (cause == null) {
            return "unknown";
        }
        StringBuilder chain = new StringBuilder(cause.getClass().getName());
        Throwable next = cause.getCause();
        for (int depth = 0; next != null && next != cause && depth < 5; depth++) {
            chain.append(" <- ").append(next.getClass().getName());
            cause = next;
            next = next.getCause();
        }
        return chain.toString();
    }
}
