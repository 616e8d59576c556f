package org.carerelay.gateway.security;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.catchThrowableOfType;

import ca.uhn.fhir.rest.server.exceptions.BaseServerResponseException;
import java.nio.charset.StandardCharsets;
import java.sql.Timestamp;
import java.time.Instant;
import java.util.UUID;
import org.carerelay.fhir.ErrorCode;
import org.carerelay.gateway.Conversations;
import org.carerelay.gateway.GatewayIntegrationTest;
import org.carerelay.gateway.Mllp;
import org.carerelay.gateway.Participants;
import org.carerelay.gateway.config.CareRelayProperties;
import org.carerelay.gateway.hl7.Hl7InboundIT;
import org.junit.jupiter.api.Test;
import org.springframework.beans.factory.annotation.Autowired;
import org.springframework.jdbc.core.simple.JdbcClient;

/** Messages per organisation and window, over FHIR and HL7 alike. */
class MessageRateLimitIT extends GatewayIntegrationTest {

    @Autowired
    JdbcClient jdbc;

    @Autowired
    CareRelayProperties properties;

    @Test
    void runawaySenderOverItsMessageLimit_gets429OverFhir_andAROverHl7() throws Exception {
        Participants.Registered sender = Participants.registerNew(this, "Klinik Dauerfeuer");
        Participants.Registered partner = Participants.registerNew(this, "Praxis Empfang");
        String alias = "RUN" + UUID.randomUUID().toString().substring(0, 6).toUpperCase();
        Participants.addHl7Alias(admin(), sender.organizationId(), alias);
        int limit = properties.security().messageRateLimit();
        // the sender has used all but two messages of its current window
        jdbc.sql("insert into rate_counter (scope, subject, window_start, hits) values ('messages', ?, ?, ?)")
                .params(sender.organizationId(), Timestamp.from(Instant.now()), limit - 2).update();

        Conversations.send(client(sender.token()), Conversations.message(null, "eins", partner.organizationId()));
        Conversations.send(client(sender.token()), Conversations.message(null, "zwei", partner.organizationId()));
        BaseServerResponseException refused = catchThrowableOfType(BaseServerResponseException.class,
                () -> Conversations.send(client(sender.token()), Conversations.message(null, "drei", partner.organizationId())));
        assertThat(refused.getStatusCode()).isEqualTo(429);
        assertThat(errorCodeOf(refused)).isEqualTo(ErrorCode.RATE_LIMITED);
        byte[] body = FHIR.newJsonParser().encodeResourceToString(Conversations.message(null, "vier", partner.organizationId()))
                .getBytes(StandardCharsets.UTF_8);
        var raw = http("POST", "/fhir/Communication", sender.token(), "application/fhir+json", body);
        assertThat(raw.statusCode()).isEqualTo(429);
        assertThat(raw.headers().firstValue("Retry-After")).isPresent();

        String ack = Mllp.exchange(HL7_PORT, Hl7InboundIT.mdm(alias, "CARERELAY", "R" + UUID.randomUUID().toString().substring(0, 8),
                Conversations.kvnr(), null).getBytes(StandardCharsets.ISO_8859_1), StandardCharsets.ISO_8859_1, 30_000);
        assertThat(Mllp.field(ack, "MSA", 1)).isEqualTo("AR");
        assertThat(ack).contains("rate-limited");

        // another organisation is not affected
        Conversations.send(client(partner.token()), Conversations.message(null, "Antwort", sender.organizationId()));
    }
}
