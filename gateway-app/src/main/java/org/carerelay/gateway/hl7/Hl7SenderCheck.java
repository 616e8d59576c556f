package org.carerelay.gateway.hl7;

import ca.uhn.hl7v2.AcknowledgmentCode;
import java.util.Optional;
import org.carerelay.fhir.ErrorCode;
import org.carerelay.fhir.hl7.Hl7Inbound;
import org.carerelay.gateway.audit.AuditService;
import org.carerelay.gateway.registration.ParticipantRepository;
import org.carerelay.gateway.security.Caller;
import org.hl7.fhir.r4.model.AuditEvent.AuditEventAction;
import org.hl7.fhir.r4.model.Organization;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;
import org.springframework.stereotype.Component;

/**
 * Sender authentication of HL7v2 inbound. A frame this gateway sent itself (its MSH-10 is in
 * {@link OwnFrames}) is refused with {@code looped-message}. The sender is MSH-4, else MSH-3, mapped
 * to a registered organisation ({@code unknown-sender} otherwise); the connection must be
 * authenticated as that sender ({@link SenderAuthentication}): on the TLS listener by the client
 * certificate, on the plain listener by the sender's HL7 allow-list. Then MSH-10 must be usable.
 * Refusals are audited here and thrown as {@link Hl7Refusal}.
 */
@Component
public class Hl7SenderCheck {

    private static final Logger log = LoggerFactory.getLogger(Hl7SenderCheck.class);

    private final Facilities facilities;
    private final ParticipantRepository participants;
    private final SenderAuthentication senderAuthentication;
    private final OwnFrames ownFrames;
    private final AuditService audit;

    public Hl7SenderCheck(Facilities facilities, ParticipantRepository participants, SenderAuthentication senderAuthentication,
            OwnFrames ownFrames, AuditService audit) {
        this.facilities = facilities;
        this.participants = participants;
        this.senderAuthentication = senderAuthentication;
        this.ownFrames = ownFrames;
        this.audit = audit;
    }

    /** Sets the authenticated sender as the caller, or refuses the message. */
    public void authenticate(InboundHl7 in) {
        Hl7Inbound.Parsed parsed = in.parsed();
        String remoteAddress = in.remoteAddress();
        boolean controlIdUsable = controlIdUsable(parsed.controlId());
        if (controlIdUsable && ownFrames.sentHere(parsed.controlId())) {
            log.warn("HL7 frame from {} refused: MSH-10 {} was sent by this gateway (an endpoint points back at it)",
                    remoteAddress, Hl7Refusals.safe(parsed.controlId()));
            audit.failure("hl7-inbound", AuditEventAction.C, Caller.ANONYMOUS, remoteAddress, null, "own frame came back (delivery loop)");
            throw new Hl7Refusal(Hl7Outcome.rejected(ErrorCode.LOOPED_MESSAGE));
        }
        Optional<Organization> sender = facilities.find(parsed.sendingFacility())
                .or(() -> facilities.find(parsed.sendingApplication()));
        if (sender.isEmpty() || !participants.isRegistered(sender.get().getIdElement().getIdPart())) {
            audit.failure("hl7-inbound", AuditEventAction.C, Caller.ANONYMOUS, remoteAddress, null, "unknown sender");
            throw new Hl7Refusal(AcknowledgmentCode.AR, ErrorCode.UNKNOWN_SENDER, "204",
                    "Unknown sender: MSH-4 '" + Hl7Refusals.safe(parsed.sendingFacility()) + "' is not a registered participant.");
        }
        String senderOrg = sender.get().getIdElement().getIdPart();
        Optional<SenderAuthentication.Refusal> refusal = senderAuthentication.check(sender.get(), in.connection());
        if (refusal.isPresent()) {
            log.info("HL7 frame from {} rejected: not authenticated as {} ({})", remoteAddress, senderOrg,
                    refusal.get().error().code());
            audit.failure("hl7-inbound", AuditEventAction.C, Caller.ANONYMOUS, remoteAddress, "Organization/" + senderOrg,
                    refusal.get().auditReason());
            throw new Hl7Refusal(AcknowledgmentCode.AR, refusal.get().error(), refusal.get().error().hl7ErrorCode(),
                    refusal.get().text() + " (MSH-4 '" + Hl7Refusals.safe(parsed.sendingFacility()) + "').");
        }
        in.caller(Caller.participant(senderOrg));
        if (!controlIdUsable) {
            throw new Hl7Refusal(AcknowledgmentCode.AR, ErrorCode.INVALID_REQUEST, "102",
                    "MSH-10 (message control id) is empty or contains control characters.");
        }
    }

    static boolean controlIdUsable(String controlId) {
        return controlId != null && !controlId.isBlank() && controlId.chars().noneMatch(c -> c < 0x20);
    }
}
