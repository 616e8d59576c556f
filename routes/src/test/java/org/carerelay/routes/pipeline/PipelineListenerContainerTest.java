package org.carerelay.routes.pipeline;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatCode;

import jakarta.jms.ConnectionFactory;
import jakarta.jms.Session;
import java.lang.reflect.Proxy;
import java.util.concurrent.atomic.AtomicInteger;
import org.apache.camel.component.jms.JmsComponent;
import org.apache.camel.component.jms.JmsConfiguration;
import org.apache.camel.component.jms.JmsEndpoint;
import org.junit.jupiter.api.Test;

/**
 * A work item whose step was cut off because the node stops: its rollback is attempted, and a
 * rollback that fails then (interrupted thread, session closing) ends quietly; the broker rolls the
 * transaction back when the session closes.
 */
class PipelineListenerContainerTest {

    private final PipelineListenerContainer stopped = new PipelineListenerContainer(
            new JmsEndpoint("jms:queue:test", new JmsComponent(), "test", false, new JmsConfiguration()));

    PipelineListenerContainerTest() {
        // as the pipeline's endpoints configure it: a locally transacted session
        stopped.setSessionTransacted(true);
        stopped.setConnectionFactory((ConnectionFactory) Proxy.newProxyInstance(ConnectionFactory.class.getClassLoader(),
                new Class<?>[] {ConnectionFactory.class}, (proxy, method, args) -> switch (method.getName()) {
                    case "hashCode" -> System.identityHashCode(proxy);
                    case "equals" -> proxy == args[0];
                    default -> throw new UnsupportedOperationException(method.getName());
                }));
    }

    @Test
    void stoppedContainer_rollsTheWorkItemBack() throws Exception {
        AtomicInteger rollbacks = new AtomicInteger();

        stopped.rollbackOnExceptionIfNecessary(session(rollbacks, false), new IllegalStateException("step cut off"));

        assertThat(rollbacks).hasValue(1);
    }

    @Test
    void stoppedContainer_aRollbackThatFailsEndsQuietly() {
        AtomicInteger rollbacks = new AtomicInteger();

        assertThatCode(() -> stopped.rollbackOnExceptionIfNecessary(session(rollbacks, true), new IllegalStateException("step cut off")))
                .doesNotThrowAnyException();
        assertThat(rollbacks).hasValue(1);
    }

    /** A transacted session whose rollback is counted, and fails (as Artemis' does on an interrupted thread) if asked to. */
    private static Session session(AtomicInteger rollbacks, boolean rollbackFails) {
        return (Session) Proxy.newProxyInstance(Session.class.getClassLoader(), new Class<?>[] {Session.class}, (proxy, method, args) ->
                switch (method.getName()) {
                    case "getTransacted" -> true;
                    case "rollback" -> {
                        rollbacks.incrementAndGet();
                        if (rollbackFails) {
                            throw new IllegalStateException("interrupted"); // Artemis throws a RuntimeException there
                        }
                        yield null;
                    }
                    case "hashCode" -> System.identityHashCode(proxy);
                    case "equals" -> proxy == args[0];
                    default -> throw new UnsupportedOperationException(method.getName());
                });
    }
}
