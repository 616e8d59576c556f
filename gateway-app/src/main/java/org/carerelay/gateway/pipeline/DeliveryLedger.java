package org.carerelay.gateway.pipeline;

import java.sql.ResultSet;
import java.sql.SQLException;
import java.sql.Timestamp;
import java.time.Duration;
import java.time.Instant;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import org.carerelay.gateway.registration.ParticipantRepository;
import org.springframework.jdbc.core.simple.JdbcClient;
import org.springframework.stereotype.Repository;

/**
 * Delivery state per message and recipient: the single source of truth for "delivered once". The
 * only place where {@link DeliveryState} and {@link Channel} meet their text in the database (the
 * SQL below names {@code 'queued'} as a literal where a partial index depends on it).
 */
@Repository
public class DeliveryLedger {

    public record Entry(String messageId, String recipient, Channel channel, DeliveryState state, int attempts,
            Instant lastAttempt, String detail, Instant deliveredAt, Instant notifiedAt, String operatorDetail) {

        /** The full reason, for the operator; {@link #detail()} is what the sender sees. */
        public String detailForOperator() {
            return operatorDetail != null ? operatorDetail : detail;
        }
    }

    private final JdbcClient jdbc;

    public DeliveryLedger(JdbcClient jdbc) {
        this.jdbc = jdbc;
    }

    private static final String COLUMNS =
            "message_id, recipient_org, channel, state, attempts, last_attempt, detail, delivered_at, notified_at, operator_detail";

    private static Entry row(ResultSet rs, int i) throws SQLException {
        return new Entry(rs.getString(1), rs.getString(2), Channel.ofText(rs.getString(3)), DeliveryState.ofText(rs.getString(4)), rs.getInt(5),
                instant(rs.getTimestamp(6)), rs.getString(7), instant(rs.getTimestamp(8)), instant(rs.getTimestamp(9)),
                rs.getString(10));
    }

    private static Instant instant(Timestamp ts) {
        return ts == null ? null : ts.toInstant();
    }

    public Optional<Entry> lock(String messageId, String recipient) {
        return jdbc.sql("select " + COLUMNS + " from delivery where message_id = ? and recipient_org = ? for update")
                .params(messageId, recipient).query(DeliveryLedger::row).optional();
    }

    /**
     * {@link #lock} for every recipient of a message at once: the entries there are, by recipient,
     * locked until the transaction ends. Taken in the order of the recipients, the order in which
     * fan-out took them one by one before.
     */
    public Map<String, Entry> lockAll(String messageId) {
        Map<String, Entry> entries = new HashMap<>();
        jdbc.sql("select " + COLUMNS + " from delivery where message_id = ? order by recipient_org for update")
                .param(messageId).query(DeliveryLedger::row).list().forEach(entry -> entries.put(entry.recipient(), entry));
        return entries;
    }

    public Optional<Entry> find(String messageId, String recipient) {
        return jdbc.sql("select " + COLUMNS + " from delivery where message_id = ? and recipient_org = ?")
                .params(messageId, recipient).query(DeliveryLedger::row).optional();
    }

    /**
     * Writes the pair's entry; false when there is one already (a fan-out of the same message at the
     * same time wrote it, and the insert waited for its commit), which is left as it is. With
     * {@code notified}, the entry is written as {@link #notified} would leave it (a pull-only
     * delivery {@code notified}, any other in {@code state}): its notification is queued in this
     * transaction.
     */
    public boolean insert(String messageId, String recipient, Channel channel, DeliveryState state, String detail,
            boolean notified) {
        Timestamp now = Timestamp.from(Instant.now());
        DeliveryState written = notified && channel == Channel.PULL ? DeliveryState.NOTIFIED : state;
        return jdbc.sql("""
                insert into delivery (message_id, recipient_org, channel, state, detail, created_at, updated_at, notified_at)
                values (?, ?, ?, ?, ?, ?, ?, ?) on conflict do nothing
                """).params(messageId, recipient, channel.text(), written.text(), detail, now, now, notified ? now : null)
                .update() == 1;
    }

    public void setState(String messageId, String recipient, Channel channel, DeliveryState state, String detail) {
        jdbc.sql("update delivery set channel = ?, state = ?, detail = ?, operator_detail = null, updated_at = ?"
                        + " where message_id = ? and recipient_org = ?")
                .params(channel.text(), state.text(), detail, Timestamp.from(Instant.now()), messageId, recipient).update();
    }

    /** What a claim found. */
    public enum Claim {
        /** This attempt holds the lease now. */
        CLAIMED,
        /** Another attempt holds an unexpired lease: it may still finish, or it died with its node. */
        LEASED,
        /** Nothing left to do: delivered, failed, held, or not in the ledger. */
        SETTLED
    }

    /**
     * Claims a queued delivery for one attempt: counts the attempt and sets a lease. Leases are
     * measured on the database's clock, so nodes with skewed clocks agree on when one expires.
     */
    public Claim claim(String messageId, String recipient, Duration lease) {
        int updated = jdbc.sql("""
                update delivery set attempts = attempts + 1, last_attempt = clock_timestamp(),
                    in_flight_until = clock_timestamp() + make_interval(secs => ?), updated_at = clock_timestamp()
                where message_id = ? and recipient_org = ? and state = 'queued'
                  and (in_flight_until is null or in_flight_until < clock_timestamp())
                """).params(lease.toMillis() / 1000.0, messageId, recipient).update();
        if (updated == 1) {
            return Claim.CLAIMED;
        }
        // still queued: another attempt's lease (even one that ran out since the update) stands in the way
        boolean queued = jdbc.sql("select count(*) from delivery where message_id = ? and recipient_org = ? and state = 'queued'")
                .params(messageId, recipient).query(Integer.class).single() > 0;
        return queued ? Claim.LEASED : Claim.SETTLED;
    }

    /** How long the lease on this queued delivery still runs; empty when there is none. */
    public Optional<Duration> leaseRemaining(String messageId, String recipient) {
        return jdbc.sql("""
                select cast(extract(epoch from in_flight_until - clock_timestamp()) * 1000 as bigint) from delivery
                where message_id = ? and recipient_org = ? and state = 'queued' and in_flight_until >= clock_timestamp()
                """).params(messageId, recipient).query(Long.class).optional().map(Duration::ofMillis);
    }

    /** True while an attempt holds an unexpired lease on this queued delivery. */
    public boolean isLeased(String messageId, String recipient) {
        return jdbc.sql("""
                select count(*) from delivery where message_id = ? and recipient_org = ? and state = 'queued'
                  and in_flight_until >= clock_timestamp()
                """).params(messageId, recipient).query(Integer.class).single() > 0;
    }

    /** A queued push delivery whose attempt's lease ran out: that attempt died with its node. */
    public record ExpiredLease(String messageId, String recipient, Channel channel) {
    }

    /**
     * Locks up to {@code limit} queued deliveries whose lease expired more than {@code grace} ago
     * (skipping rows another node holds), for the caller to hand to the broker again and then {@link #releaseLease release}
     * in the same transaction.
     */
    public List<ExpiredLease> lockExpiredLeases(Duration grace, int limit) {
        return jdbc.sql("""
                select message_id, recipient_org, channel from delivery
                where state = 'queued' and in_flight_until < clock_timestamp() - make_interval(secs => ?)
                order by in_flight_until limit ? for update skip locked
                """).params(grace.toMillis() / 1000.0, limit)
                .query((rs, i) -> new ExpiredLease(rs.getString(1), rs.getString(2), Channel.ofText(rs.getString(3)))).list();
    }

    public void releaseLease(String messageId, String recipient) {
        jdbc.sql("update delivery set in_flight_until = null, updated_at = clock_timestamp() where message_id = ? and recipient_org = ?")
                .params(messageId, recipient).update();
    }

    public void delivered(String messageId, String recipient, String detail) {
        Timestamp now = Timestamp.from(Instant.now());
        jdbc.sql("""
                update delivery set state = 'delivered', delivered_at = ?, detail = ?, operator_detail = null,
                    in_flight_until = null, updated_at = ?
                where message_id = ? and recipient_org = ?
                """).params(now, detail, now, messageId, recipient).update();
    }

    public void failed(String messageId, String recipient, String detail) {
        failed(messageId, recipient, detail, null);
    }

    /** Failed for good: {@code detail} for the sender, {@code operatorDetail} (null: the same) for the operator. */
    public void failed(String messageId, String recipient, String detail, String operatorDetail) {
        jdbc.sql("update delivery set state = 'failed', detail = ?, operator_detail = ?, in_flight_until = null, updated_at = ?"
                        + " where message_id = ? and recipient_org = ?")
                .params(detail, operatorDetail, Timestamp.from(Instant.now()), messageId, recipient).update();
    }

    /** A failed attempt that will be retried: lease released, reason kept (the full one for the operator). */
    public void attemptFailed(String messageId, String recipient, String detail, String operatorDetail) {
        jdbc.sql("update delivery set detail = ?, operator_detail = ?, in_flight_until = null, updated_at = ?"
                        + " where message_id = ? and recipient_org = ?")
                .params(detail, operatorDetail, Timestamp.from(Instant.now()), messageId, recipient).update();
    }

    public void notified(String messageId, String recipient, boolean pullOnly) {
        Timestamp now = Timestamp.from(Instant.now());
        jdbc.sql("update delivery set notified_at = ?, state = case when ? then 'notified' else state end, updated_at = ? "
                + "where message_id = ? and recipient_org = ?")
                .params(now, pullOnly, now, messageId, recipient).update();
    }

    /**
     * A lock for one timer job across all nodes, held until the transaction ends; false when
     * another node holds it (that node does this tick's work).
     */
    public boolean tryTickLock(String job) {
        return Boolean.TRUE.equals(jdbc.sql("select pg_try_advisory_xact_lock(hashtext(?))").param("carerelay:tick:" + job)
                .query(Boolean.class).single());
    }

    /** Messages held for an organisation that has registered since (for the sweeper). */
    public List<String> heldForRegistered(int limit) {
        return jdbc.sql("""
                select distinct d.message_id from delivery d join participant on participant.organization_id = d.recipient_org
                where d.state = 'held-invited' and participant.status = 'registered' and %s limit ?
                """.formatted(ParticipantRepository.ENTRY_ACTIVE)).param(limit).query(String.class).list();
    }

    public List<String> heldFor(String organizationId) {
        return jdbc.sql("select message_id from delivery where recipient_org = ? and state = 'held-invited' order by message_id")
                .param(organizationId).query(String.class).list();
    }

    /** Back to {@code queued}, lease released: for a work item retried from its dead-letter queue. */
    public void requeue(String messageId, String recipient) {
        jdbc.sql("update delivery set state = 'queued', in_flight_until = null, updated_at = ? where message_id = ? and recipient_org = ?")
                .params(Timestamp.from(Instant.now()), messageId, recipient).update();
    }
}
