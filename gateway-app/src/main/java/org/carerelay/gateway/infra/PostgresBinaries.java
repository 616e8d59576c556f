package org.carerelay.gateway.infra;

import io.zonky.test.db.postgres.embedded.PgBinaryResolver;
import java.io.BufferedInputStream;
import java.io.ByteArrayInputStream;
import java.io.IOException;
import java.io.InputStream;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardCopyOption;
import java.nio.file.attribute.PosixFilePermission;
import java.security.MessageDigest;
import java.security.NoSuchAlgorithmException;
import java.util.EnumSet;
import java.util.HexFormat;
import java.util.Optional;
import java.util.Set;
import java.util.stream.Stream;
import org.apache.commons.compress.archivers.tar.TarArchiveEntry;
import org.apache.commons.compress.archivers.tar.TarArchiveInputStream;
import org.springframework.util.FileSystemUtils;

/**
 * The embedded PostgreSQL's binaries as the build ships them: zonky's archive of one platform,
 * unpacked from xz by the build into a plain tar in the gateway's jar ({@code carerelay/postgres.tar},
 * with the xz archive's SHA-256 in {@code carerelay/postgres.sha256}). zonky unpacks its own archive
 * with the pure-Java xz decoder, 3.6 s of a first start that is CPU-bound on 2 cores, and reads and
 * hashes the whole 14 MB archive at every start; the plain tar is inflated natively by the jar.
 *
 * <p>{@link #unpack} writes the binaries into the directory zonky looks in ({@code PG-<MD5 of what the
 * resolver returns>} in its working directory) and marks them complete the way zonky does (a file
 * {@code .exists}, written last); as the {@link PgBinaryResolver} this object then returns the SHA-256
 * text, so that zonky finds that directory complete and unpacks nothing. An interrupted unpacking
 * leaves no mark and is done again at the next start.
 */
final class PostgresBinaries implements PgBinaryResolver {

    static final String TAR = "carerelay/postgres.tar";
    static final String ID = "carerelay/postgres.sha256";
    private static final Set<PosixFilePermission> EXECUTE = EnumSet.of(PosixFilePermission.OWNER_EXECUTE,
            PosixFilePermission.GROUP_EXECUTE, PosixFilePermission.OTHERS_EXECUTE);

    private final byte[] id;

    private PostgresBinaries(byte[] id) {
        this.id = id;
    }

    /** The binaries the build put into the jar; empty where it did not (zonky's own archive then). */
    static Optional<PostgresBinaries> shipped() {
        ClassLoader loader = PostgresBinaries.class.getClassLoader();
        try (InputStream in = loader.getResourceAsStream(ID)) {
            if (in == null || loader.getResource(TAR) == null) {
                return Optional.empty();
            }
            return Optional.of(new PostgresBinaries(in.readAllBytes()));
        } catch (IOException e) {
            return Optional.empty();
        }
    }

    /** What zonky hashes to name the binaries' directory. */
    @Override
    public InputStream getPgBinary(String system, String machineHardware) {
        return new ByteArrayInputStream(id);
    }

    /** The directory zonky takes the binaries from, under its working directory. */
    Path directory(Path workingDirectory) {
        try {
            return workingDirectory.resolve("PG-" + HexFormat.of().formatHex(MessageDigest.getInstance("MD5").digest(id)));
        } catch (NoSuchAlgorithmException e) {
            throw new IllegalStateException(e);
        }
    }

    /**
     * Unpacks the binaries into {@link #directory} unless they are complete there already, and removes
     * the other binaries' directories in {@code workingDirectory} (those zonky unpacked before, or of
     * an earlier release; no server runs from them while the gateway starts). Returns whether it
     * unpacked.
     */
    boolean unpack(Path workingDirectory) throws IOException {
        Path dir = directory(workingDirectory);
        Path complete = dir.resolve(".exists");
        boolean unpacked = false;
        if (!isComplete(dir)) {
            Files.deleteIfExists(complete);
            Files.createDirectories(dir);
            unpackInto(dir);
            Files.writeString(complete, "", StandardCharsets.US_ASCII);
            unpacked = true;
        }
        try (Stream<Path> others = Files.list(workingDirectory)) {
            for (Path other : others.filter(p -> p.getFileName().toString().startsWith("PG-") && !p.equals(dir)).toList()) {
                FileSystemUtils.deleteRecursively(other);
            }
        }
        return unpacked;
    }

    /**
     * zonky's test, which decides whether it unpacks: the mark is there, written after the
     * directory's last change and after every other entry in it.
     */
    static boolean isComplete(Path dir) throws IOException {
        Path complete = dir.resolve(".exists");
        if (!Files.isRegularFile(complete)) {
            return false;
        }
        long marked = Files.getLastModifiedTime(complete).toMillis();
        long newest = Long.MAX_VALUE; // nothing but the mark: not complete
        try (Stream<Path> entries = Files.list(dir)) {
            for (Path entry : entries.filter(p -> !p.equals(complete)).toList()) {
                long modified = Files.getLastModifiedTime(entry).toMillis();
                newest = newest == Long.MAX_VALUE ? modified : Math.max(newest, modified);
            }
        }
        return Files.getLastModifiedTime(dir).toMillis() - 100 <= marked && newest <= marked;
    }

    private static void unpackInto(Path dir) throws IOException {
        try (InputStream resource = PostgresBinaries.class.getClassLoader().getResourceAsStream(TAR);
                TarArchiveInputStream tar = new TarArchiveInputStream(new BufferedInputStream(resource, 1 << 16))) {
            TarArchiveEntry entry;
            while ((entry = tar.getNextEntry()) != null) {
                Path target = dir.resolve(entry.getName()).normalize();
                if (!target.startsWith(dir) || target.equals(dir)) {
                    continue; // "./" itself, or a name that leaves the directory
                }
                if (entry.isDirectory()) {
                    Files.createDirectories(target);
                } else if (entry.isSymbolicLink()) {
                    Files.createDirectories(target.getParent());
                    Files.deleteIfExists(target);
                    Files.createSymbolicLink(target, Path.of(entry.getLinkName()));
                } else if (entry.isFile()) {
                    Files.createDirectories(target.getParent());
                    Files.copy(tar, target, StandardCopyOption.REPLACE_EXISTING);
                    if ((entry.getMode() & 0111) != 0) {
                        Set<PosixFilePermission> permissions = EnumSet.copyOf(Files.getPosixFilePermissions(target));
                        permissions.addAll(EXECUTE);
                        Files.setPosixFilePermissions(target, permissions);
                    }
                } else {
                    throw new IOException("unexpected entry in the PostgreSQL binaries: " + entry.getName());
                }
            }
        }
    }
}
