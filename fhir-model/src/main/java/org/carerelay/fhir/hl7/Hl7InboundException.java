package org.carerelay.fhir.hl7;

import java.util.Objects;
import java.util.Optional;
import org.carerelay.fhir.ErrorCode;

/**
 * An inbound HL7v2 message could not be accepted. Carries the {@link ErrorCode} of the catalogue and
 * the HL7 table 0357 code (message error condition) for {@code ERR-3}, which is more specific than
 * {@link ErrorCode#hl7ErrorCode()}, plus the control id (MSH-10) when it could be read, so that the
 * caller can still answer with an ACK that references the message.
 *
 * <p>The message text never contains field values of the inbound message (no patient data): it names
 * the problem and at most a segment and field position. For the same reason HAPI's exception is not
 * attached as the cause (its message may quote segment content).
 */
public class Hl7InboundException extends RuntimeException {

    private static final long serialVersionUID = 1L;

    /** Table 0357: segment sequence error. */
    public static final String SEGMENT_SEQUENCE_ERROR = "100";
    /** Table 0357: required field missing. */
    public static final String REQUIRED_FIELD_MISSING = "101";
    /** Table 0357: data type error. */
    public static final String DATA_TYPE_ERROR = "102";
    /** Table 0357: unsupported version id. */
    public static final String UNSUPPORTED_VERSION_ID = "203";
    /** Table 0357: application internal error (used for content the parser cannot process). */
    public static final String APPLICATION_INTERNAL_ERROR = "207";

    private final ErrorCode errorCode;
    private final String hl7ErrorCode;
    private final String controlId;

    public Hl7InboundException(ErrorCode errorCode, String hl7ErrorCode, String message, String controlId) {
        super(message);
        this.errorCode = Objects.requireNonNull(errorCode, "errorCode");
        this.hl7ErrorCode = Objects.requireNonNull(hl7ErrorCode, "hl7ErrorCode");
        this.controlId = controlId == null || controlId.isBlank() ? null : controlId;
    }

    public Hl7InboundException(ErrorCode errorCode, String hl7ErrorCode, String message) {
        this(errorCode, hl7ErrorCode, message, null);
    }

    public ErrorCode errorCode() {
        return errorCode;
    }

    /** HL7 table 0357 code for {@code ERR-3}, e.g. {@code 203}. */
    public String hl7ErrorCode() {
        return hl7ErrorCode;
    }

    /** MSH-10 as sent, if the header could be read that far. */
    public Optional<String> controlId() {
        return Optional.ofNullable(controlId);
    }
}
