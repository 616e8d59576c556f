package org.carerelay.routes.crypto;

import static org.assertj.core.api.Assertions.assertThat;

import java.io.ByteArrayInputStream;
import java.io.ByteArrayOutputStream;
import java.io.InputStream;
import java.io.OutputStream;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Random;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.Assumptions;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * The README's way to a production keystore, {@code config/make-keystore.sh} (openssl + keytool),
 * yields a keystore the gateway loads, seals with and opens, whose signatures openssl verifies
 * against the operator's own CA.
 */
class OperatorKeystoreScriptTest {

    static final Path SCRIPT = Path.of("..", "config", "make-keystore.sh");

    @TempDir
    Path dir;

    @Test
    void scriptBuiltKeystore_sealsOpensAndVerifiesAgainstTheOperatorsCa() throws Exception {
        Assumptions.assumeTrue(opensslAvailable(), "openssl not on PATH: the keystore script is not checked");
        Assumptions.assumeTrue(Files.isRegularFile(SCRIPT), "config/make-keystore.sh not found from " + Path.of("").toAbsolutePath());
        Path out = dir.resolve("keys");
        ProcessBuilder builder = new ProcessBuilder("bash", SCRIPT.toString(), out.toString(), "Klinikum Beispiel, Haus A/B")
                .redirectErrorStream(true);
        builder.environment().put("KEYSTORE_PASSWORD", "geheim-" + System.nanoTime());
        builder.environment().put("PATH", Path.of(System.getProperty("java.home"), "bin") + ":" + System.getenv("PATH"));
        String password = builder.environment().get("KEYSTORE_PASSWORD");
        Process process = builder.start();
        String output = new String(process.getInputStream().readAllBytes(), StandardCharsets.UTF_8);
        assertThat(process.waitFor(120, TimeUnit.SECONDS)).isTrue();
        assertThat(process.exitValue()).as(output).isZero();
        assertThat(Files.list(out).map(p -> p.getFileName().toString()).toList())
                .contains("carerelay.p12", "ca.pem", "ca.key").doesNotContain("signing.key", "storage.key");

        Pkcs12GatewayKeys keys = Pkcs12GatewayKeys.load(out.resolve("carerelay.p12"), password.toCharArray());
        assertThat(keys.currentStorageKey().alias()).isEqualTo("storage-1");
        CmsAttachmentCrypto crypto = new CmsAttachmentCrypto(keys);
        byte[] data = new byte[300_000];
        new Random(7).nextBytes(data);
        ByteArrayOutputStream sealed = new ByteArrayOutputStream();
        try (OutputStream sealing = crypto.seal(sealed, new Origin("org-1", "Pflegedienst"), TestPki.OBJECT_ID)) {
            sealing.write(data);
        }
        try (InputStream opened = crypto.open(new ByteArrayInputStream(sealed.toByteArray()), TestPki.OBJECT_ID)) {
            assertThat(opened.readAllBytes()).isEqualTo(data);
        }

        // the signed layer as stored verifies with openssl against the operator's CA
        Path signed = Files.write(dir.resolve("signed.der"), TestPki.storedSignedData(sealed.toByteArray(),
                keys.currentStorageKey().privateKey()));
        Path plain = dir.resolve("plain.bin");
        run("openssl", "cms", "-verify", "-binary", "-inform", "DER", "-in", signed.toString(),
                "-CAfile", out.resolve("ca.pem").toString(), "-out", plain.toString());
        assertThat(Files.readAllBytes(plain)).isEqualTo(data);
    }

    private void run(String... command) throws Exception {
        TestPki.Result result = TestPki.run(dir, command);
        assertThat(result.exitCode()).as("%s\n%s", String.join(" ", command), result.describe()).isZero();
    }

    private boolean opensslAvailable() {
        try {
            return TestPki.run(dir, "openssl", "version").exitCode() == 0;
        } catch (Exception e) {
            return false;
        }
    }
}
