package org.carerelay.gateway.security;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;
import static org.awaitility.Awaitility.await;
import static org.junit.jupiter.api.Assumptions.assumeTrue;

import com.zaxxer.hikari.HikariDataSource;
import java.nio.file.FileSystems;
import java.nio.file.Files;
import java.nio.file.LinkOption;
import java.nio.file.Path;
import java.nio.file.attribute.PosixFilePermission;
import java.nio.file.attribute.PosixFilePermissions;
import java.sql.Connection;
import java.sql.DriverManager;
import java.sql.SQLException;
import java.time.Duration;
import java.util.ArrayList;
import java.util.EnumSet;
import java.util.List;
import java.util.Set;
import java.util.stream.Stream;
import javax.sql.DataSource;
import org.carerelay.gateway.GatewayIntegrationTest;
import org.carerelay.gateway.config.CareRelayProperties;
import org.junit.jupiter.api.Test;
import org.springframework.beans.factory.annotation.Autowired;

/** What another account on the gateway's host can reach: neither the database nor the data directory. */
class LocalExposureIT extends GatewayIntegrationTest {

    private static final Set<PosixFilePermission> OTHERS = EnumSet.of(PosixFilePermission.GROUP_READ,
            PosixFilePermission.GROUP_WRITE, PosixFilePermission.GROUP_EXECUTE, PosixFilePermission.OTHERS_READ,
            PosixFilePermission.OTHERS_WRITE, PosixFilePermission.OTHERS_EXECUTE);

    @Autowired
    DataSource dataSource;

    @Autowired
    CareRelayProperties props;

    @Test
    void localAccountConnectingToTheEmbeddedPostgresWithoutPassword_isRefused() throws Exception {
        String url = dataSource.unwrap(HikariDataSource.class).getJdbcUrl().replaceAll("\\?.*$", "");
        assertThat(url).startsWith("jdbc:postgresql://localhost:");

        assertThatThrownBy(() -> DriverManager.getConnection(url + "?user=postgres").close())
                .isInstanceOf(SQLException.class)
                .satisfies(e -> assertThat(((SQLException) e).getSQLState()).isIn("28000", "28P01", "08004"));
        assertThatThrownBy(() -> DriverManager.getConnection(url, "postgres", "guessed-password").close())
                .isInstanceOf(SQLException.class)
                .satisfies(e -> assertThat(((SQLException) e).getSQLState()).isEqualTo("28P01"));

        String password = Files.readString(props.dataDir().resolve("keys").resolve("db-password")).trim();
        try (Connection connection = DriverManager.getConnection(url, "postgres", password)) {
            assertThat(connection.isValid(5)).isTrue();
        }
    }

    @Test
    void localAccountLookingIntoTheDataDirectory_findsNothingItMayReadOrWrite() throws Exception {
        assumeTrue(FileSystems.getDefault().supportedFileAttributeViews().contains("posix"));
        Path dataDir = props.dataDir().toAbsolutePath().normalize();
        assertThat(PosixFilePermissions.toString(Files.getPosixFilePermissions(dataDir))).isEqualTo("rwx------");
        for (String part : List.of("postgres", "postgres-bin", "artemis", "keys")) {
            assertThat(dataDir.resolve(part)).exists();
        }
        // files libraries create later with the process umask are tightened within the interval
        await().atMost(Duration.ofSeconds(30)).pollInterval(Duration.ofSeconds(1)).ignoreExceptions()
                .untilAsserted(() -> assertThat(exposed(dataDir)).isEmpty());
    }

    private static List<String> exposed(Path dir) throws Exception {
        List<String> found = new ArrayList<>();
        try (Stream<Path> paths = Files.walk(dir)) {
            for (Path path : paths.toList()) {
                try {
                    Set<PosixFilePermission> perms = Files.getPosixFilePermissions(path, LinkOption.NOFOLLOW_LINKS);
                    if (!Files.isSymbolicLink(path) && perms.stream().anyMatch(OTHERS::contains)) {
                        found.add(dir.relativize(path) + " " + PosixFilePermissions.toString(perms));
                    }
                } catch (java.nio.file.NoSuchFileException e) {
                    // removed meanwhile
                }
            }
        }
        return found;
    }
}
