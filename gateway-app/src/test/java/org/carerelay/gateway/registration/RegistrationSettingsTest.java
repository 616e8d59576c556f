package org.carerelay.gateway.registration;

import static org.assertj.core.api.Assertions.assertThat;

import java.time.Duration;
import java.time.Instant;
import org.carerelay.gateway.config.CareRelayProperties;
import org.junit.jupiter.api.Test;

class RegistrationSettingsTest {

    private static final Instant SENT = Instant.parse("2026-12-01T08:00:00Z");
    private final RegistrationSettings settings = RegistrationSettings.of(
            new CareRelayProperties.Registration(Duration.ofHours(72), 1000, 5, 10, 12, Duration.ofHours(24)));

    @Test
    void pendingCodeYoungerThanADay_isKept_soRepeatedRequestsSendNothing() {
        assertThat(settings.keepsPending(SENT, SENT.plus(Duration.ofHours(72)), SENT.plus(Duration.ofHours(23)))).isTrue();
    }

    @Test
    void pendingCodeADayOld_mayBeSentAgain_onceADay() {
        assertThat(settings.keepsPending(SENT, SENT.plus(Duration.ofHours(72)), SENT.plus(Duration.ofHours(24)))).isFalse();
    }

    @Test
    void expiredCode_isNeverKept() {
        assertThat(settings.keepsPending(SENT, SENT.plus(Duration.ofHours(1)), SENT.plus(Duration.ofHours(2)))).isFalse();
    }

    @Test
    void limitsCountPerAddressAndDay() {
        assertThat(settings.attemptsPerAddress().limit()).isEqualTo(10);
        assertThat(settings.requestsPerAddress().limit()).isEqualTo(12);
        assertThat(settings.attemptsPerAddress().window()).isEqualTo(Duration.ofDays(1));
    }
}
