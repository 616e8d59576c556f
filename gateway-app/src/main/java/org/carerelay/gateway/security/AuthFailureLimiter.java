package org.carerelay.gateway.security;

import org.carerelay.gateway.config.CareRelayProperties;
import org.springframework.beans.factory.annotation.Autowired;
import org.springframework.stereotype.Component;

/**
 * Limits failed token presentations per client address. Counted in the database with one atomic
 * statement ({@link RateCounters}), so the limit holds across every gateway node and concurrent
 * failures never overshoot it: of N simultaneous bad tokens from one address, exactly
 * {@code auth-failure-limit} are answered 401, the rest 429.
 */
@Component
public class AuthFailureLimiter {

    static final String SCOPE = "auth-failure";

    private final RateCounters counters;
    private final RateLimit limit;

    @Autowired
    public AuthFailureLimiter(RateCounters counters, CareRelayProperties props) {
        this(counters, new RateLimit(props.security().authFailureLimit(), props.security().authFailureWindow()));
    }

    /** With an explicit limit (tests of the counting itself). */
    public AuthFailureLimiter(RateCounters counters, RateLimit limit) {
        this.counters = counters;
        this.limit = limit;
    }

    /** Counts one failure of {@code clientAddress}; not allowed = the address is over its limit. */
    public RateLimit.Verdict recordFailure(String clientAddress) {
        return counters.hit(SCOPE, RateCounters.clientKey(clientAddress), limit);
    }
}
