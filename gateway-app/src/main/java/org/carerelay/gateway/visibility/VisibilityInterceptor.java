package org.carerelay.gateway.visibility;

import ca.uhn.fhir.interceptor.api.Hook;
import ca.uhn.fhir.interceptor.api.Interceptor;
import ca.uhn.fhir.interceptor.api.Pointcut;
import ca.uhn.fhir.rest.api.server.RequestDetails;
import ca.uhn.fhir.rest.api.server.ResponseDetails;
import ca.uhn.fhir.rest.server.interceptor.consent.ConsentInterceptor;
import org.carerelay.gateway.audit.AuditService;
import org.carerelay.gateway.conversation.MessageRepository;
import org.springframework.beans.factory.annotation.Autowired;
import org.springframework.stereotype.Component;

/**
 * HAPI's consent interceptor with {@link VisibilityConsentService}, registered on the FHIR server
 * after the access rules. One hook more: once the consent framework has looked at every resource
 * of the response (its own hook on the same pointcut runs first), the search total is settled and
 * the read audit written — before the response is sent, so the audit trail is complete when the
 * caller has its answer.
 */
@Interceptor
@Component
public class VisibilityInterceptor extends ConsentInterceptor {

    private final VisibilityConsentService service;

    @Autowired
    public VisibilityInterceptor(Visibility visibility, AuditService audit, MessageRepository messages) {
        this(new VisibilityConsentService(visibility, audit, messages));
    }

    /** {@link #VisibilityInterceptor(Visibility, AuditService, MessageRepository)} is the one Spring uses. */
    VisibilityInterceptor(VisibilityConsentService service) {
        super(service);
        this.service = service;
    }

    @Hook(value = Pointcut.SERVER_OUTGOING_RESPONSE, order = 100)
    public void responseShown(RequestDetails request, ResponseDetails response) {
        service.responseShown(request, response.getResponseResource());
    }
}
