package org.carerelay.gateway.infra;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import io.zonky.test.db.postgres.embedded.EmbeddedPostgres;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.attribute.PosixFilePermissions;
import java.sql.Connection;
import java.sql.DriverManager;
import java.sql.SQLException;
import java.sql.Statement;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * A data directory of the earlier release: its cluster trusted every local connection and its
 * superuser had no password, and its binaries were unpacked world-writable. The new release
 * keeps the data and closes both on its first start.
 */
class EmbeddedDatabaseUpgradeTest {

    @Test
    void clusterOfTheEarlierRelease_keepsItsData_andRequiresThePasswordAfterTheFirstStart(@TempDir Path dataDir)
            throws Exception {
        Path pgData = dataDir.resolve("postgres");
        Path pgBin = dataDir.resolve("postgres-bin");
        Files.createDirectories(pgData);
        Files.createDirectories(pgBin);
        try (EmbeddedPostgres old = EmbeddedPostgres.builder().setDataDirectory(pgData.toFile())
                .setCleanDataDirectory(false).setOverrideWorkingDirectory(pgBin.toFile()).start();
                Connection connection = DriverManager.getConnection(old.getJdbcUrl("postgres", "postgres"));
                Statement statement = connection.createStatement()) {
            statement.execute("create table kept (v text)");
            statement.execute("insert into kept values ('from the earlier release')");
        }
        Files.setPosixFilePermissions(pgBin, PosixFilePermissions.fromString("rwxrwxrwx"));

        try (DatabaseConfiguration.EmbeddedDatabase upgraded = DatabaseConfiguration.EmbeddedDatabase.start(dataDir, false)) {
            String url = upgraded.jdbcUrl().replaceAll("\\?.*$", "");
            assertThatThrownBy(() -> DriverManager.getConnection(url + "?user=postgres").close())
                    .isInstanceOf(SQLException.class);
            String password = Files.readString(dataDir.resolve("keys").resolve("db-password")).trim();
            try (Connection connection = DriverManager.getConnection(url, "postgres", password);
                    Statement statement = connection.createStatement();
                    var rows = statement.executeQuery("select v from kept")) {
                assertThat(rows.next()).isTrue();
                assertThat(rows.getString(1)).isEqualTo("from the earlier release");
            }
            assertThat(Files.readString(pgData.resolve("pg_hba.conf"))).doesNotContain("trust");
            assertThat(PosixFilePermissions.toString(Files.getPosixFilePermissions(pgBin))).isEqualTo("rwx------");
            assertThat(PosixFilePermissions.toString(Files.getPosixFilePermissions(
                    dataDir.resolve("keys").resolve("db-password")))).isEqualTo("rw-------");
        }

        // and the next start finds everything in place
        try (DatabaseConfiguration.EmbeddedDatabase again = DatabaseConfiguration.EmbeddedDatabase.start(dataDir, false)) {
            String password = Files.readString(dataDir.resolve("keys").resolve("db-password")).trim();
            try (Connection connection = DriverManager.getConnection(again.jdbcUrl(), "postgres", password)) {
                assertThat(connection.isValid(5)).isTrue();
            }
        }
    }
}
