package org.carerelay.gateway.fhir;

import ca.uhn.fhir.interceptor.api.Hook;
import ca.uhn.fhir.interceptor.api.Interceptor;
import ca.uhn.fhir.interceptor.api.Pointcut;
import ca.uhn.fhir.rest.api.server.RequestDetails;
import org.hl7.fhir.instance.model.api.IBaseConformance;
import org.hl7.fhir.r4.model.CapabilityStatement;
import org.hl7.fhir.r4.model.CapabilityStatement.CapabilityStatementRestComponent;
import org.hl7.fhir.r4.model.CapabilityStatement.CapabilityStatementRestResourceComponent;
import org.hl7.fhir.r4.model.CapabilityStatement.ResourceVersionPolicy;
import org.hl7.fhir.r4.model.CapabilityStatement.TypeRestfulInteraction;

/**
 * What {@code GET /fhir/metadata} says beyond what HAPI derives from the providers: the software
 * (CareRelay and its build version), how clients authenticate ({@code rest.security}: bearer
 * tokens issued by the operator or by {@code $register}, no CORS), and the versioning of each
 * resource type ({@code versioned-update} where the type can be updated, {@code versioned}
 * otherwise: every resource carries {@code meta.versionId}).
 */
@Interceptor
public class CapabilityStatementCustomizer {

    static final String SECURITY_DESCRIPTION = "Every interaction but GET /fhir/metadata and Organization/{id}/$register "
            + "needs an HTTP bearer token (Authorization: Bearer <token>): the operator's admin token, or the token an "
            + "organisation receives once from Organization/{id}/$register (replaced by $rotate-token). Tokens are opaque; "
            + "there is no OAuth or SMART authorization server. Missing or invalid: 401 with WWW-Authenticate: Bearer. "
            + "No CORS: the API is meant for systems, not for scripts in a browser.";

    private final String version;

    public CapabilityStatementCustomizer(String version) {
        this.version = version;
    }

    @Hook(Pointcut.SERVER_CAPABILITY_STATEMENT_GENERATED)
    public void customize(IBaseConformance conformance, RequestDetails request) {
        if (!(conformance instanceof CapabilityStatement statement)) {
            return;
        }
        statement.getSoftware().setName("CareRelay").setVersion(version);
        statement.getImplementation()
                .setDescription("CareRelay secure messaging gateway: FHIR R4 API for hospital information systems")
                .setUrl(request.getFhirServerBase());
        for (CapabilityStatementRestComponent rest : statement.getRest()) {
            rest.getSecurity().setCors(false).setDescription(SECURITY_DESCRIPTION);
            for (CapabilityStatementRestResourceComponent resource : rest.getResource()) {
                // what the server does: a type without vread keeps no versions (no meta.versionId: Task,
                // AuditEvent); one with versions takes If-Match on its update
                boolean updatable = resource.getInteraction().stream()
                        .anyMatch(i -> i.getCode() == TypeRestfulInteraction.UPDATE);
                boolean versioned = resource.getInteraction().stream()
                        .anyMatch(i -> i.getCode() == TypeRestfulInteraction.VREAD);
                resource.setVersioning(!versioned ? ResourceVersionPolicy.NOVERSION
                        : updatable ? ResourceVersionPolicy.VERSIONEDUPDATE : ResourceVersionPolicy.VERSIONED);
            }
        }
    }
}
