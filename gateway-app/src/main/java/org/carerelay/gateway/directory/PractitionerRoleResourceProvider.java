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
import ca.uhn.fhir.rest.param.ReferenceParam;
import ca.uhn.fhir.rest.param.TokenParam;
import ca.uhn.fhir.rest.server.IResourceProvider;
import ca.uhn.fhir.rest.server.exceptions.ResourceNotFoundException;
import java.util.List;
import org.carerelay.fhir.ErrorCode;
import org.carerelay.gateway.audit.AuditService;
import org.carerelay.gateway.fhir.GatewayException;
import org.carerelay.gateway.security.Caller;
import org.carerelay.gateway.store.ResourceStore;
import org.carerelay.gateway.store.SearchBuilder;
import org.carerelay.gateway.store.SearchPage;
import ca.uhn.fhir.rest.api.server.IBundleProvider;
import org.hl7.fhir.r4.model.AuditEvent.AuditEventAction;
import org.hl7.fhir.r4.model.IdType;
import org.hl7.fhir.r4.model.PractitionerRole;
import org.springframework.stereotype.Component;

/** Which practitioner works for which organisation, in which role. */
@Component
public class PractitionerRoleResourceProvider implements IResourceProvider {

    private final ResourceStore store;
    private final AuditService audit;

    public PractitionerRoleResourceProvider(ResourceStore store, AuditService audit) {
        this.store = store;
        this.audit = audit;
    }

    @Override
    public Class<PractitionerRole> getResourceType() {
        return PractitionerRole.class;
    }

    /** Also a vread ({@code _history/{v}}): every version is kept. */
    @Read(version = true)
    public PractitionerRole read(@IdParam IdType id) {
        return store.readAt(PractitionerRole.class, id).orElseThrow(() -> new ResourceNotFoundException(id));
    }

    @Search
    public IBundleProvider search(
            @OptionalParam(name = PractitionerRole.SP_ORGANIZATION) ReferenceParam organization,
            @OptionalParam(name = PractitionerRole.SP_PRACTITIONER) ReferenceParam practitioner,
            @OptionalParam(name = PractitionerRole.SP_IDENTIFIER) TokenParam identifier,
            @OptionalParam(name = PractitionerRole.SP_ROLE) TokenParam role,
            @Count Integer count,
            @Offset Integer offset) {
        SearchBuilder sb = new SearchBuilder()
                .reference("organization", "Organization", organization == null ? null : organization.getIdPart())
                .reference("practitioner", "Practitioner", practitioner == null ? null : practitioner.getIdPart())
                .identifier("identifier", identifier)
                .codeableConcept("code", role);
        return store.searchPage(PractitionerRole.class, sb.sql(), sb.params(), SearchPage.offset(offset), SearchPage.pageSize(count), page -> page);
    }

    @Create
    public MethodOutcome create(@ResourceParam PractitionerRole role, RequestDetails request) {
        role.setId((String) null);
        validate(role);
        PractitionerRole saved = store.create(role);
        auditChange(request, AuditEventAction.C, saved);
        return new MethodOutcome(saved.getIdElement(), true).setResource(saved);
    }

    @Update
    public MethodOutcome update(@IdParam IdType id, @ResourceParam PractitionerRole role, RequestDetails request) {
        // HAPI puts the version of an If-Match header into the id; read it first: HAPI also makes the id
        // the body's id element, which setId(String) below overwrites in place
        String ifMatch = id.getVersionIdPart();
        boolean exists = store.exists("PractitionerRole", id.getIdPart());
        role.setId(id.getIdPart());
        validate(role);
        PractitionerRole saved = store.update(role, ifMatch);
        auditChange(request, exists ? AuditEventAction.U : AuditEventAction.C, saved);
        return new MethodOutcome(saved.getIdElement(), !exists).setResource(saved);
    }

    /** Deactivates ({@code active=false}). */
    @Delete
    public MethodOutcome deactivate(@IdParam IdType id, RequestDetails request) {
        PractitionerRole role = read(id.toVersionless());
        role.setActive(false);
        PractitionerRole saved = store.update(role);
        auditChange(request, AuditEventAction.D, saved);
        return new MethodOutcome(saved.getIdElement());
    }

    private void validate(PractitionerRole role) {
        if (!role.hasOrganization() || !store.exists("Organization", role.getOrganization().getReferenceElement().getIdPart())) {
            throw new GatewayException(ErrorCode.INVALID_RESOURCE, "PractitionerRole.organization must name a directory organisation.");
        }
        if (role.hasPractitioner() && !store.exists("Practitioner", role.getPractitioner().getReferenceElement().getIdPart())) {
            throw new GatewayException(ErrorCode.INVALID_RESOURCE, "PractitionerRole.practitioner must name a directory practitioner.");
        }
    }

    private void auditChange(RequestDetails request, AuditEventAction action, PractitionerRole saved) {
        String address = Caller.clientAddress(request);
        audit.success("directory-change", action, Caller.of(request), address, "PractitionerRole/" + saved.getIdElement().getIdPart());
    }
}
