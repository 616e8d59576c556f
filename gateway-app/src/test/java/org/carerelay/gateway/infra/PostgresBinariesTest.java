package org.carerelay.gateway.infra;

import static org.assertj.core.api.Assertions.assertThat;

import io.zonky.test.db.postgres.embedded.EmbeddedPostgres;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.attribute.FileTime;
import java.sql.Connection;
import java.sql.ResultSet;
import java.util.stream.Stream;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * The PostgreSQL binaries the build ships as a plain tar (see {@code src/build/PostgresTar.java}):
 * unpacked once, complete by zonky's own test, and taken by zonky without unpacking its archive.
 */
class PostgresBinariesTest {

    @TempDir
    Path dir;

    @Test
    void theBuildShipsThem_unpackedOnce_withExecutablesAndLinks_olderBinariesRemoved() throws Exception {
        PostgresBinaries binaries = PostgresBinaries.shipped().orElseThrow(() -> new AssertionError(
                "no " + PostgresBinaries.TAR + " on the class path: the process-resources phase writes it"));
        Path earlier = Files.createDirectories(dir.resolve("PG-0123456789abcdef").resolve("bin"));
        Files.writeString(earlier.resolve("postgres"), "an earlier release's binaries");

        assertThat(binaries.unpack(dir)).as("unpacked at the first start").isTrue();
        Path bin = binaries.directory(dir);
        assertThat(PostgresBinaries.isComplete(bin)).isTrue();
        assertThat(bin.resolve("bin/postgres")).isExecutable();
        assertThat(bin.resolve("bin/initdb")).isExecutable();
        assertThat(bin.resolve("bin/pg_ctl")).isExecutable();
        try (Stream<Path> lib = Files.list(bin.resolve("lib"))) {
            assertThat(lib.filter(Files::isSymbolicLink).toList()).as("the libraries' version links").isNotEmpty()
                    .allSatisfy(link -> assertThat(link).exists()); // resolves within lib/
        }
        assertThat(dir.resolve("PG-0123456789abcdef")).as("the earlier binaries are removed").doesNotExist();

        FileTime marked = Files.getLastModifiedTime(bin.resolve(".exists"));
        assertThat(binaries.unpack(dir)).as("not again at a restart").isFalse();
        assertThat(Files.getLastModifiedTime(bin.resolve(".exists"))).isEqualTo(marked);
    }

    @Test
    void anInterruptedUnpacking_isDoneAgain() throws Exception {
        PostgresBinaries binaries = PostgresBinaries.shipped().orElseThrow();
        Path bin = binaries.directory(dir);
        Files.createDirectories(bin.resolve("bin"));
        Files.writeString(bin.resolve("bin/postgres"), "half written");
        assertThat(PostgresBinaries.isComplete(bin)).isFalse();

        assertThat(binaries.unpack(dir)).isTrue();
        assertThat(PostgresBinaries.isComplete(bin)).isTrue();
        assertThat(Files.size(bin.resolve("bin/postgres"))).isGreaterThan(1_000_000);
    }

    @Test
    void zonkyStartsAServerFromThem_withoutUnpackingItsArchive() throws Exception {
        PostgresBinaries binaries = PostgresBinaries.shipped().orElseThrow();
        Path bin = dir.resolve("postgres-bin");
        Files.createDirectories(bin);
        binaries.unpack(bin);
        FileTime marked = Files.getLastModifiedTime(binaries.directory(bin).resolve(".exists"));
        try (EmbeddedPostgres pg = EmbeddedPostgres.builder()
                .setPgBinaryResolver(binaries)
                .setOverrideWorkingDirectory(bin.toFile())
                .setDataDirectory(dir.resolve("data").toFile())
                .start();
                Connection connection = pg.getPostgresDatabase().getConnection();
                ResultSet version = connection.createStatement().executeQuery("show server_version")) {
            assertThat(version.next()).isTrue();
            assertThat(version.getString(1)).startsWith("14.");
        }
        try (Stream<Path> dirs = Files.list(bin)) {
            assertThat(dirs.toList()).as("zonky unpacked nothing of its own").containsExactly(binaries.directory(bin));
        }
        assertThat(Files.getLastModifiedTime(binaries.directory(bin).resolve(".exists"))).isEqualTo(marked);
    }
}
