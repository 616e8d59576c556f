package org.carerelay.gateway.infra;

import static org.assertj.core.api.Assertions.assertThat;

import jakarta.jms.Connection;
import jakarta.jms.ConnectionFactory;
import jakarta.jms.ExceptionListener;
import jakarta.jms.JMSContext;
import jakarta.jms.JMSException;
import java.lang.reflect.Proxy;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.atomic.AtomicInteger;
import org.apache.activemq.artemis.jms.client.ActiveMQConnection;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.springframework.jms.connection.CachingConnectionFactory;

/** Spring's caching factory over connections that record what is done to them, as the Artemis client would report a failure. */
class FailoverAwareResetTest {

    private final List<Recorded> connections = new ArrayList<>();
    private final CachingConnectionFactory factory = new CachingConnectionFactory(target());
    private Recorded first;

    @BeforeEach
    void firstConnection() throws Exception {
        FailoverAwareReset.install(factory);
        factory.createConnection();
        first = connections.get(0);
    }

    @Test
    void failover_keepsTheConnection() throws Exception {
        first.listener.onException(new JMSException("failed over to the backup", ActiveMQConnection.EXCEPTION_FAILOVER));

        factory.createConnection();
        assertThat(connections).hasSize(1);
        assertThat(first.closed.get()).isZero();
    }

    @Test
    void disconnect_opensANewConnection() throws Exception {
        first.listener.onException(new JMSException("gone", ActiveMQConnection.EXCEPTION_DISCONNECT));
        first.listener.onException(new JMSException("no code"));

        factory.createConnection();
        assertThat(connections).hasSize(2);
        assertThat(first.closed.get()).isEqualTo(1);
        assertThat(connections.get(1).listener).as("the new connection is watched as well").isInstanceOf(FailoverAwareReset.class);
    }

    /** A connection that keeps its exception listener and counts closes. */
    private static final class Recorded {
        volatile ExceptionListener listener;
        final AtomicInteger closed = new AtomicInteger();
    }

    private ConnectionFactory target() {
        return (ConnectionFactory) Proxy.newProxyInstance(getClass().getClassLoader(), new Class<?>[] {ConnectionFactory.class},
                (proxy, method, args) -> switch (method.getName()) {
                    case "createConnection" -> connection();
                    case "createContext" -> (JMSContext) null;
                    case "hashCode" -> System.identityHashCode(proxy);
                    case "equals" -> proxy == args[0];
                    case "toString" -> "test connection factory";
                    default -> throw new UnsupportedOperationException(method.getName());
                });
    }

    private Connection connection() {
        Recorded recorded = new Recorded();
        connections.add(recorded);
        return (Connection) Proxy.newProxyInstance(getClass().getClassLoader(), new Class<?>[] {Connection.class},
                (proxy, method, args) -> switch (method.getName()) {
                    case "setExceptionListener" -> {
                        recorded.listener = (ExceptionListener) args[0];
                        yield null;
                    }
                    case "getExceptionListener" -> recorded.listener;
                    case "close" -> {
                        recorded.closed.incrementAndGet();
                        yield null;
                    }
                    case "start", "stop" -> null;
                    case "hashCode" -> System.identityHashCode(proxy);
                    case "equals" -> proxy == args[0];
                    case "toString" -> "test connection";
                    default -> throw new UnsupportedOperationException(method.getName());
                });
    }
}
