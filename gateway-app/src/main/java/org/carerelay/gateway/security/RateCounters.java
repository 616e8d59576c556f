package org.carerelay.gateway.security;

import java.sql.Timestamp;
import java.time.Instant;
import org.springframework.jdbc.core.simple.JdbcClient;
import org.springframework.stereotype.Component;

/**
 * Counters behind every {@link RateLimit}, kept in PostgreSQL so a limit holds across all gateway
 * nodes. Counting and checking is one {@code insert ... on conflict do update ... returning}: the
 * row lock serialises concurrent events of one subject, so no two of them read the same count.
 */
@Component
public class RateCounters {

    private final JdbcClient jdbc;

    public RateCounters(JdbcClient jdbc) {
        this.jdbc = jdbc;
    }

    /** Counts one event of {@code subject} in {@code scope} and says whether the limit allows it. */
    public RateLimit.Verdict hit(String scope, String subject, RateLimit limit) {
        Instant now = Instant.now();
        if (!limit.enabled()) {
            return limit.verdict(0, now, now);
        }
        Timestamp ts = Timestamp.from(now);
        Timestamp expired = Timestamp.from(limit.expiredAtOrBefore(now));
        // in the SET list, rate_counter.* is the row before the update: both cases test the old window
        var row = jdbc.sql("""
                insert into rate_counter (scope, subject, window_start, hits) values (:scope, :subject, :now, 1)
                on conflict (scope, subject) do update set
                    hits = case when rate_counter.window_start <= :expired then 1 else rate_counter.hits + 1 end,
                    window_start = case when rate_counter.window_start <= :expired then :now else rate_counter.window_start end
                returning hits, window_start
                """).param("scope", scope).param("subject", subject == null ? "" : subject).param("now", ts)
                .param("expired", expired)
                .query((rs, i) -> new Object[] {rs.getInt(1), rs.getTimestamp(2).toInstant()}).single();
        int hits = (Integer) row[0];
        Instant windowStart = (Instant) row[1];
        if (hits == 1) {
            // a new window: forget the subjects of this scope whose windows have passed; rows another
            // transaction holds are skipped (next time), so two cleanups never wait for each other
            jdbc.sql("""
                    delete from rate_counter where (scope, subject) in (
                        select scope, subject from rate_counter where scope = ? and window_start <= ?
                        limit 1000 for update skip locked)
                    """).params(scope, expired).update();
        }
        return limit.verdict(hits, windowStart, now);
    }
}
