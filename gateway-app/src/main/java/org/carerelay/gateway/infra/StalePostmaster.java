package org.carerelay.gateway.infra;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.Optional;
import java.util.concurrent.TimeUnit;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * After the gateway was killed (SIGKILL, power loss) the embedded PostgreSQL server it had started
 * may still be running and hold the data directory. Stop it gracefully (SIGTERM = smart shutdown,
 * which checkpoints), so the new start finds a clean directory; PostgreSQL's own WAL recovery
 * covers the case where the server died too.
 */
final class StalePostmaster {

    private static final Logger log = LoggerFactory.getLogger(StalePostmaster.class);

    private StalePostmaster() {
    }

    static void stop(Path pgData) throws IOException {
        Path pidFile = pgData.resolve("postmaster.pid");
        if (!Files.exists(pidFile)) {
            return;
        }
        List<String> lines = Files.readAllLines(pidFile);
        if (lines.isEmpty()) {
            return;
        }
        long pid;
        try {
            pid = Long.parseLong(lines.get(0).trim());
        } catch (NumberFormatException e) {
            return;
        }
        Optional<ProcessHandle> handle = ProcessHandle.of(pid);
        if (handle.isEmpty() || !handle.get().isAlive()) {
            return;
        }
        String command = handle.get().info().command().orElse("");
        if (!command.contains("postgres") || !servesDirectory(pid, pgData)) {
            // pid reused by something else (after a reboot even another PostgreSQL); it will cope with the stale file
            return;
        }
        log.warn("Stopping an embedded PostgreSQL (pid {}) left over from an earlier run", pid);
        handle.get().destroy();
        try {
            handle.get().onExit().get(30, TimeUnit.SECONDS);
        } catch (Exception e) {
            handle.get().destroyForcibly();
        }
    }

    /**
     * Whether process {@code pid} works in {@code pgData}: a postmaster changes into its data
     * directory at start. Without {@code /proc} (not Linux) only the command name is checked; a
     * process whose working directory cannot be read (another user's) is left alone.
     */
    static boolean servesDirectory(long pid, Path pgData) {
        if (!Files.isDirectory(Path.of("/proc", "self"))) {
            return true;
        }
        try {
            return Files.readSymbolicLink(Path.of("/proc", Long.toString(pid), "cwd")).equals(pgData.toRealPath());
        } catch (IOException | UnsupportedOperationException | SecurityException e) {
            return false;
        }
    }
}
