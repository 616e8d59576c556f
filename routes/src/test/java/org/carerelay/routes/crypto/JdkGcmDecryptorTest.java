package org.carerelay.routes.crypto;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;
import static org.carerelay.routes.crypto.TestPki.data;
import static org.carerelay.routes.crypto.TestPki.seal;

import java.io.ByteArrayInputStream;
import java.io.InputStream;
import java.nio.file.Path;
import java.security.AlgorithmParameters;
import java.security.KeyPair;
import java.security.SecureRandom;
import java.security.cert.X509Certificate;
import java.time.Duration;
import java.time.Instant;
import java.util.List;
import org.bouncycastle.asn1.ASN1EncodableVector;
import org.bouncycastle.asn1.ASN1ObjectIdentifier;
import org.bouncycastle.asn1.DERNull;
import org.bouncycastle.asn1.DEROctetString;
import org.bouncycastle.asn1.DERSet;
import org.bouncycastle.asn1.cms.Attribute;
import org.bouncycastle.asn1.cms.AttributeTable;
import org.bouncycastle.asn1.cms.CMSObjectIdentifiers;
import org.bouncycastle.asn1.cms.ContentInfo;
import org.bouncycastle.asn1.cms.GCMParameters;
import org.bouncycastle.asn1.nist.NISTObjectIdentifiers;
import org.bouncycastle.asn1.pkcs.PKCSObjectIdentifiers;
import org.bouncycastle.asn1.x509.AlgorithmIdentifier;
import org.bouncycastle.asn1.x509.KeyUsage;
import org.bouncycastle.cms.CMSAuthEnvelopedDataParser;
import org.bouncycastle.jce.provider.BouncyCastleProvider;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * Which AuthEnvelopedData {@link CmsAttachmentCrypto} decrypts with {@link JdkGcmDecryptor} (JDK
 * AES-CTR plus GHASH) and which with Bouncy Castle's GCM, and that both detect tampering.
 */
class JdkGcmDecryptorTest {

    private static final Origin ORIGIN = new Origin("org-1", "Org One");
    private static final BouncyCastleProvider BC = new BouncyCastleProvider();
    private static final ASN1ObjectIdentifier MARKER_ATTRIBUTE = new ASN1ObjectIdentifier("1.3.6.1.4.1.55555.1");

    @TempDir
    static Path dir;

    static Pkcs12GatewayKeys keys;
    static CmsAttachmentCrypto crypto;

    @BeforeAll
    static void createKeys() throws Exception {
        keys = Pkcs12GatewayKeys.createIfAbsent(dir.resolve("gateway.p12"), dir.resolve("gateway.pass"), "Test Gateway");
        crypto = new CmsAttachmentCrypto(keys);
    }

    @Test
    void sealedAttachments_openThroughTheJdkPath() throws Exception {
        byte[] content = data(300_000, 1);
        byte[] sealed = seal(crypto, content, ORIGIN);

        assertThat(JdkGcmDecryptor.supports(contentEncryption(sealed))).isTrue();
        Probe probe = new Probe(sealed);
        try (AttachmentCrypto.OpenedAttachment opened = crypto.open(probe)) {
            assertThat(opened.readAllBytes()).isEqualTo(content);
            assertThat(opened.origin()).isEqualTo(ORIGIN);
        }
        assertThat(probe.readThroughJdkGcm).isTrue();
        assertThat(probe.readThroughBouncyCastleCipher).isFalse();
    }

    @Test
    void rsaKeyTransport_usesTheJdkPathToo() throws Exception {
        TestPki.Issued ca = TestPki.gatewayCa(dir.resolve("gateway.p12"), dir.resolve("gateway.pass"));
        KeyPair storage = TestPki.rsa();
        X509Certificate certificate = TestPki.certificate("CN=RSA storage", storage.getPublic(), ca.certificate(), ca.privateKey(),
                Instant.now().minusSeconds(60), Instant.now().plus(Duration.ofDays(1)), false, KeyUsage.keyEncipherment, null);
        CmsAttachmentCrypto rsaCrypto = new CmsAttachmentCrypto(new TestPki.StaticKeys(keys.caCertificate(), keys.signingKey(),
                keys.signingChain(), List.of(new GatewayKeys.StorageKey("storage-rsa", certificate, storage.getPrivate()))));
        byte[] content = data(300_000, 2);
        byte[] sealed = seal(rsaCrypto, content, ORIGIN);

        Probe probe = new Probe(sealed);
        try (AttachmentCrypto.OpenedAttachment opened = rsaCrypto.open(probe)) {
            assertThat(opened.readAllBytes()).isEqualTo(content);
        }
        assertThat(probe.readThroughJdkGcm).isTrue();
        assertThat(probe.readThroughBouncyCastleCipher).isFalse();

        sealed[sealed.length / 2] ^= 0x10;
        assertThatThrownBy(() -> TestPki.readAll(rsaCrypto, sealed)).isInstanceOf(IntegrityException.class).hasMessageContaining("tag");
    }

    /** RFC 5083 authenticated attributes: the parser passes them to the decryptor after the ciphertext. */
    @Test
    void authenticatedAttributes_areCoveredByTheTag() throws Exception {
        byte[] content = data(300_000, 3);
        byte[] marker = data(16, 4);
        byte[] reenveloped = reenvelope(seal(crypto, content, ORIGIN), gcm(12, 16), marker);

        assertThat(JdkGcmDecryptor.supports(contentEncryption(reenveloped))).isTrue();
        Probe probe = new Probe(reenveloped);
        try (AttachmentCrypto.OpenedAttachment opened = crypto.open(probe)) {
            assertThat(opened.readAllBytes()).isEqualTo(content);
        }
        assertThat(probe.readThroughJdkGcm).isTrue();
        assertThat(probe.readThroughBouncyCastleCipher).isFalse();

        int at = indexOf(reenveloped, marker);
        for (int offset : new int[] {0, 7, 15}) {
            byte[] tampered = reenveloped.clone();
            tampered[at + offset] ^= 0x01;
            assertThatThrownBy(() -> TestPki.readAll(crypto, tampered)).isInstanceOf(IntegrityException.class).hasMessageContaining("tag");
        }
    }

    /** Anything but a 12-byte nonce and a 16-byte tag goes through Bouncy Castle's GCM, which still checks the tag. */
    @Test
    void otherGcmParameters_fallBackToBouncyCastle() throws Exception {
        byte[] content = data(300_000, 5);
        byte[] sealed = seal(crypto, content, ORIGIN);
        for (AlgorithmParameters parameters : new AlgorithmParameters[] {gcm(12, 12), gcm(16, 16), gcm(12, 13)}) {
            byte[] reenveloped = reenvelope(sealed, parameters, null);

            assertThat(JdkGcmDecryptor.supports(contentEncryption(reenveloped))).isFalse();
            Probe probe = new Probe(reenveloped);
            try (AttachmentCrypto.OpenedAttachment opened = crypto.open(probe)) {
                assertThat(opened.readAllBytes()).isEqualTo(content);
            }
            assertThat(probe.readThroughJdkGcm).isFalse();
            assertThat(probe.readThroughBouncyCastleCipher).isTrue();

            reenveloped[reenveloped.length / 2] ^= 0x01;
            assertThatThrownBy(() -> TestPki.readAll(crypto, reenveloped)).isInstanceOf(IntegrityException.class)
                    .hasMessageContaining("tag");
        }
    }

    @Test
    void supports_onlyAesGcmWithATwelveByteNonceAndASixteenByteTag() {
        for (ASN1ObjectIdentifier gcm : List.of(NISTObjectIdentifiers.id_aes128_GCM, NISTObjectIdentifiers.id_aes192_GCM,
                NISTObjectIdentifiers.id_aes256_GCM)) {
            assertThat(JdkGcmDecryptor.supports(new AlgorithmIdentifier(gcm, new GCMParameters(new byte[12], 16)))).isTrue();
            assertThat(JdkGcmDecryptor.supports(new AlgorithmIdentifier(gcm, new GCMParameters(new byte[12], 12)))).isFalse();
            assertThat(JdkGcmDecryptor.supports(new AlgorithmIdentifier(gcm, new GCMParameters(new byte[8], 16)))).isFalse();
            assertThat(JdkGcmDecryptor.supports(new AlgorithmIdentifier(gcm))).isFalse();
            assertThat(JdkGcmDecryptor.supports(new AlgorithmIdentifier(gcm, DERNull.INSTANCE))).isFalse();
        }
        assertThat(JdkGcmDecryptor.supports(new AlgorithmIdentifier(NISTObjectIdentifiers.id_aes256_CCM, new GCMParameters(new byte[12], 16))))
                .isFalse();
        assertThat(JdkGcmDecryptor.supports(new AlgorithmIdentifier(NISTObjectIdentifiers.id_aes256_CBC, new DEROctetString(new byte[16]))))
                .isFalse();
        assertThat(JdkGcmDecryptor.supports(null)).isFalse();
    }

    @Test
    void create_refusesKeysOfTheWrongSize() {
        AlgorithmIdentifier aes256Gcm = new AlgorithmIdentifier(NISTObjectIdentifiers.id_aes256_GCM, new GCMParameters(new byte[12], 16));
        assertThat(JdkGcmDecryptor.create(aes256Gcm, new javax.crypto.spec.SecretKeySpec(new byte[16], "AES"))).isNull();
        assertThat(JdkGcmDecryptor.create(aes256Gcm, new javax.crypto.spec.SecretKeySpec(new byte[32], "AES"))).isNotNull();
    }

    // ---------------------------------------------------------------------------- helpers

    private static AlgorithmIdentifier contentEncryption(byte[] sealed) throws Exception {
        return new CMSAuthEnvelopedDataParser(sealed).getEncryptionAlgOID();
    }

    private static AlgorithmParameters gcm(int nonceBytes, int tagBytes) throws Exception {
        byte[] nonce = new byte[nonceBytes];
        new SecureRandom().nextBytes(nonce);
        AlgorithmParameters parameters = AlgorithmParameters.getInstance("GCM", BC);
        parameters.init(new GCMParameters(nonce, tagBytes).getEncoded());
        return parameters;
    }

    /** The sealed object's ContentInfo(SignedData), in a new AuthEnvelopedData with the given GCM parameters. */
    private static byte[] reenvelope(byte[] sealed, AlgorithmParameters parameters, byte[] marker) throws Exception {
        byte[] contentInfo = TestPki.storedSignedData(sealed, keys.currentStorageKey().privateKey());
        assertThat(ContentInfo.getInstance(contentInfo).getContentType()).isEqualTo(CMSObjectIdentifiers.signedData);
        AttributeTable authenticated = null;
        if (marker != null) {
            ASN1EncodableVector attributes = new ASN1EncodableVector();
            attributes.add(new Attribute(PKCSObjectIdentifiers.pkcs_9_at_contentType, new DERSet(CMSObjectIdentifiers.data)));
            attributes.add(new Attribute(MARKER_ATTRIBUTE, new DERSet(new DEROctetString(marker))));
            authenticated = new AttributeTable(attributes);
        }
        return TestPki.authEnveloped(CMSObjectIdentifiers.data, contentInfo, keys.currentStorageKey().certificate(), parameters,
                authenticated);
    }

    private static int indexOf(byte[] haystack, byte[] needle) {
        outer:
        for (int i = 0; i + needle.length <= haystack.length; i++) {
            for (int j = 0; j < needle.length; j++) {
                if (haystack[i + j] != needle[j]) {
                    continue outer;
                }
            }
            return i;
        }
        throw new AssertionError("marker not found");
    }

    /**
     * The sealed bytes; notes whether any read came through {@link GcmDecryption} or Bouncy Castle's
     * cipher stream. (The open path reads ahead by 64 KiB, so objects must be larger than that.)
     */
    private static final class Probe extends InputStream {
        private final ByteArrayInputStream in;
        boolean readThroughJdkGcm;
        boolean readThroughBouncyCastleCipher;

        Probe(byte[] sealed) {
            this.in = new ByteArrayInputStream(sealed);
        }

        @Override
        public int read() {
            note();
            return in.read();
        }

        @Override
        public int read(byte[] b, int off, int len) {
            note();
            return in.read(b, off, len);
        }

        private void note() {
            StackWalker.getInstance().forEach(frame -> {
                readThroughJdkGcm |= frame.getClassName().startsWith(GcmDecryption.class.getName());
                readThroughBouncyCastleCipher |= frame.getClassName().equals("org.bouncycastle.jcajce.io.CipherInputStream");
            });
        }
    }
}
