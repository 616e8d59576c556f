package org.carerelay.gateway.hl7;

import java.util.Locale;

/**
 * HL7 v2 acknowledgement modes (chapter 2, "original" and "enhanced" acknowledgement rules) as far
 * as the answer on the connection is concerned.
 *
 * <ul>
 *   <li><b>Original mode</b> — MSH-15 and MSH-16 both empty: every message gets an ACK with
 *       {@code AA}/{@code AE}/{@code AR}.</li>
 *   <li><b>Enhanced mode</b> — MSH-15 or MSH-16 set: the answer on the connection is the commit
 *       ACK ({@code CA}/{@code CE}/{@code CR}), sent as MSH-15 (HL7 table 0155) asks: {@code AL}
 *       always, {@code NE} never, {@code ER} only for {@code CE}/{@code CR}, {@code SU} only for
 *       {@code CA}. An empty or unknown MSH-15 next to a set MSH-16 is read as {@code AL}, so a
 *       sender is never left without an answer by a value it did not mean.</li>
 * </ul>
 *
 * <p>Pure; no state.
 */
final class AcknowledgmentModes {

    private AcknowledgmentModes() {
    }

    /** Whether the message asks for enhanced acknowledgement (MSH-15 or MSH-16 valued). */
    static boolean enhanced(String acceptAckType, String applicationAckType) {
        return !blank(acceptAckType) || !blank(applicationAckType);
    }

    /**
     * Whether an acknowledgement is written back on the connection.
     *
     * @param accepted the message was accepted and committed ({@code AA} resp. {@code CA})
     */
    static boolean commitAckWanted(String acceptAckType, String applicationAckType, boolean accepted) {
        if (!enhanced(acceptAckType, applicationAckType)) {
            return true;
        }
        String condition = blank(acceptAckType) ? "AL" : acceptAckType.strip().toUpperCase(Locale.ROOT);
        return switch (condition) {
            case "NE" -> false;
            case "ER" -> !accepted;
            case "SU" -> accepted;
            default -> true;
        };
    }

    private static boolean blank(String value) {
        return value == null || value.isBlank();
    }
}
