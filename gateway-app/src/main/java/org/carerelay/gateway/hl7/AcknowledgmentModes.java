package org.carerelay.gateway.hl7;

import java.util.Locale;

/**
 * HL7 v2 acknowledgement modes (chapter 2, "original" and "enhanced" acknowledgement rules): which
 * acknowledgement, if any, is written back on the connection a message came in on.
 *
 * <ul>
 *   <li><b>Original mode</b> — MSH-15 and MSH-16 both empty: every message gets an ACK with
 *       {@code AA}/{@code AE}/{@code AR} ({@link Answer#ORIGINAL}).</li>
 *   <li><b>Enhanced mode</b> — MSH-15 or MSH-16 set. MSH-15 (HL7 table 0155: {@code AL} always,
 *       {@code NE} never, {@code ER} only on error, {@code SU} only on success) decides on the commit
 *       ACK {@code CA}/{@code CE}/{@code CR} ({@link Answer#COMMIT}); an empty or unknown MSH-15 is
 *       read as {@code AL}, so a sender is never left without an answer by a value it did not mean.
 *       Where MSH-15 is empty or asks for no commit ACK but MSH-16 (same table; empty = {@code NE})
 *       asks for an application ACK, that application ACK ({@code AA}/{@code AE}/{@code AR}) is the
 *       answer on the connection ({@link Answer#APPLICATION}): the gateway has decided everything an
 *       application ACK reports before it answers, and does not send application ACKs as separate
 *       messages (as IHE PCD-01 receivers answer {@code NE}/{@code AL}). An accepted message neither
 *       asks an answer for gets none ({@link Answer#NONE}).</li>
 *   <li><b>A refusal is always answered</b>: nothing of a refused message was stored, and a sender
 *       that asked for no answer must still learn that — otherwise the message would be lost without
 *       a trace. Where neither MSH-15 nor MSH-16 asks for an answer to an error, MSH-15 {@code NE}
 *       gets the application NAK ({@code AE}/{@code AR}; the sender declined commit ACKs), any other
 *       MSH-15 ({@code SU}) the commit NAK ({@code CE}/{@code CR}).</li>
 * </ul>
 *
 * <p>Pure; no state.
 */
final class AcknowledgmentModes {

    /** What is written back on the connection. */
    enum Answer {
        /** Original mode: {@code AA}/{@code AE}/{@code AR}. */
        ORIGINAL,
        /** Enhanced mode, commit ACK: {@code CA}/{@code CE}/{@code CR}. */
        COMMIT,
        /** Enhanced mode, application ACK in place of the commit ACK MSH-15 declined: {@code AA}/{@code AE}/{@code AR}. */
        APPLICATION,
        /** Enhanced mode, neither MSH-15 nor MSH-16 asks for an acknowledgement of this outcome. */
        NONE
    }

    private AcknowledgmentModes() {
    }

    /** Whether the message asks for enhanced acknowledgement (MSH-15 or MSH-16 valued). */
    static boolean enhanced(String acceptAckType, String applicationAckType) {
        return !blank(acceptAckType) || !blank(applicationAckType);
    }

    /**
     * The answer on the connection.
     *
     * @param accepted the message was accepted and committed ({@code AA} resp. {@code CA})
     */
    static Answer answer(String acceptAckType, String applicationAckType, boolean accepted) {
        if (!enhanced(acceptAckType, applicationAckType)) {
            return Answer.ORIGINAL;
        }
        boolean applicationWanted = !blank(applicationAckType) && wanted(applicationAckType, accepted);
        if (blank(acceptAckType) && applicationWanted) {
            return Answer.APPLICATION; // MSH-16 alone asks: its application ACK, not a commit ACK
        }
        if (wanted(blank(acceptAckType) ? "AL" : acceptAckType, accepted)) {
            return Answer.COMMIT;
        }
        if (applicationWanted) {
            return Answer.APPLICATION;
        }
        if (accepted) {
            return Answer.NONE;
        }
        // a refusal: nothing was stored, so the sender must learn it even where it asked for no answer
        return "NE".equals(acceptAckType.strip().toUpperCase(Locale.ROOT)) ? Answer.APPLICATION : Answer.COMMIT;
    }

    /** HL7 table 0155 condition; unknown values as {@code AL}. */
    private static boolean wanted(String condition, boolean accepted) {
        return switch (condition.strip().toUpperCase(Locale.ROOT)) {
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
