package org.carerelay.gateway.infra;

import jakarta.jms.ExceptionListener;
import jakarta.jms.JMSException;
import org.apache.activemq.artemis.jms.client.ActiveMQConnection;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;
import org.springframework.jms.connection.SingleConnectionFactory;

/**
 * What Spring's shared JMS connection does when the Artemis client reports a broken connection:
 * it throws the connection away and opens a new one ({@code reconnectOnException}), except when
 * the client has already failed over or reconnected by itself.
 *
 * <p>The Artemis client tells the connection's exception listener about both: {@code DISCONNECT}
 * when the connection is gone for good, {@code FAILOVER} when it is working again, with its
 * sessions moved to the backup (or to the restarted broker). Spring resets the connection on
 * either. After a fail-over that closed every session the client had just moved, sometimes while
 * it was still moving them; a close the backup did not answer blocked for the client's call
 * timeout (30 s), the blocked connection then failed as well, and its listener reset the next
 * connection: deliveries stood still for minutes after the primary died. Here a {@code FAILOVER}
 * is one log line, and the transacted consumers carry on: the work item whose transaction the
 * fail-over rolled back is delivered again by the broker, as after any rollback.
 *
 * <p>Without {@code reconnectOnException}, Spring's shared connection refuses a listener container
 * that sets its own exception listener on it (Spring's {@code SimpleMessageListenerContainer}); the
 * gateway's consumers use the default (polling) container, which sets none.
 */
final class FailoverAwareReset implements ExceptionListener {

    private static final Logger log = LoggerFactory.getLogger(FailoverAwareReset.class);

    private final SingleConnectionFactory factory;

    private FailoverAwareReset(SingleConnectionFactory factory) {
        this.factory = factory;
    }

    /**
     * Makes {@code factory} reset its connection on every exception but a fail-over; before its first
     * connection. It takes the place of the factory's exception listener (the gateway sets none).
     */
    static void install(SingleConnectionFactory factory) {
        factory.setReconnectOnException(false);
        factory.setExceptionListener(new FailoverAwareReset(factory));
    }

    @Override
    public void onException(JMSException exception) {
        if (ActiveMQConnection.EXCEPTION_FAILOVER.equals(exception.getErrorCode())) {
            log.warn("Broker connection failed over ({}); the connection and its sessions are kept",
                    SafeExceptions.describe(exception));
        } else {
            log.warn("Broker connection lost ({}); opening a new one", SafeExceptions.describe(exception));
            factory.resetConnection();
        }
    }
}
