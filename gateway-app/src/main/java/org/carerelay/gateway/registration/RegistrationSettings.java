package org.carerelay.gateway.registration;

import java.time.Duration;
import java.time.Instant;
import org.carerelay.gateway.config.CareRelayProperties;
import org.carerelay.gateway.security.RateLimit;

/**
 * The rules that keep registration open to the practice and closed to a third party: code
 * requests and code entries are limited per client address and day (not per organisation, which
 * a stranger could exhaust), and a pending code is kept — not replaced, not sent again — until it
 * is {@code resendAfter} old or expires, so repeated requests neither void the practice's letter
 * nor send more faxes.
 */
record RegistrationSettings(RateLimit requestsPerAddress, RateLimit attemptsPerAddress, Duration resendAfter) {

    static final Duration DAY = Duration.ofDays(1);

    static RegistrationSettings of(CareRelayProperties.Registration registration) {
        return new RegistrationSettings(new RateLimit(registration.maxCodeRequestsPerAddress(), DAY),
                new RateLimit(registration.maxCodeAttemptsPerAddress(), DAY),
                registration.codeResendAfter() == null ? DAY : registration.codeResendAfter());
    }

    /** Whether a pending code issued at {@code createdAt} stays as it is (nothing new is sent). */
    boolean keepsPending(Instant createdAt, Instant expiresAt, Instant now) {
        return now.isBefore(expiresAt) && now.isBefore(createdAt.plus(resendAfter));
    }
}
