package org.carerelay.gateway.hl7;

import static org.assertj.core.api.Assertions.assertThat;

import java.util.List;
import java.util.UUID;
import org.carerelay.gateway.GatewayIntegrationTest;
import org.carerelay.gateway.Participants;
import org.junit.jupiter.api.Test;
import org.springframework.beans.factory.annotation.Autowired;
import org.springframework.jdbc.core.simple.JdbcClient;
import org.springframework.transaction.support.TransactionTemplate;

/**
 * The HL7 sender's directory entry and registration, read in one statement for every inbound frame,
 * run on a plan PostgreSQL keeps for the connection, not one made anew for each frame. On one
 * connection (a transaction) the lookup runs as often as a busy listener would; the server's own
 * count for that prepared statement must show kept (generic) plans, and the answers stay right.
 */
class FacilitiesPlanIT extends GatewayIntegrationTest {

    @Autowired
    Facilities facilities;

    @Autowired
    JdbcClient jdbc;

    @Autowired
    TransactionTemplate tx;

    @Test
    void senderLookup_runsOnAKeptPlan_andTellsRegisteredFromUnregistered() {
        Participants.Registered registered = Participants.registerNew(this, "Klinik Plan");
        String registeredAlias = "PLN" + UUID.randomUUID().toString().substring(0, 6).toUpperCase();
        Participants.addHl7Alias(admin(), registered.organizationId(), registeredAlias);
        String unregistered = Participants.create(admin(), Participants.newOrganization(unique("Praxis Plan"), null, null));
        String unregisteredAlias = "PLU" + UUID.randomUUID().toString().substring(0, 6).toUpperCase();
        Participants.addHl7Alias(admin(), unregistered, unregisteredAlias);

        tx.executeWithoutResult(status -> {
            for (int i = 0; i < 20; i++) {
                assertThat(facilities.findWithRegistration(registeredAlias)).hasValueSatisfying(match -> {
                    assertThat(match.organization().getIdElement().getIdPart()).isEqualTo(registered.organizationId());
                    assertThat(match.registered()).isTrue();
                });
                assertThat(facilities.findWithRegistration(unregisteredAlias)).hasValueSatisfying(match -> {
                    assertThat(match.organization().getIdElement().getIdPart()).isEqualTo(unregistered);
                    assertThat(match.registered()).isFalse();
                });
                assertThat(facilities.findWithRegistration("NOBODY" + i)).isEmpty();
            }
            List<long[]> plans = jdbc.sql("select generic_plans, custom_plans from pg_prepared_statements where statement like ?")
                    .param("%from participant where participant.organization_id = fhir_resource.id%")
                    .query((rs, i) -> new long[] {rs.getLong(1), rs.getLong(2)}).list();
            assertThat(plans).as("the lookup is a statement prepared on the server").hasSize(1);
            assertThat(plans.get(0)[0]).as("executions on a kept plan").isGreaterThanOrEqualTo(40);
            assertThat(plans.get(0)[1]).as("executions planned anew").isLessThanOrEqualTo(5);
        });
    }
}
