package org.carerelay.gateway.security;

import java.net.Inet6Address;
import java.net.InetAddress;
import java.net.UnknownHostException;
import java.sql.Timestamp;
import java.time.Instant;
import java.util.HexFormat;
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

    /**
     * The key a client address is counted under: an IPv4 address as it is, an IPv6 address by its
     * /64 network — one host or one customer line usually owns a whole /64, so counting single
     * IPv6 addresses would give an attacker 2^64 fresh budgets.
     */
    public static String clientKey(String address) {
        if (address == null || address.isBlank()) {
            return "unknown";
        }
        String literal = address.trim();
        if (literal.indexOf(':') < 0) {
            return literal;
        }
        literal = literal.replace("[", "").replace("]", "");
        int zone = literal.indexOf('%');
        if (zone >= 0) {
            literal = literal.substring(0, zone);
        }
        try {
            // a literal containing ':' is parsed, never looked up
            InetAddress ip = InetAddress.getByName(literal);
            if (ip instanceof Inet6Address) {
                return HexFormat.of().formatHex(ip.getAddress(), 0, 8) + "::/64";
            }
            return ip.getHostAddress(); // an IPv4-mapped address counts as its IPv4 address
        } catch (UnknownHostException e) {
            return literal;
        }
    }
}
