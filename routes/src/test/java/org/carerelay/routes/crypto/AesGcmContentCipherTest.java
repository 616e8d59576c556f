package org.carerelay.routes.crypto;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import java.nio.charset.StandardCharsets;
import org.junit.jupiter.api.Test;

class AesGcmContentCipherTest {

    private final AesGcmContentCipher cipher = new AesGcmContentCipher(new byte[32]);

    @Test
    void roundTrip_returnsThePlaintext_andCiphertextHidesIt() {
        byte[] plain = "Befund: alles gut".getBytes(StandardCharsets.UTF_8);
        byte[] sealed = cipher.encrypt(plain, "msg-1".getBytes(StandardCharsets.UTF_8));
        assertThat(new String(sealed, StandardCharsets.ISO_8859_1)).doesNotContain("Befund");
        assertThat(cipher.decrypt(sealed, "msg-1".getBytes(StandardCharsets.UTF_8))).isEqualTo(plain);
    }

    @Test
    void ciphertextMovedToAnotherRecord_failsIntegrity() {
        byte[] sealed = cipher.encrypt(new byte[] {1, 2, 3}, "msg-1".getBytes(StandardCharsets.UTF_8));
        assertThatThrownBy(() -> cipher.decrypt(sealed, "msg-2".getBytes(StandardCharsets.UTF_8)))
                .isInstanceOf(ContentCipher.IntegrityException.class);
    }

    @Test
    void flippedBit_failsIntegrity() {
        byte[] sealed = cipher.encrypt(new byte[] {1, 2, 3}, null);
        sealed[sealed.length - 1] ^= 1;
        assertThatThrownBy(() -> cipher.decrypt(sealed, null)).isInstanceOf(ContentCipher.IntegrityException.class);
    }

    @Test
    void sameInput_encryptsDifferentlyEachTime() {
        assertThat(cipher.encrypt(new byte[] {1}, null)).isNotEqualTo(cipher.encrypt(new byte[] {1}, null));
    }
}
