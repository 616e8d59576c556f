package org.carerelay.gateway.security;

import ca.uhn.fhir.rest.api.server.RequestDetails;
import ca.uhn.fhir.rest.server.interceptor.auth.AuthorizationInterceptor;
import ca.uhn.fhir.rest.server.interceptor.auth.IAuthRule;
import ca.uhn.fhir.rest.server.interceptor.auth.PolicyEnum;
import ca.uhn.fhir.rest.server.interceptor.auth.RuleBuilder;
import java.util.List;
import org.hl7.fhir.r4.model.Binary;
import org.hl7.fhir.r4.model.Communication;
import org.hl7.fhir.r4.model.Consent;
import org.hl7.fhir.r4.model.Endpoint;
import org.hl7.fhir.r4.model.Patient;
import org.hl7.fhir.r4.model.IdType;
import org.hl7.fhir.r4.model.Organization;
import org.hl7.fhir.r4.model.Practitioner;
import org.hl7.fhir.r4.model.PractitionerRole;
import org.hl7.fhir.r4.model.Task;

/**
 * Who may do what, deny by default: every rule list ends in {@code denyAll()}. Finer rules that
 * need the stored data (e.g. that an Endpoint belongs to the caller) are checked in the providers.
 */
public class AccessRules extends AuthorizationInterceptor {

    public AccessRules() {
        super(PolicyEnum.DENY);
    }

    @Override
    public List<IAuthRule> buildRuleList(RequestDetails request) {
        Caller caller = Caller.of(request);
        RuleBuilder rules = new RuleBuilder();
        rules.allow("capability statement").metadata().andThen()
                .allow("registration").operation().named("$register").onInstancesOfType(Organization.class)
                .andAllowAllResponses().andThen();
        switch (caller.kind()) {
            case ADMIN -> rules.allowAll("operator");
            case PARTICIPANT -> {
                IdType self = new IdType("Organization", caller.organizationId());
                rules.allow("directory: organisations").read().resourcesOfType(Organization.class).withAnyId().andThen()
                        .allow("directory: practitioners").read().resourcesOfType(Practitioner.class).withAnyId().andThen()
                        .allow("directory: roles").read().resourcesOfType(PractitionerRole.class).withAnyId().andThen()
                        .allow("directory: endpoints").read().resourcesOfType(Endpoint.class).withAnyId().andThen()
                        .allow("own endpoints").write().resourcesOfType(Endpoint.class).withAnyId().andThen()
                        // DELETE sets the endpoint off; the provider checks managingOrganization
                        .allow("own endpoints: deactivate").delete().resourcesOfType(Endpoint.class).withAnyId().andThen()
                        .allow("own token").operation().named("$rotate-token").onInstance(self)
                        .andAllowAllResponses().andThen()
                        .allow("own deregistration").operation().named("$deregister").onInstance(self)
                        .andAllowAllResponses().andThen()
                        .allow("own encryption certificate").operation().named("$encryption-certificate").onInstance(self)
                        .andAllowAllResponses().andThen()
                        // patients, consents, messages, attachments: visibility is checked per record
                        // by the services (creator / sender / recipient / conversation participant)
                        .allow("patients").read().resourcesOfType(Patient.class).withAnyId().andThen()
                        .allow("patients: write").write().resourcesOfType(Patient.class).withAnyId().andThen()
                        .allow("consent template").operation().named("$consent-template").onInstancesOfType(Patient.class)
                        .andAllowAllResponses().andThen()
                        .allow("consents").read().resourcesOfType(Consent.class).withAnyId().andThen()
                        .allow("consents: write").write().resourcesOfType(Consent.class).withAnyId().andThen()
                        .allow("consent revocation").operation().named("$revoke").onInstancesOfType(Consent.class)
                        .andAllowAllResponses().andThen()
                        .allow("messages").read().resourcesOfType(Communication.class).withAnyId().andThen()
                        .allow("messages: send").create().resourcesOfType(Communication.class).withAnyId().andThen()
                        .allow("messages: mark read").operation().named("$mark-read").onInstancesOfType(Communication.class)
                        .andAllowAllResponses().andThen()
                        .allow("messages: delivery status").operation().named("$delivery-status").onInstancesOfType(Communication.class)
                        .andAllowAllResponses().andThen()
                        .allow("invitations").read().resourcesOfType(Task.class).withAnyId().andThen()
                        .allow("attachments").read().resourcesOfType(Binary.class).withAnyId().andThen()
                        .allow("attachments: upload").create().resourcesOfType(Binary.class).withAnyId().andThen();
            }
            case ANONYMOUS -> {
                // nothing beyond the open operations above
            }
        }
        return rules.denyAll("deny by default").build();
    }
}
