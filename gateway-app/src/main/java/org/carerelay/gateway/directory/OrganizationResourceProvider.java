package org.carerelay.gateway.directory;

import ca.uhn.fhir.rest.annotation.Count;
import ca.uhn.fhir.rest.annotation.Create;
import ca.uhn.fhir.rest.annotation.Delete;
import ca.uhn.fhir.rest.annotation.IdParam;
import ca.uhn.fhir.rest.annotation.Offset;
import ca.uhn.fhir.rest.annotation.Operation;
import ca.uhn.fhir.rest.annotation.OperationParam;
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
import ca.uhn.fhir.rest.server.servlet.ServletRequestDetails;
import java.io.IOException;
import java.io.InputStreamReader;
import java.io.Reader;
import java.nio.charset.StandardCharsets;
import java.util.HashMap;
import java.util.List;
import java.util.Locale;
import org.carerelay.fhir.ErrorCode;
import org.carerelay.fhir.Systems;
import org.carerelay.gateway.audit.AuditService;
import org.carerelay.gateway.audit.AuditService.Entry;
import org.carerelay.gateway.fhir.GatewayException;
import org.carerelay.gateway.registration.RegistrationService;
import org.carerelay.gateway.security.Caller;
import org.carerelay.gateway.store.ResourceStore;
import org.carerelay.gateway.store.SearchBuilder;
import org.carerelay.gateway.store.SearchPage;
import ca.uhn.fhir.rest.api.server.IBundleProvider;
import org.hl7.fhir.instance.model.api.IBase;
import org.hl7.fhir.r4.model.Base;
import org.hl7.fhir.r4.model.Reference;
import org.hl7.fhir.r4.model.InstantType;
import org.hl7.fhir.r4.model.IntegerType;
import org.hl7.fhir.r4.model.Attachment;
import org.hl7.fhir.r4.model.AuditEvent.AuditEventAction;
import org.hl7.fhir.r4.model.AuditEvent.AuditEventOutcome;
import org.hl7.fhir.r4.model.Base64BinaryType;
import org.hl7.fhir.r4.model.BooleanType;
import org.hl7.fhir.r4.model.IdType;
import org.hl7.fhir.r4.model.Organization;
import org.hl7.fhir.r4.model.Parameters;
import org.hl7.fhir.r4.model.StringType;
import org.springframework.stereotype.Component;

/**
 * The directory of organisations (registered or not), plus registration and the CSV import.
 * Deleting an entry deactivates it ({@code active=false}); nothing is removed.
 */
@Component
public class OrganizationResourceProvider implements IResourceProvider {

    /** Audit subtype of {@code $encryption-certificate}. */
    private static final String CERTIFICATE_AUDIT = "encryption-certificate";

    private final ResourceStore store;
    private final DirectoryService directory;
    private final RegistrationService registration;
    private final DirectoryImportService importer;
    private final AuditService audit;

    public OrganizationResourceProvider(ResourceStore store, DirectoryService directory,
            RegistrationService registration, DirectoryImportService importer, AuditService audit) {
        this.store = store;
        this.directory = directory;
        this.registration = registration;
        this.importer = importer;
        this.audit = audit;
    }

    @Override
    public Class<Organization> getResourceType() {
        return Organization.class;
    }

    /** Also a vread ({@code _history/{v}}): every version of an entry is kept. */
    @Read(version = true)
    public Organization read(@IdParam IdType id, RequestDetails request) {
        Organization org = id.hasVersionIdPart()
                ? store.readAt(Organization.class, id).orElseThrow(() -> new ResourceNotFoundException(id))
                : directory.requireOrganization(id.getIdPart());
        directory.decorate(List.of(org));
        hideHl7AllowLists(List.of(org), Caller.of(request));
        return org;
    }

    /**
     * The HL7 allow-list names addresses inside a partner's network: only the organisation itself
     * and the operator see it.
     */
    private static void hideHl7AllowLists(List<Organization> organizations, Caller caller) {
        for (Organization org : organizations) {
            if (!caller.isSelfOrAdmin(org.getIdElement().getIdPart())) {
                org.getExtension().removeIf(e -> Systems.EXT_HL7_ALLOWED_ADDRESS.equals(e.getUrl()));
            }
        }
    }

    /**
     * {@code name} matches anywhere in the name (case-insensitive); {@code address-city} and
     * {@code address-postalcode} match the start; {@code type} is a code of the CareRelay
     * organisation types; {@code registered} is {@code true} or {@code false}.
     */
    @Search
    public IBundleProvider search(
            @OptionalParam(name = "_id") TokenParam id,
            @OptionalParam(name = Organization.SP_NAME) StringParam name,
            @OptionalParam(name = Organization.SP_TYPE) TokenParam type,
            @OptionalParam(name = Organization.SP_ADDRESS_CITY) StringParam city,
            @OptionalParam(name = Organization.SP_ADDRESS_POSTALCODE) StringParam postalCode,
            @OptionalParam(name = Organization.SP_IDENTIFIER) TokenParam identifier,
            @OptionalParam(name = Organization.SP_ACTIVE) TokenParam active,
            @OptionalParam(name = "registered") TokenParam registered,
            @Count Integer count,
            @Offset Integer offset,
            RequestDetails request) {
        SearchBuilder sb = new SearchBuilder()
                .textContains("(content->>'name')", name)
                .codeableConcept("type", type)
                .arrayFieldStartsWith("content->'address'", "city", city)
                .arrayFieldStartsWith("content->'address'", "postalCode", postalCode)
                .identifier("identifier", identifier);
        if (id != null && id.getValue() != null) {
            sb.where("id = :oid");
        }
        if (active != null && active.getValue() != null) {
            sb.where("coalesce((content->>'active')::boolean, true) = " + Boolean.parseBoolean(active.getValue()));
        }
        if (registered != null && registered.getValue() != null) {
            String exists = "exists (select 1 from participant p where p.organization_id = fhir_resource.id and p.status = 'registered')";
            sb.where(Boolean.parseBoolean(registered.getValue()) ? exists : "not " + exists);
        }
        var params = new HashMap<String, Object>(sb.params());
        if (id != null && id.getValue() != null) {
            params.put("oid", id.getValue());
        }
        Caller caller = Caller.of(request);
        return store.searchPage(Organization.class, sb.sql(), params, SearchPage.offset(offset), SearchPage.pageSize(count), page -> {
            directory.decorate(page);
            hideHl7AllowLists(page, caller);
            return page;
        });
    }

    @Create
    public MethodOutcome create(@ResourceParam Organization org, RequestDetails request) {
        org.setId((String) null);
        Organization saved = directory.saveOrganization(org, true);
        auditChange(request, AuditEventAction.C, saved);
        directory.decorate(List.of(saved));
        return new MethodOutcome(saved.getIdElement(), true).setResource(saved);
    }

    @Update
    public MethodOutcome update(@IdParam IdType id, @ResourceParam Organization org, RequestDetails request) {
        // HAPI puts the version of an If-Match header into the id; read it first: HAPI also makes the id
        // the body's id element, which setId(String) below overwrites in place
        String ifMatch = id.getVersionIdPart();
        if (org.getIdElement().hasIdPart() && !id.getIdPart().equals(org.getIdElement().getIdPart())) {
            throw new GatewayException(ErrorCode.INVALID_REQUEST, "The id in the body does not match the URL.");
        }
        boolean exists = store.exists("Organization", id.getIdPart());
        org.setId(id.getIdPart());
        Organization saved = directory.saveOrganization(org, !exists, ifMatch);
        auditChange(request, exists ? AuditEventAction.U : AuditEventAction.C, saved);
        directory.decorate(List.of(saved));
        return new MethodOutcome(saved.getIdElement(), !exists).setResource(saved);
    }

    /** Deactivates the entry; it stays in the directory and in every conversation. */
    @Delete
    public MethodOutcome deactivate(@IdParam IdType id, RequestDetails request) {
        Organization saved = directory.deactivate(id.getIdPart());
        auditChange(request, AuditEventAction.D, saved);
        return new MethodOutcome(saved.getIdElement());
    }

    /**
     * Step 1 (without {@code code}): sends a one-time code to the organisation's fax, or e-mail
     * when it has no fax; an {@code email} given here is ignored (accepted for older clients).
     * Step 2 (with {@code code} and {@code email}): stores {@code email} as the contact address and
     * returns the API token once.
     */
    @Operation(name = "$register", idempotent = false, returnParameters = {
            @OperationParam(name = "channel", type = StringType.class, min = 0, max = 1),
            @OperationParam(name = "destination", type = StringType.class, min = 0, max = 1),
            @OperationParam(name = "expires", type = InstantType.class, min = 0, max = 1),
            @OperationParam(name = "sent", type = BooleanType.class, min = 0, max = 1),
            @OperationParam(name = "organization", type = Reference.class, min = 0, max = 1),
            @OperationParam(name = "token", type = StringType.class, min = 0, max = 1)})
    public Parameters register(@IdParam IdType id,
            @OperationParam(name = "email", min = 0, max = 1) StringType email,
            @OperationParam(name = "code", min = 0, max = 1) StringType code,
            ServletRequestDetails request) {
        String address = Caller.clientAddress(request);
        if (code != null && code.hasValue()) {
            return registration.confirm(id.getIdPart(), code.getValue(), email == null ? null : email.getValue(), address);
        }
        return registration.requestCode(id.getIdPart(), address);
    }

    @Operation(name = "$rotate-token", idempotent = false, returnParameters = {
            @OperationParam(name = "organization", type = Reference.class, min = 1, max = 1),
            @OperationParam(name = "token", type = StringType.class, min = 1, max = 1)})
    public Parameters rotateToken(@IdParam IdType id, ServletRequestDetails request) {
        return registration.rotateToken(id.getIdPart(), Caller.of(request), Caller.clientAddress(request));
    }

    @Operation(name = "$deregister", idempotent = false, returnParameters = {
            @OperationParam(name = "organization", type = Reference.class, min = 1, max = 1),
            @OperationParam(name = "deregistered", type = BooleanType.class, min = 1, max = 1)})
    public Parameters deregister(@IdParam IdType id, ServletRequestDetails request) {
        return registration.deregister(id.getIdPart(), Caller.of(request), Caller.clientAddress(request));
    }

    /**
     * Registers the organisation's encryption certificate ({@code certificate}: PEM as
     * {@code valueString}, DER or PEM as {@code valueBase64Binary}) or removes it
     * ({@code remove = true}). The organisation itself or the operator. Returns the entry.
     */
    @Operation(name = "$encryption-certificate", idempotent = false, returnParameters = {
            @OperationParam(name = "return", type = Organization.class, min = 1, max = 1)})
    public Organization encryptionCertificate(@IdParam IdType id,
            @OperationParam(name = "certificate", min = 0, max = 1) IBase certificate,
            @OperationParam(name = "remove", min = 0, max = 1) BooleanType remove,
            ServletRequestDetails request) {
        String organizationId = id.getIdPart();
        Caller caller = Caller.of(request);
        String address = Caller.clientAddress(request);
        String entity = "Organization/" + organizationId;
        Organization current = directory.requireOrganization(organizationId);
        if (!caller.isSelfOrAdmin(organizationId)) {
            audit.failure(CERTIFICATE_AUDIT, AuditEventAction.U, caller, address, entity, "forbidden");
        }
        caller.requireSelfOrAdmin(organizationId);
        boolean removing = remove != null && remove.hasValue() && remove.booleanValue();
        if (removing == (certificate != null)) {
            audit.failure(CERTIFICATE_AUDIT, AuditEventAction.U, caller, address, entity, "invalid request");
            throw new GatewayException(ErrorCode.INVALID_REQUEST,
                    "Send either 'certificate' (valueString with PEM, or valueBase64Binary with DER or PEM) or 'remove' = true.");
        }
        Organization saved;
        String description;
        try {
            if (removing) {
                description = current.getExtensionByUrl(DirectoryService.EXT_ENCRYPTION_CERTIFICATE) == null
                        ? "no encryption certificate registered, nothing removed" : "encryption certificate removed";
                saved = directory.removeEncryptionCertificate(organizationId);
            } else {
                saved = directory.setEncryptionCertificate(organizationId, certificateBytes(certificate));
                Attachment registered = (Attachment) saved.getExtensionByUrl(DirectoryService.EXT_ENCRYPTION_CERTIFICATE).getValue();
                description = "encryption certificate registered: " + registered.getTitle();
            }
        } catch (GatewayException e) {
            audit.failure(CERTIFICATE_AUDIT, AuditEventAction.U, caller, address, entity, e.errorCode().code() + ": " + e.getMessage());
            throw e;
        }
        audit.record(new Entry(CERTIFICATE_AUDIT, AuditEventAction.U, AuditEventOutcome._0, caller.auditName(), address, entity,
                description));
        directory.decorate(List.of(saved));
        return saved;
    }

    private static byte[] certificateBytes(IBase parameter) {
        // HAPI hands an IBase-typed operation parameter over as the whole Parameters.parameter
        IBase value = parameter instanceof Parameters.ParametersParameterComponent component ? component.getValue() : parameter;
        if (value instanceof StringType text && text.hasValue()) {
            return text.getValue().getBytes(StandardCharsets.UTF_8);
        }
        if (value instanceof Base64BinaryType binary && binary.hasValue()) {
            return binary.getValue();
        }
        if (value instanceof Attachment attachment && attachment.hasData()) {
            return attachment.getData();
        }
        throw new GatewayException(ErrorCode.INVALID_REQUEST, "'certificate' is a valueString (PEM) or a valueBase64Binary (DER or PEM)"
                + (value instanceof Base base ? ", not " + base.fhirType() : "") + ".");
    }

    /**
     * Bulk import of a directory CSV ({@code Content-Type: text/csv}; columns in the README).
     * All rows or none: a malformed row is reported with its line number and nothing is written.
     */
    @Operation(name = "$import", idempotent = false, manualRequest = true, returnParameters = {
            @OperationParam(name = "created", type = IntegerType.class, min = 1, max = 1),
            @OperationParam(name = "updated", type = IntegerType.class, min = 1, max = 1)})
    public Parameters importCsv(ServletRequestDetails request) {
        Caller.of(request).requireAdmin();
        String contentType = request.getServletRequest().getContentType();
        if (contentType == null || !contentType.toLowerCase(Locale.ROOT).startsWith("text/csv")) {
            throw new GatewayException(ErrorCode.UNSUPPORTED_MEDIA_TYPE, "Send the directory as Content-Type: text/csv.");
        }
        try (Reader reader = new InputStreamReader(request.getServletRequest().getInputStream(), StandardCharsets.UTF_8)) {
            DirectoryImportService.Result result = importer.importCsv(reader, "api");
            audit.success("directory-import", AuditEventAction.C, Caller.of(request),
                    Caller.clientAddress(request), null);
            Parameters out = new Parameters();
            out.addParameter("created", result.created());
            out.addParameter("updated", result.updated());
            return out;
        } catch (IOException e) {
            throw new GatewayException(ErrorCode.INVALID_REQUEST, "The request body could not be read.");
        }
    }

    private void auditChange(RequestDetails request, AuditEventAction action, Organization saved) {
        String address = Caller.clientAddress(request);
        audit.success("directory-change", action, Caller.of(request), address,
                "Organization/" + saved.getIdElement().getIdPart());
    }
}
