package org.carerelay.gateway.visibility;

import ca.uhn.fhir.rest.api.RestOperationTypeEnum;
import ca.uhn.fhir.rest.api.server.RequestDetails;
import ca.uhn.fhir.rest.server.exceptions.BaseServerResponseException;
import ca.uhn.fhir.rest.server.exceptions.ResourceNotFoundException;
import ca.uhn.fhir.rest.server.interceptor.consent.ConsentOperationStatusEnum;
import ca.uhn.fhir.rest.server.interceptor.consent.ConsentOutcome;
import ca.uhn.fhir.rest.server.interceptor.consent.IConsentContextServices;
import ca.uhn.fhir.rest.server.interceptor.consent.IConsentService;
import java.util.ArrayList;
import java.util.List;
import java.util.Optional;
import org.carerelay.gateway.audit.AuditService;
import org.carerelay.gateway.conversation.MessageRepository;
import org.carerelay.gateway.security.Caller;
import org.carerelay.gateway.visibility.VisibilityRules.Decision;
import org.carerelay.gateway.visibility.VisibilityRules.Kind;
import org.hl7.fhir.instance.model.api.IBaseResource;
import org.hl7.fhir.instance.model.api.IIdType;
import org.hl7.fhir.r4.model.AuditEvent.AuditEventAction;
import org.hl7.fhir.r4.model.Bundle;
import org.hl7.fhir.r4.model.OperationOutcome;

/**
 * The one place that decides what a FHIR caller sees, on HAPI's consent framework, for every
 * provider at once: reads and searches of the directory, invitations, patients, consents and
 * messages go through {@link Visibility} (masking included) and leave the read audit — one event
 * per read (naming the version of a vread), one per resource of a search page (one without an
 * entity for an empty page), one for a failed read. Writes and operations are decided and audited
 * where they happen.
 *
 * <p>Searches filter by visibility in SQL, so that {@code Bundle.total} and the page links count only
 * what the caller may see; this service is the second line. HAPI's {@code ConsentInterceptor}
 * clears {@code Bundle.total} of every search it looks at: {@link VisibilityInterceptor} puts the
 * total back when this service showed every entry, and when it had to withhold one it removes that
 * entry and leaves out the total and the {@code next} link, so a search never reveals that there is
 * more than the caller may see.
 */
public class VisibilityConsentService implements IConsentService {

    private static final String STATE = VisibilityConsentService.class.getName() + ".state";

    /** What one request showed, kept until the response goes out. */
    static final class Shown {
        final Kind kind;
        final List<IBaseResource> resources = new ArrayList<>();
        Decision readDecision;
        Integer total;
        boolean withheld;

        Shown(Kind kind) {
            this.kind = kind;
        }
    }

    private final Visibility visibility;
    private final AuditService audit;
    private final MessageRepository messages;

    public VisibilityConsentService(Visibility visibility, AuditService audit, MessageRepository messages) {
        this.visibility = visibility;
        this.audit = audit;
        this.messages = messages;
    }

    /** Reads and searches of the kinds the rules know are checked here; everything else is decided where it happens. */
    @Override
    public ConsentOutcome startOperation(RequestDetails request, IConsentContextServices context) {
        Kind kind = governedKind(request);
        if (kind == null) {
            return ConsentOutcome.AUTHORIZED;
        }
        request.getUserData().put(STATE, new Shown(kind));
        return ConsentOutcome.PROCEED;
    }

    @Override
    public ConsentOutcome canSeeResource(RequestDetails request, IBaseResource resource, IConsentContextServices context) {
        Shown state = state(request);
        if (state == null || resource instanceof Bundle || resource instanceof OperationOutcome) {
            return ConsentOutcome.PROCEED;
        }
        return visibility.show(Caller.of(request), resource).decision() == Decision.NOT_VISIBLE
                ? ConsentOutcome.REJECT : ConsentOutcome.PROCEED;
    }

    @Override
    public ConsentOutcome willSeeResource(RequestDetails request, IBaseResource resource, IConsentContextServices context) {
        Shown state = state(request);
        if (state == null || resource instanceof OperationOutcome) {
            return ConsentOutcome.AUTHORIZED;
        }
        if (resource instanceof Bundle bundle) {
            // the search page itself: its entries are looked at one by one
            state.total = bundle.hasTotal() ? bundle.getTotal() : null;
            return ConsentOutcome.PROCEED;
        }
        Visibility.Shown shown = visibility.show(Caller.of(request), resource);
        boolean read = request.getRestOperationType() != RestOperationTypeEnum.SEARCH_TYPE;
        if (shown.decision() == Decision.NOT_VISIBLE) {
            if (read) {
                // as if it did not exist: a 404, audited as a failed read
                throw new ResourceNotFoundException(request.getId());
            }
            state.withheld = true;
            return ConsentOutcome.REJECT;
        }
        state.resources.add(shown.resource());
        if (read) {
            state.readDecision = shown.decision();
        }
        // AUTHORIZED: what a resource contains (e.g. the contained resources of a message) is shown with it
        return shown.resource() == resource ? ConsentOutcome.AUTHORIZED
                : new ConsentOutcome(ConsentOperationStatusEnum.AUTHORIZED, shown.resource());
    }

    /** Writes the read audit of what the response shows; called just before it is written. */
    void responseShown(RequestDetails request, IBaseResource response) {
        Shown state = state(request);
        if (state == null || response == null) {
            return;
        }
        Caller caller = Caller.of(request);
        String address = Caller.clientAddress(request);
        String prefix = VisibilityRules.auditPrefix(state.kind);
        if (request.getRestOperationType() == RestOperationTypeEnum.SEARCH_TYPE) {
            if (response instanceof Bundle bundle) {
                showOnly(bundle, state);
            }
            audit.searchPage(prefix + "-search", caller, address, state.resources);
        } else if (state.readDecision != null) {
            audit.success(VisibilityRules.readSubtype(state.kind, state.readDecision), AuditEventAction.R, caller, address,
                    entity(request));
        }
    }

    /** The total back, unless an entry had to be withheld: then neither total nor next link may count it. */
    private static void showOnly(Bundle bundle, Shown state) {
        if (!state.withheld) {
            if (state.total != null) {
                bundle.setTotal(state.total);
            }
            return;
        }
        bundle.getEntry().removeIf(e -> !e.hasResource());
        bundle.setTotalElement(null);
        bundle.getLink().removeIf(l -> "next".equals(l.getRelation()));
    }

    @Override
    public void completeOperationSuccess(RequestDetails request, IConsentContextServices context) {
        request.getUserData().remove(STATE);
    }

    /** A read of something the caller does not see, or of a version that does not exist: audited as failed. */
    @Override
    public void completeOperationFailure(RequestDetails request, BaseServerResponseException exception,
            IConsentContextServices context) {
        Shown state = state(request);
        request.getUserData().remove(STATE);
        RestOperationTypeEnum op = request.getRestOperationType();
        if (state == null || (op != RestOperationTypeEnum.READ && op != RestOperationTypeEnum.VREAD)
                || exception.getStatusCode() != 404 || request.getId() == null) {
            return;
        }
        Caller caller = Caller.of(request);
        audit.failure(VisibilityRules.auditPrefix(state.kind) + "-read", AuditEventAction.R, caller,
                Caller.clientAddress(request), entity(request), why(state.kind, request.getId(), caller));
    }

    /** A message has one version: asking a visible message for another one is "no such version". */
    private String why(Kind kind, IIdType id, Caller caller) {
        if (kind == Kind.MESSAGE && id.hasVersionIdPart() && caller.isParticipant()
                && messages.visibility(id.getIdPart(), caller.organizationId()).isPresent()) {
            return "no such version";
        }
        return "not visible";
    }

    private static String entity(RequestDetails request) {
        IIdType id = request.getId();
        return AuditService.version(request.getResourceName(), id.getIdPart(), id.hasVersionIdPart() ? id.getVersionIdPart() : null);
    }

    private static Kind governedKind(RequestDetails request) {
        RestOperationTypeEnum op = request.getRestOperationType();
        if (op != RestOperationTypeEnum.READ && op != RestOperationTypeEnum.VREAD && op != RestOperationTypeEnum.SEARCH_TYPE) {
            return null;
        }
        Kind kind = VisibilityRules.kindOf(request.getResourceName());
        return kind == Kind.OTHER ? null : kind;
    }

    private static Shown state(RequestDetails request) {
        return Optional.ofNullable(request.getUserData().get(STATE)).filter(Shown.class::isInstance).map(Shown.class::cast)
                .orElse(null);
    }
}
