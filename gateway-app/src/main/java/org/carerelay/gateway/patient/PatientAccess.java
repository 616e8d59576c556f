package org.carerelay.gateway.patient;

import java.sql.Timestamp;
import java.time.Instant;
import java.util.Collection;
import org.carerelay.gateway.consent.PatientGrants;
import org.springframework.jdbc.core.simple.JdbcClient;
import org.springframework.stereotype.Repository;

/**
 * Who may see a patient: the organisations that created it, every participant of a conversation
 * about it, and partners named in its active consent once they joined by its KVNR (until the
 * consent no longer names them). Everyone else
 * gets 404, so existence does not leak.
 */
@Repository
public class PatientAccess implements PatientGrants {

    private final JdbcClient jdbc;

    public PatientAccess(JdbcClient jdbc) {
        this.jdbc = jdbc;
    }

    @Override
    public boolean canSee(String organizationId, String patientId) {
        return jdbc.sql("select count(*) from patient_access where patient_id = ? and organization_id = ?")
                .params(patientId, organizationId).query(Integer.class).single() > 0;
    }

    public void grant(String patientId, String organizationId, String reason) {
        jdbc.sql("insert into patient_access (patient_id, organization_id, granted_at, reason) values (?, ?, ?, ?) on conflict do nothing")
                .params(patientId, organizationId, Timestamp.from(Instant.now()), reason).update();
    }

    public void grantAll(String patientId, Collection<String> organizationIds, String reason) {
        if (organizationIds.isEmpty()) {
            return;
        }
        // one statement for all of them
        jdbc.sql("insert into patient_access (patient_id, organization_id, granted_at, reason) select ?, unnest(?::text[]), ?, ?"
                        + " on conflict do nothing")
                .params(patientId, organizationIds.toArray(new String[0]), Timestamp.from(Instant.now()), reason).update();
    }

    /**
     * After a consent is narrowed or revoked: the organisations that joined by consent and are no
     * longer named lose the patient. Creators and participants of a conversation about the patient
     * keep it (their history stays visible, masked after a revocation).
     */
    @Override
    public int removeConsentGrants(String patientId, Collection<String> stillNamed) {
        return jdbc.sql("""
                delete from patient_access pa
                 where pa.patient_id = ? and pa.reason = 'consent' and not (pa.organization_id = any (?))
                   and not exists (select 1 from message m where m.subject_patient = pa.patient_id
                       and (m.sender_org = pa.organization_id or exists (select 1 from message_recipient mr
                            where mr.message_id = m.id and mr.organization_id = pa.organization_id)))
                """).params(patientId, stillNamed.toArray(new String[0])).update();
    }

    /** SQL predicate: the row's {@code id} column is a patient visible to {@code :viewer}. */
    public static String visibleToViewerPredicate() {
        return "exists (select 1 from patient_access pa where pa.patient_id = fhir_resource.id and pa.organization_id = :viewer)";
    }
}
