package org.carerelay.gateway.infra;

import static org.assertj.core.api.Assertions.assertThat;

import io.zonky.test.db.postgres.embedded.EmbeddedPostgres;
import java.nio.file.Files;
import java.nio.file.Path;
import java.sql.Timestamp;
import java.time.Instant;
import java.util.List;
import java.util.UUID;
import javax.sql.DataSource;
import org.flywaydb.core.Flyway;
import org.junit.jupiter.api.Test;
import org.springframework.jdbc.core.simple.JdbcClient;

/**
 * Upgrading a database of the release before patient claims were closed: access that an earlier
 * version granted for a mere KVNR match is withdrawn (kept as conversation access where the
 * organisation takes part in a conversation about the patient), and the patient's other
 * identifiers are filed under the organisation that created it first only.
 */
class PatientClaimsUpgradeTest {

    @Test
    void grantsForAKnownKvnr_madeByTheEarlierRelease_areWithdrawnOnUpgrade() throws Exception {
        Path dir = Path.of("target", "upgrade-pg", UUID.randomUUID().toString());
        Files.createDirectories(dir.resolve("data"));
        Files.createDirectories(dir.resolve("bin"));
        try (EmbeddedPostgres pg = EmbeddedPostgres.builder().setDataDirectory(dir.resolve("data").toFile())
                .setOverrideWorkingDirectory(dir.resolve("bin").toFile()).start()) {
            DataSource ds = pg.getPostgresDatabase();
            Flyway.configure().dataSource(ds).locations("classpath:db/migration").target("5").load().migrate();
            JdbcClient jdbc = JdbcClient.create(ds);
            Instant t = Instant.parse("2026-11-01T10:00:00Z");
            jdbc.sql("insert into fhir_resource (resource_type, id, version_id, last_updated, content) values ('Patient', 'p1', 1, ?, ?::jsonb)")
                    .params(Timestamp.from(t), """
                            {"resourceType":"Patient","id":"p1","identifier":[
                             {"system":"http://fhir.de/sid/gkv/kvid-10","value":"X110411319"},
                             {"system":"urn:oid:1.2.276.0.76.4.8","value":"MRN-4711"}]}""").update();
            grant(jdbc, "p1", "klinikum", t);            // created the patient
            grant(jdbc, "squatter", "p1", t.plusSeconds(60), true);
            grant(jdbc, "pflege", "p1", t.plusSeconds(120), true);
            // pflege takes part in a conversation about the patient
            jdbc.sql("insert into message (id, conversation_id, sender_org, subject_patient, category, sent, key_id, content) "
                    + "values ('m1', 'c1', 'klinikum', 'p1', 'patient-bound', ?, 'k', '\\x00'::bytea)").param(Timestamp.from(t)).update();
            jdbc.sql("insert into conversation_participant (conversation_id, organization_id) values ('c1', 'klinikum'), ('c1', 'pflege')").update();

            Flyway.configure().dataSource(ds).locations("classpath:db/migration").load().migrate();

            List<String> access = jdbc.sql("select organization_id || ':' || reason from patient_access where patient_id = 'p1' order by 1")
                    .query(String.class).list();
            assertThat(access).containsExactly("klinikum:created", "pflege:conversation");
            List<String> identifiers = jdbc.sql("select assigner_org || ':' || system || '|' || value from patient_identifier")
                    .query(String.class).list();
            assertThat(identifiers).containsExactly("klinikum:urn:oid:1.2.276.0.76.4.8|MRN-4711");
        }
    }

    private static void grant(JdbcClient jdbc, String patient, String org, Instant at) {
        jdbc.sql("insert into patient_access (patient_id, organization_id, granted_at, reason) values (?, ?, ?, 'created')")
                .params(patient, org, Timestamp.from(at)).update();
    }

    /** A grant the earlier release made for a known KVNR, with the audit event it wrote. */
    private static void grant(JdbcClient jdbc, String org, String patient, Instant at, boolean byKvnrMatch) {
        grant(jdbc, patient, org, at);
        if (byKvnrMatch) {
            jdbc.sql("insert into audit_event (id, recorded, type_code, subtype_code, action, outcome, agent_who, entity_what, content) "
                    + "values (?, ?, 'rest', 'patient-create-existing', 'R', '0', ?, ?, '{}'::jsonb)")
                    .params(UUID.randomUUID(), Timestamp.from(at), "Organization/" + org, "Patient/" + patient).update();
        }
    }
}
