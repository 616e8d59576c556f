package org.carerelay.gateway.hl7;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import java.nio.file.Files;
import java.nio.file.Path;
import java.security.KeyStore;
import java.util.Collections;
import java.util.UUID;
import javax.security.auth.x500.X500Principal;
import org.carerelay.gateway.TestPki;
import org.junit.jupiter.api.Test;

/** Reading the TLS listener's key and trust stores, and the values of a client certificate's subject. */
class MllpTlsConfigurationTest {

    static final TestPki PKI = TestPki.create(Path.of("target", "unit-pki", UUID.randomUUID().toString()), "Unit CA");

    @Test
    void keyStore_isReadAsPkcs12_withItsPassword() throws Exception {
        KeyStore store = MllpTlsConfiguration.keyStore(PKI.serverKeystore().toString(), TestPki.PASSWORD);
        assertThat(Collections.list(store.aliases())).anyMatch(alias -> {
            try {
                return store.isKeyEntry(alias);
            } catch (Exception e) {
                return false;
            }
        });
        assertThatThrownBy(() -> MllpTlsConfiguration.keyStore(PKI.serverKeystore().toString(), "wrong"))
                .isInstanceOf(IllegalStateException.class).hasMessageContaining("carerelay.hl7.tls.keystore");
    }

    @Test
    void trustStore_isReadAsPemOrPkcs12() throws Exception {
        for (Path file : new Path[] {PKI.truststorePem(), PKI.truststore()}) {
            KeyStore store = MllpTlsConfiguration.trustStore(file.toString(), TestPki.PASSWORD);
            assertThat(Collections.list(store.aliases())).hasSize(1);
            assertThat(store.getCertificate(store.aliases().nextElement())).isEqualTo(PKI.caCertificate());
        }
    }

    @Test
    void missingOrWrongStores_stopTheStartWithTheSettingsName() throws Exception {
        assertThatThrownBy(() -> MllpTlsConfiguration.keyStore("", "x"))
                .hasMessageContaining("CARERELAY_HL7_TLS_KEYSTORE");
        assertThatThrownBy(() -> MllpTlsConfiguration.trustStore(PKI.truststore().resolveSibling("missing.pem").toString(), ""))
                .hasMessageContaining("carerelay.hl7.tls.truststore");
        Path notACertificate = Files.writeString(PKI.truststore().resolveSibling("empty.pem"),
                "-----BEGIN SOMETHING-----\n-----END SOMETHING-----\n");
        assertThatThrownBy(() -> MllpTlsConfiguration.trustStore(notACertificate.toString(), ""))
                .hasMessageContaining("carerelay.hl7.tls.truststore");
    }

    @Test
    void subjectValues_commonNameFirst_thenTheOthersMostSpecificFirst() {
        String subject = new X500Principal("CN=Pflegedienst \\\"Nord\\\"\\, Team 2+OU=PFL123, SERIALNUMBER=123456789, "
                + "2.5.4.97=TI-1-2-3, O=Pflegedienst Nord, C=DE").toString();
        assertThat(Facilities.subjectValues(subject)).containsExactly("Pflegedienst \"Nord\", Team 2", "PFL123", "123456789",
                "TI-1-2-3", "Pflegedienst Nord", "DE");
        assertThat(Facilities.subjectValues("CN=PFL123")).containsExactly("PFL123");
        assertThat(Facilities.subjectValues(null)).isEmpty();
        assertThat(Facilities.subjectValues("not a name")).isEmpty();
    }
}
