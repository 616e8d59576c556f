package org.carerelay.gateway.infra;

import java.io.IOException;
import java.nio.ByteBuffer;
import java.nio.channels.FileChannel;
import java.nio.channels.FileLock;
import java.nio.channels.OverlappingFileLockException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardOpenOption;
import java.util.Map;
import java.util.concurrent.ConcurrentHashMap;

/**
 * One gateway per data directory: an exclusive lock on {@code <data-dir>/gateway.lock}, taken
 * before the embedded PostgreSQL or Artemis starts and held for the life of the JVM (the operating
 * system releases it when the process ends, also after SIGKILL). A second gateway on the same
 * directory stops at once with a sentence naming the directory, instead of reaching the embedded
 * server's own lock (or stopping the first gateway's PostgreSQL as a left-over) half a minute later.
 * The lock file holds the process id of the gateway that owns it.
 */
public final class DataDirectoryLock {

    static final String FILE_NAME = "gateway.lock";
    private static final Map<Path, FileLock> HELD = new ConcurrentHashMap<>();

    private DataDirectoryLock() {
    }

    /** Takes the lock (again a no-op when this JVM holds it already); throws {@link StartupFailure} when another process holds it. */
    public static void acquire(Path dataDir) {
        Path dir = dataDir.toAbsolutePath().normalize();
        HELD.computeIfAbsent(dir, DataDirectoryLock::lock);
    }

    private static FileLock lock(Path dir) {
        Path file = dir.resolve(FILE_NAME);
        FileChannel channel = null;
        try {
            Files.createDirectories(dir); // made owner-only right after, before anything is stored in it
            channel = FileChannel.open(file, StandardOpenOption.CREATE, StandardOpenOption.READ, StandardOpenOption.WRITE);
            FileLock lock;
            try {
                lock = channel.tryLock();
            } catch (OverlappingFileLockException e) {
                lock = null;
            }
            if (lock == null) {
                String owner = owner(file);
                channel.close();
                throw new StartupFailure("The data directory " + dir + " is in use by another CareRelay gateway"
                        + (owner.isEmpty() ? "" : " (process " + owner + ")") + ".",
                        "Stop that gateway, or give this one a directory of its own with CARERELAY_DATA_DIR (carerelay.data-dir).");
            }
            channel.truncate(0);
            channel.write(ByteBuffer.wrap((ProcessHandle.current().pid() + "\n").getBytes(StandardCharsets.US_ASCII)), 0);
            channel.force(false);
            return lock; // the channel stays open as long as the lock is held
        } catch (IOException e) {
            closeQuietly(channel);
            throw new StartupFailure("The data directory " + dir + " cannot be used: " + SafeExceptions.describe(e) + ".",
                    "Check that the directory named by CARERELAY_DATA_DIR (carerelay.data-dir) is writable by this user.");
        }
    }

    private static String owner(Path file) {
        try {
            return Files.readString(file, StandardCharsets.US_ASCII).strip();
        } catch (IOException e) {
            return "";
        }
    }

    private static void closeQuietly(FileChannel channel) {
        if (channel != null) {
            try {
                channel.close();
            } catch (IOException ignored) {
                // nothing held
            }
        }
    }
}
