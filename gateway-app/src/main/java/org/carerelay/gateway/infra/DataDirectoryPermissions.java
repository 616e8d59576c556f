package org.carerelay.gateway.infra;

import jakarta.annotation.PreDestroy;
import java.nio.file.Path;
import java.util.concurrent.Executors;
import java.util.concurrent.ScheduledExecutorService;
import java.util.concurrent.TimeUnit;
import org.carerelay.gateway.config.CareRelayProperties;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;
import org.springframework.boot.context.event.ApplicationReadyEvent;
import org.springframework.context.annotation.DependsOn;
import org.springframework.context.event.EventListener;
import org.springframework.stereotype.Component;

/**
 * Keeps everything under the data directory owner-only. The directory itself is 0700 from the
 * first start, so other local accounts cannot reach anything in it; files that libraries create
 * later with the process umask (broker journal, web server work files) are tightened at startup
 * and then every few seconds. The gateway's own secrets and outbox mail are created owner-only.
 */
@Component
// after the embedded PostgreSQL has started: its binaries are unpacked on a thread of their own
// (EmbeddedDatabaseEarlyStart), and a walk between a file's creation and its execute bit would take
// the bit away for good (the unpacked binaries are not unpacked again)
@DependsOn("embeddedDatabase")
public class DataDirectoryPermissions {

    static final long INTERVAL_SECONDS = 10;
    private static final Logger log = LoggerFactory.getLogger(DataDirectoryPermissions.class);

    private final Path dataDir;
    private final ScheduledExecutorService timer;

    public DataDirectoryPermissions(CareRelayProperties props) {
        this.dataDir = props.dataDir().toAbsolutePath().normalize();
        OwnerOnlyFiles.restrict(dataDir);
        this.timer = Executors.newSingleThreadScheduledExecutor(runnable -> {
            Thread thread = new Thread(runnable, "data-dir-permissions");
            thread.setDaemon(true);
            return thread;
        });
    }

    @EventListener(ApplicationReadyEvent.class)
    void started() {
        OwnerOnlyFiles.restrict(dataDir);
        timer.scheduleWithFixedDelay(this::tighten, INTERVAL_SECONDS, INTERVAL_SECONDS, TimeUnit.SECONDS);
    }

    private void tighten() {
        try {
            OwnerOnlyFiles.restrict(dataDir);
        } catch (RuntimeException e) {
            log.warn("Could not restrict the permissions in the data directory: {}", SafeExceptions.describe(e));
        }
    }

    @PreDestroy
    void stop() {
        timer.shutdownNow();
    }
}
