package org.carerelay.gateway.pipeline;

import static org.assertj.core.api.Assertions.assertThat;

import org.junit.jupiter.api.Test;

class RetryLogTextTest {

    @Test
    void partnersAckText_staysOutOfTheRetryLogLine() {
        assertThat(DeliveryAttempt.forLog("MLLP ACK with unknown MSA-1 'XX': Patient Erika Mustermann unbekannt"))
                .isEqualTo("MLLP ACK with unknown MSA-1 'XX' (text in $delivery-status)")
                .doesNotContain("Mustermann");
    }

    @Test
    void gatewaysOwnReasons_areLoggedAsTheyAre() {
        assertThat(DeliveryAttempt.forLog("connection failed: Connection refused")).isEqualTo("connection failed: Connection refused");
        assertThat(DeliveryAttempt.forLog("MLLP no answer")).isEqualTo("MLLP no answer");
        assertThat(DeliveryAttempt.forLog(null)).isNull();
    }
}
