package org.carerelay.routes.crypto;

import java.io.IOException;
import java.io.InputStream;
import java.io.OutputStream;
import java.security.GeneralSecurityException;
import java.security.MessageDigest;
import java.security.Provider;
import java.security.Security;
import java.util.Arrays;
import java.util.Objects;
import javax.crypto.AEADBadTagException;
import javax.crypto.Cipher;
import javax.crypto.spec.IvParameterSpec;
import javax.crypto.spec.SecretKeySpec;
import org.bouncycastle.crypto.io.InvalidCipherTextIOException;
import org.bouncycastle.crypto.modes.gcm.BasicGCMExponentiator;
import org.bouncycastle.crypto.modes.gcm.GCMExponentiator;
import org.bouncycastle.crypto.modes.gcm.GCMMultiplier;
import org.bouncycastle.crypto.modes.gcm.GCMUtil;
import org.bouncycastle.crypto.modes.gcm.Tables8kGCMMultiplier;

/**
 * Streaming AES-GCM decryption (NIST SP 800-38D) for a 96-bit nonce and a 128-bit tag: the AES part
 * is the JDK's {@code AES/CTR/NoPadding} (hardware AES), GHASH is computed here with Bouncy
 * Castle's GCM building blocks. Plaintext is released as the ciphertext arrives; only the last 16
 * bytes of the input (the tag, which follows the ciphertext) are held back. The tag is checked when
 * the input ends: a mismatch, or an input shorter than a tag, makes that read throw an
 * {@link InvalidCipherTextIOException} (as Bouncy Castle's cipher streams do), and every read after
 * it throws it again.
 *
 * <p>Associated data may be written to {@link #aadStream()} at any time before the input ends,
 * before, during or after the ciphertext (the CMS parser only reaches RFC 5083 authenticated
 * attributes after the ciphertext): GHASH is linear, so the AAD hash is kept apart and moved into
 * place with a power of H at the end. All AAD written counts as one string, in order.
 *
 * <p>One instance decrypts one message; not thread-safe.
 */
final class GcmDecryption {

    static final int NONCE_BYTES = 12;
    static final int TAG_BYTES = 16;
    private static final int BLOCK = 16;
    /** SP 800-38D: at most 2^32 - 2 blocks of plaintext; also keeps the JDK's 128-bit CTR increment equal to inc32. */
    private static final long MAX_CIPHERTEXT_BYTES = ((1L << 32) - 2) * BLOCK;
    private static final int BUFFER_SIZE = 64 * 1024;

    private final Cipher ctr;
    private final byte[] h;
    private final byte[] tagMask;
    private final GCMMultiplier multiplier = new Tables8kGCMMultiplier();

    /** GHASH over the ciphertext, starting from zero. */
    private final byte[] s = new byte[BLOCK];
    private final byte[] partialCiphertext = new byte[BLOCK];
    private int partialCiphertextLength;
    private long ciphertextLength;

    /** GHASH over the AAD alone, starting from zero. */
    private final byte[] sAad = new byte[BLOCK];
    private final byte[] partialAad = new byte[BLOCK];
    private int partialAadLength;
    private long aadLength;

    private boolean decrypting;
    private boolean finished;
    private byte[] receivedTag;

    /**
     * @param key AES key of 16, 24 or 32 bytes
     * @param nonce 12 bytes
     */
    GcmDecryption(byte[] key, byte[] nonce) throws GeneralSecurityException {
        Objects.requireNonNull(key, "key");
        Objects.requireNonNull(nonce, "nonce");
        if (key.length != 16 && key.length != 24 && key.length != 32) {
            throw new IllegalArgumentException("AES needs a 16, 24 or 32-byte key, not " + key.length);
        }
        if (nonce.length != NONCE_BYTES) {
            throw new IllegalArgumentException("Only 12-byte nonces are supported, not " + nonce.length);
        }
        SecretKeySpec aes = new SecretKeySpec(key, "AES");

        Cipher ecb = cipher("AES/ECB/NoPadding");
        ecb.init(Cipher.ENCRYPT_MODE, aes);
        h = ecb.doFinal(new byte[BLOCK]);
        byte[] counter = new byte[BLOCK];
        System.arraycopy(nonce, 0, counter, 0, NONCE_BYTES);
        counter[BLOCK - 1] = 1; // J0 = N || 0^31 || 1
        tagMask = ecb.doFinal(counter);
        multiplier.init(h);

        counter[BLOCK - 1] = 2; // the first counter block for the plaintext: inc32(J0)
        ctr = cipher("AES/CTR/NoPadding");
        ctr.init(Cipher.DECRYPT_MODE, aes, new IvParameterSpec(counter));
    }

    /** The JDK's implementation (hardware AES) when present, else whatever the default lookup finds. */
    private static Cipher cipher(String transformation) throws GeneralSecurityException {
        Provider sunJce = Security.getProvider("SunJCE");
        return sunJce != null ? Cipher.getInstance(transformation, sunJce) : Cipher.getInstance(transformation);
    }

    /** Where associated data goes; it may be written until the decrypted stream has ended. */
    OutputStream aadStream() {
        return new OutputStream() {
            @Override
            public void write(int b) {
                write(new byte[] {(byte) b}, 0, 1);
            }

            @Override
            public void write(byte[] b, int off, int len) {
                Objects.checkFromIndexSize(off, len, b.length);
                updateAad(b, off, len);
            }
        };
    }

    /**
     * The plaintext of {@code ciphertextAndTag} (the ciphertext followed by the 16-byte tag). Its
     * end is reported only after the tag has been checked. Closing it closes the input.
     */
    InputStream decrypt(InputStream ciphertextAndTag) {
        Objects.requireNonNull(ciphertextAndTag, "ciphertextAndTag");
        if (decrypting) {
            throw new IllegalStateException("Already decrypting");
        }
        decrypting = true;
        return new DecryptingInputStream(ciphertextAndTag);
    }

    /** The tag that was received and verified, or null before the end of the stream. */
    byte[] verifiedTag() {
        return receivedTag == null ? null : receivedTag.clone();
    }

    // -------------------------------------------------------------------------------- GHASH

    private void updateAad(byte[] b, int off, int len) {
        if (finished) {
            throw new IllegalStateException("Associated data after the tag was checked");
        }
        aadLength += len;
        if (partialAadLength > 0) {
            int take = Math.min(BLOCK - partialAadLength, len);
            System.arraycopy(b, off, partialAad, partialAadLength, take);
            partialAadLength += take;
            off += take;
            len -= take;
            if (partialAadLength < BLOCK) {
                return;
            }
            GCMUtil.xor(sAad, partialAad);
            multiplier.multiplyH(sAad);
            partialAadLength = 0;
        }
        for (; len >= BLOCK; off += BLOCK, len -= BLOCK) {
            GCMUtil.xor(sAad, b, off);
            multiplier.multiplyH(sAad);
        }
        if (len > 0) {
            System.arraycopy(b, off, partialAad, 0, len);
            partialAadLength = len;
        }
    }

    private void updateCiphertext(byte[] b, int off, int len) {
        if (partialCiphertextLength > 0) {
            int take = Math.min(BLOCK - partialCiphertextLength, len);
            System.arraycopy(b, off, partialCiphertext, partialCiphertextLength, take);
            partialCiphertextLength += take;
            off += take;
            len -= take;
            if (partialCiphertextLength < BLOCK) {
                return;
            }
            GCMUtil.xor(s, partialCiphertext);
            multiplier.multiplyH(s);
            partialCiphertextLength = 0;
        }
        for (; len >= BLOCK; off += BLOCK, len -= BLOCK) {
            GCMUtil.xor(s, b, off);
            multiplier.multiplyH(s);
        }
        if (len > 0) {
            System.arraycopy(b, off, partialCiphertext, 0, len);
            partialCiphertextLength = len;
        }
    }

    /** GHASH_H(A || 0* || C || 0* || [len(A)]64 || [len(C)]64) xor E_K(J0). */
    private byte[] expectedTag() {
        if (partialCiphertextLength > 0) {
            GCMUtil.xor(s, partialCiphertext, 0, partialCiphertextLength);
            multiplier.multiplyH(s);
        }
        if (partialAadLength > 0) {
            GCMUtil.xor(sAad, partialAad, 0, partialAadLength);
            multiplier.multiplyH(sAad);
        }
        if (aadLength > 0) {
            if (ciphertextLength > 0) {
                // the AAD blocks come before the ciphertext blocks: shift them by H^(ciphertext blocks)
                GCMExponentiator exponentiator = new BasicGCMExponentiator();
                exponentiator.init(h);
                byte[] hPower = new byte[BLOCK];
                exponentiator.exponentiateX((ciphertextLength + BLOCK - 1) / BLOCK, hPower);
                GCMUtil.multiply(sAad, hPower);
            }
            GCMUtil.xor(s, sAad);
        }
        byte[] lengths = new byte[BLOCK];
        putLong(aadLength * 8, lengths, 0);
        putLong(ciphertextLength * 8, lengths, 8);
        GCMUtil.xor(s, lengths);
        multiplier.multiplyH(s);
        GCMUtil.xor(s, tagMask);
        return s;
    }

    private static void putLong(long value, byte[] out, int off) {
        for (int i = 7; i >= 0; i--) {
            out[off + i] = (byte) value;
            value >>>= 8;
        }
    }

    // ------------------------------------------------------------------------------ stream

    private final class DecryptingInputStream extends InputStream {
        private final InputStream in;
        /** Input not yet decrypted is buf[start, end); the last TAG_BYTES of the input are always kept. */
        private final byte[] buf = new byte[BUFFER_SIZE + TAG_BYTES];
        private int start;
        private int end;
        private InvalidCipherTextIOException failure;

        DecryptingInputStream(InputStream in) {
            this.in = in;
        }

        @Override
        public int read() throws IOException {
            byte[] one = new byte[1];
            int n;
            do {
                n = read(one, 0, 1);
            } while (n == 0);
            return n < 0 ? -1 : one[0] & 0xff;
        }

        @Override
        public int read(byte[] b, int off, int len) throws IOException {
            Objects.checkFromIndexSize(off, len, b.length);
            if (failure != null) {
                throw failure;
            }
            if (finished) {
                return -1;
            }
            if (len == 0) {
                return 0;
            }
            while (end - start <= TAG_BYTES) {
                if (start > 0) {
                    System.arraycopy(buf, start, buf, 0, end - start);
                    end -= start;
                    start = 0;
                }
                int n = in.read(buf, end, buf.length - end);
                if (n < 0) {
                    finish();
                    return -1;
                }
                end += n;
            }
            int n = Math.min(len, end - start - TAG_BYTES);
            if (ciphertextLength + n > MAX_CIPHERTEXT_BYTES) {
                throw fail(new InvalidCipherTextIOException("GCM ciphertext longer than 2^39 - 256 bits", null));
            }
            updateCiphertext(buf, start, n);
            int produced;
            try {
                produced = ctr.update(buf, start, n, b, off);
            } catch (GeneralSecurityException e) {
                throw new IllegalStateException("AES-CTR failed", e);
            }
            if (produced != n) {
                throw new IllegalStateException("AES-CTR returned " + produced + " bytes for " + n);
            }
            start += n;
            ciphertextLength += n;
            return n;
        }

        private void finish() throws InvalidCipherTextIOException {
            if (end - start < TAG_BYTES) {
                throw fail(new InvalidCipherTextIOException("GCM input shorter than the tag", null));
            }
            byte[] received = Arrays.copyOfRange(buf, start, start + TAG_BYTES);
            byte[] expected = expectedTag();
            finished = true;
            if (!MessageDigest.isEqual(expected, received)) {
                throw fail(new InvalidCipherTextIOException("mac check in GCM failed", new AEADBadTagException("mac check in GCM failed")));
            }
            receivedTag = received;
        }

        private InvalidCipherTextIOException fail(InvalidCipherTextIOException e) {
            failure = e;
            return e;
        }

        @Override
        public int available() {
            return failure != null || finished ? 0 : Math.max(0, end - start - TAG_BYTES);
        }

        @Override
        public void close() throws IOException {
            in.close();
        }
    }
}
