package org.carerelay.gateway.metrics;

import jakarta.jms.Connection;
import jakarta.jms.ConnectionFactory;
import jakarta.jms.Session;
import org.apache.activemq.artemis.api.core.SimpleString;
import org.apache.activemq.artemis.api.core.client.ClientSession;
import org.apache.activemq.artemis.jms.client.ActiveMQConnectionFactory;
import org.apache.activemq.artemis.jms.client.ActiveMQSession;
import org.carerelay.gateway.infra.ArtemisClientSettings;

/**
 * Message counts of queues, asked of the broker with Artemis' core queue query: one round trip per
 * queue, no browsing, and it works alike on the embedded broker (in-VM) and an external one (with
 * the gateway's own broker credentials, no management role needed). One connection, kept open and
 * opened again after a failure. Not thread-safe: one sampler thread uses it.
 */
final class BrokerQueues implements AutoCloseable {

    private final ActiveMQConnectionFactory factory;
    private Connection connection;
    private ClientSession session;

    BrokerQueues(ConnectionFactory configured) {
        this.factory = ArtemisClientSettings.artemis(configured);
        if (factory == null) {
            throw new IllegalStateException("The JMS connection factory is not Artemis': "
                    + (configured == null ? "none" : configured.getClass().getName()));
        }
    }

    /** Messages in {@code queue}: waiting, scheduled for redelivery and in delivery; 0 if it does not exist yet. */
    long messageCount(String queue) throws Exception {
        try {
            ClientSession.QueueQuery query = session().queueQuery(SimpleString.of(queue));
            return query.isExists() ? query.getMessageCount() : 0;
        } catch (Exception e) {
            close();
            throw e;
        }
    }

    private ClientSession session() throws Exception {
        if (session == null || session.isClosed()) {
            close();
            connection = factory.createConnection();
            session = ((ActiveMQSession) connection.createSession(false, Session.AUTO_ACKNOWLEDGE)).getCoreSession();
        }
        return session;
    }

    @Override
    public void close() {
        Connection open = connection;
        connection = null;
        session = null;
        if (open != null) {
            try {
                open.close();
            } catch (Exception e) {
                // gone already
            }
        }
    }
}
