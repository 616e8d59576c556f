package org.carerelay.routes.pipeline;

import java.util.LinkedHashMap;
import java.util.Map;
import java.util.Optional;

/**
 * One unit of pipeline work: a stage and the message (and, after fan-out, the recipient organisation)
 * it concerns. It travels through the broker as JMS properties ({@link #MESSAGE_ID},
 * {@link #RECIPIENT}, {@link #STAGE}) on a message with an empty body: identifiers only, never
 * content, so queues, dead letters and logs hold no patient data. The queue is
 * {@code <queue-prefix>.<stage>}.
 *
 * <p>Work items written by the previous release carry the identifiers in the body instead
 * ({@code messageId} for fan-out, {@code messageId|recipient} for the other stages); {@link #legacy}
 * reads them. That form is accepted for one release, so a queue that is not empty at an upgrade is
 * still worked off.
 */
public record WorkItem(Stage stage, String messageId, String recipient) {

    /** JMS property: the message id. */
    public static final String MESSAGE_ID = "CareRelayMessageId";
    /** JMS property: the recipient organisation id (absent on fan-out work items). */
    public static final String RECIPIENT = "CareRelayRecipient";
    /** JMS property: the stage, {@link Stage#queueSuffix()}. */
    public static final String STAGE = "CareRelayStage";

    public enum Stage {
        FANOUT("fanout"),
        DELIVER_FHIR("deliver-fhir"),
        DELIVER_MLLP("deliver-mllp"),
        NOTIFY("notify"),
        INVITE("invite");

        private final String queueSuffix;

        Stage(String queueSuffix) {
            this.queueSuffix = queueSuffix;
        }

        public String queueSuffix() {
            return queueSuffix;
        }

        public static Optional<Stage> ofQueueSuffix(String suffix) {
            for (Stage stage : values()) {
                if (stage.queueSuffix.equals(suffix)) {
                    return Optional.of(stage);
                }
            }
            return Optional.empty();
        }
    }

    public WorkItem {
        if (stage == null || messageId == null || messageId.isBlank()
                || (stage != Stage.FANOUT && (recipient == null || recipient.isBlank()))) {
            throw new IllegalArgumentException("Incomplete work item");
        }
    }

    /** The first work item of a message: fan-out to its recipients. */
    public static WorkItem fanOut(String messageId) {
        return new WorkItem(Stage.FANOUT, messageId, null);
    }

    /** The JMS properties that carry this work item. */
    public Map<String, Object> headers() {
        Map<String, Object> headers = new LinkedHashMap<>();
        headers.put(STAGE, stage.queueSuffix());
        headers.put(MESSAGE_ID, messageId);
        if (recipient != null) {
            headers.put(RECIPIENT, recipient);
        }
        return headers;
    }

    /** Reads a work item from its JMS properties; empty when they are missing or incomplete. */
    public static Optional<WorkItem> fromHeaders(Map<String, Object> headers) {
        Optional<Stage> stage = Stage.ofQueueSuffix(text(headers.get(STAGE)));
        String messageId = text(headers.get(MESSAGE_ID));
        String recipient = text(headers.get(RECIPIENT));
        if (stage.isEmpty() || messageId == null || messageId.isBlank()
                || (stage.get() != Stage.FANOUT && (recipient == null || recipient.isBlank()))) {
            return Optional.empty();
        }
        return Optional.of(new WorkItem(stage.get(), messageId, stage.get() == Stage.FANOUT ? null : recipient));
    }

    /** A work item of the previous release's form (identifiers in the body) on the given stage's queue. */
    public static WorkItem legacy(Stage stage, String body) {
        if (stage == Stage.FANOUT) {
            return fanOut(body == null ? null : body.strip());
        }
        String[] parts = body == null ? new String[0] : body.split("\\|", -1);
        if (parts.length != 2) {
            throw new IllegalArgumentException("Malformed work item");
        }
        return new WorkItem(stage, parts[0], parts[1]);
    }

    /** {@code messageId|recipient} (or the message id alone on fan-out): how operators see a work item. */
    @Override
    public String toString() {
        return recipient == null ? messageId : messageId + "|" + recipient;
    }

    private static String text(Object value) {
        return value == null ? null : value.toString();
    }
}
