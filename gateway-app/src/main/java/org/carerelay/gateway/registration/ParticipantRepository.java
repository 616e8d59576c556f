package org.carerelay.gateway.registration;

import java.sql.Timestamp;
import java.time.Instant;
import java.util.Collection;
import java.util.HashMap;
import java.util.HashSet;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.Set;
import org.carerelay.gateway.security.TokenHolders;
import org.springframework.jdbc.core.RowCallbackHandler;
import org.springframework.jdbc.core.simple.JdbcClient;
import org.springframework.stereotype.Repository;

/** Registration state of directory organisations: token hash and contact address. */
@Repository
public class ParticipantRepository implements TokenHolders {

    private final JdbcClient jdbc;

    public ParticipantRepository(JdbcClient jdbc) {
        this.jdbc = jdbc;
    }

    /**
     * SQL condition on a {@code participant} row: its directory entry is not deactivated. The
     * operator's {@code DELETE Organization/x} sets {@code active=false}; from that moment the
     * organisation neither authenticates, nor sends, nor receives, nor is notified (re-activating
     * the entry restores all of it, with the same token).
     */
    public static final String ENTRY_ACTIVE = "coalesce((select (r.content->>'active')::boolean from fhir_resource r "
            + "where r.resource_type = 'Organization' and r.id = participant.organization_id), true)";

    @Override
    public Optional<TokenHolder> tokenHolder(String tokenHash) {
        return jdbc.sql("select organization_id, " + ENTRY_ACTIVE + ", token_issued_at from participant "
                + "where token_hash = ? and status = 'registered'")
                .param(tokenHash)
                .query((rs, i) -> new TokenHolder(rs.getString(1), rs.getBoolean(2),
                        rs.getTimestamp(3) == null ? null : rs.getTimestamp(3).toInstant()))
                .optional();
    }

    /** Registered and not deactivated: may send, receive and be notified. */
    public boolean isRegistered(String organizationId) {
        return registered(List.of(organizationId)).containsKey(organizationId);
    }

    public Set<String> registeredAmong(Collection<String> organizationIds) {
        if (organizationIds.isEmpty()) {
            return Set.of();
        }
        return new HashSet<>(jdbc.sql("select organization_id from participant where status = 'registered' and organization_id in (:ids)")
                .param("ids", List.copyOf(organizationIds)).query(String.class).list());
    }

    /** A registered participant, with the address its notifications go to (empty: none). */
    public record Registered(Optional<String> contactEmail) {
    }

    /**
     * Those among {@code organizationIds} that are registered and not deactivated (they may send,
     * receive and be notified), with their notification addresses: one statement for all of them,
     * and the one place that condition is written for a participant by id.
     */
    public Map<String, Registered> registered(Collection<String> organizationIds) {
        if (organizationIds.isEmpty()) {
            return Map.of();
        }
        Map<String, Registered> registered = new HashMap<>();
        jdbc.sql("select organization_id, contact_email from participant where organization_id in (:ids) "
                        + "and status = 'registered' and " + ENTRY_ACTIVE)
                .param("ids", List.copyOf(organizationIds))
                .query((RowCallbackHandler) rs -> registered.put(rs.getString(1),
                        new Registered(Optional.ofNullable(rs.getString(2)))));
        return registered;
    }

    /** Where a registered, not deactivated participant's notifications go; empty for any other organisation. */
    public Optional<String> contactEmail(String organizationId) {
        return Optional.ofNullable(registered(List.of(organizationId)).get(organizationId)).flatMap(Registered::contactEmail);
    }

    public void register(String organizationId, String tokenHash, String contactEmail, Instant now) {
        Timestamp ts = Timestamp.from(now);
        jdbc.sql("""
                insert into participant (organization_id, status, token_hash, contact_email, registered_at, token_issued_at)
                values (?, 'registered', ?, ?, ?, ?)
                on conflict (organization_id) do update set status = 'registered', token_hash = excluded.token_hash,
                    contact_email = excluded.contact_email, registered_at = excluded.registered_at,
                    token_issued_at = excluded.token_issued_at, deregistered_at = null
                """).params(organizationId, tokenHash, contactEmail, ts, ts).update();
    }

    public boolean rotateToken(String organizationId, String tokenHash, Instant now) {
        return jdbc.sql("update participant set token_hash = ?, token_issued_at = ? where organization_id = ? and status = 'registered'")
                .params(tokenHash, Timestamp.from(now), organizationId).update() == 1;
    }

    /** The address reply notifications go to; false when the organisation is not registered. */
    public boolean changeContactEmail(String organizationId, String contactEmail) {
        return jdbc.sql("update participant set contact_email = ? where organization_id = ? and status = 'registered'")
                .params(contactEmail, organizationId).update() == 1;
    }

    /** Token void, contact data erased; the row stays as the record that it once took part. */
    public boolean deregister(String organizationId, Instant now) {
        return jdbc.sql("""
                update participant set status = 'deregistered', token_hash = null, contact_email = null, deregistered_at = ?
                where organization_id = ? and status = 'registered'
                """).params(Timestamp.from(now), organizationId).update() == 1;
    }
}
