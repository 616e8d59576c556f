package org.carerelay.gateway.pipeline;

import java.util.Optional;
import org.carerelay.routes.pipeline.WorkItem.Stage;

/**
 * How a recipient gets a message. {@link #text()} is what the ledger's {@code channel} column holds;
 * {@link DeliveryLedger} is the only place that maps between the two.
 */
public enum Channel {
    /** Pushed to the recipient's FHIR server. */
    FHIR("fhir"),
    /** Pushed to the recipient's HL7v2 system over MLLP. */
    MLLP("mllp"),
    /** Registered without a system endpoint: fetched by the recipient, announced by e-mail. */
    PULL("pull"),
    /** Not registered: held until it registers, an invitation goes out. */
    INVITATION("invitation");

    private final String text;

    Channel(String text) {
        this.text = text;
    }

    public String text() {
        return text;
    }

    /** The pipeline stage that pushes over this channel; empty for channels nothing is pushed over. */
    public Optional<Stage> pushStage() {
        return switch (this) {
            case FHIR -> Optional.of(Stage.DELIVER_FHIR);
            case MLLP -> Optional.of(Stage.DELIVER_MLLP);
            case PULL, INVITATION -> Optional.empty();
        };
    }

    static Channel ofText(String text) {
        for (Channel channel : values()) {
            if (channel.text.equals(text)) {
                return channel;
            }
        }
        throw new IllegalArgumentException("Unknown delivery channel " + text);
    }
}
