package org.carerelay.gateway.hl7;

import ca.uhn.hl7v2.AcknowledgmentCode;
import org.carerelay.fhir.ErrorCode;

/**
 * A step of the inbound route refuses the message. Carries the {@link Hl7Outcome} (an AR or AE with
 * its {@link ErrorCode}); the route's {@code onException} turns it into the negative ACK. Whatever
 * the refusal needs audited has been audited by the step that decided it. The message text never
 * contains field values of the message beyond the header ids.
 */
public class Hl7Refusal extends RuntimeException {

    private static final long serialVersionUID = 1L;

    private final transient Hl7Outcome outcome;

    public Hl7Refusal(Hl7Outcome outcome) {
        super(outcome.text(), null, false, false);
        this.outcome = outcome;
    }

    public Hl7Refusal(AcknowledgmentCode code, ErrorCode error, String hl7Code, String text) {
        this(new Hl7Outcome(code, error, hl7Code, text));
    }

    public Hl7Outcome outcome() {
        return outcome;
    }
}
