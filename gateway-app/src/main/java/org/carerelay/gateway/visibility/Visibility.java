package org.carerelay.gateway.visibility;

import java.time.Instant;
import java.util.Optional;
import org.carerelay.fhir.conversation.Masking;
import org.carerelay.gateway.conversation.MessageRepository;
import org.carerelay.gateway.patient.PatientAccess;
import org.carerelay.gateway.security.Caller;
import org.carerelay.gateway.visibility.VisibilityRules.ConsentState;
import org.carerelay.gateway.visibility.VisibilityRules.Decision;
import org.carerelay.gateway.visibility.VisibilityRules.Kind;
import org.carerelay.gateway.visibility.VisibilityRules.Participation;
import org.hl7.fhir.instance.model.api.IBaseResource;
import org.hl7.fhir.r4.model.Communication;
import org.hl7.fhir.r4.model.Consent;
import org.hl7.fhir.r4.model.Task;
import org.springframework.jdbc.core.simple.JdbcClient;
import org.springframework.stereotype.Component;

/**
 * What a caller is shown of a stored resource, for any channel: looks up the facts the rules need
 * (does the caller's organisation take part, was the consent revoked since) and applies
 * {@link VisibilityRules}. A masked message comes back in its masked form.
 */
@Component
public class Visibility {

    /** The decision and the resource to show ({@code null} when not visible). */
    public record Shown(Decision decision, IBaseResource resource) {
    }

    private final PatientAccess patients;
    private final MessageRepository messages;
    private final JdbcClient jdbc;

    public Visibility(PatientAccess patients, MessageRepository messages, JdbcClient jdbc) {
        this.patients = patients;
        this.messages = messages;
        this.jdbc = jdbc;
    }

    public Shown show(Caller caller, IBaseResource resource) {
        Kind kind = VisibilityRules.kindOf(resource.fhirType());
        String id = resource.getIdElement().getIdPart();
        String org = caller.isParticipant() ? caller.organizationId() : null;
        Participation participation = Participation.NONE;
        ConsentState consent = ConsentState.NOT_REVOKED;
        Instant maskedSince = null;
        if (org != null && id != null) {
            switch (kind) {
                case PATIENT -> participation = takesPart(patients.canSee(org, id));
                case CONSENT -> participation = takesPart(resource instanceof Consent c && c.hasPatient()
                        && patients.canSee(org, c.getPatient().getReferenceElement().getIdPart()));
                case MESSAGE -> {
                    Optional<Optional<Instant>> seen = messages.visibility(id, org);
                    participation = takesPart(seen.isPresent());
                    maskedSince = seen.flatMap(m -> m).orElse(null);
                    consent = maskedSince == null ? ConsentState.NOT_REVOKED : ConsentState.REVOKED_SINCE;
                }
                case INVITATION -> participation = takesPart(resource instanceof Task t && invitedOrInviter(t, org));
                default -> {
                    // the directory needs no facts; other kinds are never shown
                }
            }
        }
        Decision decision = VisibilityRules.decide(caller, kind, participation, consent);
        return switch (decision) {
            case SEE -> new Shown(decision, resource);
            case MASKED -> new Shown(decision, Masking.mask((Communication) resource, maskedSince));
            case NOT_VISIBLE -> new Shown(decision, null);
        };
    }

    private static Participation takesPart(boolean takesPart) {
        return takesPart ? Participation.TAKES_PART : Participation.NONE;
    }

    /** The invited organisation itself, or one that sent a message to it (which made the invitation). */
    private boolean invitedOrInviter(Task task, String org) {
        String invited = task.getOwner().getReferenceElement().getIdPart();
        if (org.equals(invited)) {
            return true;
        }
        return invited != null && jdbc.sql("select count(*) from delivery d join message m on m.id = d.message_id "
                + "where d.recipient_org = ? and m.sender_org = ?").params(invited, org).query(Integer.class).single() > 0;
    }
}
