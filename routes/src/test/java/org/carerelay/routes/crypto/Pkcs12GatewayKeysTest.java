package org.carerelay.routes.crypto;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import java.io.ByteArrayInputStream;
import java.io.OutputStream;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.attribute.PosixFilePermissions;
import java.security.KeyPair;
import java.security.KeyStore;
import java.security.cert.Certificate;
import java.security.cert.CertificateFactory;
import java.security.cert.X509Certificate;
import java.security.interfaces.ECPublicKey;
import java.time.Duration;
import java.time.Instant;
import java.util.Base64;
import org.bouncycastle.asn1.x509.KeyUsage;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

class Pkcs12GatewayKeysTest {

    @TempDir
    Path dir;

    private Path p12() {
        return dir.resolve("keys/sub/gateway.p12");
    }

    private Path passwordFile() {
        return dir.resolve("keys/sub/gateway.pass");
    }

    private Pkcs12GatewayKeys create() {
        return Pkcs12GatewayKeys.createIfAbsent(p12(), passwordFile(), "Musterstadt Gateway");
    }

    private char[] password() throws Exception {
        return Files.readString(passwordFile()).strip().toCharArray();
    }

    @Test
    void createIfAbsent_writesOwnerOnlyFiles_withARandomPassword() throws Exception {
        create();

        assertThat(Files.readString(passwordFile())).matches("[A-Za-z0-9+/]{32}");
        assertThat(Base64.getDecoder().decode(Files.readString(passwordFile()))).hasSize(24);
        if (dir.getFileSystem().supportedFileAttributeViews().contains("posix")) {
            assertThat(PosixFilePermissions.toString(Files.getPosixFilePermissions(p12()))).isEqualTo("rw-------");
            assertThat(PosixFilePermissions.toString(Files.getPosixFilePermissions(passwordFile()))).isEqualTo("rw-------");
            assertThat(PosixFilePermissions.toString(Files.getPosixFilePermissions(p12().getParent()))).isEqualTo("rwx------");
        }
        try (var files = Files.list(p12().getParent())) {
            assertThat(files.map(path -> path.getFileName().toString())).as("no temporary files left")
                    .containsExactlyInAnyOrder("gateway.p12", "gateway.pass");
        }
    }

    @Test
    void createIfAbsent_generatesTheCaSigningAndStorageProfile() throws Exception {
        Pkcs12GatewayKeys keys = create();
        Instant now = Instant.now();

        X509Certificate ca = keys.caCertificate();
        assertThat(ca.getSubjectX500Principal().getName()).isEqualTo("CN=Musterstadt Gateway CA,O=CareRelay");
        assertThat(ca.getBasicConstraints()).isGreaterThanOrEqualTo(0);
        assertThat(ca.getCriticalExtensionOIDs()).contains("2.5.29.19", "2.5.29.15");
        assertThat(ca.getKeyUsage()).startsWith(false, false, false, false, false, true, true);
        assertThat(ca.getExtensionValue("2.5.29.14")).isNotNull();
        assertThat(ca.getNotAfter().toInstant()).isBetween(now.plus(Duration.ofDays(3640)), now.plus(Duration.ofDays(3660)));
        ca.verify(ca.getPublicKey());
        assertThat(((ECPublicKey) ca.getPublicKey()).getParams().getCurve().getField().getFieldSize()).isEqualTo(256);

        assertThat(keys.signingChain()).hasSize(2).endsWith(ca);
        X509Certificate signing = keys.signingChain().get(0);
        assertThat(signing.getSubjectX500Principal().getName()).isEqualTo("CN=Musterstadt Gateway signing,O=CareRelay");
        assertThat(signing.getIssuerX500Principal()).isEqualTo(ca.getSubjectX500Principal());
        signing.verify(ca.getPublicKey());
        assertThat(signing.getKeyUsage()).startsWith(true, true, false, false, false, false, false);
        assertThat(signing.getCriticalExtensionOIDs()).contains("2.5.29.15");
        assertThat(signing.getExtendedKeyUsage()).containsExactly("1.3.6.1.5.5.7.3.4");
        assertThat(signing.getExtensionValue("2.5.29.14")).isNotNull();
        assertThat(signing.getExtensionValue("2.5.29.35")).isNotNull();
        assertThat(signing.getNotAfter().toInstant()).isBetween(now.plus(Duration.ofDays(1820)), now.plus(Duration.ofDays(1830)));
        assertThat(signing.getNotBefore().toInstant()).isBefore(now);
        assertThat(keys.signingKey().getAlgorithm()).isEqualTo("EC");

        GatewayKeys.StorageKey storage = keys.currentStorageKey();
        assertThat(keys.storageKeys()).containsExactly(storage);
        assertThat(storage.alias()).matches("storage-\\d{8}t\\d{6}");
        assertThat(storage.certificate().getSubjectX500Principal().getName()).isEqualTo("CN=Musterstadt Gateway storage,O=CareRelay");
        storage.certificate().verify(ca.getPublicKey());
        assertThat(storage.certificate().getKeyUsage()).startsWith(false, false, false, false, true, false, false);
        assertThat(storage.privateKey().getAlgorithm()).isEqualTo("EC");
        EncryptionCertificates.check(storage.certificate(), now);

        // the CA key is kept so that it can issue later
        KeyStore keyStore = KeyStore.getInstance("PKCS12");
        try (var in = Files.newInputStream(p12())) {
            keyStore.load(in, password());
        }
        assertThat(keyStore.isKeyEntry("ca")).isTrue();
    }

    @Test
    void secondCall_loadsTheExistingKeys() throws Exception {
        Pkcs12GatewayKeys first = create();
        byte[] keystore = Files.readAllBytes(p12());

        Pkcs12GatewayKeys second = create();

        assertThat(Files.readAllBytes(p12())).isEqualTo(keystore);
        assertThat(second.caCertificate()).isEqualTo(first.caCertificate());
        assertThat(second.signingChain()).isEqualTo(first.signingChain());
        assertThat(second.signingKey()).isEqualTo(first.signingKey());
        assertThat(second.currentStorageKey()).isEqualTo(first.currentStorageKey());
        assertThat(Pkcs12GatewayKeys.load(p12(), password()).currentStorageKey().alias()).isEqualTo(first.currentStorageKey().alias());
    }

    @Test
    void publicPem_isTheCaThenTheSigningCertificate() throws Exception {
        Pkcs12GatewayKeys keys = create();

        java.util.Collection<Certificate> certificates = new java.util.ArrayList<>(CertificateFactory.getInstance("X.509")
                .generateCertificates(new ByteArrayInputStream(keys.publicPem().getBytes(StandardCharsets.US_ASCII))));

        assertThat(certificates).containsExactly(keys.caCertificate(), (Certificate) keys.signingChain().get(0));
        assertThat(keys.publicPem()).doesNotContain("PRIVATE");
    }

    @Test
    void missingEntries_areReportedClearly() throws Exception {
        create();
        char[] password = password();

        assertThatThrownBy(() -> loadWithout("ca", password)).isInstanceOf(IllegalStateException.class).hasMessageContaining("'ca'");
        assertThatThrownBy(() -> loadWithout("signing", password)).isInstanceOf(IllegalStateException.class)
                .hasMessageContaining("'signing'");
        String storageAlias = Pkcs12GatewayKeys.load(p12(), password).currentStorageKey().alias();
        assertThatThrownBy(() -> loadWithout(storageAlias, password)).isInstanceOf(IllegalStateException.class)
                .hasMessageContaining("no storage key");
    }

    private Pkcs12GatewayKeys loadWithout(String alias, char[] password) throws Exception {
        KeyStore keyStore = KeyStore.getInstance("PKCS12");
        try (var in = Files.newInputStream(p12())) {
            keyStore.load(in, password);
        }
        keyStore.deleteEntry(alias);
        Path reduced = dir.resolve("without-" + alias + ".p12");
        try (OutputStream out = Files.newOutputStream(reduced)) {
            keyStore.store(out, password);
        }
        return Pkcs12GatewayKeys.load(reduced, password);
    }

    @Test
    void caAsCertificateEntry_isEnough() throws Exception {
        create();
        char[] password = password();
        KeyStore keyStore = KeyStore.getInstance("PKCS12");
        try (var in = Files.newInputStream(p12())) {
            keyStore.load(in, password);
        }
        Certificate ca = keyStore.getCertificate("ca");
        keyStore.deleteEntry("ca");
        keyStore.setCertificateEntry("ca", ca);

        assertThat(Pkcs12GatewayKeys.of(keyStore, password).caCertificate()).isEqualTo(ca);
    }

    @Test
    void wrongPassword_orMissingPasswordFile_failClearly() throws Exception {
        create();

        assertThatThrownBy(() -> Pkcs12GatewayKeys.load(p12(), "wrong".toCharArray()))
                .isInstanceOf(IllegalStateException.class)
                .hasMessageContaining("password");
        Files.delete(passwordFile());
        assertThatThrownBy(this::create)
                .isInstanceOf(IllegalStateException.class)
                .hasMessageContaining("password file");
    }

    @Test
    void currentStorageKey_isTheLatestNotBefore_tiesGoToTheLastAlias() throws Exception {
        Instant base = Instant.parse("2026-01-01T00:00:00Z");
        KeyStore keyStore = KeyStore.getInstance("PKCS12");
        keyStore.load(null, null);
        char[] password = "pw".toCharArray();
        TestPki.Issued ca = TestPki.ca("CN=Tie CA");
        keyStore.setCertificateEntry("ca", ca.certificate());
        TestPki.Issued signing = TestPki.signer("CN=Tie signing", TestPki.ec(), ca);
        keyStore.setKeyEntry("signing", signing.privateKey(), password, new Certificate[] {signing.certificate(), ca.certificate()});
        addStorage(keyStore, "storage-b", base.minus(Duration.ofDays(1)), password);
        addStorage(keyStore, "storage-a", base, password);
        addStorage(keyStore, "storage-old", base.minus(Duration.ofDays(400)), password);

        Pkcs12GatewayKeys keys = Pkcs12GatewayKeys.of(keyStore, password);
        assertThat(keys.currentStorageKey().alias()).isEqualTo("storage-a");
        assertThat(keys.storageKeys()).extracting(GatewayKeys.StorageKey::alias).containsExactly("storage-a", "storage-b", "storage-old");

        addStorage(keyStore, "storage-c", base, password);
        assertThat(Pkcs12GatewayKeys.of(keyStore, password).currentStorageKey().alias()).isEqualTo("storage-c");
    }

    private static void addStorage(KeyStore keyStore, String alias, Instant notBefore, char[] password) throws Exception {
        KeyPair keyPair = TestPki.ec();
        X509Certificate certificate = TestPki.certificate("CN=" + alias, keyPair.getPublic(), null, keyPair.getPrivate(), notBefore,
                notBefore.plus(Duration.ofDays(3650)), false, KeyUsage.keyAgreement, null);
        keyStore.setKeyEntry(alias, keyPair.getPrivate(), password, new Certificate[] {certificate});
    }

    /** Rotation as documented: keytool adds a (self-signed) storage key; new objects use it, old ones still open. */
    @Test
    void keytoolAddedStorageKey_becomesCurrent_andOldObjectsStillOpen() throws Exception {
        Pkcs12GatewayKeys before = create();
        CmsAttachmentCrypto oldCrypto = new CmsAttachmentCrypto(before);
        Origin origin = new Origin("org-1", null);
        byte[] sealedBefore = TestPki.seal(oldCrypto, "vorher".getBytes(StandardCharsets.UTF_8), origin);

        Path keytool = Path.of(System.getProperty("java.home"), "bin", "keytool");
        TestPki.Result result = TestPki.run(dir, keytool.toString(), "-genkeypair", "-alias", "storage-2027", "-keyalg", "EC",
                "-groupname", "secp256r1", "-validity", "1826", "-dname", "CN=Musterstadt Gateway storage 2027",
                "-storetype", "PKCS12", "-keystore", p12().toString(), "-storepass:file", passwordFile().toString());
        assertThat(result.exitCode()).as(result.describe()).isZero();

        Pkcs12GatewayKeys after = Pkcs12GatewayKeys.createIfAbsent(p12(), passwordFile(), "ignored when the keystore exists");
        CmsAttachmentCrypto newCrypto = new CmsAttachmentCrypto(after);
        assertThat(after.storageKeys()).hasSize(2);
        assertThat(newCrypto.currentStorageKeyId()).isEqualTo("storage-2027");
        assertThat(after.caCertificate()).isEqualTo(before.caCertificate());

        byte[] sealedAfter = TestPki.seal(newCrypto, "nachher".getBytes(StandardCharsets.UTF_8), origin);

        assertThat(new String(TestPki.readAll(newCrypto, sealedAfter), StandardCharsets.UTF_8)).isEqualTo("nachher");
        assertThat(new String(TestPki.readAll(newCrypto, sealedBefore), StandardCharsets.UTF_8)).isEqualTo("vorher");
        // sealed to the new key: the old key set cannot open it
        assertThatThrownBy(() -> TestPki.readAll(oldCrypto, sealedAfter)).isInstanceOf(IntegrityException.class);
    }
}
