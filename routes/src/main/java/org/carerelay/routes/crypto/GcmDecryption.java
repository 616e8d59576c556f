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
import javax.crypto.spec.GCMParameterSpec;
import javax.crypto.spec.IvParameterSpec;
import javax.crypto.spec.SecretKeySpec;
import org.bouncycastle.crypto.io.InvalidCipherTextIOException;
import org.bouncycastle.crypto.modes.gcm.BasicGCMExponentiator;
import org.bouncycastle.crypto.modes.gcm.GCMExponentiator;
import org.bouncycastle.crypto.modes.gcm.GCMMultiplier;
import org.bouncycastle.crypto.modes.gcm.GCMUtil;
import org.bouncycastle.crypto.modes.gcm.Tables8kGCMMultiplier;

/**
 * Streaming AES-GCM decryption (NIST SP 800-38D) for a 96-bit nonce and a 128-bit tag, on the JDK's
 * hardware AES and GHASH. The plaintext comes from the JDK's {@code AES/CTR/NoPadding}; the tag
 * from re-encrypting that plaintext with the JDK's {@code AES/GCM/NoPadding} (same key and nonce,
 * no AAD): GCM encryption is deterministic, so that reproduces the ciphertext and yields
 * T0 = GHASH_H(&empty;, C) xor E_K(J0). Plaintext is released as the ciphertext arrives; only the
 * last 16 bytes of the input (the tag, which follows the ciphertext) are held back. The tag is
 * checked when the input ends: a mismatch, or an input shorter than a tag, makes that read throw an
 * {@link InvalidCipherTextIOException} (as Bouncy Castle's cipher streams do), and every read after
 * it throws it again.
 *
 * <p>Associated data may be written to {@link #aadStream()} at any time before the input ends,
 * before, during or after the ciphertext (the CMS parser only reaches RFC 5083 authenticated
 * attributes after the ciphertext): GHASH is linear, so its hash is kept apart (Bouncy Castle's
 * GHASH, it is short) and moved into place with a power of H at the end. All AAD written counts as
 * one string, in order.
 *
 * <p>SunJCE's GCM takes at most 2^31 - 1 bytes per message; ciphertext beyond {@link #JDK_SEGMENT_BYTES}
 * is hashed here with Bouncy Castle's GHASH instead (slower, but such messages are rare), and the
 * two parts are combined with a power of H as well.
 *
 * <p>One instance decrypts one message; not thread-safe.
 */
final class GcmDecryption {

    static final int NONCE_BYTES = 12;
    static final int TAG_BYTES = 16;
    private static final int BLOCK = 16;
    /** SP 800-38D: at most 2^32 - 2 blocks of plaintext; also keeps the JDK's 128-bit CTR increment equal to inc32. */
    private static final long MAX_CIPHERTEXT_BYTES = ((1L << 32) - 2) * BLOCK;
    /** How much ciphertext goes through the JDK's GCM: whole blocks, below SunJCE's limit of 2^31 - 1 bytes per message. */
    static final long JDK_SEGMENT_BYTES = (1L << 31) - (1 << 16);
    private static final int BUFFER_SIZE = 64 * 1024;

    private final Cipher ctr;
    private final Cipher gcm;
    /** Where the JDK's GCM writes the ciphertext it reproduces (ignored) and, at the end, its tag. */
    private final byte[] scratch = new byte[BUFFER_SIZE + 2 * BLOCK];
    private final long jdkSegmentLimit;
    private final byte[] h;
    private final byte[] tagMask;
    private final GCMMultiplier multiplier = new Tables8kGCMMultiplier();

    private long ciphertextLength;
    private long jdkSegmentLength;
    /** GHASH_H(C1) * H for the ciphertext C1 through the JDK's GCM (without length block), once it is done. */
    private byte[] jdkSegmentHash;
    /** The ciphertext after the JDK's segment, if any. */
    private final Ghash tail = new Ghash();
    private final Ghash aad = new Ghash();

    private boolean decrypting;
    private boolean finished;
    private byte[] receivedTag;

    /**
     * @param key AES key of 16, 24 or 32 bytes
     * @param nonce 12 bytes
     */
    GcmDecryption(byte[] key, byte[] nonce) throws GeneralSecurityException {
        this(key, nonce, JDK_SEGMENT_BYTES);
    }

    /** With how many bytes of ciphertext (a multiple of 16) at most go through the JDK's GCM: tests try small ones. */
    GcmDecryption(byte[] key, byte[] nonce, long jdkSegmentLimit) throws GeneralSecurityException {
        Objects.requireNonNull(key, "key");
        Objects.requireNonNull(nonce, "nonce");
        if (key.length != 16 && key.length != 24 && key.length != 32) {
            throw new IllegalArgumentException("AES needs a 16, 24 or 32-byte key, not " + key.length);
        }
        if (nonce.length != NONCE_BYTES) {
            throw new IllegalArgumentException("Only 12-byte nonces are supported, not " + nonce.length);
        }
        if (jdkSegmentLimit < 0 || jdkSegmentLimit > JDK_SEGMENT_BYTES || jdkSegmentLimit % BLOCK != 0) {
            throw new IllegalArgumentException("Bad JDK segment limit " + jdkSegmentLimit);
        }
        this.jdkSegmentLimit = jdkSegmentLimit;
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
        // a new Cipher per message: SunJCE refuses to encrypt twice with one key and nonce on the same object
        gcm = cipher("AES/GCM/NoPadding");
        gcm.init(Cipher.ENCRYPT_MODE, aes, new GCMParameterSpec(TAG_BYTES * 8, nonce));
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
                if (finished) {
                    throw new IllegalStateException("Associated data after the tag was checked");
                }
                aad.update(b, off, len);
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

    /**
     * Authenticates {@code len} bytes of ciphertext, given also as the plaintext they decrypted to:
     * the JDK's GCM re-encrypts the plaintext up to its segment limit, the rest of the ciphertext
     * goes to {@link #tail}.
     */
    private void authenticate(byte[] plaintext, int plaintextOff, byte[] ciphertext, int ciphertextOff, int len)
            throws GeneralSecurityException {
        int jdk = (int) Math.min(len, jdkSegmentLimit - jdkSegmentLength);
        if (jdk > 0) {
            gcm.update(plaintext, plaintextOff, jdk, scratch, 0);
            jdkSegmentLength += jdk;
        }
        if (jdk < len) {
            if (jdkSegmentHash == null) {
                endJdkSegment();
            }
            tail.update(ciphertext, ciphertextOff + jdk, len - jdk);
        }
        ciphertextLength += len;
    }

    /** From T0 = (GHASH_H(C1) xor [0]64 || [len(C1)]64) * H xor E_K(J0), GHASH_H(C1) * H. */
    private void endJdkSegment() throws GeneralSecurityException {
        int produced = gcm.doFinal(scratch, 0);
        byte[] hash = Arrays.copyOfRange(scratch, produced - TAG_BYTES, produced);
        GCMUtil.xor(hash, tagMask);
        byte[] lengths = lengths(0, jdkSegmentLength);
        multiplier.multiplyH(lengths);
        GCMUtil.xor(hash, lengths);
        jdkSegmentHash = hash;
    }

    /**
     * GHASH_H(A || 0* || C || 0* || [len(A)]64 || [len(C)]64) xor E_K(J0), with C = C1 || C2 (C1
     * through the JDK's GCM, whole blocks unless C2 is empty; C2 of c2 blocks), c blocks of C in
     * all: by linearity
     * (GHASH(A) * H^c xor GHASH(C2) xor lengths) * H xor (GHASH(C1) * H) * H^c2 xor E_K(J0),
     * GHASH(X) here meaning the hash of X's zero-padded blocks alone, from zero. Without AAD or C2
     * that is the JDK's tag T0; with AAD but no C2 it is
     * T0 xor GHASH(A) * H^(c+1) xor ([len(A)]64 || 0^64) * H.
     */
    private byte[] expectedTag() throws GeneralSecurityException {
        if (jdkSegmentHash == null) {
            endJdkSegment();
        }
        byte[] t = tail.hash();
        if (aad.length > 0) {
            byte[] aadHash = aad.hash();
            GCMUtil.multiply(aadHash, powerOfH(blocks(ciphertextLength)));
            GCMUtil.xor(t, aadHash);
        }
        GCMUtil.xor(t, lengths(aad.length, ciphertextLength));
        multiplier.multiplyH(t);
        byte[] c1 = jdkSegmentHash;
        if (tail.length > 0) {
            GCMUtil.multiply(c1, powerOfH(blocks(tail.length)));
        }
        GCMUtil.xor(t, c1);
        GCMUtil.xor(t, tagMask);
        return t;
    }

    /** The length block [8 aadBytes]64 || [8 ciphertextBytes]64. */
    private static byte[] lengths(long aadBytes, long ciphertextBytes) {
        byte[] lengths = new byte[BLOCK];
        putLong(aadBytes * 8, lengths, 0);
        putLong(ciphertextBytes * 8, lengths, 8);
        return lengths;
    }

    private byte[] powerOfH(long exponent) {
        GCMExponentiator exponentiator = new BasicGCMExponentiator();
        exponentiator.init(h);
        byte[] power = new byte[BLOCK];
        exponentiator.exponentiateX(exponent, power);
        return power;
    }

    private static long blocks(long bytes) {
        return (bytes + BLOCK - 1) / BLOCK;
    }

    private static void putLong(long value, byte[] out, int off) {
        for (int i = 7; i >= 0; i--) {
            out[off + i] = (byte) value;
            value >>>= 8;
        }
    }

    /** GHASH_H over a string given in pieces, zero-padded to whole blocks, without a length block, from zero. */
    private final class Ghash {
        private final byte[] state = new byte[BLOCK];
        private final byte[] partial = new byte[BLOCK];
        private int partialLength;
        long length;

        void update(byte[] b, int off, int len) {
            length += len;
            if (partialLength > 0) {
                int take = Math.min(BLOCK - partialLength, len);
                System.arraycopy(b, off, partial, partialLength, take);
                partialLength += take;
                off += take;
                len -= take;
                if (partialLength < BLOCK) {
                    return;
                }
                GCMUtil.xor(state, partial);
                multiplier.multiplyH(state);
                partialLength = 0;
            }
            for (; len >= BLOCK; off += BLOCK, len -= BLOCK) {
                GCMUtil.xor(state, b, off);
                multiplier.multiplyH(state);
            }
            if (len > 0) {
                System.arraycopy(b, off, partial, 0, len);
                partialLength = len;
            }
        }

        /** The hash, the padded last block included; once, at the end. */
        byte[] hash() {
            if (partialLength > 0) {
                GCMUtil.xor(state, partial, 0, partialLength);
                multiplier.multiplyH(state);
                partialLength = 0;
            }
            return state;
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
            try {
                int produced = ctr.update(buf, start, n, b, off);
                if (produced != n) {
                    throw new IllegalStateException("AES-CTR returned " + produced + " bytes for " + n);
                }
                authenticate(b, off, buf, start, n);
            } catch (GeneralSecurityException e) {
                throw new IllegalStateException("AES failed", e);
            }
            start += n;
            return n;
        }

        private void finish() throws InvalidCipherTextIOException {
            if (end - start < TAG_BYTES) {
                throw fail(new InvalidCipherTextIOException("GCM input shorter than the tag", null));
            }
            byte[] received = Arrays.copyOfRange(buf, start, start + TAG_BYTES);
            byte[] expected;
            try {
                expected = expectedTag();
            } catch (GeneralSecurityException e) {
                throw new IllegalStateException("AES-GCM failed", e);
            }
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
