package org.carerelay.gateway.hl7;

import ca.uhn.fhir.rest.server.exceptions.BaseServerResponseException;
import ca.uhn.hl7v2.AcknowledgmentCode;
import java.nio.charset.Charset;
import java.util.Locale;
import org.carerelay.fhir.ErrorCode;
import org.carerelay.fhir.hl7.Hl7Inbound;
import org.carerelay.fhir.hl7.Hl7InboundException;
import org.carerelay.gateway.audit.AuditService;
import org.carerelay.gateway.fhir.GatewayException;
import org.carerelay.gateway.infra.Outages;
import org.carerelay.gateway.infra.SafeExceptions;
import org.carerelay.gateway.security.Caller;
import org.hl7.fhir.r4.model.AuditEvent.AuditEventAction;
import org.hl7.fhir.r4.model.AuditEvent.AuditEventOutcome;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;
import org.springframework.stereotype.Component;

/**
 * The negative acknowledgements of HL7v2 inbound, one method per kind of failure; the inbound
 * route's {@code onException} clauses call them. A refusal of an admitted message (one that passed
 * sender, repeat and rate checks) is audited as the message's outcome; earlier refusals were audited
 * by the step that decided them. Nothing was stored in any of these cases.
 */
@Component
public class Hl7Refusals {

    private static final Logger log = LoggerFactory.getLogger(Hl7Refusals.class);

    private final Hl7Acks acks;
    private final AuditService audit;

    public Hl7Refusals(Hl7Acks acks, AuditService audit) {
        this.acks = acks;
        this.audit = audit;
    }

    /** A step refused the message ({@link Hl7Refusal}: limits, sender, rate limit, message type, recipient). */
    public byte[] refused(InboundHl7 in, Hl7Refusal refusal) {
        return answer(in, refusal.outcome());
    }

    /** The message cannot be read or its content breaks an HL7 rule: {@code AR} with the error it names. */
    public byte[] malformed(InboundHl7 in, Hl7InboundException e) {
        return answer(in, new Hl7Outcome(AcknowledgmentCode.AR, e.errorCode(), e.hl7ErrorCode(), e.getMessage()));
    }

    /** The mapping to FHIR refused a value: {@code AE} {@code invalid-resource}. */
    public byte[] unmappable(InboundHl7 in, IllegalArgumentException e) {
        return answer(in, new Hl7Outcome(AcknowledgmentCode.AE, ErrorCode.INVALID_RESOURCE, "207",
                "The message content cannot be mapped: " + Hl7Acks.truncate(e.getMessage(), 120)));
    }

    /** A service refused the mapped message as the FHIR API would: {@code AE}, or {@code AR} for a server-side error. */
    public byte[] refusedByService(InboundHl7 in, GatewayException e) {
        return answer(in, new Hl7Outcome(e.errorCode().httpStatus() >= 500 ? AcknowledgmentCode.AR : AcknowledgmentCode.AE,
                e.errorCode(), e.errorCode().hl7ErrorCode(), e.getMessage()));
    }

    /** HAPI FHIR refused the mapped resource: {@code AE} {@code invalid-resource}. */
    public byte[] invalidResource(InboundHl7 in, BaseServerResponseException e) {
        return answer(in, new Hl7Outcome(AcknowledgmentCode.AE, ErrorCode.INVALID_RESOURCE, "207", e.getMessage()));
    }

    /** Anything else while handling an admitted message: {@code AR} {@code internal-error}. */
    public byte[] internalError(InboundHl7 in, Exception e) {
        log.error("HL7 message {} from {} failed: {}", in.parsed().controlId(), in.caller().organizationId(),
                SafeExceptions.describe(e));
        return answer(in, new Hl7Outcome(AcknowledgmentCode.AR, ErrorCode.INTERNAL_ERROR, "207", "Internal error; nothing was stored."));
    }

    private byte[] answer(InboundHl7 in, Hl7Outcome outcome) {
        if (in.admitted()) {
            Hl7Inbound.Parsed parsed = in.parsed();
            try {
                audit.record(new AuditService.Entry("hl7-inbound", AuditEventAction.C, AuditEventOutcome._4,
                        in.caller().auditName(), in.remoteAddress(), null,
                        parsed.messageType() + "^" + parsed.triggerEvent() + " " + outcome.code().name()
                                + (outcome.error() == null ? "" : " " + outcome.error().code())));
            } catch (RuntimeException e) {
                if (Outages.unavailable(e).isEmpty()) {
                    throw e;
                }
                return unavailable(in, e);
            }
        }
        return acks.refused(in, outcome);
    }

    /**
     * The database (or the broker) could not be reached, so nothing was stored: {@code AR} with ERR
     * {@code service-unavailable} (in enhanced mode {@code CE}, commit error), answered at once. HL7
     * v2.5 §2.9.2 keeps {@code AE} for errors in the message itself and {@code AR} for a refusal
     * unrelated to its content (the receiving system is down); the sender keeps the message and sends
     * it again later, with the same MSH-10, which is then accepted once.
     */
    public byte[] unavailable(InboundHl7 in, Exception failure) {
        Outages.Dependency unreachable = Outages.unavailable(failure).orElseThrow();
        log.warn("HL7 frame from {} answered {}: the {} is unreachable ({})", in.remoteAddress(),
                ErrorCode.SERVICE_UNAVAILABLE.code(), unreachable.name().toLowerCase(Locale.ROOT),
                SafeExceptions.describe(failure));
        Hl7Outcome outcome = Hl7Outcome.rejected(ErrorCode.SERVICE_UNAVAILABLE);
        Hl7Inbound.Parsed parsed = null;
        Charset charset = null;
        try {
            Hl7Inbound.Decoded decoded = Hl7Inbound.decode(in.frame(), null);
            parsed = Hl7Inbound.parse(decoded.er7());
            charset = decoded.charset();
        } catch (RuntimeException e) {
            // answered below without the parsed header
        }
        String sender = Hl7Acks.truncate(parsed == null ? null
                : isBlank(parsed.sendingFacility()) ? parsed.sendingApplication() : parsed.sendingFacility(), 64);
        String controlId = Hl7Acks.truncate(parsed == null ? null : parsed.controlId(), 64);
        log.warn("HL7 message MSH-10 {} from sender {} ({}) refused with {}: nothing was stored",
                safe(controlId), safe(sender), in.remoteAddress(), ErrorCode.SERVICE_UNAVAILABLE.code());
        if (unreachable != Outages.Dependency.DATABASE) {
            // with the database down, the audit trail is unreachable too: trying it would only hold the
            // sender's answer back for the connection timeout; the WARN above is the record of this refusal
            try {
                audit.failure("hl7-inbound", AuditEventAction.C, Caller.ANONYMOUS, in.remoteAddress(), null,
                        "service unavailable: sender " + safe(sender) + ", MSH-10 " + safe(controlId) + " not stored");
            } catch (RuntimeException e) {
                log.warn("The refusal of HL7 MSH-10 {} from {} could not be audited: {}", safe(controlId), safe(sender),
                        SafeExceptions.describe(e));
            }
        }
        return answer(parsed, charset, outcome, in.frame());
    }

    private byte[] answer(Hl7Inbound.Parsed parsed, Charset charset, Hl7Outcome outcome, byte[] frame) {
        if (parsed != null) {
            try {
                return acks.ack(parsed, charset, outcome);
            } catch (RuntimeException e) {
                // falls through to the raw refusal
            }
        }
        return Hl7Acks.rawReject(frame, outcome.error(), outcome.hl7Code(), outcome.text());
    }

    private static boolean isBlank(String s) {
        return s == null || s.isBlank();
    }

    /** Header ids for logs and refusal texts: letters, digits and {@code ._- } only. */
    static String safe(String s) {
        return s == null ? "" : s.replaceAll("[^\\p{L}\\p{N}._\\- ]", "");
    }
}
