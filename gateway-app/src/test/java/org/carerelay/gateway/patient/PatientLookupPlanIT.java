package org.carerelay.gateway.patient;

import static org.assertj.core.api.Assertions.assertThat;

import java.util.List;
import java.util.UUID;
import org.carerelay.gateway.Conversations;
import org.carerelay.gateway.GatewayIntegrationTest;
import org.carerelay.gateway.Participants;
import org.carerelay.gateway.security.Caller;
import org.hl7.fhir.r4.model.Patient;
import org.junit.jupiter.api.Test;
import org.springframework.beans.factory.annotation.Autowired;
import org.springframework.jdbc.core.simple.JdbcClient;
import org.springframework.transaction.support.TransactionTemplate;

/**
 * The statement that finds the patient of an HL7v2 message by its KVNR, and tells whether the
 * sender's identifiers are indexed for it, runs on a plan PostgreSQL keeps for the connection, not
 * one made anew for every message (a condition read with the rows can make PostgreSQL plan every
 * execution, see {@code ResourceStore.search}). On one connection (a transaction, rolled back) the
 * same patient arrives as often as a busy interface sends it; the server's own count for that
 * prepared statement must show kept (generic) plans.
 */
class PatientLookupPlanIT extends GatewayIntegrationTest {

    @Autowired
    PatientService patients;

    @Autowired
    JdbcClient jdbc;

    @Autowired
    TransactionTemplate tx;

    @Test
    void patientOfAMessage_isFoundOnAKeptPlan() {
        Participants.Registered sender = Participants.registerNew(this, "Pflegedienst Plan");
        Caller caller = Caller.participant(sender.organizationId());
        String kvnr = Conversations.kvnr();
        String mrn = "P" + UUID.randomUUID().toString().substring(0, 8);

        tx.executeWithoutResult(status -> {
            status.setRollbackOnly();
            String id = null;
            for (int i = 0; i < 30; i++) {
                Patient incoming = Conversations.patient("Planmann", "Paula", kvnr);
                incoming.addIdentifier().setSystem("https://example.org/sid/mrn").setValue(mrn);
                String found = patients.upsertFromHl7(incoming, caller, "127.0.0.1").getIdElement().getIdPart();
                assertThat(id == null || id.equals(found)).as("the same patient every time").isTrue();
                id = found;
            }
            List<long[]> plans = jdbc.sql("select generic_plans, custom_plans from pg_prepared_statements where statement like ?")
                    .param("%as i(system, value) where not exists%")
                    .query((rs, i) -> new long[] {rs.getLong(1), rs.getLong(2)}).list();
            assertThat(plans).as("the lookup is a statement prepared on the server").hasSize(1);
            assertThat(plans.get(0)[0]).as("executions on a kept plan").isGreaterThanOrEqualTo(15);
            assertThat(plans.get(0)[1]).as("executions planned anew").isLessThanOrEqualTo(5);
        });
    }
}
