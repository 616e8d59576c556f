package org.carerelay.gateway.crypto;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import org.junit.jupiter.api.Test;

class CryptoConfigurationTest {

    @Test
    void aKeySettingThatTheProfileDemandsButTheEnvironmentLacks_stopsWithItsName() {
        assertThatThrownBy(() -> CryptoConfiguration.required("${CARERELAY_CRYPTO_KEYSTORE}", "CARERELAY_CRYPTO_KEYSTORE"))
                .isInstanceOf(IllegalStateException.class).hasMessageStartingWith("CARERELAY_CRYPTO_KEYSTORE is not set");
        assertThat(CryptoConfiguration.required("/etc/carerelay/keys/carerelay.p12", "CARERELAY_CRYPTO_KEYSTORE"))
                .isEqualTo("/etc/carerelay/keys/carerelay.p12");
        assertThat(CryptoConfiguration.required(null, "CARERELAY_DATA_KEY")).isNull();
        assertThat(CryptoConfiguration.required("", "CARERELAY_DATA_KEY")).isEmpty();
    }
}
