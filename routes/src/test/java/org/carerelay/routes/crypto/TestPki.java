package org.carerelay.routes.crypto;

import static org.assertj.core.api.Assertions.assertThat;

import java.io.ByteArrayInputStream;
import java.io.IOException;
import java.io.InputStream;
import java.io.OutputStream;
import java.math.BigInteger;
import java.nio.ByteBuffer;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.security.AlgorithmParameters;
import java.security.GeneralSecurityException;
import java.security.KeyPair;
import java.security.KeyPairGenerator;
import java.security.KeyStore;
import java.security.PrivateKey;
import java.security.PublicKey;
import java.security.cert.CertificateFactory;
import java.security.cert.X509Certificate;
import java.security.spec.ECGenParameterSpec;
import java.security.spec.MGF1ParameterSpec;
import java.time.Duration;
import java.time.Instant;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.Base64;
import java.util.List;
import java.util.Random;
import java.util.concurrent.TimeUnit;
import javax.crypto.Cipher;
import javax.crypto.spec.GCMParameterSpec;
import javax.crypto.spec.OAEPParameterSpec;
import javax.crypto.spec.PSource;
import javax.crypto.spec.SecretKeySpec;
import org.bouncycastle.asn1.ASN1ObjectIdentifier;
import org.bouncycastle.asn1.cms.AttributeTable;
import org.bouncycastle.asn1.pkcs.PKCSObjectIdentifiers;
import org.bouncycastle.asn1.x500.X500Name;
import org.bouncycastle.asn1.x509.AlgorithmIdentifier;
import org.bouncycastle.asn1.x509.BasicConstraints;
import org.bouncycastle.asn1.x509.ExtendedKeyUsage;
import org.bouncycastle.asn1.x509.Extension;
import org.bouncycastle.asn1.x509.KeyPurposeId;
import org.bouncycastle.asn1.x509.KeyUsage;
import org.bouncycastle.cert.X509v3CertificateBuilder;
import org.bouncycastle.cert.jcajce.JcaX509CertificateConverter;
import org.bouncycastle.cert.jcajce.JcaX509v3CertificateBuilder;
import org.bouncycastle.cms.CMSAlgorithm;
import org.bouncycastle.cms.CMSAuthEnvelopedData;
import org.bouncycastle.cms.CMSAuthEnvelopedDataGenerator;
import org.bouncycastle.cms.CMSAuthEnvelopedDataStreamGenerator;
import org.bouncycastle.cms.CMSException;
import org.bouncycastle.cms.CMSProcessableByteArray;
import org.bouncycastle.cms.RecipientInformation;
import org.bouncycastle.cms.SimpleAttributeTableGenerator;
import org.bouncycastle.cms.jcajce.JceCMSContentEncryptorBuilder;
import org.bouncycastle.cms.jcajce.JceKeyAgreeAuthEnvelopedRecipient;
import org.bouncycastle.cms.jcajce.JceKeyAgreeRecipientInfoGenerator;
import org.bouncycastle.cms.jcajce.JceKeyTransAuthEnvelopedRecipient;
import org.bouncycastle.cms.jcajce.JceKeyTransRecipientInfoGenerator;
import org.bouncycastle.jce.provider.BouncyCastleProvider;
import org.bouncycastle.operator.OutputAEADEncryptor;
import org.bouncycastle.operator.jcajce.JcaAlgorithmParametersConverter;
import org.bouncycastle.operator.jcajce.JcaContentSignerBuilder;

/** Test certificates, keys and helpers shared by the crypto tests. */
final class TestPki {

    private static final BouncyCastleProvider BC = new BouncyCastleProvider();
    private static BigInteger serial = BigInteger.valueOf(1000);

    private TestPki() {
    }

    /** Gateway keys assembled freely, e.g. a rogue signer with the real storage key. */
    record StaticKeys(X509Certificate caCertificate, PrivateKey signingKey, List<X509Certificate> signingChain,
            List<StorageKey> storageKeys) implements GatewayKeys {
        @Override
        public StorageKey currentStorageKey() {
            return storageKeys.get(0);
        }
    }

    /** A key pair with its certificate. */
    record Issued(KeyPair keyPair, X509Certificate certificate) {
        PrivateKey privateKey() {
            return keyPair.getPrivate();
        }
    }

    static KeyPair ec() throws GeneralSecurityException {
        KeyPairGenerator generator = KeyPairGenerator.getInstance("EC");
        generator.initialize(new ECGenParameterSpec("secp256r1"));
        return generator.generateKeyPair();
    }

    static KeyPair rsa() throws GeneralSecurityException {
        KeyPairGenerator generator = KeyPairGenerator.getInstance("RSA");
        generator.initialize(2048);
        return generator.generateKeyPair();
    }

    /** A self-signed CA. */
    static Issued ca(String subject) throws Exception {
        KeyPair keyPair = ec();
        return new Issued(keyPair, certificate(subject, keyPair.getPublic(), null, keyPair.getPrivate(), Instant.now().minusSeconds(600),
                Instant.now().plus(Duration.ofDays(365)), true, KeyUsage.keyCertSign | KeyUsage.cRLSign, null));
    }

    /** A signing certificate (digitalSignature, nonRepudiation, emailProtection) for {@code keyPair}. */
    static Issued signer(String subject, KeyPair keyPair, Issued issuer) throws Exception {
        return signer(subject, keyPair, issuer, Instant.now().minusSeconds(600), Instant.now().plus(Duration.ofDays(30)));
    }

    static Issued signer(String subject, KeyPair keyPair, Issued issuer, Instant notBefore, Instant notAfter) throws Exception {
        X509Certificate issuerCertificate = issuer == null ? null : issuer.certificate();
        PrivateKey issuerKey = issuer == null ? keyPair.getPrivate() : issuer.privateKey();
        return new Issued(keyPair, certificate(subject, keyPair.getPublic(), issuerCertificate, issuerKey, notBefore, notAfter, false,
                KeyUsage.digitalSignature | KeyUsage.nonRepudiation, KeyPurposeId.id_kp_emailProtection));
    }

    static X509Certificate certificate(String subject, PublicKey key, X509Certificate issuer, PrivateKey issuerKey, Instant notBefore,
            Instant notAfter, boolean ca, int keyUsage, KeyPurposeId extendedKeyUsage) throws Exception {
        X500Name subjectName = X500Name.getInstance(new javax.security.auth.x500.X500Principal(subject).getEncoded());
        X500Name issuerName = issuer == null ? subjectName : X500Name.getInstance(issuer.getSubjectX500Principal().getEncoded());
        X509v3CertificateBuilder builder = new JcaX509v3CertificateBuilder(issuerName, nextSerial(), java.util.Date.from(notBefore),
                java.util.Date.from(notAfter), subjectName, key);
        if (ca) {
            builder.addExtension(Extension.basicConstraints, true, new BasicConstraints(true));
        }
        builder.addExtension(Extension.keyUsage, true, new KeyUsage(keyUsage));
        if (extendedKeyUsage != null) {
            builder.addExtension(Extension.extendedKeyUsage, false, new ExtendedKeyUsage(extendedKeyUsage));
        }
        String algorithm = "EC".equals(issuerKey.getAlgorithm()) ? "SHA256withECDSA" : "SHA256withRSA";
        return new JcaX509CertificateConverter().getCertificate(builder.build(new JcaContentSignerBuilder(algorithm).build(issuerKey)));
    }

    private static synchronized BigInteger nextSerial() {
        serial = serial.add(BigInteger.ONE);
        return serial;
    }

    /** The CA private key kept under the alias {@code ca} of a keystore made by {@link Pkcs12GatewayKeys#createIfAbsent}. */
    static Issued gatewayCa(Path p12, Path passwordFile) throws Exception {
        char[] password = Files.readString(passwordFile).strip().toCharArray();
        KeyStore keyStore = KeyStore.getInstance("PKCS12");
        try (InputStream in = Files.newInputStream(p12)) {
            keyStore.load(in, password);
        }
        X509Certificate certificate = (X509Certificate) keyStore.getCertificate("ca");
        PrivateKey key = (PrivateKey) keyStore.getKey("ca", password);
        return new Issued(new KeyPair(certificate.getPublicKey(), key), certificate);
    }

    static String pem(PrivateKey key) {
        return "-----BEGIN PRIVATE KEY-----\n"
                + Base64.getMimeEncoder(64, "\n".getBytes(StandardCharsets.US_ASCII)).encodeToString(key.getEncoded())
                + "\n-----END PRIVATE KEY-----\n";
    }

    static X509Certificate readCertificate(Path pem) throws Exception {
        try (InputStream in = Files.newInputStream(pem)) {
            return (X509Certificate) CertificateFactory.getInstance("X.509").generateCertificate(in);
        }
    }

    /** {@code size} pseudo-random bytes, the same for the same seed. */
    static byte[] data(int size, long seed) {
        byte[] data = new byte[size];
        new Random(seed).nextBytes(data);
        return data;
    }

    /** The id the helpers below seal and open under. */
    static final String OBJECT_ID = "Binary/test-object";

    /** The key block of an object in the chunked storage format (magic, length, CMS AuthEnvelopedData). */
    static CMSAuthEnvelopedData keyBlock(byte[] sealed) throws CMSException {
        return new CMSAuthEnvelopedData(Arrays.copyOfRange(sealed, 8, headerLength(sealed)));
    }

    /** Magic, length and key block: where the first chunk starts. */
    static int headerLength(byte[] sealed) {
        assertThat(Arrays.copyOf(sealed, 4)).as("magic").isEqualTo(new byte[] {'C', 'R', 'G', '1'});
        return 8 + ByteBuffer.wrap(sealed, 4, 4).getInt();
    }

    /** The sealed chunks (nonce, ciphertext, tag) of an object in the chunked storage format. */
    static List<byte[]> chunks(byte[] sealed) {
        List<byte[]> chunks = new ArrayList<>();
        int full = 12 + (1 << 20) + 16;
        for (int off = headerLength(sealed); off < sealed.length; off += full) {
            chunks.add(Arrays.copyOfRange(sealed, off, Math.min(sealed.length, off + full)));
        }
        return chunks;
    }

    /** The header of {@code sealed} followed by {@code chunks}. */
    static byte[] withChunks(byte[] sealed, List<byte[]> chunks) {
        java.io.ByteArrayOutputStream out = new java.io.ByteArrayOutputStream();
        out.write(sealed, 0, headerLength(sealed));
        chunks.forEach(out::writeBytes);
        return out.toByteArray();
    }

    /**
     * The ContentInfo(SignedData) inside a sealed object, decrypted independently of the code under
     * test: the per-object key with Bouncy Castle and the storage key (EC or RSA), the chunks with
     * the JDK's AES-GCM as the format is documented (associated data: length of the object id,
     * object id, chunk index, last-chunk flag).
     */
    static byte[] storedSignedData(byte[] sealed, PrivateKey storageKey) throws Exception {
        RecipientInformation recipient = keyBlock(sealed).getRecipientInfos().getRecipients().iterator().next();
        byte[] key = recipient.getContent("EC".equals(storageKey.getAlgorithm())
                ? new JceKeyAgreeAuthEnvelopedRecipient(storageKey).setProvider(BC)
                : new JceKeyTransAuthEnvelopedRecipient(storageKey).setProvider(BC));
        byte[] id = OBJECT_ID.getBytes(StandardCharsets.UTF_8);
        java.io.ByteArrayOutputStream plain = new java.io.ByteArrayOutputStream();
        List<byte[]> chunks = chunks(sealed);
        for (int i = 0; i < chunks.size(); i++) {
            byte[] chunk = chunks.get(i);
            Cipher cipher = Cipher.getInstance("AES/GCM/NoPadding");
            cipher.init(Cipher.DECRYPT_MODE, new SecretKeySpec(key, "AES"), new GCMParameterSpec(128, chunk, 0, 12));
            cipher.updateAAD(ByteBuffer.allocate(4 + id.length + 9).putInt(id.length).put(id).putLong(i)
                    .put((byte) (i == chunks.size() - 1 ? 1 : 0)).array());
            plain.writeBytes(cipher.doFinal(chunk, 12, chunk.length - 12));
        }
        return plain.toByteArray();
    }

    /**
     * An object in the storage format written before the chunked one: a BER ContentInfo
     * (AuthEnvelopedData, AES-256-GCM by the JDK, ECDH or RSA-OAEP to the current storage key)
     * whose content (id-data) is the ContentInfo(SignedData) that {@code crypto} signs.
     */
    static byte[] previousFormat(CmsAttachmentCrypto crypto, GatewayKeys keys, byte[] content, Origin origin) throws Exception {
        byte[] signedData = storedSignedData(seal(crypto, content, origin), keys.currentStorageKey().privateKey());
        X509Certificate storage = keys.currentStorageKey().certificate();
        CMSAuthEnvelopedDataStreamGenerator generator = new CMSAuthEnvelopedDataStreamGenerator();
        if ("EC".equals(storage.getPublicKey().getAlgorithm())) {
            KeyPair ephemeral = ec();
            generator.addRecipientInfoGenerator(new JceKeyAgreeRecipientInfoGenerator(CMSAlgorithm.ECDH_SHA256KDF, ephemeral.getPrivate(),
                    ephemeral.getPublic(), CMSAlgorithm.AES256_WRAP).addRecipient(storage).setProvider(BC));
        } else {
            AlgorithmIdentifier oaep = new JcaAlgorithmParametersConverter().getAlgorithmIdentifier(PKCSObjectIdentifiers.id_RSAES_OAEP,
                    new OAEPParameterSpec("SHA-256", "MGF1", MGF1ParameterSpec.SHA256, PSource.PSpecified.DEFAULT));
            generator.addRecipientInfoGenerator(new JceKeyTransRecipientInfoGenerator(storage, oaep).setProvider(BC));
        }
        java.io.ByteArrayOutputStream sealed = new java.io.ByteArrayOutputStream();
        OutputAEADEncryptor encryptor = (OutputAEADEncryptor) new JceCMSContentEncryptorBuilder(CMSAlgorithm.AES256_GCM)
                .setProvider("SunJCE").build();
        try (OutputStream out = generator.open(sealed, encryptor)) {
            out.write(signedData);
        }
        return sealed.toByteArray();
    }

    /**
     * An AuthEnvelopedData made by Bouncy Castle (ECDH to {@code recipient}, AES-256-GCM) of
     * {@code content} with content type {@code contentType}; GCM parameters and authenticated
     * attributes are optional (null: random 12-byte nonce and 16-byte tag, none).
     */
    static byte[] authEnveloped(ASN1ObjectIdentifier contentType, byte[] content, X509Certificate recipient,
            AlgorithmParameters gcmParameters, AttributeTable authenticatedAttributes) throws Exception {
        KeyPair ephemeral = ec();
        CMSAuthEnvelopedDataGenerator generator = new CMSAuthEnvelopedDataGenerator();
        if (authenticatedAttributes != null) {
            generator.setAuthenticatedAttributeGenerator(new SimpleAttributeTableGenerator(authenticatedAttributes));
        }
        generator.addRecipientInfoGenerator(new JceKeyAgreeRecipientInfoGenerator(CMSAlgorithm.ECDH_SHA256KDF, ephemeral.getPrivate(),
                ephemeral.getPublic(), CMSAlgorithm.AES256_WRAP).addRecipient(recipient).setProvider(BC));
        JceCMSContentEncryptorBuilder encryptor = new JceCMSContentEncryptorBuilder(CMSAlgorithm.AES256_GCM).setProvider(BC);
        if (gcmParameters != null) {
            encryptor.setAlgorithmParameters(gcmParameters);
        }
        return generator.generate(new CMSProcessableByteArray(contentType, content), (OutputAEADEncryptor) encryptor.build()).getEncoded();
    }

    static byte[] seal(AttachmentCrypto crypto, byte[] content, Origin origin) throws IOException {
        java.io.ByteArrayOutputStream sink = new java.io.ByteArrayOutputStream(content.length + 4096);
        try (OutputStream out = crypto.seal(sink, origin, OBJECT_ID)) {
            out.write(content);
        }
        return sink.toByteArray();
    }

    static byte[] readAll(AttachmentCrypto crypto, byte[] sealed) throws IOException {
        try (InputStream in = crypto.open(new ByteArrayInputStream(sealed), OBJECT_ID)) {
            return in.readAllBytes();
        }
    }

    /** Result of an external command. */
    record Result(int exitCode, String stdout, String stderr) {
        String describe() {
            return "exit " + exitCode + "\nstdout: " + stdout + "\nstderr: " + stderr;
        }
    }

    static Result run(Path directory, String... command) throws IOException, InterruptedException {
        ProcessBuilder builder = new ProcessBuilder(command).directory(directory.toFile());
        Path out = Files.createTempFile(directory, "out", ".txt");
        Path err = Files.createTempFile(directory, "err", ".txt");
        builder.redirectOutput(out.toFile()).redirectError(err.toFile()).redirectInput(ProcessBuilder.Redirect.from(nullFile()));
        Process process = builder.start();
        if (!process.waitFor(120, TimeUnit.SECONDS)) {
            process.destroyForcibly();
            throw new IllegalStateException("Timed out: " + String.join(" ", command));
        }
        return new Result(process.exitValue(), Files.readString(out), Files.readString(err));
    }

    private static java.io.File nullFile() {
        return new java.io.File(System.getProperty("os.name").startsWith("Windows") ? "NUL" : "/dev/null");
    }

}
