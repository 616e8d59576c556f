package org.carerelay.gateway.patient;

import ca.uhn.fhir.context.FhirContext;
import java.util.List;
import org.carerelay.gateway.store.ResourceStore;
import org.hl7.fhir.r4.model.Patient;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;
import org.springframework.boot.ApplicationArguments;
import org.springframework.boot.ApplicationRunner;
import org.springframework.jdbc.core.simple.JdbcClient;
import org.springframework.stereotype.Component;
import org.springframework.transaction.support.TransactionTemplate;

/**
 * Encrypts patients stored in plaintext by earlier versions, on start: current version and history
 * are sealed with the data key, their search hashes written, and KVNRs and identifier values in the
 * lookup tables replaced by their keyed hashes. Each patient is converted in its own transaction;
 * a failure is logged (without content) and retried on the next start.
 */
@Component
public class PatientSealingMigration implements ApplicationRunner {

    private static final Logger log = LoggerFactory.getLogger(PatientSealingMigration.class);
    private static final String PLAIN_KVNR = "^[A-Z][0-9]{9}$";

    private final JdbcClient jdbc;
    private final ResourceStore store;
    private final PatientIndex index;
    private final FhirContext fhirContext;
    private final TransactionTemplate tx;

    public PatientSealingMigration(JdbcClient jdbc, ResourceStore store, PatientIndex index, FhirContext fhirContext,
            TransactionTemplate tx) {
        this.jdbc = jdbc;
        this.store = store;
        this.index = index;
        this.fhirContext = fhirContext;
        this.tx = tx;
    }

    @Override
    public void run(ApplicationArguments args) {
        try {
            int converted = migrate();
            if (converted > 0) {
                log.info("Encrypted {} patient rows and lookup entries stored in plaintext by an earlier version", converted);
            }
        } catch (RuntimeException e) {
            log.error("Encrypting earlier patient rows failed ({}); the next start tries again", e.getClass().getSimpleName());
        }
    }

    /** Converts what is left in plaintext; returns the number of rows converted. */
    public int migrate() {
        int converted = 0;
        record Row(String table, String id, int version) {
        }
        List<Row> rows = jdbc.sql("""
                select 'fhir_resource', id, version_id from fhir_resource where resource_type = 'Patient' and sealed is null
                union all
                select 'fhir_resource_history', id, version_id from fhir_resource_history where resource_type = 'Patient' and sealed is null
                """).query((rs, i) -> new Row(rs.getString(1), rs.getString(2), rs.getInt(3))).list();
        for (Row row : rows) {
            try {
                tx.executeWithoutResult(status -> {
                    String json = jdbc.sql("select content::text from " + row.table()
                            + " where resource_type = 'Patient' and id = ? and version_id = ? and sealed is null for update")
                            .params(row.id(), row.version()).query(String.class).optional().orElse(null);
                    if (json == null) {
                        return;
                    }
                    Patient patient = fhirContext.newJsonParser().parseResource(Patient.class, json);
                    ResourceStore.Stored sealed = store.seal("Patient", row.id(), patient, json);
                    jdbc.sql("update " + row.table() + " set content = ?::jsonb, sealed = ?, key_id = ?"
                            + " where resource_type = 'Patient' and id = ? and version_id = ?")
                            .params(sealed.content(), sealed.sealed(), sealed.keyId(), row.id(), row.version()).update();
                    if ("fhir_resource".equals(row.table())) {
                        index.reindex(patient);
                    }
                });
                converted++;
            } catch (RuntimeException e) {
                log.error("Patient/{} version {} could not be encrypted ({})", row.id(), row.version(), e.getClass().getSimpleName());
            }
        }
        converted += tx.execute(status -> convertLookups());
        return converted;
    }

    private int convertLookups() {
        int converted = 0;
        for (String table : List.of("patient_kvnr", "patient_kvnr_local")) {
            for (String kvnr : jdbc.sql("select distinct kvnr from " + table + " where kvnr ~ ?").param(PLAIN_KVNR)
                    .query(String.class).list()) {
                converted += jdbc.sql("update " + table + " set kvnr = ? where kvnr = ?").params(index.kvnr(kvnr), kvnr).update();
            }
        }
        record Plain(String org, String system, String value, String patientId) {
        }
        for (Plain p : jdbc.sql("select assigner_org, system, value, patient_id from patient_identifier where not hashed")
                .query((rs, i) -> new Plain(rs.getString(1), rs.getString(2), rs.getString(3), rs.getString(4))).list()) {
            jdbc.sql("insert into patient_identifier (assigner_org, system, value, patient_id, hashed) values (?, ?, ?, ?, true)"
                    + " on conflict do nothing").params(p.org(), p.system(), index.identifier(p.system(), p.value()), p.patientId()).update();
            converted += jdbc.sql("delete from patient_identifier where assigner_org = ? and system = ? and value = ? and not hashed")
                    .params(p.org(), p.system(), p.value()).update();
        }
        return converted;
    }
}
