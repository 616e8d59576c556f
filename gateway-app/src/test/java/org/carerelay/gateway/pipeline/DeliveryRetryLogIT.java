package org.carerelay.gateway.pipeline;

import static org.assertj.core.api.Assertions.assertThat;
import static org.awaitility.Awaitility.await;

import ch.qos.logback.classic.Level;
import ch.qos.logback.classic.Logger;
import ch.qos.logback.classic.spi.ILoggingEvent;
import ch.qos.logback.core.read.ListAppender;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import org.carerelay.gateway.Conversations;
import org.carerelay.gateway.GatewayIntegrationTest;
import org.carerelay.gateway.Participants;
import org.carerelay.gateway.TestJvmLog;
import org.carerelay.gateway.TestPorts;
import org.junit.jupiter.api.Test;
import org.slf4j.LoggerFactory;

/**
 * A partner system that refuses connections is an everyday event: every failed attempt is one
 * WARN line naming stage, message, recipient, attempt and the operator's reason; no stack trace
 * from Camel's error handler or the JMS listener container, no patient data.
 */
class DeliveryRetryLogIT extends GatewayIntegrationTest {

    @Test
    void partnerRefusingConnections_eachAttemptIsOneLineWithTheReasonAndNoStackTrace() throws Exception {
        Participants.Registered sender = Participants.registerNew(this, "Praxis Retry-Log");
        Participants.Registered recipient = Participants.registerNew(this, "Pflege Retry-Log");
        int refused = TestPorts.free(); // nothing listens there: connection refused
        Participants.addEndpoint(admin(), recipient.organizationId(), "hl7v2-mllp", "mllp://127.0.0.1:" + refused, null);
        String kvnr = Conversations.kvnr();
        String patientId = Conversations.createPatient(client(sender.token()), Conversations.patient("Logarithmus", "Lotte", kvnr));
        Conversations.uploadConsent(client(sender.token()), patientId, sender.organizationId(), recipient.organizationId());

        ListAppender<ILoggingEvent> appender = new ListAppender<>();
        Logger root = (Logger) LoggerFactory.getLogger(org.slf4j.Logger.ROOT_LOGGER_NAME);
        appender.start();
        root.addAppender(appender);
        String messageId;
        List<ILoggingEvent> events;
        try {
            messageId = Conversations.send(client(sender.token()),
                    Conversations.message(patientId, "Bitte Rückruf wegen Medikation.", recipient.organizationId()));
            // the test settings allow 4 attempts, then the work item is dead-lettered
            await().atMost(Duration.ofSeconds(60)).pollInterval(Duration.ofMillis(300))
                    .until(() -> "failed".equals(Conversations.deliveryPart(admin(), messageId, "state")));
            Thread.sleep(500);
            synchronized (appender) {
                events = new ArrayList<>(appender.list);
            }
        } finally {
            root.detachAppender(appender);
        }

        List<ILoggingEvent> retryLines = events.stream()
                .filter(e -> e.getFormattedMessage().contains(messageId) && e.getFormattedMessage().contains("not delivered in attempt"))
                .toList();
        int attempts = Integer.parseInt(Conversations.deliveryPart(admin(), messageId, "attempts"));
        retryLines.forEach(e -> System.out.println("retry line: " + e.getLevel() + " " + e.getLoggerName() + " " + e.getFormattedMessage()));
        assertThat(attempts).isEqualTo(4);
        assertThat(retryLines).hasSize(attempts);
        assertThat(retryLines.get(0).getFormattedMessage()).contains("attempt 1 of 4, retried later");
        assertThat(retryLines.get(attempts - 1).getFormattedMessage()).contains("attempt 4 of 4, no attempts left");
        assertThat(retryLines).allSatisfy(e -> {
            assertThat(e.getLevel()).isEqualTo(Level.WARN);
            assertThat(e.getThrowableProxy()).as("stack trace of an expected retry").isNull();
            assertThat(e.getFormattedMessage()).contains("delivery-mllp").contains(recipient.organizationId())
                    .containsIgnoringCase("connection refused").doesNotContain(kvnr).doesNotContain("Logarithmus").doesNotContain("Rückruf");
        });
        List<ILoggingEvent> traces = events.stream()
                .filter(e -> e.getThrowableProxy() != null && e.getLevel().isGreaterOrEqual(Level.WARN))
                .filter(e -> !TestJvmLog.fromServersBeside(e)) // the partner systems and brokers of tests running beside
                .toList();
        assertThat(traces).as("log events with a stack trace while the partner was unreachable")
                .extracting(e -> e.getLoggerName() + ": " + e.getFormattedMessage()).isEmpty();
        assertThat(events).as("the JMS listener container repeating the failure")
                .noneMatch(e -> e.getLoggerName().contains("EndpointMessageListener") && e.getLevel().isGreaterOrEqual(Level.WARN));
    }
}
