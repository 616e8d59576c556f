package org.carerelay.gateway.security;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import java.time.Duration;
import java.time.Instant;
import org.junit.jupiter.api.Test;

class RateLimitTest {

    private static final Instant T0 = Instant.parse("2026-12-03T10:00:00Z");

    @Test
    void eventsUpToTheLimit_areAllowed_theNextIsRefusedUntilTheWindowCloses() {
        RateLimit limit = new RateLimit(3, Duration.ofMinutes(10));
        assertThat(limit.verdict(1, T0, T0).allowed()).isTrue();
        assertThat(limit.verdict(3, T0, T0.plusSeconds(30)).allowed()).isTrue();
        RateLimit.Verdict fourth = limit.verdict(4, T0, T0.plusSeconds(60));
        assertThat(fourth.allowed()).isFalse();
        assertThat(fourth.retryAfter()).isEqualTo(Duration.ofMinutes(9));
        assertThat(RateLimit.seconds(fourth.retryAfter())).isEqualTo(540);
    }

    @Test
    void aWindowOpenedExactlyOneWindowAgo_hasPassed() {
        RateLimit limit = new RateLimit(3, Duration.ofMinutes(10));
        assertThat(limit.expiredAtOrBefore(T0)).isEqualTo(T0.minus(Duration.ofMinutes(10)));
    }

    @Test
    void limitZero_meansNoLimit() {
        RateLimit off = new RateLimit(0, Duration.ZERO);
        assertThat(off.enabled()).isFalse();
        assertThat(off.verdict(1_000_000, T0, T0).allowed()).isTrue();
    }

    @Test
    void retryAfter_isNeverNegative_andAtLeastOneSecondWhenAnnounced() {
        RateLimit limit = new RateLimit(1, Duration.ofSeconds(5));
        RateLimit.Verdict late = limit.verdict(2, T0, T0.plusSeconds(10));
        assertThat(late.retryAfter()).isEqualTo(Duration.ZERO);
        assertThat(RateLimit.seconds(late.retryAfter())).isEqualTo(1);
        assertThat(RateLimit.seconds(Duration.ofMillis(1_001))).isEqualTo(2);
    }

    @Test
    void negativeLimitOrEmptyWindow_isRefused() {
        assertThatThrownBy(() -> new RateLimit(-1, Duration.ofMinutes(1))).isInstanceOf(IllegalArgumentException.class);
        assertThatThrownBy(() -> new RateLimit(5, Duration.ZERO)).isInstanceOf(IllegalArgumentException.class);
    }

    @Test
    void onlyMdmAndOru_countAsMessagesOverHl7() {
        assertThat(MessageRateLimiter.counts("MDM")).isTrue();
        assertThat(MessageRateLimiter.counts("oru")).isTrue();
        assertThat(MessageRateLimiter.counts("ADT")).isFalse();
        assertThat(MessageRateLimiter.counts(null)).isFalse();
    }
}
