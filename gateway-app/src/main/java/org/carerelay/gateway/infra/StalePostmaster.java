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
        if (!command.contains("postgres")) {
            return; // pid reused by something else; PostgreSQL will cope with the stale file
        }
        log.warn("Stopping an embedded PostgreSQL (pid {}) left over from an earlier run", pid);
        handle.get().destroy();
        try {
            handle.get().onExit().get(30, TimeUnit.SECONDS);
        } catch (Exception e) {
            handle.get().destroyForcibly();
        }
    }
}
