package org.carerelay.gateway.infra;

import jakarta.jms.ConnectionFactory;
import org.apache.activemq.artemis.jms.client.ActiveMQConnectionFactory;
import org.springframework.beans.factory.config.BeanPostProcessor;
import org.springframework.jms.connection.DelegatingConnectionFactory;
import org.springframework.jms.connection.SingleConnectionFactory;
import org.springframework.stereotype.Component;

/**
 * Sets the Artemis client of the gateway's JMS connection factory to hand each consumer one message
 * at a time ({@code consumerWindowSize=0}), on the embedded broker and an external one alike.
 *
 * <p>The pipeline's consumers keep their consumer from one work item to the next. With Artemis'
 * default window (1 MiB), each of them would take a buffer of waiting work items from the broker.
 * A delivery consumer waiting for a partner that does not answer would hold the work items for
 * every other recipient in its buffer, and a second node would find the queue empty while the
 * first holds its content. Without a buffer, a waiting work item goes to the next consumer that
 * is free, on any node.
 */
@Component
public class ArtemisClientSettings implements BeanPostProcessor {

    /** Messages, not bytes: the broker sends the next one when the consumer asks for it. */
    static final int CONSUMER_WINDOW_SIZE = 0;

    @Override
    public Object postProcessAfterInitialization(Object bean, String beanName) {
        if (bean instanceof ConnectionFactory factory) {
            ActiveMQConnectionFactory artemis = artemis(factory);
            if (artemis != null) {
                artemis.setConsumerWindowSize(CONSUMER_WINDOW_SIZE);
            }
        }
        return bean;
    }

    /** Spring wraps the broker's factory (caching, delegating); the Artemis factory under them, or null. */
    public static ActiveMQConnectionFactory artemis(ConnectionFactory factory) {
        ConnectionFactory current = factory;
        for (int depth = 0; depth < 5 && current != null; depth++) {
            if (current instanceof ActiveMQConnectionFactory artemis) {
                return artemis;
            }
            if (current instanceof SingleConnectionFactory single) {
                current = single.getTargetConnectionFactory();
            } else if (current instanceof DelegatingConnectionFactory delegating) {
                current = delegating.getTargetConnectionFactory();
            } else {
                return null;
            }
        }
        return null;
    }
}
