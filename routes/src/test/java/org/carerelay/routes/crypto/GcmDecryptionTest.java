package org.carerelay.routes.crypto;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;
import static org.assertj.core.api.Assertions.fail;

import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.io.InputStream;
import java.io.OutputStream;
import java.util.Arrays;
import java.util.Random;
import javax.crypto.Cipher;
import javax.crypto.spec.GCMParameterSpec;
import javax.crypto.spec.SecretKeySpec;
import org.bouncycastle.crypto.io.InvalidCipherTextIOException;
import org.junit.jupiter.api.Test;

/** {@link GcmDecryption} against the JDK's {@code AES/GCM/NoPadding}, with seeded random cases. */
class GcmDecryptionTest {

    private static final int TAG = 16;

    /** How the AAD reaches the decryption: all before, all after the ciphertext (as the CMS parser does), or split. */
    private enum AadTiming { BEFORE, AFTER_CIPHERTEXT, SPLIT }

    private record Case(byte[] key, byte[] nonce, byte[] aad, byte[] plaintext, byte[] sealed) {
        int ciphertextLength() {
            return sealed.length - TAG;
        }
    }

    private static Case randomCase(Random random) throws Exception {
        byte[] key = bytes(random, new int[] {16, 24, 32}[random.nextInt(3)]);
        byte[] nonce = bytes(random, 12);
        byte[] aad = bytes(random, random.nextInt(101));
        int length = switch (random.nextInt(4)) {
            case 0 -> random.nextInt(100_001);
            case 1 -> 16 * random.nextInt(8) + random.nextInt(3) - 1; // around block boundaries
            default -> random.nextInt(300);
        };
        byte[] plaintext = bytes(random, Math.max(0, length));
        return new Case(key, nonce, aad, plaintext, jdkEncrypt(key, nonce, aad, plaintext));
    }

    /** A random case, but with AAD of the given length. */
    private static Case randomCase(Random random, int aadLength) throws Exception {
        Case c = randomCase(random);
        byte[] aad = bytes(random, aadLength);
        return new Case(c.key(), c.nonce(), aad, c.plaintext(), jdkEncrypt(c.key(), c.nonce(), aad, c.plaintext()));
    }

    /** 1 to 100 bytes, a multiple of 16, or none. */
    private static int aadLength(Random random, int i) {
        return switch (i % 4) {
            case 0 -> 16 * (1 + random.nextInt(6));
            case 1 -> 0;
            default -> 1 + random.nextInt(100);
        };
    }

    private static byte[] jdkEncrypt(byte[] key, byte[] nonce, byte[] aad, byte[] plaintext) throws Exception {
        Cipher cipher = Cipher.getInstance("AES/GCM/NoPadding");
        cipher.init(Cipher.ENCRYPT_MODE, new SecretKeySpec(key, "AES"), new GCMParameterSpec(128, nonce));
        cipher.updateAAD(aad);
        return cipher.doFinal(plaintext);
    }

    private static byte[] bytes(Random random, int length) {
        byte[] bytes = new byte[length];
        random.nextBytes(bytes);
        return bytes;
    }

    // ------------------------------------------------------------------------------ tests

    @Test
    void decryptsWhatTheJdkEncrypted_inRandomChunks_withTheAadBeforeAfterOrAroundTheCiphertext() throws Exception {
        Random random = new Random(20_240_501);
        long totalBytes = 0;
        for (int i = 0; i < 600; i++) {
            Case c = randomCase(random);
            AadTiming timing = AadTiming.values()[i % 3];
            GcmDecryption gcm = new GcmDecryption(c.key(), c.nonce());
            byte[] opened = readAll(gcm, c.sealed(), c.ciphertextLength(), c.aad(), timing, random);
            assertThat(opened).as("case %d (%s, %d bytes, %d bytes AAD)", i, timing, c.plaintext().length, c.aad().length)
                    .isEqualTo(c.plaintext());
            assertThat(gcm.verifiedTag()).isEqualTo(Arrays.copyOfRange(c.sealed(), c.ciphertextLength(), c.sealed().length));
            totalBytes += c.plaintext().length;
        }
        assertThat(totalBytes).as("the cases include long inputs").isGreaterThan(5_000_000);
    }

    /** As the CMS parser delivers authenticated attributes: the tag must be corrected for AAD the JDK's GCM never saw. */
    @Test
    void aadAfterTheCiphertext_ofAnyLength_givesTheJdksTag() throws Exception {
        Random random = new Random(20_260_101);
        int withAad = 0;
        for (int i = 0; i < 400; i++) {
            Case c = randomCase(random, aadLength(random, i));
            GcmDecryption gcm = new GcmDecryption(c.key(), c.nonce());
            byte[] opened = readAll(gcm, c.sealed(), c.ciphertextLength(), c.aad(), AadTiming.AFTER_CIPHERTEXT, random);
            assertThat(opened).as("case %d (%d bytes, %d bytes AAD)", i, c.plaintext().length, c.aad().length).isEqualTo(c.plaintext());
            assertThat(gcm.verifiedTag()).isEqualTo(Arrays.copyOfRange(c.sealed(), c.ciphertextLength(), c.sealed().length));
            withAad += c.aad().length > 0 ? 1 : 0;
        }
        assertThat(withAad).isGreaterThan(250);
    }

    @Test
    void tamperedAad_afterTheCiphertext_failsAtTheEndOnly() throws Exception {
        Random random = new Random(4_242);
        for (int i = 0; i < 300; i++) {
            Case c = randomCase(random, i % 4 == 1 ? 16 * (1 + random.nextInt(6)) : 1 + random.nextInt(100));
            byte[] aad = c.aad();
            byte[] flipped = aad.clone();
            flipped[random.nextInt(aad.length)] ^= (byte) (1 << random.nextInt(8));
            // to the next multiple of 16 (the same zero-padded GHASH blocks, only the length block differs), or by a zero block
            byte[] padded = Arrays.copyOf(aad, (aad.length + 16) / 16 * 16);
            byte[] inverted = aad.clone();
            inverted[0] = (byte) ~inverted[0];
            inverted[inverted.length - 1] = (byte) ~aad[aad.length - 1];
            byte[] other;
            do {
                other = bytes(random, aad.length);
            } while (Arrays.equals(other, aad));
            Object[][] tampered = {
                {flipped, "one bit flipped"},
                {Arrays.copyOf(aad, aad.length - 1), "the last byte missing"},
                {Arrays.copyOf(aad, aad.length + 1 + random.nextInt(20)), "zero bytes added"},
                {padded, "zero-padded to " + padded.length},
                {new byte[0], "no AAD"},
                {other, "other AAD of the same length"},
                {inverted, "first and last byte inverted"},
            };
            for (Object[] t : tampered) {
                int released = assertFailsAtTheEnd(c, c.sealed(), (byte[]) t[0], AadTiming.AFTER_CIPHERTEXT, random,
                        "case " + i + " (" + aad.length + " bytes AAD): " + t[1]);
                assertThat(released).as("case %d: all plaintext before the failure", i).isEqualTo(c.ciphertextLength());
            }
        }
        // and AAD where the sender had none
        for (int i = 0; i < 50; i++) {
            Case c = randomCase(random, 0);
            assertFailsAtTheEnd(c, c.sealed(), bytes(random, 1 + random.nextInt(40)), AadTiming.AFTER_CIPHERTEXT, random, "case " + i);
        }
    }

    /**
     * SunJCE's GCM takes under 2 GiB: the ciphertext beyond its segment is hashed with Bouncy
     * Castle's GHASH (tried here with small segments).
     */
    @Test
    void ciphertextBeyondTheJdkSegment_stillChecked() throws Exception {
        Random random = new Random(65_537);
        for (int i = 0; i < 300; i++) {
            Case c = randomCase(random, aadLength(random, i));
            int ciphertextBlocks = (c.ciphertextLength() + 15) / 16;
            long limit = 16L * switch (i % 5) {
                case 0 -> 0;
                case 1 -> random.nextInt(3);
                case 2 -> Math.max(0, ciphertextBlocks - random.nextInt(2)); // around the end
                default -> random.nextInt(ciphertextBlocks + 1);
            };
            AadTiming timing = AadTiming.values()[i % 3];
            String description = String.format("case %d (%d bytes, %d bytes AAD, %s, segment %d)", i, c.plaintext().length, c.aad().length,
                    timing, limit);
            GcmDecryption gcm = new GcmDecryption(c.key(), c.nonce(), limit);
            assertThat(readAll(gcm, c.sealed(), c.ciphertextLength(), c.aad(), timing, random)).as(description).isEqualTo(c.plaintext());
            assertThat(gcm.verifiedTag()).as(description)
                    .isEqualTo(Arrays.copyOfRange(c.sealed(), c.ciphertextLength(), c.sealed().length));

            byte[] sealed = c.sealed().clone();
            sealed[random.nextInt(sealed.length)] ^= (byte) (1 << random.nextInt(8));
            GcmDecryption tampered = new GcmDecryption(c.key(), c.nonce(), limit);
            assertThatThrownBy(() -> readAll(tampered, sealed, c.ciphertextLength(), c.aad(), timing, random)).as(description)
                    .isInstanceOf(InvalidCipherTextIOException.class);
        }
        assertThatThrownBy(() -> new GcmDecryption(new byte[16], new byte[12], 8)).isInstanceOf(IllegalArgumentException.class);
        assertThatThrownBy(() -> new GcmDecryption(new byte[16], new byte[12], GcmDecryption.JDK_SEGMENT_BYTES + 16))
                .isInstanceOf(IllegalArgumentException.class);
    }

    @Test
    void oneFlippedBit_inTheCiphertextTagOrAad_failsAtTheEndOnly() throws Exception {
        Random random = new Random(7_777);
        for (int i = 0; i < 400; i++) {
            Case c = randomCase(random);
            byte[] sealed = c.sealed().clone();
            byte[] aad = c.aad().clone();
            int bit = 1 << random.nextInt(8);
            int where = random.nextInt(3);
            String what;
            if (where == 0 && c.ciphertextLength() > 0) {
                sealed[random.nextInt(c.ciphertextLength())] ^= (byte) bit;
                what = "ciphertext";
            } else if (where == 1 && aad.length > 0) {
                aad[random.nextInt(aad.length)] ^= (byte) bit;
                what = "aad";
            } else {
                sealed[c.ciphertextLength() + random.nextInt(TAG)] ^= (byte) bit;
                what = "tag";
            }
            int released = assertFailsAtTheEnd(c, sealed, aad, AadTiming.values()[i % 3], random, "case " + i + ", flipped " + what);
            assertThat(released).as("case %d: all plaintext before the failure", i).isEqualTo(c.ciphertextLength());
        }
    }

    @Test
    void truncatedExtendedOrWrongAad_fails() throws Exception {
        Random random = new Random(31_337);
        for (int i = 0; i < 300; i++) {
            Case c = randomCase(random);
            byte[] sealed = c.sealed();
            AadTiming timing = AadTiming.values()[i % 3];
            int cut = 1 + random.nextInt(Math.min(sealed.length, 40));
            assertFailsAtTheEnd(c, Arrays.copyOf(sealed, sealed.length - cut), c.aad(), timing, random, "case " + i + " without " + cut);
            assertFailsAtTheEnd(c, Arrays.copyOf(sealed, sealed.length + 1 + random.nextInt(20)), c.aad(), timing, random, "case " + i + " extended");
            byte[] longerAad = Arrays.copyOf(c.aad(), c.aad().length + 1);
            assertFailsAtTheEnd(c, sealed, longerAad, timing, random, "case " + i + " with a zero byte more AAD");
            if (c.aad().length > 0) {
                assertFailsAtTheEnd(c, sealed, Arrays.copyOf(c.aad(), c.aad().length - 1), timing, random, "case " + i + " with shorter AAD");
            }
        }
    }

    @Test
    void inputShorterThanATag_fails() throws Exception {
        Random random = new Random(5);
        for (int length = 0; length < TAG; length++) {
            GcmDecryption gcm = new GcmDecryption(bytes(random, 32), bytes(random, 12));
            InputStream in = gcm.decrypt(new java.io.ByteArrayInputStream(bytes(random, length)));
            assertThatThrownBy(in::read).isInstanceOf(InvalidCipherTextIOException.class).hasMessageContaining("shorter");
            assertThatThrownBy(in::read).as("stays failed").isInstanceOf(InvalidCipherTextIOException.class);
        }
    }

    @Test
    void wrongKeyOrNonce_fails() throws Exception {
        Random random = new Random(6);
        byte[] key = bytes(random, 32);
        byte[] nonce = bytes(random, 12);
        byte[] plaintext = bytes(random, 1000);
        byte[] sealed = jdkEncrypt(key, nonce, new byte[0], plaintext);
        byte[] otherKey = key.clone();
        otherKey[31] ^= 1;
        byte[] otherNonce = nonce.clone();
        otherNonce[11] ^= 1;
        for (GcmDecryption gcm : new GcmDecryption[] {new GcmDecryption(otherKey, nonce), new GcmDecryption(key, otherNonce)}) {
            InputStream in = gcm.decrypt(new java.io.ByteArrayInputStream(sealed));
            assertThatThrownBy(in::readAllBytes).isInstanceOf(InvalidCipherTextIOException.class).hasMessageContaining("mac check");
        }
    }

    @Test
    void aadAfterTheTagWasChecked_isRejected_andOnlyTwelveByteNoncesAreAccepted() throws Exception {
        Random random = new Random(8);
        byte[] key = bytes(random, 16);
        byte[] nonce = bytes(random, 12);
        GcmDecryption gcm = new GcmDecryption(key, nonce);
        OutputStream aad = gcm.aadStream();
        assertThat(gcm.decrypt(new java.io.ByteArrayInputStream(jdkEncrypt(key, nonce, new byte[0], new byte[] {1, 2, 3})))
                .readAllBytes()).containsExactly(1, 2, 3);
        assertThatThrownBy(() -> aad.write(1)).isInstanceOf(IllegalStateException.class);

        assertThatThrownBy(() -> new GcmDecryption(key, new byte[16])).isInstanceOf(IllegalArgumentException.class);
        assertThatThrownBy(() -> new GcmDecryption(new byte[20], nonce)).isInstanceOf(IllegalArgumentException.class);
    }

    @Test
    void releasesPlaintextBeforeTheEnd_holdingBackOnlyTheTag() throws Exception {
        Random random = new Random(9);
        byte[] key = bytes(random, 32);
        byte[] nonce = bytes(random, 12);
        byte[] plaintext = bytes(random, 3 * 65536 + 5);
        byte[] sealed = jdkEncrypt(key, nonce, new byte[0], plaintext);
        // the source ends with an exception where the tag starts: everything before it must come out first
        InputStream source = new InputStream() {
            private int position;

            @Override
            public int read() {
                throw new UnsupportedOperationException();
            }

            @Override
            public int read(byte[] b, int off, int len) throws IOException {
                if (position >= plaintext.length + 1) {
                    throw new IOException("not yet");
                }
                int n = Math.min(len, plaintext.length + 1 - position);
                System.arraycopy(sealed, position, b, off, n);
                position += n;
                return n;
            }
        };
        InputStream in = new GcmDecryption(key, nonce).decrypt(source);
        byte[] released = new byte[plaintext.length];
        int total = 0;
        while (total < released.length - TAG + 1) {
            total += in.read(released, total, released.length - total);
        }
        assertThat(Arrays.copyOf(released, total)).isEqualTo(Arrays.copyOf(plaintext, total));
        assertThat(total).isGreaterThanOrEqualTo(plaintext.length + 1 - TAG);
    }

    // ---------------------------------------------------------------------------- helpers

    /** Returns how many bytes were released before the exception. */
    private static int assertFailsAtTheEnd(Case c, byte[] sealed, byte[] aad, AadTiming timing, Random random, String description)
            throws Exception {
        GcmDecryption gcm = new GcmDecryption(c.key(), c.nonce());
        int ciphertextEnd = Math.max(0, Math.min(sealed.length - TAG, c.ciphertextLength()));
        ByteArrayOutputStream released = new ByteArrayOutputStream();
        try {
            readAll(gcm, sealed, ciphertextEnd, aad, timing, random, released);
            fail("%s: no exception", description);
        } catch (InvalidCipherTextIOException expected) {
            assertThat(released.size()).as(description).isLessThanOrEqualTo(Math.max(0, sealed.length - TAG));
            assertThat(gcm.verifiedTag()).as(description).isNull();
        }
        return released.size();
    }

    private static byte[] readAll(GcmDecryption gcm, byte[] sealed, int ciphertextLength, byte[] aad, AadTiming timing, Random random)
            throws IOException {
        ByteArrayOutputStream out = new ByteArrayOutputStream();
        readAll(gcm, sealed, ciphertextLength, aad, timing, random, out);
        return out.toByteArray();
    }

    /** Reads in random chunk sizes (and single bytes now and then) from a source that delivers random chunk sizes. */
    private static void readAll(GcmDecryption gcm, byte[] sealed, int ciphertextLength, byte[] aad, AadTiming timing, Random random,
            ByteArrayOutputStream out) throws IOException {
        OutputStream aadStream = gcm.aadStream();
        int before = switch (timing) {
            case BEFORE -> aad.length;
            case AFTER_CIPHERTEXT -> 0;
            case SPLIT -> random.nextInt(aad.length + 1);
        };
        writeInPieces(aadStream, aad, 0, before, random);
        Runnable atCiphertextEnd = () -> writeInPieces(aadStream, aad, before, aad.length, random);
        InputStream in = gcm.decrypt(new ChunkedSource(sealed, ciphertextLength, atCiphertextEnd, random));
        byte[] buffer = new byte[70_000];
        while (true) {
            int choice = random.nextInt(10);
            if (choice == 0) {
                int b = in.read();
                if (b < 0) {
                    break;
                }
                out.write(b);
            } else if (choice == 1) {
                assertThat(in.read(buffer, 5, 0)).isZero();
            } else {
                int len = 1 + random.nextInt(choice < 5 ? 40 : buffer.length - 10);
                int n = in.read(buffer, 3, len);
                if (n < 0) {
                    break;
                }
                assertThat(n).isBetween(1, len);
                out.write(buffer, 3, n);
            }
        }
        assertThat(in.read()).isEqualTo(-1);
    }

    private static void writeInPieces(OutputStream out, byte[] bytes, int from, int to, Random random) {
        try {
            while (from < to) {
                if (random.nextInt(4) == 0) {
                    out.write(bytes[from++]);
                } else {
                    int n = 1 + random.nextInt(to - from);
                    out.write(bytes, from, n);
                    from += n;
                }
            }
        } catch (IOException e) {
            throw new AssertionError(e);
        }
    }

    /**
     * Delivers the bytes in random chunk sizes; before the first byte at {@code ciphertextLength} (the
     * tag) it runs {@code atCiphertextEnd}, as Bouncy Castle's CMS parser writes the authenticated
     * attributes once it has passed the ciphertext.
     */
    private static final class ChunkedSource extends InputStream {
        private final byte[] bytes;
        private final int ciphertextLength;
        private final Random random;
        private Runnable atCiphertextEnd;
        private int position;

        ChunkedSource(byte[] bytes, int ciphertextLength, Runnable atCiphertextEnd, Random random) {
            this.bytes = bytes;
            this.ciphertextLength = ciphertextLength;
            this.atCiphertextEnd = atCiphertextEnd;
            this.random = random;
        }

        @Override
        public int read() {
            byte[] one = new byte[1];
            return read(one, 0, 1) < 0 ? -1 : one[0] & 0xff;
        }

        @Override
        public int read(byte[] b, int off, int len) {
            if (len == 0) {
                return 0;
            }
            int limit = position < ciphertextLength ? ciphertextLength : bytes.length;
            if (position >= ciphertextLength && atCiphertextEnd != null) {
                atCiphertextEnd.run();
                atCiphertextEnd = null;
            }
            if (position >= bytes.length) {
                return -1;
            }
            int n = Math.min(len, Math.min(limit - position, 1 + random.nextInt(random.nextBoolean() ? 17 : 80_000)));
            System.arraycopy(bytes, position, b, off, n);
            position += n;
            return n;
        }
    }
}
