package org.carerelay.routes.crypto;

import java.security.GeneralSecurityException;
import java.security.MessageDigest;
import java.security.SecureRandom;
import javax.crypto.Cipher;
import javax.crypto.spec.GCMParameterSpec;
import javax.crypto.spec.SecretKeySpec;

/**
 * Runs the JDK's AES-GCM (encryption and decryption) and SHA-256 through enough small updates for the JIT to compile
 * their hardware intrinsics. Until then they run interpreted at a few percent of their speed, and
 * the JIT counts calls, not bytes: a few thousand 4 KiB updates (about 0.5 s once, on a background
 * thread) spare the first attachments after a start from sealing and opening at 50 MB/s.
 */
public final class JdkCryptoWarmUp {

    static final int ROUNDS = 8;
    static final int UPDATES_PER_ROUND = 800;
    static final int CHUNK = 4096;

    private JdkCryptoWarmUp() {
    }

    /** @return the milliseconds it took */
    public static long run() {
        long start = System.nanoTime();
        SecureRandom random = new SecureRandom();
        byte[] key = new byte[32];
        random.nextBytes(key);
        byte[] in = new byte[CHUNK];
        random.nextBytes(in);
        byte[] out = new byte[CHUNK + 16];
        byte[] plain = new byte[CHUNK];
        try {
            SecretKeySpec aes = new SecretKeySpec(key, "AES");
            MessageDigest sha256 = MessageDigest.getInstance("SHA-256");
            for (int round = 0; round < ROUNDS; round++) {
                byte[] nonce = new byte[12];
                random.nextBytes(nonce);
                Cipher gcm = Cipher.getInstance("AES/GCM/NoPadding");
                gcm.init(Cipher.ENCRYPT_MODE, aes, new GCMParameterSpec(128, nonce));
                Cipher decrypt = Cipher.getInstance("AES/GCM/NoPadding");
                for (int i = 0; i < UPDATES_PER_ROUND; i++) {
                    gcm.update(in, 0, CHUNK, out, 0);
                    sha256.update(in, 0, CHUNK);
                }
                gcm.doFinal(out, 0);
                sha256.digest();
                // decryption as the store does it: one whole chunk per call
                for (int i = 0; i < UPDATES_PER_ROUND / 8; i++) {
                    random.nextBytes(nonce);
                    gcm.init(Cipher.ENCRYPT_MODE, aes, new GCMParameterSpec(128, nonce));
                    int sealed = gcm.doFinal(in, 0, CHUNK, out, 0);
                    decrypt.init(Cipher.DECRYPT_MODE, aes, new GCMParameterSpec(128, nonce));
                    decrypt.doFinal(out, 0, sealed, plain, 0);
                }
            }
        } catch (GeneralSecurityException e) {
            throw new IllegalStateException("The JDK's AES or SHA-256 is not available", e);
        }
        return (System.nanoTime() - start) / 1_000_000;
    }
}
