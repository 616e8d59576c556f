package org.carerelay.routes.pipeline;

import java.util.List;

/**
 * What the pipeline stages do, implemented by the application (which owns the database). Every
 * step is idempotent per message and recipient: a redelivered work item never delivers twice.
 * A step that throws is retried by the broker with backoff; a step that returns normally is done
 * (including permanent failures, which it records itself).
 */
public interface PipelineSteps {

    /** Records the delivery ledger for every recipient and returns the work still to do. */
    List<WorkItem> fanOut(String messageId);

    void deliverFhir(String messageId, String recipient);

    void deliverMllp(String messageId, String recipient);

    void notifyRecipient(String messageId, String recipient);

    void invite(String messageId, String recipient);

    /** The broker gave up on a work item after its last attempt: record it in the ledger. */
    void deadLettered(WorkItem item);

    /** Periodic repair: held messages of organisations registered since, and deliveries whose lease ran out. */
    int sweepPendingJobs();

    /** Sends due invitation reminders. */
    int sendDueReminders();
}
