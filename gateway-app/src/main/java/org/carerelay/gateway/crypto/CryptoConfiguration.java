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
import org.carerelay.routes.crypto.ContentCipher;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;
import org.springframework.context.annotation.Bean;
import org.springframework.context.annotation.Configuration;

/**
 * The data key that encrypts messages and attachments at rest: {@code CARERELAY_DATA_KEY}
 * (base64, 32 bytes) or generated on first start into {@code <data-dir>/keys/data-key}
 * (owner-only). Every node of a cluster needs the same key.
 */
@Configuration(proxyBeanMethods = false)
public class CryptoConfiguration {

    private static final Logger log = LoggerFactory.getLogger(CryptoConfiguration.class);

    @Bean
    ContentCipher contentCipher(CareRelayProperties props) {
        String configured = props.crypto() == null ? null : props.crypto().dataKey();
        byte[] key;
        if (configured != null && !configured.isBlank()) {
            key = Base64.getDecoder().decode(configured.trim());
        } else {
            key = readOrCreate(props.dataDir().resolve("keys").resolve("data-key"));
        }
        return new AesGcmContentCipher(key);
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
