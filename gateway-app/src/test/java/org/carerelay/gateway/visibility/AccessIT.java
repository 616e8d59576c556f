package org.carerelay.gateway.visibility;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.catchThrowableOfType;

import ca.uhn.fhir.rest.server.exceptions.BaseServerResponseException;
import java.net.http.HttpResponse;
import org.carerelay.fhir.ErrorCode;
import org.carerelay.fhir.OperationOutcomes;
import org.carerelay.gateway.GatewayIntegrationTest;
import org.carerelay.gateway.Participants;
import org.carerelay.gateway.security.AuthFailureLimiter;
import org.carerelay.gateway.security.RateCounters;
import org.carerelay.gateway.security.RateLimit;
import org.hl7.fhir.r4.model.AuditEvent;
import org.hl7.fhir.r4.model.Bundle;
import org.hl7.fhir.r4.model.CapabilityStatement;
import org.hl7.fhir.r4.model.OperationOutcome;
import org.hl7.fhir.r4.model.Organization;
import org.junit.jupiter.api.Test;
import org.springframework.beans.factory.annotation.Autowired;
import org.springframework.jdbc.core.simple.JdbcClient;

class AccessIT extends GatewayIntegrationTest {

    @Autowired
    JdbcClient jdbc;

    @Test
    void metadata_isOpenAndListsResourcesAndOperations() {
        CapabilityStatement cs = anonymous().capabilities().ofType(CapabilityStatement.class).execute();
        var resources = cs.getRestFirstRep().getResource().stream().map(r -> r.getType()).toList();
        assertThat(resources).contains("Organization", "Practitioner", "PractitionerRole", "Endpoint", "AuditEvent");
        var orgOps = cs.getRestFirstRep().getResource().stream().filter(r -> r.getType().equals("Organization"))
                .findFirst().orElseThrow().getOperation().stream().map(o -> o.getName()).toList();
        assertThat(orgOps).contains("register", "rotate-token", "deregister", "import");
    }

    @Test
    void missingToken_gets401OperationOutcomeWithChallenge() throws Exception {
        HttpResponse<String> response = http("GET", "/fhir/Organization", null, null, null);
        assertThat(response.statusCode()).isEqualTo(401);
        assertThat(response.headers().firstValue("WWW-Authenticate")).hasValueSatisfying(v -> assertThat(v).startsWith("Bearer"));
        OperationOutcome oo = FHIR.newJsonParser().parseResource(OperationOutcome.class, response.body());
        assertThat(OperationOutcomes.codeOf(oo)).isEqualTo(ErrorCode.UNAUTHENTICATED);
        assertThat(response.body()).doesNotContain("Exception").doesNotContain("at org.");
    }

    @Test
    void invalidToken_gets401AndIsAudited() {
        BaseServerResponseException e = catchThrowableOfType(BaseServerResponseException.class,
                () -> client("crt_not-a-real-token").search().forResource(Organization.class).returnBundle(Bundle.class).execute());
        assertThat(e.getStatusCode()).isEqualTo(401);
        assertThat(errorCodeOf(e)).isEqualTo(ErrorCode.UNAUTHENTICATED);

        Bundle audit = admin().search().forResource(AuditEvent.class)
                .where(AuditEvent.SUBTYPE.exactly().code("authentication-failed")).returnBundle(Bundle.class).execute();
        assertThat(audit.getEntry()).isNotEmpty();
    }

    @Test
    void participant_cannotChangeTheDirectory_gets403() {
        Participants.Registered p = Participants.registerNew(this, "Praxis Schreiber");
        BaseServerResponseException e = catchThrowableOfType(BaseServerResponseException.class,
                () -> client(p.token()).create().resource(Participants.newOrganization("Fremd", null, null)).execute());
        assertThat(e.getStatusCode()).isEqualTo(403);
        assertThat(errorCodeOf(e)).isEqualTo(ErrorCode.FORBIDDEN);
    }

    @Test
    void participant_cannotReadTheAuditTrail() {
        Participants.Registered p = Participants.registerNew(this, "Praxis Neugier");
        BaseServerResponseException e = catchThrowableOfType(BaseServerResponseException.class,
                () -> client(p.token()).search().forResource(AuditEvent.class).returnBundle(Bundle.class).execute());
        assertThat(e.getStatusCode()).isEqualTo(403);
    }

    @Test
    void registrationSteps_areAuditedAndSearchableByTheOperator() {
        Participants.Registered p = Participants.registerNew(this, "Praxis Audit");
        Bundle events = admin().search().forResource(AuditEvent.class)
                .where(AuditEvent.ENTITY.hasId("Organization/" + p.organizationId())).returnBundle(Bundle.class).execute();
        var subtypes = events.getEntry().stream()
                .map(e -> ((AuditEvent) e.getResource()).getSubtypeFirstRep().getCode()).toList();
        assertThat(subtypes).contains("directory-change", "registration-code-sent", "registration-completed");
    }

    @Test
    void repeatedFailedTokens_fromOneAddress_areRateLimited() {
        var limiter = new AuthFailureLimiter(new RateCounters(jdbc), new RateLimit(3, java.time.Duration.ofMinutes(15)));
        String address = "198.51.100." + (int) (Math.random() * 250);
        for (int i = 0; i < 3; i++) {
            assertThat(limiter.recordFailure(address).allowed()).isTrue();
        }
        assertThat(limiter.recordFailure(address).allowed()).isFalse();
        assertThat(limiter.recordFailure("2001:db8:7:" + Integer.toHexString((int) (Math.random() * 0xffff)) + "::1").allowed()).isTrue();
    }

    @Test
    void actuator_healthAndPrometheusOpen_restNeedsAdminToken() throws Exception {
        assertThat(http("GET", "/actuator/health", null, null, null).statusCode()).isEqualTo(200);
        assertThat(http("GET", "/actuator/health", null, null, null).body()).contains("UP");
        assertThat(http("GET", "/actuator/prometheus", null, null, null).statusCode()).isEqualTo(200);
        assertThat(http("GET", "/actuator/metrics", null, null, null).statusCode()).isEqualTo(401);
        assertThat(http("GET", "/actuator/metrics", "wrong-token", null, null).statusCode()).isIn(401, 403);
        assertThat(http("GET", "/actuator/metrics", ADMIN_TOKEN, null, null).statusCode()).isEqualTo(200);
    }
}
