package org.carerelay.gateway.consent;

import java.sql.Array;
import java.sql.Timestamp;
import java.time.Instant;
import java.util.Arrays;
import java.util.List;
import java.util.Optional;
import org.springframework.jdbc.core.simple.JdbcClient;
import org.springframework.stereotype.Repository;

/** The current consent of each patient and every revocation. */
@Repository
public class ConsentRepository {

    private final JdbcClient jdbc;

    public ConsentRepository(JdbcClient jdbc) {
        this.jdbc = jdbc;
    }

    public ConsentState stateOf(String patientId) {
        // one statement, so the current consent and the revocations are read from the same snapshot;
        // the aggregate always yields one row, the consent columns are null when there is none
        return jdbc.sql("""
                select r.last_revoked, c.consent_id, c.status, c.actors, c.author_org
                  from (select max(revoked_at) as last_revoked from consent_revocation where patient_id = ?) r
                  left join patient_consent c on c.patient_id = ?
                """)
                .params(patientId, patientId)
                .query((rs, i) -> {
                    Timestamp revoked = rs.getTimestamp(1);
                    Optional<Instant> lastRevoked = Optional.ofNullable(revoked).map(Timestamp::toInstant);
                    Array actors = rs.getArray(4);
                    if (actors == null) {
                        return new ConsentState(null, false, List.of(), lastRevoked, null);
                    }
                    return new ConsentState(rs.getString(2), "active".equals(rs.getString(3)),
                            Arrays.asList((String[]) actors.getArray()), lastRevoked, rs.getString(5));
                })
                .single();
    }

    /** Locks the patient's consent row (or its absence) for the rest of the transaction. */
    public void lock(String patientId) {
        jdbc.sql("select pg_advisory_xact_lock(hashtext(?))").param("consent:" + patientId).query(Object.class).optional();
    }

    /** @param author the organisation that uploaded the signed document of this consent */
    public void setCurrent(String patientId, String consentId, boolean active, List<String> actors, String author) {
        jdbc.sql("""
                insert into patient_consent (patient_id, consent_id, status, actors, updated_at, author_org) values (?, ?, ?, ?::text[], ?, ?)
                on conflict (patient_id) do update set consent_id = excluded.consent_id, status = excluded.status,
                    actors = excluded.actors, updated_at = excluded.updated_at, author_org = excluded.author_org
                """).params(patientId, consentId, active ? "active" : "inactive", toArrayLiteral(actors),
                Timestamp.from(Instant.now()), author).update();
    }

    public void recordRevocation(String patientId, String consentId, Instant at, String by, String reason) {
        jdbc.sql("insert into consent_revocation (patient_id, consent_id, revoked_at, revoked_by, reason) values (?, ?, ?, ?, ?)")
                .params(patientId, consentId, Timestamp.from(at), by, reason).update();
    }

    private static String toArrayLiteral(List<String> values) {
        StringBuilder sb = new StringBuilder("{");
        for (int i = 0; i < values.size(); i++) {
            if (i > 0) {
                sb.append(',');
            }
            sb.append('"').append(values.get(i).replace("\\", "\\\\").replace("\"", "\\\"")).append('"');
        }
        return sb.append('}').toString();
    }
}
