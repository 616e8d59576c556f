package org.carerelay.routes.crypto;

import static org.assertj.core.api.Assertions.assertThat;

import java.io.ByteArrayInputStream;
import java.io.InputStream;
import java.io.OutputStream;
import java.nio.file.Files;
import java.nio.file.Path;
import java.security.cert.X509Certificate;
import java.util.Random;
import org.junit.jupiter.api.Assumptions;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.ValueSource;

/** Both directions against the openssl command line tool; skipped where openssl is not installed. */
class CmsOpensslInteropTest {

    private static final Origin ORIGIN = new Origin("org-4711", "Pflegedienst Sonnenschein");

    @TempDir
    static Path keysDir;

    @TempDir
    Path work;

    static boolean opensslAvailable;
    static Pkcs12GatewayKeys keys;
    static CmsAttachmentCrypto crypto;

    @BeforeAll
    static void setUp() throws Exception {
        try {
            opensslAvailable = TestPki.run(keysDir, "openssl", "version").exitCode() == 0;
        } catch (java.io.IOException e) {
            opensslAvailable = false;
        }
        keys = Pkcs12GatewayKeys.createIfAbsent(keysDir.resolve("gateway.p12"), keysDir.resolve("gateway.pass"), "Interop Gateway");
        crypto = new CmsAttachmentCrypto(keys);
    }

    @BeforeEach
    void requireOpenssl() {
        Assumptions.assumeTrue(opensslAvailable, "openssl not on PATH: interop not checked");
    }

    /** Bytes with CR, LF and NUL in them, so that any text-mode canonicalisation would show. */
    private static byte[] content() {
        byte[] content = new byte[150_000];
        new Random(99).nextBytes(content);
        byte[] text = "Zeile 1\r\nZeile 2\nZeile 3\r\n\0".getBytes(java.nio.charset.StandardCharsets.UTF_8);
        System.arraycopy(text, 0, content, 0, text.length);
        return content;
    }

    @ParameterizedTest
    @ValueSource(strings = {"rsa", "ec"})
    void resealed_decryptsAndVerifiesWithOpenssl(String keyType) throws Exception {
        String[] newKey = keyType.equals("rsa")
                ? new String[] {"-newkey", "rsa:2048"}
                : new String[] {"-newkey", "ec", "-pkeyopt", "ec_paramgen_curve:P-256"};
        openssl(concat(new String[] {"req", "-x509"}, newKey,
                new String[] {"-nodes", "-keyout", "recipient.key", "-out", "recipient.pem", "-subj", "/CN=Recipient " + keyType, "-days", "2"}));
        X509Certificate recipient = TestPki.readCertificate(work.resolve("recipient.pem"));
        Files.writeString(work.resolve("ca.pem"), EncryptionCertificates.toPem(keys.caCertificate()));
        byte[] content = content();
        byte[] sealed = TestPki.seal(crypto, content, ORIGIN);

        try (InputStream in = new ByteArrayInputStream(sealed); OutputStream out = Files.newOutputStream(work.resolve("resealed.der"))) {
            crypto.reseal(in, TestPki.OBJECT_ID, recipient, out);
        }

        openssl("cms", "-decrypt", "-inform", "DER", "-in", "resealed.der", "-inkey", "recipient.key", "-recip", "recipient.pem",
                "-out", "signed.der");
        TestPki.Result verified = openssl("cms", "-verify", "-inform", "DER", "-in", "signed.der", "-CAfile", "ca.pem", "-binary",
                "-out", "plain.bin");
        assertThat(verified.stderr()).contains("Verification successful");
        assertThat(Files.readAllBytes(work.resolve("plain.bin"))).isEqualTo(content);
    }

    @ParameterizedTest
    @ValueSource(strings = {"-aes-256-gcm", "-aes256"})
    void opensslSignedAndEncrypted_opens(String cipher) throws Exception {
        TestPki.Issued ca = TestPki.gatewayCa(keysDir.resolve("gateway.p12"), keysDir.resolve("gateway.pass"));
        Files.writeString(work.resolve("ca.pem"), EncryptionCertificates.toPem(ca.certificate()));
        Files.writeString(work.resolve("ca.key"), TestPki.pem(ca.privateKey()));
        Files.writeString(work.resolve("storage.pem"), EncryptionCertificates.toPem(keys.currentStorageKey().certificate()));
        Files.writeString(work.resolve("ext.cnf"), "[signer]\nkeyUsage = critical, digitalSignature\n");
        byte[] content = content();
        Files.write(work.resolve("plain.bin"), content);

        openssl("req", "-new", "-newkey", "ec", "-pkeyopt", "ec_paramgen_curve:P-256", "-nodes", "-keyout", "signer.key",
                "-subj", "/O=Elsewhere/CN=openssl signer", "-out", "signer.csr");
        openssl("x509", "-req", "-in", "signer.csr", "-CA", "ca.pem", "-CAkey", "ca.key", "-set_serial", "4660", "-days", "2",
                "-extfile", "ext.cnf", "-extensions", "signer", "-out", "signer.pem");
        openssl("cms", "-sign", "-nodetach", "-binary", "-in", "plain.bin", "-signer", "signer.pem", "-inkey", "signer.key",
                "-outform", "DER", "-out", "signed.der");
        openssl("cms", "-encrypt", "-binary", cipher, "-in", "signed.der", "-outform", "DER", "-out", "sealed.der", "storage.pem");

        try (AttachmentCrypto.OpenedAttachment opened = crypto.open(Files.newInputStream(work.resolve("sealed.der")), "Binary/stored-before")) {
            assertThat(opened.readAllBytes()).isEqualTo(content);
            // no signer-attributes attribute: the origin falls back to the signer's subject
            assertThat(opened.origin()).isEqualTo(new Origin("CN=openssl signer,O=Elsewhere", null));
        }
    }

    @Test
    void opensslSignedByAnUnknownCa_isRejected() throws Exception {
        Files.writeString(work.resolve("storage.pem"), EncryptionCertificates.toPem(keys.currentStorageKey().certificate()));
        Files.write(work.resolve("plain.bin"), content());
        openssl("req", "-x509", "-newkey", "ec", "-pkeyopt", "ec_paramgen_curve:P-256", "-nodes", "-keyout", "signer.key",
                "-out", "signer.pem", "-subj", "/CN=self-signed", "-days", "2");
        openssl("cms", "-sign", "-nodetach", "-binary", "-in", "plain.bin", "-signer", "signer.pem", "-inkey", "signer.key",
                "-outform", "DER", "-out", "signed.der");
        openssl("cms", "-encrypt", "-binary", "-aes-256-gcm", "-in", "signed.der", "-outform", "DER", "-out", "sealed.der", "storage.pem");

        try (AttachmentCrypto.OpenedAttachment opened = crypto.open(Files.newInputStream(work.resolve("sealed.der")), "Binary/stored-before")) {
            org.assertj.core.api.Assertions.assertThatThrownBy(opened::readAllBytes)
                    .isInstanceOf(IntegrityException.class)
                    .hasMessageContaining("not certified by the gateway CA");
        }
    }

    private TestPki.Result openssl(String... arguments) throws Exception {
        TestPki.Result result = TestPki.run(work, concat(new String[] {"openssl"}, arguments));
        assertThat(result.exitCode()).as("openssl %s\n%s", String.join(" ", arguments), result.describe()).isZero();
        return result;
    }

    private static String[] concat(String[]... parts) {
        return java.util.Arrays.stream(parts).flatMap(java.util.Arrays::stream).toArray(String[]::new);
    }
}
