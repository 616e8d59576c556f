package org.carerelay.routes.crypto;

import java.io.InputStream;
import java.io.OutputStream;
import java.security.GeneralSecurityException;
import java.security.Key;
import java.security.PrivateKey;
import java.util.Arrays;
import java.util.Map;
import org.bouncycastle.asn1.ASN1ObjectIdentifier;
import org.bouncycastle.asn1.ASN1OctetString;
import org.bouncycastle.asn1.cms.GCMParameters;
import org.bouncycastle.asn1.nist.NISTObjectIdentifiers;
import org.bouncycastle.asn1.x509.AlgorithmIdentifier;
import org.bouncycastle.asn1.x509.SubjectPublicKeyInfo;
import org.bouncycastle.cms.CMSException;
import org.bouncycastle.cms.InputStreamWithMAC;
import org.bouncycastle.cms.RecipientOperator;
import org.bouncycastle.cms.jcajce.JceKeyAgreeAuthEnvelopedRecipient;
import org.bouncycastle.cms.jcajce.JceKeyTransAuthEnvelopedRecipient;
import org.bouncycastle.operator.InputAEADDecryptor;

/**
 * The content decryptor of an AuthEnvelopedData with AES-GCM, 12-byte nonce and 16-byte tag, on
 * {@link GcmDecryption} (the JDK's AES-CTR, and its AES-GCM for the tag), for the recipients below.
 * It behaves like Bouncy Castle's own {@code CMSInputAEADDecryptor}: the content stream it is given is the
 * ciphertext followed by the tag, the authenticated attributes arrive on {@link #getAADStream()}
 * (the streaming parser writes them once it has passed the ciphertext), and a wrong tag makes the
 * end of the content stream throw an {@link org.bouncycastle.crypto.io.InvalidCipherTextIOException}.
 */
final class JdkGcmDecryptor implements InputAEADDecryptor {

    private static final Map<ASN1ObjectIdentifier, Integer> KEY_BYTES = Map.of(
            NISTObjectIdentifiers.id_aes128_GCM, 16,
            NISTObjectIdentifiers.id_aes192_GCM, 24,
            NISTObjectIdentifiers.id_aes256_GCM, 32);

    private final AlgorithmIdentifier algorithm;
    private final GcmDecryption gcm;
    private InputStream input;

    private JdkGcmDecryptor(AlgorithmIdentifier algorithm, GcmDecryption gcm) {
        this.algorithm = algorithm;
        this.gcm = gcm;
    }

    /** Whether the content-encryption algorithm is AES-GCM with a 12-byte nonce and a 16-byte tag. */
    static boolean supports(AlgorithmIdentifier contentEncryption) {
        return nonce(contentEncryption) != null;
    }

    /**
     * A decryptor for the content-encryption algorithm and key, or null when this one does not
     * handle them (see {@link #supports}; the key must be a raw AES key of the algorithm's size).
     */
    static JdkGcmDecryptor create(AlgorithmIdentifier contentEncryption, Key key) {
        byte[] nonce = nonce(contentEncryption);
        if (nonce == null || key == null || !"RAW".equalsIgnoreCase(key.getFormat())) {
            return null;
        }
        byte[] raw = key.getEncoded();
        try {
            if (raw == null || raw.length != KEY_BYTES.get(contentEncryption.getAlgorithm())) {
                return null;
            }
            return new JdkGcmDecryptor(contentEncryption, new GcmDecryption(raw, nonce));
        } catch (GeneralSecurityException | RuntimeException e) {
            return null; // no usable JDK AES: Bouncy Castle's path
        } finally {
            if (raw != null) {
                Arrays.fill(raw, (byte) 0);
            }
        }
    }

    private static byte[] nonce(AlgorithmIdentifier contentEncryption) {
        if (contentEncryption == null || !KEY_BYTES.containsKey(contentEncryption.getAlgorithm())) {
            return null;
        }
        try {
            GCMParameters parameters = GCMParameters.getInstance(contentEncryption.getParameters());
            if (parameters == null || parameters.getIcvLen() != GcmDecryption.TAG_BYTES
                    || parameters.getNonce().length != GcmDecryption.NONCE_BYTES) {
                return null;
            }
            return parameters.getNonce();
        } catch (RuntimeException e) {
            return null; // malformed: let Bouncy Castle's path report it
        }
    }

    @Override
    public AlgorithmIdentifier getAlgorithmIdentifier() {
        return algorithm;
    }

    @Override
    public InputStream getInputStream(InputStream encryptedContentAndMac) {
        this.input = encryptedContentAndMac;
        return gcm.decrypt(encryptedContentAndMac);
    }

    @Override
    public OutputStream getAADStream() {
        return gcm.aadStream();
    }

    /** The MAC as the CMS parser read it (like Bouncy Castle's decryptor), else the verified tag. */
    @Override
    public byte[] getMAC() {
        if (input instanceof InputStreamWithMAC withMac) {
            return withMac.getMAC();
        }
        return gcm.verifiedTag();
    }

    /** {@link JceKeyAgreeAuthEnvelopedRecipient} that decrypts AES-GCM content with {@link JdkGcmDecryptor} where it can. */
    static final class KeyAgreeRecipient extends JceKeyAgreeAuthEnvelopedRecipient {
        KeyAgreeRecipient(PrivateKey recipientKey) {
            super(recipientKey);
        }

        @Override
        public RecipientOperator getRecipientOperator(AlgorithmIdentifier keyEncryptionAlgorithm, AlgorithmIdentifier contentEncryptionAlgorithm,
                SubjectPublicKeyInfo senderPublicKey, ASN1OctetString userKeyingMaterial, byte[] encryptedContentKey) throws CMSException {
            if (supports(contentEncryptionAlgorithm)) {
                // extractSecretKey also applies the allowed-algorithm and minimum-tag checks
                Key key = extractSecretKey(keyEncryptionAlgorithm, contentEncryptionAlgorithm, senderPublicKey, userKeyingMaterial,
                        encryptedContentKey);
                JdkGcmDecryptor decryptor = create(contentEncryptionAlgorithm, key);
                if (decryptor != null) {
                    return new RecipientOperator(decryptor);
                }
            }
            return super.getRecipientOperator(keyEncryptionAlgorithm, contentEncryptionAlgorithm, senderPublicKey, userKeyingMaterial,
                    encryptedContentKey);
        }
    }

    /** {@link JceKeyTransAuthEnvelopedRecipient} that decrypts AES-GCM content with {@link JdkGcmDecryptor} where it can. */
    static final class KeyTransRecipient extends JceKeyTransAuthEnvelopedRecipient {
        KeyTransRecipient(PrivateKey recipientKey) {
            super(recipientKey);
        }

        @Override
        public RecipientOperator getRecipientOperator(AlgorithmIdentifier keyEncryptionAlgorithm, AlgorithmIdentifier contentEncryptionAlgorithm,
                byte[] encryptedContentKey) throws CMSException {
            if (supports(contentEncryptionAlgorithm)) {
                Key key = extractSecretKey(keyEncryptionAlgorithm, contentEncryptionAlgorithm, encryptedContentKey);
                JdkGcmDecryptor decryptor = create(contentEncryptionAlgorithm, key);
                if (decryptor != null) {
                    return new RecipientOperator(decryptor);
                }
            }
            return super.getRecipientOperator(keyEncryptionAlgorithm, contentEncryptionAlgorithm, encryptedContentKey);
        }
    }
}
