package org.carerelay.gateway.hl7;

import ca.uhn.hl7v2.AcknowledgmentCode;
import org.carerelay.fhir.ErrorCode;

/**
 * The result of handling an HL7v2 message, before it becomes an ACK: the acknowledgement code
 * (original mode; the ACK turns it into a commit code where the sender asked for one), and for a
 * refusal the catalogue error, the HL7 table 0357 code for ERR-3 and the text for MSA-3/ERR-8.
 */
public record Hl7Outcome(AcknowledgmentCode code, ErrorCode error, String hl7Code, String text) {

    public static Hl7Outcome accepted(String text) {
        return new Hl7Outcome(AcknowledgmentCode.AA, null, null, text);
    }

    /** AR with the error's own HL7 code and text. */
    public static Hl7Outcome rejected(ErrorCode error) {
        return new Hl7Outcome(AcknowledgmentCode.AR, error, error.hl7ErrorCode(), error.defaultText());
    }

    public boolean isAccepted() {
        return code == AcknowledgmentCode.AA;
    }
}
