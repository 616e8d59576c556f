package org.carerelay.gateway.audit;

import ca.uhn.fhir.interceptor.api.Hook;
import ca.uhn.fhir.interceptor.api.Interceptor;
import ca.uhn.fhir.interceptor.api.Pointcut;
import ca.uhn.fhir.rest.api.RestOperationTypeEnum;
import ca.uhn.fhir.rest.api.server.RequestDetails;
import ca.uhn.fhir.rest.api.server.ResponseDetails;
import ca.uhn.fhir.rest.server.exceptions.BaseServerResponseException;
import java.util.List;
import java.util.Map;
import org.carerelay.gateway.security.Caller;
import org.hl7.fhir.instance.model.api.IBaseResource;
import org.hl7.fhir.instance.model.api.IIdType;
import org.hl7.fhir.r4.model.AuditEvent.AuditEventAction;
import org.hl7.fhir.r4.model.Bundle;
import org.springframework.stereotype.Component;

/**
 * Audits reads and searches of the directory and of invitations (Tasks): a read or vread names the
 * resource (and the version), a failed one (404) too; a search page leaves one event per resource
 * it returned. Patients, consents, messages and attachments are audited by their services, which
 * know what the caller actually saw (e.g. a masked message). Search parameter values are not
 * recorded: they may be names.
 */
@Interceptor
@Component
public class ReadAuditInterceptor {

    /** Resource type → the audit subtype prefix of its reads and searches. */
    private static final Map<String, String> AUDITED = Map.of("Organization", "directory", "Practitioner", "directory",
            "PractitionerRole", "directory", "Endpoint", "directory", "Task", "task");
    private final AuditService audit;

    public ReadAuditInterceptor(AuditService audit) {
        this.audit = audit;
    }

    @Hook(Pointcut.SERVER_OUTGOING_RESPONSE)
    public void auditRead(RequestDetails request, ResponseDetails response) {
        String prefix = prefix(request);
        if (prefix == null) {
            return;
        }
        String address = Caller.clientAddress(request);
        Caller caller = Caller.of(request);
        switch (request.getRestOperationType()) {
            case READ, VREAD -> audit.success(prefix + "-read", AuditEventAction.R, caller, address, entity(request));
            case SEARCH_TYPE -> audit.searchPage(prefix + "-search", caller, address, returned(response));
            default -> {
                // writes and operations are audited where they happen
            }
        }
    }

    /** A read of something the caller does not see, or of a version that does not exist. */
    @Hook(Pointcut.SERVER_HANDLE_EXCEPTION)
    public boolean auditFailedRead(RequestDetails request, BaseServerResponseException exception) {
        String prefix = prefix(request);
        RestOperationTypeEnum op = prefix == null ? null : request.getRestOperationType();
        if ((op == RestOperationTypeEnum.READ || op == RestOperationTypeEnum.VREAD)
                && exception.getStatusCode() == 404 && request.getId() != null) {
            audit.failure(prefix + "-read", AuditEventAction.R, Caller.of(request), Caller.clientAddress(request),
                    entity(request), "not visible");
        }
        return true;
    }

    private static String prefix(RequestDetails request) {
        String type = request.getResourceName();
        return type == null || request.getRestOperationType() == null ? null : AUDITED.get(type);
    }

    private static String entity(RequestDetails request) {
        IIdType id = request.getId();
        return AuditService.version(request.getResourceName(), id.getIdPart(), id.hasVersionIdPart() ? id.getVersionIdPart() : null);
    }

    /** The resources of the page the caller is sent (matches and includes). */
    private static List<IBaseResource> returned(ResponseDetails response) {
        if (response == null || !(response.getResponseResource() instanceof Bundle bundle)) {
            return List.of();
        }
        return bundle.getEntry().stream().filter(Bundle.BundleEntryComponent::hasResource)
                .map(e -> (IBaseResource) e.getResource()).toList();
    }
}
