package org.carerelay.routes.mail;

/**
 * Exponential backoff for {@link OutboundMailRoute}: attempt {@code n} waits
 * {@code min(initialDelayMs * multiplier^(n-1), maxDelayMs)}.
 *
 * @param maxRedeliveries redeliveries after the first attempt before the mail goes to the dead letter endpoint
 * @param initialDelayMs  delay before the first redelivery
 * @param multiplier      backoff multiplier (&gt;= 1)
 * @param maxDelayMs      upper bound for a single delay
 */
public record RedeliveryPolicySettings(int maxRedeliveries, long initialDelayMs, double multiplier, long maxDelayMs) {

    /** 10 redeliveries, 1 s initial delay, doubling, at most 10 minutes apart. */
    public static final RedeliveryPolicySettings DEFAULTS = new RedeliveryPolicySettings(10, 1_000L, 2.0, 600_000L);

    public RedeliveryPolicySettings {
        if (maxRedeliveries < 0) {
            throw new IllegalArgumentException("maxRedeliveries must be >= 0");
        }
        if (initialDelayMs < 0 || maxDelayMs < 0) {
            throw new IllegalArgumentException("delays must be >= 0");
        }
        if (multiplier < 1.0) {
            throw new IllegalArgumentException("multiplier must be >= 1");
        }
        if (maxDelayMs < initialDelayMs) {
            throw new IllegalArgumentException("maxDelayMs must be >= initialDelayMs");
        }
    }
}
