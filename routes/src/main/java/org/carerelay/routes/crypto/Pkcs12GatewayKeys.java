package org.carerelay.routes.crypto;

import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.io.InputStream;
import java.io.UncheckedIOException;
import java.math.BigInteger;
import java.nio.ByteBuffer;
import java.nio.channels.FileChannel;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardCopyOption;
import java.nio.file.StandardOpenOption;
import java.nio.file.attribute.FileAttribute;
import java.nio.file.attribute.PosixFilePermission;
import java.nio.file.attribute.PosixFilePermissions;
import java.security.GeneralSecurityException;
import java.security.KeyPair;
import java.security.KeyPairGenerator;
import java.security.KeyStore;
import java.security.PrivateKey;
import java.security.PublicKey;
import java.security.SecureRandom;
import java.security.UnrecoverableKeyException;
import java.security.cert.Certificate;
import java.security.cert.X509Certificate;
import java.security.spec.ECGenParameterSpec;
import java.time.Duration;
import java.time.Instant;
import java.time.ZoneOffset;
import java.time.format.DateTimeFormatter;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.Base64;
import java.util.Collections;
import java.util.Comparator;
import java.util.Date;
import java.util.List;
import java.util.Objects;
import java.util.Set;
import javax.security.auth.x500.X500Principal;
import org.bouncycastle.asn1.x509.BasicConstraints;
import org.bouncycastle.asn1.x509.ExtendedKeyUsage;
import org.bouncycastle.asn1.x509.Extension;
import org.bouncycastle.asn1.x509.KeyPurposeId;
import org.bouncycastle.asn1.x509.KeyUsage;
import org.bouncycastle.cert.CertIOException;
import org.bouncycastle.cert.X509v3CertificateBuilder;
import org.bouncycastle.cert.jcajce.JcaX509CertificateConverter;
import org.bouncycastle.cert.jcajce.JcaX509ExtensionUtils;
import org.bouncycastle.cert.jcajce.JcaX509v3CertificateBuilder;
import org.bouncycastle.operator.ContentSigner;
import org.bouncycastle.operator.OperatorCreationException;
import org.bouncycastle.operator.jcajce.JcaContentSignerBuilder;

/**
 * The gateway's keys from a PKCS#12 keystore (the JDK's own format, readable and editable with
 * {@code keytool} and {@code openssl pkcs12}). Expected aliases:
 * <ul>
 *   <li>{@code ca}: the gateway CA certificate (a certificate entry, or a key entry when the CA
 *       key is kept here to issue further certificates);</li>
 *   <li>{@code signing}: the signing key entry, its chain the signing certificate [+ CA];</li>
 *   <li>{@code storage*}: one key entry per storage key. The one whose certificate has the latest
 *       notBefore (ties: the alias sorting last) encrypts new objects; all of them decrypt.
 *       Storage certificates need not be issued by the CA.</li>
 * </ul>
 * Every private key is protected with the keystore password (keytool's behaviour for PKCS#12).
 *
 * <p>Rotating the storage key needs no code: add a new key entry whose alias starts with
 * {@code storage} and restart (or reload), for example
 * <pre>
 * keytool -genkeypair -alias storage-2027 -keyalg EC -groupname secp256r1 -validity 1826 \
 *     -dname "CN=gateway storage 2027" -storetype PKCS12 -keystore gateway.p12 -storepass:file gateway.pass
 * </pre>
 * Objects sealed before keep opening with the older key, which must therefore stay in the keystore
 * until every object encrypted to it has been re-encrypted or deleted.
 */
public final class Pkcs12GatewayKeys implements GatewayKeys {

    static final String CA_ALIAS = "ca";
    static final String SIGNING_ALIAS = "signing";
    static final String STORAGE_PREFIX = "storage";

    private static final SecureRandom RANDOM = new SecureRandom();
    private static final Duration BACKDATE = Duration.ofMinutes(5);
    /** yyyyMMdd'T'HHmmss, but with a lower-case t: the JDK's PKCS#12 keystore lower-cases every alias anyway. */
    private static final DateTimeFormatter ALIAS_TIME = DateTimeFormatter.ofPattern("yyyyMMdd't'HHmmss").withZone(ZoneOffset.UTC);
    private static final Set<PosixFilePermission> OWNER_FILE = PosixFilePermissions.fromString("rw-------");
    private static final Set<PosixFilePermission> OWNER_DIR = PosixFilePermissions.fromString("rwx------");

    private final X509Certificate caCertificate;
    private final PrivateKey signingKey;
    private final List<X509Certificate> signingChain;
    private final List<StorageKey> storageKeys;

    private Pkcs12GatewayKeys(X509Certificate caCertificate, PrivateKey signingKey, List<X509Certificate> signingChain,
            List<StorageKey> storageKeys) {
        this.caCertificate = caCertificate;
        this.signingKey = signingKey;
        this.signingChain = List.copyOf(signingChain);
        this.storageKeys = List.copyOf(storageKeys);
    }

    /**
     * Reads a PKCS#12 keystore.
     *
     * @throws IllegalStateException if the keystore cannot be read (wrong password, not PKCS#12) or
     *     lacks the {@code ca}, {@code signing} or any {@code storage*} entry
     */
    public static Pkcs12GatewayKeys load(Path p12, char[] password) {
        Objects.requireNonNull(p12, "p12");
        Objects.requireNonNull(password, "password");
        KeyStore keyStore;
        try (InputStream in = Files.newInputStream(p12)) {
            keyStore = KeyStore.getInstance("PKCS12");
            keyStore.load(in, password);
        } catch (IOException e) {
            if (e.getCause() instanceof UnrecoverableKeyException) {
                throw new IllegalStateException("Cannot open the keystore " + p12 + ": wrong password", e);
            }
            throw new IllegalStateException("Cannot read the keystore " + p12 + ": " + e, e);
        } catch (GeneralSecurityException e) {
            throw new IllegalStateException("Cannot read the keystore " + p12 + ": " + e, e);
        }
        return of(keyStore, password, p12.toString());
    }

    /**
     * Takes the keys from an already loaded keystore (any type) with the aliases described above.
     *
     * @throws IllegalStateException if an entry is missing or unreadable
     */
    public static Pkcs12GatewayKeys of(KeyStore keyStore, char[] password) {
        return of(keyStore, password, "the keystore");
    }

    private static Pkcs12GatewayKeys of(KeyStore keyStore, char[] password, String name) {
        try {
            Certificate ca = keyStore.getCertificate(CA_ALIAS);
            if (!(ca instanceof X509Certificate caCertificate)) {
                throw new IllegalStateException(name + " has no CA certificate under the alias '" + CA_ALIAS + "'");
            }
            if (!keyStore.isKeyEntry(SIGNING_ALIAS)) {
                throw new IllegalStateException(name + " has no signing key entry under the alias '" + SIGNING_ALIAS + "'");
            }
            PrivateKey signingKey = privateKey(keyStore, SIGNING_ALIAS, password, name);
            List<X509Certificate> chain = chain(keyStore, SIGNING_ALIAS, name);
            if (!chain.get(chain.size() - 1).equals(caCertificate)) {
                chain.add(caCertificate);
            }

            List<StorageKey> storage = new ArrayList<>();
            for (String alias : Collections.list(keyStore.aliases())) {
                if (alias.startsWith(STORAGE_PREFIX) && keyStore.isKeyEntry(alias)) {
                    storage.add(new StorageKey(alias, chain(keyStore, alias, name).get(0), privateKey(keyStore, alias, password, name)));
                }
            }
            if (storage.isEmpty()) {
                throw new IllegalStateException(name + " has no storage key: expected at least one key entry whose alias starts with '"
                        + STORAGE_PREFIX + "'");
            }
            // newest first: latest notBefore, ties broken by the alias sorting last
            storage.sort(Comparator.comparing((StorageKey key) -> key.certificate().getNotBefore())
                    .thenComparing(StorageKey::alias).reversed());
            return new Pkcs12GatewayKeys(caCertificate, signingKey, chain, storage);
        } catch (GeneralSecurityException e) {
            throw new IllegalStateException("Cannot read the keys from " + name + ": " + e, e);
        }
    }

    private static PrivateKey privateKey(KeyStore keyStore, String alias, char[] password, String name) throws GeneralSecurityException {
        if (keyStore.getKey(alias, password) instanceof PrivateKey key) {
            return key;
        }
        throw new IllegalStateException(name + ": the entry '" + alias + "' holds no private key");
    }

    private static List<X509Certificate> chain(KeyStore keyStore, String alias, String name) throws GeneralSecurityException {
        Certificate[] chain = keyStore.getCertificateChain(alias);
        if (chain == null || chain.length == 0) {
            throw new IllegalStateException(name + ": the key entry '" + alias + "' has no certificate");
        }
        List<X509Certificate> result = new ArrayList<>();
        for (Certificate certificate : chain) {
            if (!(certificate instanceof X509Certificate x509)) {
                throw new IllegalStateException(name + ": the entry '" + alias + "' holds a non-X.509 certificate");
            }
            result.add(x509);
        }
        return result;
    }

    /**
     * The embedded default: loads {@code p12} with the password in {@code passwordFile}, or, when
     * {@code p12} does not exist yet, generates a CA, a signing key and a storage key (all EC
     * P-256), a random password, and writes both files (owner-only permissions where the file
     * system supports POSIX permissions, each written to a temporary file and atomically moved).
     *
     * @throws IllegalStateException if the keystore exists but the password file does not, or the
     *     keystore cannot be read
     * @throws UncheckedIOException if the files cannot be written
     */
    public static Pkcs12GatewayKeys createIfAbsent(Path p12, Path passwordFile, String commonName) {
        Objects.requireNonNull(p12, "p12");
        Objects.requireNonNull(passwordFile, "passwordFile");
        Objects.requireNonNull(commonName, "commonName");
        if (Files.exists(p12)) {
            if (!Files.isRegularFile(passwordFile)) {
                throw new IllegalStateException("The keystore " + p12 + " exists but its password file " + passwordFile + " does not");
            }
            return load(p12, readPassword(passwordFile));
        }
        try {
            byte[] secret = new byte[24];
            RANDOM.nextBytes(secret);
            char[] password = Base64.getEncoder().encodeToString(secret).toCharArray();
            KeyStore keyStore = generate(commonName, password, Instant.now());
            ByteArrayOutputStream bytes = new ByteArrayOutputStream();
            keyStore.store(bytes, password);
            // the password first: a crash in between leaves no keystore, so the next start starts over
            writeOwnerOnly(passwordFile, new String(password).getBytes(StandardCharsets.US_ASCII));
            writeOwnerOnly(p12, bytes.toByteArray());
            return of(keyStore, password, p12.toString());
        } catch (IOException e) {
            throw new UncheckedIOException("Cannot write the gateway keys to " + p12, e);
        } catch (GeneralSecurityException | OperatorCreationException e) {
            throw new IllegalStateException("Cannot generate the gateway keys: " + e, e);
        }
    }

    private static char[] readPassword(Path passwordFile) {
        try {
            return Files.readString(passwordFile, StandardCharsets.UTF_8).strip().toCharArray();
        } catch (IOException e) {
            throw new UncheckedIOException("Cannot read the keystore password from " + passwordFile, e);
        }
    }

    private static KeyStore generate(String commonName, char[] password, Instant now)
            throws GeneralSecurityException, IOException, OperatorCreationException {
        Date notBefore = Date.from(now.minus(BACKDATE));
        KeyPair ca = newEcKeyPair();
        X500Principal caName = new X500Principal("CN=" + escape(commonName) + " CA, O=CareRelay");
        JcaX509ExtensionUtils extensions = new JcaX509ExtensionUtils();
        X509v3CertificateBuilder caBuilder = new JcaX509v3CertificateBuilder(caName, serial(), notBefore,
                Date.from(now.plus(Duration.ofDays(3653))), caName, ca.getPublic())
                .addExtension(Extension.basicConstraints, true, new BasicConstraints(true))
                .addExtension(Extension.keyUsage, true, new KeyUsage(KeyUsage.keyCertSign | KeyUsage.cRLSign))
                .addExtension(Extension.subjectKeyIdentifier, false, extensions.createSubjectKeyIdentifier(ca.getPublic()));
        X509Certificate caCertificate = sign(caBuilder, ca.getPrivate());

        KeyPair signing = newEcKeyPair();
        X509Certificate signingCertificate = sign(issued(caCertificate, "CN=" + escape(commonName) + " signing, O=CareRelay",
                signing.getPublic(), notBefore, now, extensions)
                .addExtension(Extension.keyUsage, true, new KeyUsage(KeyUsage.digitalSignature | KeyUsage.nonRepudiation))
                .addExtension(Extension.extendedKeyUsage, false, new ExtendedKeyUsage(KeyPurposeId.id_kp_emailProtection)),
                ca.getPrivate());

        KeyPair storage = newEcKeyPair();
        X509Certificate storageCertificate = sign(issued(caCertificate, "CN=" + escape(commonName) + " storage, O=CareRelay",
                storage.getPublic(), notBefore, now, extensions)
                .addExtension(Extension.keyUsage, true, new KeyUsage(KeyUsage.keyAgreement)),
                ca.getPrivate());

        KeyStore keyStore = KeyStore.getInstance("PKCS12");
        keyStore.load(null, null);
        keyStore.setKeyEntry(CA_ALIAS, ca.getPrivate(), password, new Certificate[] {caCertificate});
        keyStore.setKeyEntry(SIGNING_ALIAS, signing.getPrivate(), password, new Certificate[] {signingCertificate, caCertificate});
        keyStore.setKeyEntry(STORAGE_PREFIX + "-" + ALIAS_TIME.format(now), storage.getPrivate(), password,
                new Certificate[] {storageCertificate, caCertificate});
        return keyStore;
    }

    private static X509v3CertificateBuilder issued(X509Certificate ca, String subject, PublicKey key, Date notBefore, Instant now,
            JcaX509ExtensionUtils extensions) throws CertIOException, GeneralSecurityException {
        return new JcaX509v3CertificateBuilder(ca, serial(), notBefore, Date.from(now.plus(Duration.ofDays(1826))), new X500Principal(subject), key)
                .addExtension(Extension.subjectKeyIdentifier, false, extensions.createSubjectKeyIdentifier(key))
                .addExtension(Extension.authorityKeyIdentifier, false, extensions.createAuthorityKeyIdentifier(ca));
    }

    private static X509Certificate sign(X509v3CertificateBuilder builder, PrivateKey issuerKey)
            throws OperatorCreationException, GeneralSecurityException {
        ContentSigner signer = new JcaContentSignerBuilder("SHA256withECDSA").setSecureRandom(RANDOM).build(issuerKey);
        return new JcaX509CertificateConverter().getCertificate(builder.build(signer));
    }

    private static KeyPair newEcKeyPair() throws GeneralSecurityException {
        KeyPairGenerator generator = KeyPairGenerator.getInstance("EC");
        generator.initialize(new ECGenParameterSpec("secp256r1"), RANDOM);
        return generator.generateKeyPair();
    }

    private static BigInteger serial() {
        return new BigInteger(127, RANDOM).add(BigInteger.ONE);
    }

    /** Escapes the RFC 4514 special characters of a common name. */
    private static String escape(String value) {
        String trimmed = value.strip();
        StringBuilder escaped = new StringBuilder();
        for (int i = 0; i < trimmed.length(); i++) {
            char c = trimmed.charAt(i);
            if (",+\"\\<>;=#".indexOf(c) >= 0) {
                escaped.append('\\');
            }
            escaped.append(c);
        }
        return escaped.toString();
    }

    /** Writes {@code content} to a temporary file next to {@code target}, forces it to disk and moves it into place. */
    private static void writeOwnerOnly(Path target, byte[] content) throws IOException {
        Path absolute = target.toAbsolutePath();
        Path directory = absolute.getParent();
        boolean posix = absolute.getFileSystem().supportedFileAttributeViews().contains("posix");
        if (!Files.isDirectory(directory)) {
            if (posix) {
                Files.createDirectories(directory, PosixFilePermissions.asFileAttribute(OWNER_DIR));
            } else {
                Files.createDirectories(directory);
            }
        }
        FileAttribute<?>[] attributes = posix
                ? new FileAttribute<?>[] {PosixFilePermissions.asFileAttribute(OWNER_FILE)}
                : new FileAttribute<?>[0];
        Path temporary = Files.createTempFile(directory, "." + absolute.getFileName(), ".tmp", attributes);
        try {
            try (FileChannel channel = FileChannel.open(temporary, StandardOpenOption.WRITE, StandardOpenOption.TRUNCATE_EXISTING)) {
                ByteBuffer buffer = ByteBuffer.wrap(content);
                while (buffer.hasRemaining()) {
                    channel.write(buffer);
                }
                channel.force(true);
            }
            if (posix) {
                Files.setPosixFilePermissions(temporary, OWNER_FILE);
            }
            Files.move(temporary, absolute, StandardCopyOption.ATOMIC_MOVE);
        } finally {
            Files.deleteIfExists(temporary);
        }
    }

    /** PEM of the CA certificate followed by the signing certificate, for publishing. */
    public String publicPem() {
        return EncryptionCertificates.toPem(caCertificate) + EncryptionCertificates.toPem(signingChain.get(0));
    }

    @Override
    public X509Certificate caCertificate() {
        return caCertificate;
    }

    @Override
    public PrivateKey signingKey() {
        return signingKey;
    }

    @Override
    public List<X509Certificate> signingChain() {
        return signingChain;
    }

    @Override
    public StorageKey currentStorageKey() {
        return storageKeys.get(0);
    }

    /** Every storage key, the current one first, then the older ones newest first. */
    @Override
    public List<StorageKey> storageKeys() {
        return storageKeys;
    }

    @Override
    public String toString() {
        return "Pkcs12GatewayKeys[ca=" + caCertificate.getSubjectX500Principal() + ", storage="
                + Arrays.toString(storageKeys.stream().map(StorageKey::alias).toArray()) + "]";
    }
}
