package org.carerelay.gateway.pipeline;

/**
 * The state of one delivery in the ledger. {@link #text()} is what the database column holds and what
 * {@code $delivery-status} shows; {@link DeliveryLedger} is the only place that maps between the two.
 */
public enum DeliveryState {
    /** Waiting for its push delivery or, for a pull recipient, its notification. */
    QUEUED("queued"),
    DELIVERED("delivered"),
    /** Failed for good (refused by consent, the recipient, the egress policy, or dead-lettered). */
    FAILED("failed"),
    /** The recipient is not registered yet: the message waits for it, an invitation went out. */
    HELD_INVITED("held-invited"),
    /** A pull recipient was told by e-mail; nothing is pushed. */
    NOTIFIED("notified");

    private final String text;

    DeliveryState(String text) {
        this.text = text;
    }

    public String text() {
        return text;
    }

    static DeliveryState ofText(String text) {
        for (DeliveryState state : values()) {
            if (state.text.equals(text)) {
                return state;
            }
        }
        throw new IllegalArgumentException("Unknown delivery state " + text);
    }
}
