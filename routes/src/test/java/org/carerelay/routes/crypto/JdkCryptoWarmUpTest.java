package org.carerelay.routes.crypto;

import static org.assertj.core.api.Assertions.assertThatNoException;

import org.junit.jupiter.api.Test;

/** A smoke test: in the app the warm-up runs on a background thread, where a failure would go unnoticed. */
class JdkCryptoWarmUpTest {

    @Test
    void runsTheJdkCiphersAndDigestWithoutFailing() {
        assertThatNoException().isThrownBy(JdkCryptoWarmUp::run);
    }
}
