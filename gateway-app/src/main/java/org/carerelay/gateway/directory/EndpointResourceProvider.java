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
import ca.uhn.fhir.rest.param.StringParam;
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
import org.hl7.fhir.r4.model.Endpoint;
import org.hl7.fhir.r4.model.IdType;
import org.springframework.stereotype.Component;

/**
 * How an organisation's system is reached. The operator manages all endpoints; a registered
 * organisation manages the endpoints whose {@code managingOrganization} is itself.
 */
@Component
public class EndpointResourceProvider implements IResourceProvider {

    private final ResourceStore store;
    private final DirectoryService directory;
    private final AuditService audit;
    private final EndpointSecrets secrets;

    public EndpointResourceProvider(ResourceStore store, DirectoryService directory, AuditService audit, EndpointSecrets secrets) {
        this.store = store;
        this.directory = directory;
        this.audit = audit;
        this.secrets = secrets;
    }

    @Override
    public Class<Endpoint> getResourceType() {
        return Endpoint.class;
    }

    /**
     * Also a vread ({@code _history/{v}}): every version is kept. Whether the caller sees the
     * masked header entries of a past version is decided by the current managing organisation.
     */
    @Read(version = true)
    public Endpoint read(@IdParam IdType id, RequestDetails request) {
        Endpoint current = stored(id.toVersionless());
        if (!id.hasVersionIdPart()) {
            return forCaller(current, Caller.of(request));
        }
        Endpoint version = store.readAt(Endpoint.class, id).orElseThrow(() -> new ResourceNotFoundException(id));
        return secrets.forApi(version, managedBy(current, Caller.of(request)));
    }

    private Endpoint stored(IdType id) {
        return store.read(Endpoint.class, id.getIdPart()).orElseThrow(() -> new ResourceNotFoundException(id));
    }

    /** Credentials never leave: masked for the managing organisation and the operator, absent for others. */
    private Endpoint forCaller(Endpoint endpoint, Caller caller) {
        return secrets.forApi(endpoint, managedBy(endpoint, caller));
    }

    @Search
    public IBundleProvider search(
            @OptionalParam(name = Endpoint.SP_ORGANIZATION) ReferenceParam organization,
            @OptionalParam(name = Endpoint.SP_CONNECTION_TYPE) TokenParam connectionType,
            @OptionalParam(name = Endpoint.SP_IDENTIFIER) TokenParam identifier,
            @OptionalParam(name = Endpoint.SP_NAME) StringParam name,
            @OptionalParam(name = Endpoint.SP_STATUS) TokenParam status,
            @Count Integer count,
            @Offset Integer offset,
            RequestDetails request) {
        SearchBuilder sb = new SearchBuilder()
                .reference("managingOrganization", "Organization", organization == null ? null : organization.getIdPart())
                .identifier("identifier", identifier)
                .textContains("(content->>'name')", name);
        if (connectionType != null && connectionType.getValue() != null) {
            sb.contains("{\"connectionType\":{\"code\":" + quote(connectionType.getValue()) + "}}");
        }
        if (status != null && status.getValue() != null) {
            sb.contains("{\"status\":" + quote(status.getValue()) + "}");
        }
        Caller caller = Caller.of(request);
        return store.searchPage(Endpoint.class, sb.sql(), sb.params(), SearchPage.offset(offset), SearchPage.pageSize(count),
                page -> page.stream().map(e -> forCaller(e, caller)).toList());
    }

    @Create
    public MethodOutcome create(@ResourceParam Endpoint endpoint, RequestDetails request) {
        endpoint.setId((String) null);
        requireManagedByCaller(endpoint, Caller.of(request));
        Endpoint saved = directory.saveEndpoint(endpoint, true);
        auditChange(request, AuditEventAction.C, saved);
        return new MethodOutcome(saved.getIdElement(), true).setResource(forCaller(saved, Caller.of(request)));
    }

    @Update
    public MethodOutcome update(@IdParam IdType id, @ResourceParam Endpoint endpoint, RequestDetails request) {
        // HAPI puts the version of an If-Match header into the id; read it first: HAPI also makes the id
        // the body's id element, which setId(String) below overwrites in place
        String ifMatch = id.getVersionIdPart();
        Caller caller = Caller.of(request);
        var existing = store.read(Endpoint.class, id.getIdPart());
        if (existing.isPresent()) {
            requireManagedByCaller(existing.get(), caller);
        } else if (!caller.isAdmin()) {
            throw new GatewayException(ErrorCode.FORBIDDEN, "Create endpoints with POST.");
        }
        requireManagedByCaller(endpoint, caller);
        endpoint.setId(id.getIdPart());
        Endpoint saved = directory.saveEndpoint(endpoint, existing.isEmpty(), ifMatch);
        auditChange(request, existing.isPresent() ? AuditEventAction.U : AuditEventAction.C, saved);
        return new MethodOutcome(saved.getIdElement(), existing.isEmpty()).setResource(forCaller(saved, caller));
    }

    /** Sets the endpoint {@code off}; nothing is removed. */
    @Delete
    public MethodOutcome deactivate(@IdParam IdType id, RequestDetails request) {
        Endpoint endpoint = stored(id);
        requireManagedByCaller(endpoint, Caller.of(request));
        endpoint.setStatus(Endpoint.EndpointStatus.OFF);
        Endpoint saved = directory.saveEndpoint(endpoint, false);
        auditChange(request, AuditEventAction.D, saved);
        return new MethodOutcome(saved.getIdElement());
    }

    private static boolean managedBy(Endpoint endpoint, Caller caller) {
        if (caller.isAdmin()) {
            return true;
        }
        String managing = endpoint.hasManagingOrganization()
                ? endpoint.getManagingOrganization().getReferenceElement().getIdPart() : null;
        return caller.isParticipant() && caller.organizationId().equals(managing);
    }

    private static void requireManagedByCaller(Endpoint endpoint, Caller caller) {
        if (!managedBy(endpoint, caller)) {
            throw new GatewayException(ErrorCode.FORBIDDEN,
                    "A participant manages only endpoints whose managingOrganization is itself.");
        }
    }

    private void auditChange(RequestDetails request, AuditEventAction action, Endpoint saved) {
        String address = Caller.clientAddress(request);
        audit.success("directory-change", action, Caller.of(request), address, "Endpoint/" + saved.getIdElement().getIdPart());
    }

    private static String quote(String s) {
        return SearchBuilder.Json.quote(s); // escapes control characters too: a raw CR made the document invalid (500)
    }
}
