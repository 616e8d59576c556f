package org.carerelay.gateway.mail;

import static org.assertj.core.api.Assertions.assertThat;
import static org.awaitility.Awaitility.await;

import jakarta.jms.Connection;
import jakarta.jms.ConnectionFactory;
import jakarta.jms.Session;
import jakarta.mail.internet.MimeMessage;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.UUID;
import org.apache.activemq.artemis.api.core.SimpleString;
import org.apache.activemq.artemis.api.core.client.ClientSession;
import org.apache.activemq.artemis.jms.client.ActiveMQSession;
import org.carerelay.gateway.GatewayIntegrationTest;
import org.carerelay.gateway.config.CareRelayProperties;
import org.carerelay.gateway.infra.ArtemisClientSettings;
import org.carerelay.routes.mail.OutboundMail;
import org.junit.jupiter.api.Test;
import org.springframework.beans.factory.annotation.Autowired;

/**
 * The mail queue is drained by {@code carerelay.mail.consumers} consumers (each mail waits for the
 * SMTP server on its own connection), and mails sent through them arrive exactly once.
 */
class MailQueueConsumersIT extends GatewayIntegrationTest {

    @Autowired
    CareRelayProperties properties;

    @Autowired
    ConnectionFactory connectionFactory;

    @Autowired
    MailOutbox outbox;

    @Test
    void theBrokerSeesTheConfiguredNumberOfMailConsumers() throws Exception {
        int configured = properties.mail().effectiveConsumers();
        assertThat(configured).as("default carerelay.mail.consumers").isGreaterThan(1);

        try (Connection connection = ArtemisClientSettings.artemis(connectionFactory).createConnection()) {
            ClientSession session = ((ActiveMQSession) connection.createSession(false, Session.AUTO_ACKNOWLEDGE)).getCoreSession();
            SimpleString queue = SimpleString.of(properties.queue().mail());
            await().atMost(Duration.ofSeconds(30))
                    .until(() -> session.queueQuery(queue).getConsumerCount() == configured);
            assertThat(session.queueQuery(queue).getConsumerCount()).isEqualTo(configured);
        }
    }

    @Test
    void mailsQueuedTogetherEachArriveOnce() throws Exception {
        String address = "consumers-" + UUID.randomUUID() + "@mail-queue.example.org";
        int mails = 4 * properties.mail().effectiveConsumers();
        for (int i = 0; i < mails; i++) {
            outbox.send(new OutboundMail("notification", address, "Test " + i, "Testnachricht " + i));
        }

        await().atMost(Duration.ofSeconds(60)).until(() -> mailsTo(address).size() >= mails);
        List<String> subjects = new ArrayList<>();
        for (MimeMessage mail : mailsTo(address)) {
            subjects.add(mail.getSubject());
        }
        List<String> expected = new ArrayList<>();
        for (int i = 0; i < mails; i++) {
            expected.add("Test " + i);
        }
        assertThat(subjects).containsExactlyInAnyOrderElementsOf(expected);
    }
}
