package org.carerelay.routes.crypto;

/**
 * Encrypts stored content (messages, attachments) at rest. Implementations authenticate what they
 * encrypt: a tampered ciphertext fails to decrypt instead of yielding altered content.
 */
public interface ContentCipher {

    /** Identifies the key, stored next to each ciphertext so keys can be rotated. */
    String keyId();

    byte[] encrypt(byte[] plaintext, byte[] associatedData);

    /** @throws IntegrityException when the ciphertext or its associated data was altered */
    byte[] decrypt(byte[] ciphertext, byte[] associatedData);

    /**
     * A 32-byte key for {@code purpose} (e.g. keyed hashes of lookup values), derived from this
     * key one way: knowing the derived key reveals nothing about the data key.
     */
    byte[] deriveKey(String purpose);

    /** A ciphertext that does not verify. */
    class IntegrityException extends RuntimeException {
        public IntegrityException(String message, Throwable cause) {
            super(message, cause);
        }
    }
}
