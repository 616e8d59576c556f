package org.carerelay.routes.pipeline;

/**
 * One unit of pipeline work: a stage (queue) and the message/recipient pair it concerns. The body
 * that travels through the broker is {@code messageId|recipientOrganizationId}: identifiers only,
 * never content, so queues, dead letters and logs hold no patient data.
 */
public record WorkItem(Stage stage, String messageId, String recipient) {

    public enum Stage {
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
    }

    public String body() {
        return messageId + "|" + recipient;
    }

    public static String[] parse(String body) {
        String[] parts = body == null ? new String[0] : body.split("\\|", -1);
        if (parts.length != 2 || parts[0].isBlank() || parts[1].isBlank()) {
            throw new IllegalArgumentException("Malformed work item");
        }
        return parts;
    }
}
