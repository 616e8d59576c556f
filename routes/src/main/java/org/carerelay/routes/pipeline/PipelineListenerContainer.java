package org.carerelay.routes.pipeline;

import jakarta.jms.JMSException;
import jakarta.jms.Session;
import org.apache.camel.component.jms.DefaultJmsMessageListenerContainer;
import org.apache.camel.component.jms.JmsEndpoint;
import org.apache.camel.component.jms.MessageListenerContainerFactory;
import org.springframework.jms.listener.AbstractMessageListenerContainer;
import org.springframework.jms.support.JmsUtils;

/**
 * The listener container of the pipeline's consumers: camel-jms' own, except when the node stops
 * while a step is running. The stop interrupts that step, the step gives up, and its work item is
 * rolled back on the consumer's session; that rollback can fail as well (the thread is interrupted,
 * the session is being closed). The container would report it as an error with the step's stack
 * trace. Here it is a debug line: the broker rolls the work item's transaction back when the
 * session closes, and redelivers the work item after the restart.
 */
public class PipelineListenerContainer extends DefaultJmsMessageListenerContainer {

    public PipelineListenerContainer(JmsEndpoint endpoint) {
        super(endpoint);
    }

    @Override
    protected void rollbackOnExceptionIfNecessary(Session session, Throwable ex) throws JMSException {
        if (isRunning() && !Thread.currentThread().isInterrupted()) {
            super.rollbackOnExceptionIfNecessary(session, ex);
            return;
        }
        try {
            if (session.getTransacted() && isSessionLocallyTransacted(session)) {
                JmsUtils.rollbackIfNecessary(session);
            }
        } catch (JMSException | RuntimeException e) {
            logger.debug("Work item not rolled back while stopping (the broker rolls it back when the session closes): " + e);
        }
    }

    /** For {@code consumerType=Custom&messageListenerContainerFactory=#class:...}. */
    public static class Factory implements MessageListenerContainerFactory {
        @Override
        public AbstractMessageListenerContainer createMessageListenerContainer(JmsEndpoint endpoint) {
            return new PipelineListenerContainer(endpoint);
        }
    }
}
