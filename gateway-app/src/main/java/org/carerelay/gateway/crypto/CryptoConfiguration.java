package org.carerelay.gateway.crypto;

import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.file.FileSystems;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardCopyOption;
import java.nio.file.attribute.PosixFilePermissions;
import java.security.SecureRandom;
import java.util.Base64;
import org.carerelay.gateway.config.CareRelayProperties;
import org.carerelay.routes.crypto.AesGcmContentCipher;
import org.carerelay.routes.crypto.AttachmentCrypto;
import org.carerelay.routes.crypto.CmsAttachmentCrypto;
import org.carerelay.routes.crypto.ContentCipher;
import org.carerelay.routes.crypto.JdkCryptoWarmUp;
import org.carerelay.routes.crypto.Pkcs12GatewayKeys;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;
import org.springframework.boot.context.event.ApplicationReadyEvent;
import org.springframework.context.ApplicationListener;
import org.springframework.context.annotation.Bean;
import org.springframework.context.annotation.Configuration;

/**
 * Key material. The data key encrypts messages at rest: {@code CARERELAY_DATA_KEY} (base64, 32
 * bytes) or generated on first start into {@code <data-dir>/keys/data-key}. Attachments are
 * signed and encrypted with the keys of a PKCS#12 keystore: {@code carerelay.crypto.keystore} and
 * {@code carerelay.crypto.keystore-password}, or, when no keystore is configured, one created on
 * first start in {@code <data-dir>/keys/carerelay.p12} with a small CA, a signing key and a
 * storage key (password in {@code <data-dir>/keys/keystore-password}). Files are owner-only.
 * Every node of a cluster needs the same keys.
 */
@Configuration(proxyBeanMethods = false)
public class CryptoConfiguration {

    private static final Logger log = LoggerFactory.getLogger(CryptoConfiguration.class);

    @Bean
    ContentCipher contentCipher(CareRelayProperties props) {
        String configured = required(props.crypto() == null ? null : props.crypto().dataKey(), "CARERELAY_DATA_KEY");
        byte[] key;
        if (configured != null && !configured.isBlank()) {
            key = Base64.getDecoder().decode(configured.trim());
        } else {
            key = readOrCreate(props.dataDir().resolve("keys").resolve("data-key"));
        }
        return new AesGcmContentCipher(key);
    }

    @Bean
    Pkcs12GatewayKeys gatewayKeys(CareRelayProperties props) {
        CareRelayProperties.Crypto crypto = props.crypto();
        String keystore = required(crypto == null ? null : crypto.keystore(), "CARERELAY_CRYPTO_KEYSTORE");
        if (keystore != null && !keystore.isBlank()) {
            String password = required(crypto.keystorePassword(), "CARERELAY_CRYPTO_KEYSTORE_PASSWORD");
            if (password == null || password.isEmpty()) {
                throw new IllegalStateException("carerelay.crypto.keystore is set, so carerelay.crypto.keystore-password must be too");
            }
            Pkcs12GatewayKeys keys = Pkcs12GatewayKeys.load(Path.of(keystore), password.toCharArray());
            log.info("Attachment keys from the configured keystore; storage key {}", keys.currentStorageKey().alias());
            return keys;
        }
        Path dir = props.dataDir().resolve("keys");
        Pkcs12GatewayKeys keys = Pkcs12GatewayKeys.createIfAbsent(dir.resolve("carerelay.p12"), dir.resolve("keystore-password"),
                "CareRelay");
        log.info("Attachment keys from {} (owner-only); storage key {}", dir.resolve("carerelay.p12"),
                keys.currentStorageKey().alias());
        return keys;
    }

    @Bean
    AttachmentCrypto attachmentCrypto(Pkcs12GatewayKeys keys) {
        return new CmsAttachmentCrypto(keys);
    }

    /** Lets the JIT compile the JDK's AES and SHA-256 intrinsics in the background once the gateway is up. */
    @Bean
    ApplicationListener<ApplicationReadyEvent> cryptoWarmUp() {
        return event -> {
            Thread thread = new Thread(() -> log.debug("AES-GCM and SHA-256 warmed up in {} ms", JdkCryptoWarmUp.run()),
                    "crypto-warm-up");
            thread.setDaemon(true);
            thread.setPriority(Thread.MIN_PRIORITY);
            thread.start();
        };
    }

    /**
     * A setting that a profile demands from the environment (the production profile writes
     * {@code ${CARERELAY_...}} without a default) arrives unresolved when the variable is missing:
     * stop with a clear message instead of using the placeholder as a value.
     */
    static String required(String value, String variable) {
        if (value != null && value.startsWith("${")) {
            throw new IllegalStateException(variable + " is not set; this profile needs it (the same value on every node)");
        }
        return value;
    }

    private static byte[] readOrCreate(Path file) {
        try {
            if (Files.exists(file)) {
                return Base64.getDecoder().decode(Files.readString(file).trim());
            }
            Files.createDirectories(file.toAbsolutePath().getParent());
            byte[] key = new byte[32];
            new SecureRandom().nextBytes(key);
            Path tmp = file.resolveSibling(file.getFileName() + ".tmp");
            Files.deleteIfExists(tmp);
            if (FileSystems.getDefault().supportedFileAttributeViews().contains("posix")) {
                Files.createFile(tmp, PosixFilePermissions.asFileAttribute(PosixFilePermissions.fromString("rw-------")));
            } else {
                Files.createFile(tmp);
            }
            Files.writeString(tmp, Base64.getEncoder().encodeToString(key) + "\n");
            Files.move(tmp, file, StandardCopyOption.ATOMIC_MOVE);
            log.info("Generated the data key into {} (owner-only permissions); back it up", file);
            return key;
        } catch (IOException e) {
            throw new UncheckedIOException("Cannot read or create the data key " + file, e);
        }
    }
}
