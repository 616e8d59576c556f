package org.carerelay.gateway.security;

import static org.assertj.core.api.Assertions.assertThat;

import java.net.http.HttpResponse;
import java.sql.Timestamp;
import java.time.Duration;
import java.time.Instant;
import org.carerelay.gateway.GatewayIntegrationTest;
import org.carerelay.gateway.Participants;
import org.carerelay.gateway.config.CareRelayProperties;
import org.hl7.fhir.r4.model.Parameters;
import org.junit.jupiter.api.Test;
import org.springframework.beans.factory.annotation.Autowired;
import org.springframework.jdbc.core.simple.JdbcClient;

/** With {@code carerelay.security.max-token-age} set (90 days in the tests), old tokens stop working. */
class TokenExpiryIT extends GatewayIntegrationTest {

    @Autowired
    JdbcClient jdbc;

    @Autowired
    CareRelayProperties properties;

    @Test
    void tokenOlderThanTheMaximumAge_gets401TokenExpired_andTheOperatorsRotationRestoresAccess() throws Exception {
        Participants.Registered p = Participants.registerNew(this, "Praxis Alt");
        issuedAgo(p.organizationId(), properties.security().maxTokenAge().plusDays(1));

        HttpResponse<String> refused = http("GET", "/fhir/Organization/" + p.organizationId(), p.token(), null, null);
        assertThat(refused.statusCode()).isEqualTo(401);
        assertThat(refused.body()).contains("token-expired").contains("$rotate-token");
        assertThat(refused.headers().firstValue("WWW-Authenticate")).isPresent();

        Parameters rotated = admin().operation().onInstance("Organization/" + p.organizationId()).named("$rotate-token")
                .withNoParameters(Parameters.class).execute();
        String fresh = rotated.getParameter("token").getValue().primitiveValue();
        assertThat(http("GET", "/fhir/Organization/" + p.organizationId(), fresh, null, null).statusCode()).isEqualTo(200);
    }

    @Test
    void tokenNearItsMaximumAge_isAnnouncedWithExpiryAndWarning_aFreshOneOnlyWithExpiry() throws Exception {
        Participants.Registered p = Participants.registerNew(this, "Praxis Bald");
        HttpResponse<String> fresh = http("GET", "/fhir/Organization/" + p.organizationId(), p.token(), null, null);
        assertThat(fresh.statusCode()).isEqualTo(200);
        Instant expires = Instant.parse(fresh.headers().firstValue("X-Token-Expires").orElseThrow());
        assertThat(expires).isAfter(Instant.now().plus(properties.security().maxTokenAge()).minusSeconds(600));
        assertThat(fresh.headers().firstValue("Warning")).isEmpty();

        issuedAgo(p.organizationId(), properties.security().maxTokenAge().minusDays(5));
        HttpResponse<String> due = http("GET", "/fhir/Organization/" + p.organizationId(), p.token(), null, null);
        assertThat(due.statusCode()).isEqualTo(200);
        assertThat(due.headers().firstValue("Warning")).hasValueSatisfying(w -> assertThat(w).startsWith("299").contains("$rotate-token"));
        assertThat(Instant.parse(due.headers().firstValue("X-Token-Expires").orElseThrow()))
                .isBetween(Instant.now().plus(Duration.ofDays(4)), Instant.now().plus(Duration.ofDays(6)));
    }

    private void issuedAgo(String organizationId, Duration age) {
        jdbc.sql("update participant set token_issued_at = ? where organization_id = ?")
                .params(Timestamp.from(Instant.now().minus(age)), organizationId).update();
    }
}
