package org.carerelay.gateway.patient;

import static org.assertj.core.api.Assertions.assertThat;

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

    /** Executions of the lookup (one identifier besides the KVNR) on this connection: on a kept plan, planned anew. */
    private long[] plans() {
        return jdbc.sql("select coalesce(sum(generic_plans), 0), coalesce(sum(custom_plans), 0) from pg_prepared_statements"
                        + " where statement like ?")
                .param("%(values ($1, $2)) as i(system, value) where not exists%")
                .query((rs, i) -> new long[] {rs.getLong(1), rs.getLong(2)}).single();
    }

    @Test
    void patientOfAMessage_isFoundOnAKeptPlan() {
        Participants.Registered sender = Participants.registerNew(this, "Pflegedienst Plan");
        Caller caller = Caller.participant(sender.organizationId());
        String kvnr = Conversations.kvnr();
        String mrn = "P" + UUID.randomUUID().toString().substring(0, 8);

        tx.executeWithoutResult(status -> {
            status.setRollbackOnly();
            // the connection is the pool's: earlier tests may have run the same statement on it
            long[] before = plans();
            String id = null;
            for (int i = 0; i < 40; i++) {
                Patient incoming = Conversations.patient("Planmann", "Paula", kvnr);
                incoming.addIdentifier().setSystem("https://example.org/sid/mrn").setValue(mrn);
                String found = patients.upsertFromHl7(incoming, caller, "127.0.0.1").getIdElement().getIdPart();
                assertThat(id == null || id.equals(found)).as("the same patient every time").isTrue();
                id = found;
            }
            long[] after = plans();
            // 40 executions: the driver prepares the statement on the server from the 5th on, and
            // PostgreSQL plans it for the values at hand 5 times before it decides on a kept plan
            assertThat(after[0] - before[0]).as("executions on a kept plan").isGreaterThanOrEqualTo(25);
            assertThat(after[1] - before[1]).as("executions planned anew").isLessThanOrEqualTo(5);
        });
    }
}
