package org.carerelay.gateway.security;

import static org.assertj.core.api.Assertions.assertThat;

import java.time.Duration;
import java.time.Instant;
import org.junit.jupiter.api.Test;

class TokenAgeTest {

    private static final Instant ISSUED = Instant.parse("2026-01-01T00:00:00Z");

    @Test
    void zeroOrMissingMaximumAge_tokensNeverExpire() {
        assertThat(new AuthenticationInterceptor.TokenAge(Duration.ZERO, Duration.ofDays(30)).expiresAt(ISSUED)).isEmpty();
        assertThat(new AuthenticationInterceptor.TokenAge(null, Duration.ofDays(30)).expiresAt(ISSUED)).isEmpty();
    }

    @Test
    void tokenExpiresMaximumAgeAfterIssue_rotationIsDueInTheWarningPeriod() {
        var age = new AuthenticationInterceptor.TokenAge(Duration.ofDays(365), Duration.ofDays(30));
        Instant expires = age.expiresAt(ISSUED).orElseThrow();
        assertThat(expires).isEqualTo(ISSUED.plus(Duration.ofDays(365)));
        assertThat(age.rotationDue(expires, expires.minus(Duration.ofDays(31)))).isFalse();
        assertThat(age.rotationDue(expires, expires.minus(Duration.ofDays(30)))).isTrue();
    }

    @Test
    void tokenWithoutIssueTime_doesNotExpire() {
        assertThat(new AuthenticationInterceptor.TokenAge(Duration.ofDays(1), Duration.ZERO).expiresAt(null)).isEmpty();
    }
}
