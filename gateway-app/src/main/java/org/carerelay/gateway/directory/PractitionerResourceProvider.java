package org.carerelay.gateway.directory;

import ca.uhn.fhir.rest.annotation.Count;
import ca.uhn.fhir.rest.annotation.Create;
import ca.uhn.fhir.rest.annotation.Delete;
import ca.uhn.fhir.rest.annotation.IdParam;
import ca.uhn.fhir.rest.annotation.Offset;
import ca.uhn.fhir.rest.annotation.OptionalParam;
import ca.uhn.fhir.rest.annotation.Read;
import ca.uhn.fhir.rest.annotation.ResourceParam;
import ca.uhn.fhir.rest.annotation.Search;
import ca.uhn.fhir.rest.annotation.Update;
import ca.uhn.fhir.rest.api.MethodOutcome;
import ca.uhn.fhir.rest.api.server.RequestDetails;
import ca.uhn.fhir.rest.param.StringParam;
import ca.uhn.fhir.rest.param.TokenParam;
import ca.uhn.fhir.rest.server.IResourceProvider;
import ca.uhn.fhir.rest.server.exceptions.ResourceNotFoundException;
import java.util.List;
import org.carerelay.fhir.ErrorCode;
import org.carerelay.fhir.GermanIdentifiers;
import org.carerelay.gateway.audit.AuditService;
import org.carerelay.gateway.fhir.GatewayException;
import org.carerelay.gateway.security.Caller;
import org.carerelay.gateway.store.ResourceStore;
import org.carerelay.gateway.store.SearchBuilder;
import org.carerelay.gateway.store.SearchPage;
import ca.uhn.fhir.rest.api.server.IBundleProvider;
import org.hl7.fhir.r4.model.AuditEvent.AuditEventAction;
import org.hl7.fhir.r4.model.IdType;
import org.hl7.fhir.r4.model.Identifier;
import org.hl7.fhir.r4.model.Practitioner;
import org.springframework.stereotype.Component;

/** Practitioners in the directory (operator-managed; readable by every participant). */
@Component
public class PractitionerResourceProvider implements IResourceProvider {

    private final ResourceStore store;
    private final AuditService audit;

    public PractitionerResourceProvider(ResourceStore store, AuditService audit) {
        this.store = store;
        this.audit = audit;
    }

    @Override
    public Class<Practitioner> getResourceType() {
        return Practitioner.class;
    }

    /** Also a vread ({@code _history/{v}}): every version is kept. */
    @Read(version = true)
    public Practitioner read(@IdParam IdType id) {
        return store.readAt(Practitioner.class, id).orElseThrow(() -> new ResourceNotFoundException(id));
    }

    /** {@code name} matches family or given names anywhere, case-insensitive. */
    @Search
    public IBundleProvider search(
            @OptionalParam(name = Practitioner.SP_NAME) StringParam name,
            @OptionalParam(name = Practitioner.SP_IDENTIFIER) TokenParam identifier,
            @Count Integer count,
            @Offset Integer offset) {
        SearchBuilder sb = new SearchBuilder()
                .textContains("(select string_agg(coalesce(n->>'text','') || ' ' || coalesce(n->>'family','') || ' ' || "
                        + "coalesce((select string_agg(g, ' ') from jsonb_array_elements_text(coalesce(n->'given','[]'::jsonb)) g),''), ' ') "
                        + "from jsonb_array_elements(coalesce(content->'name','[]'::jsonb)) n)", name)
                .identifier("identifier", identifier);
        return store.searchPage(Practitioner.class, sb.sql(), sb.params(), SearchPage.offset(offset), SearchPage.pageSize(count), page -> page);
    }

    @Create
    public MethodOutcome create(@ResourceParam Practitioner practitioner, RequestDetails request) {
        practitioner.setId((String) null);
        validate(practitioner, List.of());
        Practitioner saved = store.create(practitioner);
        auditChange(request, AuditEventAction.C, saved);
        return new MethodOutcome(saved.getIdElement(), true).setResource(saved);
    }

    @Update
    public MethodOutcome update(@IdParam IdType id, @ResourceParam Practitioner practitioner, RequestDetails request) {
        // HAPI puts the version of an If-Match header into the id; read it first: HAPI also makes the id
        // the body's id element, which setId(String) below overwrites in place
        String ifMatch = id.getVersionIdPart();
        boolean exists = store.exists("Practitioner", id.getIdPart());
        practitioner.setId(id.getIdPart());
        validate(practitioner, exists ? store.read(Practitioner.class, id.getIdPart())
                .map(Practitioner::getIdentifier).orElse(List.of()) : List.of());
        Practitioner saved = store.update(practitioner, ifMatch);
        auditChange(request, exists ? AuditEventAction.U : AuditEventAction.C, saved);
        return new MethodOutcome(saved.getIdElement(), !exists).setResource(saved);
    }

    /** Deactivates ({@code active=false}). */
    @Delete
    public MethodOutcome deactivate(@IdParam IdType id, RequestDetails request) {
        Practitioner practitioner = read(id.toVersionless());
        practitioner.setActive(false);
        Practitioner saved = store.update(practitioner);
        auditChange(request, AuditEventAction.D, saved);
        return new MethodOutcome(saved.getIdElement());
    }

    /**
     * Base R4 requires nothing of a Practitioner; CareRelay requires that it can be told apart: a
     * {@code name} or at least one identifier with system and value (a HIS often sends only the
     * LANR, as in the ISiK examples). German identifiers must have a valid check digit.
     */
    static void validate(Practitioner practitioner, List<Identifier> stored) {
        boolean identified = practitioner.getIdentifier().stream().anyMatch(i -> i.hasSystem() && i.hasValue());
        if (!practitioner.hasName() && !identified) {
            throw new GatewayException(ErrorCode.INVALID_RESOURCE,
                    "A Practitioner needs a name or an identifier with system and value (e.g. the LANR).");
        }
        // identifiers stored before the check existed are not checked again
        var problem = GermanIdentifiers.firstProblem(practitioner.getIdentifier(), stored);
        if (problem.isPresent()) {
            throw new GatewayException(ErrorCode.IDENTIFIER_INVALID, problem.get());
        }
    }

    private void auditChange(RequestDetails request, AuditEventAction action, Practitioner saved) {
        String address = Caller.clientAddress(request);
        audit.success("directory-change", action, Caller.of(request), address, "Practitioner/" + saved.getIdElement().getIdPart());
    }
}
