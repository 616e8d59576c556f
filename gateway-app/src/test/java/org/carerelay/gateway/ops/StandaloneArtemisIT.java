package org.carerelay.gateway.ops;

import static org.assertj.core.api.Assertions.assertThat;

import jakarta.jms.Connection;
import jakarta.jms.DeliveryMode;
import jakarta.jms.Message;
import jakarta.jms.MessageConsumer;
import jakarta.jms.MessageProducer;
import jakarta.jms.Queue;
import jakarta.jms.Session;
import jakarta.jms.TextMessage;
import java.time.Duration;
import org.apache.activemq.artemis.jms.client.ActiveMQConnectionFactory;
import org.carerelay.gateway.StandaloneArtemis;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.parallel.Execution;
import org.junit.jupiter.api.parallel.ExecutionMode;

/**
 * The standalone broker the broker tests run: made from the released distribution, it keeps a
 * persistent message across a SIGKILL and applies the README's redelivery delay to the pipeline
 * queues.
 */
@Execution(ExecutionMode.CONCURRENT) // beside the other classes: see junit-platform.properties
class StandaloneArtemisIT {

    static final Duration START = Duration.ofSeconds(90);

    @Test
    void persistentMessageSurvivesSigkill_andIsRedeliveredAfterTheReadmeDelay() throws Exception {
        StandaloneArtemis broker = StandaloneArtemis.single("artemis-smoke");
        try {
            broker.start();
            broker.awaitUp(START);
            ActiveMQConnectionFactory factory = new ActiveMQConnectionFactory(broker.url(), broker.user(), broker.password());
            try (Connection connection = factory.createConnection()) {
                Session session = connection.createSession(false, Session.AUTO_ACKNOWLEDGE);
                MessageProducer producer = session.createProducer(session.createQueue("carerelay.smoke"));
                producer.setDeliveryMode(DeliveryMode.PERSISTENT);
                producer.send(session.createTextMessage("kept across a crash"));
            }

            broker.kill();
            assertThat(broker.isAlive()).isFalse();
            broker.start();
            broker.awaitUp(START);

            try (Connection connection = factory.createConnection()) {
                connection.start();
                Session session = connection.createSession(true, Session.SESSION_TRANSACTED);
                Queue queue = session.createQueue("carerelay.smoke");
                MessageConsumer consumer = session.createConsumer(queue);
                Message first = consumer.receive(20_000);
                assertThat(first).as("the persistent message after the broker was killed and restarted").isNotNull();
                assertThat(((TextMessage) first).getText()).isEqualTo("kept across a crash");

                session.rollback();
                long rolledBack = System.nanoTime();
                Message again = consumer.receive(20_000);
                long delayMillis = (System.nanoTime() - rolledBack) / 1_000_000;
                assertThat(again).as("the message again after a rollback").isNotNull();
                assertThat(again.getJMSRedelivered()).isTrue();
                // carerelay.# redelivery-delay 2000 from the README; the broker default would be 0
                assertThat(delayMillis).as("redelivery delay in ms").isGreaterThanOrEqualTo(1_500);
                session.commit();
                assertThat(consumer.receive(500)).isNull();
                System.out.println("standalone Artemis: message kept across SIGKILL, redelivered after " + delayMillis + " ms");
            }
            factory.close();
        } catch (Throwable e) {
            System.out.println("broker log:\n" + broker.logTail(60));
            throw e;
        } finally {
            broker.stop();
        }
    }
}
