package org.carerelay.gateway.pipeline;

import jakarta.jms.ConnectionFactory;
import jakarta.jms.DeliveryMode;
import jakarta.jms.MessageProducer;
import java.time.Duration;
import org.apache.camel.ProducerTemplate;
import org.carerelay.gateway.config.CareRelayProperties;
import org.carerelay.routes.pipeline.WorkItem;
import org.springframework.jms.core.JmsTemplate;
import org.springframework.stereotype.Component;

/**
 * Sends work to the pipeline's queues: a message to fan-out, a work item to its stage. Accepted
 * messages reach {@link #fanOut} through {@link AcceptedMessageListener}, which the event
 * publication registry retries until it succeeds.
 */
@Component
public class RoutingKickoff {

    private final ProducerTemplate producer;
    private final String fanOutUri;
    private final String queuePrefix;
    private final JmsTemplate jms;

    public RoutingKickoff(ProducerTemplate producer, CareRelayProperties props, ConnectionFactory connectionFactory) {
        this.jms = new JmsTemplate(connectionFactory);
        this.producer = producer;
        this.fanOutUri = "jms:queue:" + props.pipeline().queuePrefix() + ".fanout";
        this.queuePrefix = props.pipeline().queuePrefix();
    }

    /**
     * One work item to its stage's queue, delivered by the broker not before {@code delay} has
     * passed (a scheduled, persistent message).
     */
    public void handLater(WorkItem item, Duration delay) {
        jms.execute(session -> {
            try (MessageProducer sender = session.createProducer(
                    session.createQueue(queuePrefix + "." + item.stage().queueSuffix()))) {
                sender.setDeliveryMode(DeliveryMode.PERSISTENT);
                sender.setDeliveryDelay(Math.max(0, delay.toMillis()));
                sender.send(session.createTextMessage(item.body()));
            }
            return null;
        }, false);
    }

    /** One work item straight to its stage's queue (for a delivery whose attempt died). */
    public void hand(WorkItem item) {
        producer.sendBody("jms:queue:" + queuePrefix + "." + item.stage().queueSuffix(), item.body());
    }

    /** A message to the fan-out queue (idempotent: the ledger makes a second fan-out harmless). */
    public void fanOut(String messageId) {
        producer.sendBody(fanOutUri, messageId);
    }
}
