package org.carerelay.gateway;

import java.io.IOException;
import java.io.OutputStream;
import java.io.UncheckedIOException;
import java.math.BigInteger;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.security.GeneralSecurityException;
import java.security.KeyPair;
import java.security.KeyPairGenerator;
import java.security.KeyStore;
import java.security.PrivateKey;
import java.security.PublicKey;
import java.security.SecureRandom;
import java.security.cert.X509Certificate;
import java.security.spec.ECGenParameterSpec;
import java.time.Duration;
import java.time.Instant;
import java.util.Base64;
import java.util.Date;
import java.util.concurrent.atomic.AtomicLong;
import javax.net.ssl.KeyManagerFactory;
import javax.net.ssl.SSLContext;
import javax.net.ssl.TrustManagerFactory;
import org.bouncycastle.asn1.x500.X500Name;
import org.bouncycastle.asn1.x509.BasicConstraints;
import org.bouncycastle.asn1.x509.ExtendedKeyUsage;
import org.bouncycastle.asn1.x509.Extension;
import org.bouncycastle.asn1.x509.GeneralName;
import org.bouncycastle.asn1.x509.GeneralNames;
import org.bouncycastle.asn1.x509.KeyPurposeId;
import org.bouncycastle.asn1.x509.KeyUsage;
import org.bouncycastle.cert.X509v3CertificateBuilder;
import org.bouncycastle.cert.jcajce.JcaX509CertificateConverter;
import org.bouncycastle.cert.jcajce.JcaX509ExtensionUtils;
import org.bouncycastle.cert.jcajce.JcaX509v3CertificateBuilder;
import org.bouncycastle.operator.jcajce.JcaContentSignerBuilder;

/**
 * A throw-away PKI for the TLS tests, made with Bouncy Castle: a CA, a server certificate
 * (CN=localhost, SAN localhost and 127.0.0.1) and client certificates on demand, written as
 * PKCS#12 files (password {@link #PASSWORD}) into a directory under {@code target/}. EC P-256
 * keys, so generating them costs milliseconds. Also, without a CA: RSA encryption certificates as
 * participants register them for encrypted attachments, and PEM encoding.
 */
public final class TestPki {

    public static final String PASSWORD = "test-pki-password";
    private static final AtomicLong SERIAL = new AtomicLong(System.currentTimeMillis());

    private final Path dir;
    private final KeyPair caKey;
    private final X509Certificate caCertificate;
    private final Path serverKeystore;
    private final Path truststore;
    private final Path truststorePem;

    private TestPki(Path dir, String caName) throws Exception {
        this.dir = dir;
        Files.createDirectories(dir);
        caKey = newKeyPair();
        X500Name ca = new X500Name("CN=" + caName + ", O=CareRelay Test, C=DE");
        caCertificate = sign(ca, caKey.getPublic(), ca, caKey, true, null, null);

        KeyPair serverKey = newKeyPair();
        X509Certificate server = sign(new X500Name("CN=localhost, O=CareRelay Test, C=DE"), serverKey.getPublic(), ca, caKey,
                false, KeyPurposeId.id_kp_serverAuth, new GeneralNames(new GeneralName[] {
                        new GeneralName(GeneralName.dNSName, "localhost"), new GeneralName(GeneralName.iPAddress, "127.0.0.1")}));
        serverKeystore = writeKeyStore("server.p12", serverKey.getPrivate(), server);

        KeyStore trust = KeyStore.getInstance("PKCS12");
        trust.load(null, null);
        trust.setCertificateEntry("ca", caCertificate);
        truststore = store(trust, "truststore.p12");
        truststorePem = dir.resolve("ca.pem");
        Files.writeString(truststorePem, pem("CERTIFICATE", caCertificate.getEncoded()), StandardCharsets.US_ASCII);
    }

    /** A new CA with its server key store and trust store in {@code dir}. */
    public static TestPki create(Path dir, String caName) {
        try {
            return new TestPki(dir, caName);
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        } catch (Exception e) {
            throw new IllegalStateException("test PKI could not be created", e);
        }
    }

    /** PKCS#12: the server key and certificate (with the CA certificate in the chain). */
    public Path serverKeystore() {
        return serverKeystore;
    }

    /** PKCS#12: the CA certificate as trusted entry. */
    public Path truststore() {
        return truststore;
    }

    /** PEM: the CA certificate. */
    public Path truststorePem() {
        return truststorePem;
    }

    public X509Certificate caCertificate() {
        return caCertificate;
    }

    /** Issues a client certificate for {@code subject} (e.g. {@code CN=PFL123}) and writes it with its key as PKCS#12. */
    public Path clientKeystore(String subject) {
        try {
            KeyPair key = newKeyPair();
            X509Certificate certificate = sign(new X500Name(subject), key.getPublic(),
                    X500Name.getInstance(caCertificate.getSubjectX500Principal().getEncoded()), caKey, false, KeyPurposeId.id_kp_clientAuth, null);
            return writeKeyStore("client-" + SERIAL.incrementAndGet() + ".p12", key.getPrivate(), certificate);
        } catch (Exception e) {
            throw new IllegalStateException("client certificate could not be issued", e);
        }
    }

    /**
     * A client-side TLS context that trusts this CA and presents the key in {@code clientKeystore}
     * (none when null).
     */
    public SSLContext clientContext(Path clientKeystore) {
        try {
            KeyStore trust = KeyStore.getInstance("PKCS12");
            trust.load(null, null);
            trust.setCertificateEntry("ca", caCertificate);
            TrustManagerFactory tmf = TrustManagerFactory.getInstance(TrustManagerFactory.getDefaultAlgorithm());
            tmf.init(trust);
            KeyManagerFactory kmf = null;
            if (clientKeystore != null) {
                KeyStore keys = KeyStore.getInstance("PKCS12");
                try (var in = Files.newInputStream(clientKeystore)) {
                    keys.load(in, PASSWORD.toCharArray());
                }
                kmf = KeyManagerFactory.getInstance(KeyManagerFactory.getDefaultAlgorithm());
                kmf.init(keys, PASSWORD.toCharArray());
            }
            SSLContext context = SSLContext.getInstance("TLS");
            context.init(kmf == null ? null : kmf.getKeyManagers(), tmf.getTrustManagers(), new SecureRandom());
            return context;
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        } catch (GeneralSecurityException e) {
            throw new IllegalStateException(e);
        }
    }

    /** An RSA-2048 key pair, for key transport in CMS envelopes. */
    public static KeyPair rsaKeyPair() {
        try {
            KeyPairGenerator generator = KeyPairGenerator.getInstance("RSA");
            generator.initialize(2048);
            return generator.generateKeyPair();
        } catch (GeneralSecurityException e) {
            throw new IllegalStateException(e);
        }
    }

    /**
     * A self-signed RSA end-entity certificate for key transport ({@code keyEncipherment},
     * {@code dataEncipherment}), as participants register it for encrypted attachments; only the key
     * and the validity matter.
     */
    public static X509Certificate encryptionCertificate(KeyPair key, String subject, Instant notBefore, Instant notAfter) {
        try {
            X500Name name = new X500Name(subject);
            X509v3CertificateBuilder builder = new JcaX509v3CertificateBuilder(name, BigInteger.valueOf(SERIAL.incrementAndGet()),
                    Date.from(notBefore), Date.from(notAfter), name, key.getPublic());
            builder.addExtension(Extension.basicConstraints, true, new BasicConstraints(false));
            builder.addExtension(Extension.keyUsage, true, new KeyUsage(KeyUsage.keyEncipherment | KeyUsage.dataEncipherment));
            return new JcaX509CertificateConverter().getCertificate(
                    builder.build(new JcaContentSignerBuilder("SHA256withRSA").build(key.getPrivate())));
        } catch (Exception e) {
            throw new IllegalStateException("certificate could not be made", e);
        }
    }

    /** {@code der} as PEM with the given type ({@code CERTIFICATE}, {@code PRIVATE KEY}). */
    public static String pem(String type, byte[] der) {
        return "-----BEGIN " + type + "-----\n" + Base64.getMimeEncoder(64, "\n".getBytes(StandardCharsets.US_ASCII)).encodeToString(der)
                + "\n-----END " + type + "-----\n";
    }

    private static KeyPair newKeyPair() throws GeneralSecurityException {
        KeyPairGenerator generator = KeyPairGenerator.getInstance("EC");
        generator.initialize(new ECGenParameterSpec("secp256r1"));
        return generator.generateKeyPair();
    }

    private static X509Certificate sign(X500Name subject, PublicKey key, X500Name issuer, KeyPair issuerKey, boolean ca,
            KeyPurposeId purpose, GeneralNames san) throws Exception {
        Instant now = Instant.now();
        X509v3CertificateBuilder builder = new JcaX509v3CertificateBuilder(issuer, BigInteger.valueOf(SERIAL.incrementAndGet()),
                Date.from(now.minus(Duration.ofHours(1))), Date.from(now.plus(Duration.ofDays(30))), subject, key);
        JcaX509ExtensionUtils extensions = new JcaX509ExtensionUtils();
        builder.addExtension(Extension.basicConstraints, true, new BasicConstraints(ca));
        builder.addExtension(Extension.subjectKeyIdentifier, false, extensions.createSubjectKeyIdentifier(key));
        builder.addExtension(Extension.authorityKeyIdentifier, false, extensions.createAuthorityKeyIdentifier(issuerKey.getPublic()));
        if (ca) {
            builder.addExtension(Extension.keyUsage, true, new KeyUsage(KeyUsage.keyCertSign | KeyUsage.cRLSign));
        } else {
            builder.addExtension(Extension.keyUsage, true, new KeyUsage(KeyUsage.digitalSignature));
            builder.addExtension(Extension.extendedKeyUsage, false, new ExtendedKeyUsage(purpose));
        }
        if (san != null) {
            builder.addExtension(Extension.subjectAlternativeName, false, san);
        }
        return new JcaX509CertificateConverter().getCertificate(
                builder.build(new JcaContentSignerBuilder("SHA256withECDSA").build(issuerKey.getPrivate())));
    }

    private Path writeKeyStore(String name, PrivateKey key, X509Certificate certificate) throws Exception {
        KeyStore store = KeyStore.getInstance("PKCS12");
        store.load(null, null);
        store.setKeyEntry("key", key, PASSWORD.toCharArray(), new X509Certificate[] {certificate, caCertificate});
        return store(store, name);
    }

    private Path store(KeyStore store, String name) throws Exception {
        Path file = dir.resolve(name);
        try (OutputStream out = Files.newOutputStream(file)) {
            store.store(out, PASSWORD.toCharArray());
        }
        return file;
    }
}
