package org.carerelay.gateway.infra;

import jakarta.jms.ConnectionFactory;
import org.apache.activemq.artemis.api.core.client.ActiveMQClient;
import org.apache.activemq.artemis.jms.client.ActiveMQConnectionFactory;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;
import org.springframework.beans.factory.config.BeanPostProcessor;
import org.springframework.jms.connection.DelegatingConnectionFactory;
import org.springframework.jms.connection.SingleConnectionFactory;
import org.springframework.stereotype.Component;

/**
 * Sets the Artemis client of the gateway's JMS connection factory not to buffer messages for its
 * consumers ({@code consumerWindowSize=0}: a consumer is sent the next message when it asks for one),
 * on the embedded broker and an external one alike; a {@code consumerWindowSize} in
 * {@code carerelay.broker.url} is overridden. Spring's shared connection over it keeps a connection
 * that the client has failed over ({@link FailoverAwareReset}).
 *
 * <p>The pipeline's consumers keep their consumer from one work item to the next. With Artemis'
 * default window (1 MiB), each of them would take a buffer of waiting work items from the broker.
 * A delivery consumer waiting for a partner that does not answer would hold the work items for
 * other recipients in its buffer, and a second node would find the queue empty while the first
 * holds its content. Without a window, a waiting work item goes to the next consumer that asks,
 * on any node. (The Artemis client may still hold one message in rare races around a receive that
 * times out, or after a failover; the broker takes it back when the consumer closes.)
 */
@Component
public class ArtemisClientSettings implements BeanPostProcessor {

    private static final Logger log = LoggerFactory.getLogger(ArtemisClientSettings.class);

    /** No window: the client asks the broker for one message at a time. */
    static final int CONSUMER_WINDOW_SIZE = 0;

    /**
     * Threads of the Artemis client's flow-control pool (its default is 10). Without a window, every
     * receive of every consumer hands the broker a credit through this pool (each pipeline consumer
     * waits in a receive of a second when idle); each task only writes one packet, and ten threads kept
     * alive for it cost an idle node about ten threads' worth of memory.
     */
    static final int FLOW_CONTROL_THREADS = 2;

    @Override
    public Object postProcessAfterInitialization(Object bean, String beanName) {
        if (bean instanceof ConnectionFactory factory) {
            ActiveMQConnectionFactory artemis = artemis(factory);
            if (artemis != null) {
                if (factory instanceof SingleConnectionFactory single) {
                    FailoverAwareReset.install(single);
                }
                artemis.setConsumerWindowSize(CONSUMER_WINDOW_SIZE);
                // before the client's first consumer creates the pool
                ActiveMQClient.setGlobalThreadPoolProperties(ActiveMQClient.getGlobalThreadPoolSize(),
                        ActiveMQClient.getGlobalScheduledThreadPoolSize(), FLOW_CONTROL_THREADS);
            } else {
                log.warn("JMS connection factory {} ({}) is not one the gateway can set up: its consumers keep the "
                        + "broker client's default buffer", beanName, factory.getClass().getName());
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
