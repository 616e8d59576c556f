package org.carerelay.gateway.security;

import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.FileSystems;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardCopyOption;
import java.nio.file.attribute.PosixFilePermissions;
import org.carerelay.gateway.config.CareRelayProperties;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;
import org.springframework.stereotype.Component;

/**
 * The operator's admin token: {@code CARERELAY_ADMIN_TOKEN} if set, otherwise generated on first
 * start into {@code <data-dir>/admin-token} (owner read/write only) and reused afterwards. Only
 * its hash is kept in memory.
 */
@Component
public class AdminToken {

    private static final Logger log = LoggerFactory.getLogger(AdminToken.class);
    private final String hash;

    public AdminToken(CareRelayProperties props) {
        String configured = props.security().adminToken();
        if (configured != null && !configured.isBlank()) {
            if (configured.length() < 16) {
                throw new IllegalStateException("carerelay.security.admin-token must have at least 16 characters");
            }
            this.hash = Tokens.sha256(configured.trim());
        } else {
            this.hash = Tokens.sha256(readOrCreate(props.dataDir().resolve("admin-token")));
        }
    }

    private static String readOrCreate(Path file) {
        try {
            if (Files.exists(file)) {
                return Files.readString(file, StandardCharsets.UTF_8).trim();
            }
            Files.createDirectories(file.toAbsolutePath().getParent());
            String token = Tokens.newToken();
            Path tmp = file.resolveSibling(file.getFileName() + ".tmp");
            Files.deleteIfExists(tmp);
            if (FileSystems.getDefault().supportedFileAttributeViews().contains("posix")) {
                Files.createFile(tmp, PosixFilePermissions.asFileAttribute(PosixFilePermissions.fromString("rw-------")));
            } else {
                Files.createFile(tmp);
            }
            Files.writeString(tmp, token + "\n", StandardCharsets.UTF_8);
            Files.move(tmp, file, StandardCopyOption.ATOMIC_MOVE);
            log.info("Generated the admin token into {} (owner-only permissions)", file);
            return token;
        } catch (IOException e) {
            throw new UncheckedIOException("Cannot read or create the admin token file " + file, e);
        }
    }

    public boolean matches(String presented) {
        return presented != null && Tokens.hashEquals(hash, Tokens.sha256(presented));
    }
}
