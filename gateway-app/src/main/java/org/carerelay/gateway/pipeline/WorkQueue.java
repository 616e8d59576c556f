package org.carerelay.gateway.pipeline;

import jakarta.jms.ConnectionFactory;
import jakarta.jms.DeliveryMode;
import jakarta.jms.JMSException;
import jakarta.jms.MessageProducer;
import jakarta.jms.Session;
import jakarta.jms.TextMessage;
import java.time.Duration;
import java.util.Map;
import org.carerelay.gateway.config.CareRelayProperties;
import org.carerelay.routes.pipeline.PipelineRoutes;
import org.carerelay.routes.pipeline.WorkItem;
import org.springframework.jms.core.JmsTemplate;
import org.springframework.stereotype.Component;

/**
 * Puts work items on their stage's queue ({@code <queue-prefix>.<stage>}) as persistent JMS
 * messages: the ids as the properties {@link WorkItem#headers()} names, an empty text body.
 */
@Component
public class WorkQueue {

    private final JmsTemplate jms;
    private final String prefix;

    public WorkQueue(ConnectionFactory connectionFactory, CareRelayProperties props) {
        this.jms = new JmsTemplate(connectionFactory);
        this.prefix = props.pipeline().queuePrefix();
    }

    /** A message's first work item: fan-out to its recipients. */
    public void fanOut(String messageId) {
        send(WorkItem.fanOut(messageId));
    }

    public void send(WorkItem item) {
        sendLater(item, Duration.ZERO);
    }

    /** Delivered by the broker not before {@code delay} has passed (a scheduled, persistent message). */
    public void sendLater(WorkItem item, Duration delay) {
        send(PipelineRoutes.queue(prefix, item.stage()), item, delay);
    }

    private void send(String queue, WorkItem item, Duration delay) {
        jms.execute(session -> {
            send(session, queue, item, delay);
            return null;
        }, false);
    }

    /**
     * Sends {@code item} to {@code queue} on the caller's session; on a transacted session it becomes
     * visible with the caller's commit.
     */
    static void send(Session session, String queue, WorkItem item, Duration delay) throws JMSException {
        try (MessageProducer sender = session.createProducer(session.createQueue(queue))) {
            sender.setDeliveryMode(DeliveryMode.PERSISTENT);
            if (delay.compareTo(Duration.ZERO) > 0) {
                sender.setDeliveryDelay(delay.toMillis());
            }
            TextMessage message = session.createTextMessage("");
            for (Map.Entry<String, Object> header : item.headers().entrySet()) {
                message.setStringProperty(header.getKey(), header.getValue().toString());
            }
            sender.send(message);
        }
    }
}
