package org.carerelay.routes.crypto;

import static org.assertj.core.api.Assertions.assertThat;

import org.junit.jupiter.api.Test;

class JdkCryptoWarmUpTest {

    @Test
    void runsTheJdkCiphersAndDigestWithoutFailing() {
        assertThat(JdkCryptoWarmUp.run()).isNotNegative();
    }
}
