import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.TreeSet;
import java.util.jar.Attributes;
import java.util.jar.JarFile;
import java.util.jar.Manifest;
import java.util.regex.Matcher;
import java.util.regex.Pattern;

/**
 * Class-data sharing, build step (run by class-list.sh with the JDK's source launcher): prints the
 * classes that a multi-release jar of the application ships in a version directory
 * ({@code META-INF/versions/<n>/}), one internal name per line ({@code org/postgresql/util/LazyCleanerImpl}),
 * for every {@code n}. The jar itself and every jar its manifest's {@code Class-Path} names are read.
 *
 * <p>class-list.sh leaves these classes out of the class list. JDK 17 archives such a class with
 * the bytes of its versioned entry, but when a Java agent or a flight recording started with
 * {@code -XX:StartFlightRecording} watches class loading (a JVMTI ClassFileLoadHook), the JVM
 * reads an archived class's bytes again from the jar under its plain name: for a class that exists
 * only in a version directory there is none, and the JVM crashed (SIGSEGV in
 * {@code KlassFactory::check_shared_class_file_load_hook}) on the first of them the gateway loads,
 * before it was up; for one that has a plain entry as well, the agent would get the wrong bytes
 * (JDK-8343427, fixed in later JDKs by reading the bytes through the class loader). Left out, they
 * load from the jars as without an archive. Every version directory counts, also those above the
 * running JDK's: the list stays right for the JDK that writes the archive where the gateway runs.
 *
 * <pre>java VersionedClasses.java path/to/carerelay.jar</pre>
 */
public final class VersionedClasses {

    private static final Pattern VERSIONED_CLASS = Pattern.compile("META-INF/versions/[0-9]+/(.+)\\.class");

    public static void main(String[] args) throws IOException {
        if (args.length != 1) {
            System.err.println("usage: java VersionedClasses.java <application jar>");
            System.exit(2);
        }
        Path application = Path.of(args[0]);
        List<Path> jars = new ArrayList<>(List.of(application));
        try (JarFile jar = new JarFile(application.toFile())) {
            Manifest manifest = jar.getManifest();
            String classPath = manifest == null ? null : manifest.getMainAttributes().getValue(Attributes.Name.CLASS_PATH);
            if (classPath != null) {
                Path dir = application.toAbsolutePath().getParent();
                for (String entry : classPath.trim().split("\\s+")) {
                    if (!entry.isEmpty()) {
                        jars.add(dir.resolve(entry));
                    }
                }
            }
        }
        TreeSet<String> versioned = new TreeSet<>();
        for (Path path : jars) {
            if (Files.isRegularFile(path)) {
                versionedClasses(path, versioned);
            }
        }
        versioned.forEach(System.out::println);
    }

    /** Adds the classes of {@code path}'s version directories, if it is a multi-release jar. */
    static void versionedClasses(Path path, TreeSet<String> into) throws IOException {
        // not opened as a versioned jar: every entry under its own name
        try (JarFile jar = new JarFile(path.toFile())) {
            Manifest manifest = jar.getManifest();
            if (manifest == null || !"true".equalsIgnoreCase(manifest.getMainAttributes().getValue("Multi-Release"))) {
                return;
            }
            jar.stream().map(entry -> VERSIONED_CLASS.matcher(entry.getName())).filter(Matcher::matches)
                    .map(matcher -> matcher.group(1)).filter(name -> !name.endsWith("module-info"))
                    .forEach(into::add);
        }
    }
}
