package org.carerelay.gateway.hl7;

import java.util.Locale;

/**
 * HL7 v2 acknowledgement modes (original and enhanced, chapter 2): which acknowledgement, if any,
 * is written back on the connection a message came in on, from MSH-15/MSH-16 and the outcome. A
 * refusal is always answered, even where both ask for none: nothing of it was stored. Pure.
 * Table: README, "HL7v2 over MLLP", "Acknowledgement modes".
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
