package org.carerelay.routes.crypto;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.Future;
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

    /** One cipher object per thread: a failed decryption leaves nothing behind for the next value. */
    @Test
    void afterAFailedDecryption_theSameThreadEncryptsAndDecryptsAsBefore() {
        byte[] sealed = cipher.encrypt(new byte[] {1, 2, 3}, null);
        byte[] tampered = sealed.clone();
        tampered[tampered.length - 1] ^= 1;
        assertThatThrownBy(() -> cipher.decrypt(tampered, null)).isInstanceOf(ContentCipher.IntegrityException.class);
        assertThat(cipher.decrypt(sealed, null)).containsExactly(1, 2, 3);
        byte[] next = cipher.encrypt(new byte[] {4, 5}, "a".getBytes(StandardCharsets.UTF_8));
        assertThat(cipher.decrypt(next, "a".getBytes(StandardCharsets.UTF_8))).containsExactly(4, 5);
    }

    @Test
    void threadsEncryptAndDecryptAtOnce_eachGetsItsOwnValuesBack() throws Exception {
        ExecutorService pool = Executors.newFixedThreadPool(4);
        try {
            List<Future<Boolean>> results = new ArrayList<>();
            for (int t = 0; t < 8; t++) {
                int thread = t;
                results.add(pool.submit(() -> {
                    for (int i = 0; i < 500; i++) {
                        byte[] plain = ("thread " + thread + " value " + i).getBytes(StandardCharsets.UTF_8);
                        byte[] ad = ("record-" + thread + "-" + i).getBytes(StandardCharsets.UTF_8);
                        byte[] sealed = cipher.encrypt(plain, ad);
                        if (!Arrays.equals(cipher.decrypt(sealed, ad), plain)) {
                            return false;
                        }
                    }
                    return true;
                }));
            }
            for (Future<Boolean> result : results) {
                assertThat(result.get()).isTrue();
            }
            // sealed on one thread, opened on another
            byte[] sealed = cipher.encrypt(new byte[] {7, 8, 9}, null);
            assertThat(pool.submit(() -> cipher.decrypt(sealed, null)).get()).containsExactly(7, 8, 9);
        } finally {
            pool.shutdownNow();
        }
    }
}
