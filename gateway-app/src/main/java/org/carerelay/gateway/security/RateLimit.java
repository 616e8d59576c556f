package org.carerelay.gateway.security;

import java.time.Duration;
import java.time.Instant;
import java.util.Objects;

/**
 * A limit of {@code limit} events per {@code window}. The window opens with the first event and
 * lasts {@code window}; the event that would be number {@code limit + 1} in it is refused, and so
 * is every later one until the window has passed. {@code limit} 0 means no limit. Pure arithmetic:
 * the counting itself happens atomically in the database ({@link RateCounters}).
 */
public record RateLimit(int limit, Duration window) {

    public RateLimit {
        Objects.requireNonNull(window, "window");
        if (limit < 0) {
            throw new IllegalArgumentException("limit must be 0 (off) or positive");
        }
        if (limit > 0 && (window.isZero() || window.isNegative())) {
            throw new IllegalArgumentException("window must be positive");
        }
    }

    /** What the counter says about the event just counted. */
    public record Verdict(boolean allowed, int hits, Duration retryAfter) {
    }

    public boolean enabled() {
        return limit > 0;
    }

    /** A window that opened at or before this instant has passed at {@code now}. */
    public Instant expiredAtOrBefore(Instant now) {
        return now.minus(window);
    }

    /**
     * The verdict for an event counted as number {@code hits} of the window opened at
     * {@code windowStart}; {@code retryAfter} is the time until that window closes (zero when allowed).
     */
    public Verdict verdict(int hits, Instant windowStart, Instant now) {
        if (!enabled() || hits <= limit) {
            return new Verdict(true, hits, Duration.ZERO);
        }
        Duration left = Duration.between(now, windowStart.plus(window));
        return new Verdict(false, hits, left.isNegative() ? Duration.ZERO : left);
    }

    /** Seconds for a {@code Retry-After} header or a message: at least 1. */
    public static long seconds(Duration retryAfter) {
        return Math.max(1, (retryAfter.toMillis() + 999) / 1000);
    }
}
