package org.carerelay.gateway.audit;

import ca.uhn.fhir.interceptor.api.Hook;
import ca.uhn.fhir.interceptor.api.Interceptor;
import ca.uhn.fhir.interceptor.api.Pointcut;
import ca.uhn.fhir.rest.api.RestOperationTypeEnum;
import ca.uhn.fhir.rest.api.server.RequestDetails;
import java.util.Set;
import org.carerelay.gateway.security.Caller;
import org.hl7.fhir.r4.model.AuditEvent.AuditEventAction;
import org.springframework.stereotype.Component;

/**
 * Audits successful reads and searches of the directory. Patients, consents, messages and
 * attachments are audited by their services, which know what the caller actually saw (e.g. a
 * masked message). Search parameter values are not recorded: they may be names.
 */
@Interceptor
@Component
public class ReadAuditInterceptor {

    private static final Set<String> DIRECTORY = Set.of("Organization", "Practitioner", "PractitionerRole", "Endpoint");
    private final AuditService audit;

    public ReadAuditInterceptor(AuditService audit) {
        this.audit = audit;
    }

    @Hook(Pointcut.SERVER_OUTGOING_RESPONSE)
    public void auditRead(RequestDetails request) {
        RestOperationTypeEnum op = request.getRestOperationType();
        String type = request.getResourceName();
        if (type == null || !DIRECTORY.contains(type) || op == null) {
            return;
        }
        String address = Caller.clientAddress(request);
        Caller caller = Caller.of(request);
        switch (op) {
            case READ, VREAD -> audit.success("directory-read", AuditEventAction.R, caller, address,
                    type + "/" + request.getId().getIdPart());
            case SEARCH_TYPE -> audit.success("directory-search", AuditEventAction.R, caller, address, null);
            default -> {
                // writes and operations are audited where they happen
            }
        }
    }
}
