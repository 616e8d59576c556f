import java.io.BufferedInputStream;
import java.io.BufferedOutputStream;
import java.io.File;
import java.io.InputStream;
import java.io.OutputStream;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.security.DigestInputStream;
import java.security.MessageDigest;
import java.util.ArrayList;
import java.util.HexFormat;
import java.util.List;
import java.util.jar.JarEntry;
import java.util.jar.JarFile;
import org.tukaani.xz.XZInputStream;

/**
 * Build step (package phase runs it from source, {@code java -cp <compile class path> PostgresTar.java
 * <out dir>}): the embedded PostgreSQL's binaries come from zonky's binaries jar as a tar compressed
 * with xz, which the library unpacks at a gateway's first start with the pure-Java xz decoder (3.6 s
 * on 2 cores, in a start that is CPU-bound). This writes the same tar uncompressed as
 * {@code <out dir>/carerelay/postgres.tar} (the jar it ends up in compresses it with deflate, which
 * the JDK inflates natively) and the SHA-256 of the xz archive as {@code carerelay/postgres.sha256}.
 * The binaries jar is the one jar on the class path with a {@code .txz} at its root.
 */
public class PostgresTar {

    public static void main(String[] args) throws Exception {
        Path out = Path.of(args[0], "carerelay");
        List<String> found = new ArrayList<>();
        for (String entry : System.getProperty("java.class.path").split(File.pathSeparator)) {
            if (!entry.endsWith(".jar") || !Files.isRegularFile(Path.of(entry))) {
                continue;
            }
            try (JarFile jar = new JarFile(entry)) {
                for (JarEntry e : jar.stream().toList()) {
                    if (!e.getName().contains("/") && e.getName().endsWith(".txz")) {
                        found.add(entry + "!/" + e.getName());
                        Files.createDirectories(out);
                        MessageDigest sha256 = MessageDigest.getInstance("SHA-256");
                        try (InputStream raw = new DigestInputStream(new BufferedInputStream(jar.getInputStream(e)), sha256);
                                InputStream xz = new XZInputStream(raw);
                                OutputStream tar = new BufferedOutputStream(Files.newOutputStream(out.resolve("postgres.tar")))) {
                            xz.transferTo(tar);
                            raw.transferTo(OutputStream.nullOutputStream()); // the digest covers the whole archive
                        }
                        Files.writeString(out.resolve("postgres.sha256"), HexFormat.of().formatHex(sha256.digest()) + "\n",
                                StandardCharsets.US_ASCII);
                    }
                }
            }
        }
        if (found.size() != 1) {
            throw new IllegalStateException("expected one PostgreSQL binaries archive (.txz) on the class path, found " + found);
        }
        System.out.println("PostgresTar: " + found.get(0) + " -> " + out.resolve("postgres.tar"));
    }
}
