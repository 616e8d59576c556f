package org.carerelay.gateway.pipeline;

import org.carerelay.gateway.kernel.MessageAccepted;
import org.springframework.scheduling.annotation.Async;
import org.springframework.stereotype.Component;
import org.springframework.transaction.event.TransactionalEventListener;

/**
 * Where the pipeline takes over an accepted message: after the accepting transaction has committed,
 * the message goes to the fan-out queue. The event publication registry stored the event with the
 * message; it marks the publication complete when this method returns and leaves it open when it
 * throws, and {@link EventPublicationResubmission} hands open publications over again. A second
 * fan-out of the same message is harmless (the delivery ledger is claimed per recipient).
 *
 * <p>Runs on a few threads of its own, not in the request: a broker that is unreachable or does
 * not answer must not hold up the {@code 201}/{@code AA} of a message that is already stored.
 */
@Component
public class AcceptedMessageListener {

    /** Stored with every publication: keep it when the class or method is renamed. */
    public static final String LISTENER_ID = "pipeline.message-accepted";

    private final WorkQueue workQueue;

    public AcceptedMessageListener(WorkQueue workQueue) {
        this.workQueue = workQueue;
    }

    @Async(AcceptedMessageConfiguration.HAND_OVER_EXECUTOR)
    @TransactionalEventListener(id = LISTENER_ID)
    public void handOver(MessageAccepted event) {
        workQueue.fanOut(event.messageId());
    }
}
