package org.carerelay.gateway.infra;

import static org.assertj.core.api.Assertions.assertThat;
import static org.junit.jupiter.api.Assumptions.assumeTrue;

import java.nio.file.Files;
import java.nio.file.Path;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * The left-over postmaster named in {@code postmaster.pid} is stopped only when it is the server
 * of that data directory: after a reboot the pid may belong to another process, even to another
 * PostgreSQL on the host. A process named {@code postgres} stands in for one here.
 */
class StalePostmasterTest {

    @TempDir
    Path dir;

    @Test
    void aPostgresProcessOfAnotherDataDirectory_isLeftRunning_theOneOfThisDirectoryIsStopped() throws Exception {
        assumeTrue(Files.isDirectory(Path.of("/proc/self")), "Linux /proc");
        Path fake = dir.resolve("bin").resolve("postgres");
        Files.createDirectories(fake.getParent());
        Files.copy(Path.of("/bin/sleep"), fake);
        fake.toFile().setExecutable(true);
        Path pgData = Files.createDirectories(dir.resolve("node").resolve("postgres"));
        Path otherData = Files.createDirectories(dir.resolve("other").resolve("postgres"));

        Process foreign = new ProcessBuilder(fake.toString(), "60").directory(otherData.toFile()).start();
        try {
            Files.writeString(pgData.resolve("postmaster.pid"), foreign.pid() + "\n" + pgData + "\n");
            assertThat(StalePostmaster.servesDirectory(foreign.pid(), pgData)).isFalse();
            StalePostmaster.stop(pgData);
            assertThat(foreign.isAlive()).as("another data directory's server").isTrue();
        } finally {
            foreign.destroyForcibly();
        }

        Process own = new ProcessBuilder(fake.toString(), "60").directory(pgData.toFile()).start();
        try {
            Files.writeString(pgData.resolve("postmaster.pid"), own.pid() + "\n" + pgData + "\n");
            assertThat(StalePostmaster.servesDirectory(own.pid(), pgData)).isTrue();
            StalePostmaster.stop(pgData);
            assertThat(own.waitFor(10, TimeUnit.SECONDS)).as("this data directory's left-over server stopped").isTrue();
        } finally {
            own.destroyForcibly();
        }
    }
}
