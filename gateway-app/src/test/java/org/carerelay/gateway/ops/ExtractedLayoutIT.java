package org.carerelay.gateway.ops;

import static org.assertj.core.api.Assertions.assertThat;

import java.io.File;
import java.io.IOException;
import java.net.URL;
import java.net.URLClassLoader;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.Paths;
import java.nio.file.attribute.FileTime;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.Comparator;
import java.util.List;
import java.util.Set;
import java.util.TreeSet;
import java.util.jar.Attributes;
import java.util.jar.JarEntry;
import java.util.jar.JarFile;
import java.util.jar.JarOutputStream;
import java.util.jar.Manifest;
import java.util.stream.Collectors;
import org.carerelay.gateway.GatewayProcess;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.parallel.Execution;
import org.junit.jupiter.api.parallel.ExecutionMode;

/**
 * The unpacked application the package phase writes (target/carerelay: carerelay.jar and lib/),
 * which the README's {@code java -jar} line and the systemd unit start: the jar names the main
 * class, every library its manifest's {@code Class-Path} lists is there, and a class loader over
 * the jar alone (as {@code java -jar} makes one) finds the gateway and the libraries it starts with.
 * Runs after {@code package} (failsafe). The class-data archive the README's line names:
 * {@code carerelay-cds.sh} writes one from the class list the build recorded (also when the java
 * line has a Java agent and a flight recording), the JVM accepts it for the jar and finds the
 * gateway's and its libraries' classes in it, a JVM with a Java agent or a recording that watches
 * class loading runs with it, a second call (with and without them) keeps it, and the JVM refuses
 * it once a library changed. Runs beside {@code ContainerImageIT} (junit-platform.properties):
 * writing the archive keeps one core busy for 40 s, and the two share nothing.
 */
@Execution(ExecutionMode.CONCURRENT)
class ExtractedLayoutIT {

    private static final Path DIR = Paths.get(System.getProperty("extracted.dir", "target/carerelay"));

    @Test
    void carerelayJar_namesItsMainClassAndEveryLibraryIsNextToIt() throws IOException {
        Path jar = DIR.resolve("carerelay.jar");
        assertThat(jar).as("the package phase unpacks the executable jar").isRegularFile();
        try (JarFile file = new JarFile(jar.toFile())) {
            Attributes main = file.getManifest().getMainAttributes();
            assertThat(main.getValue(Attributes.Name.MAIN_CLASS)).isEqualTo("org.carerelay.gateway.CareRelayApplication");
            List<String> classPath = Arrays.asList(main.getValue(Attributes.Name.CLASS_PATH).split(" "));
            assertThat(classPath).hasSizeGreaterThan(100).allSatisfy(entry -> {
                assertThat(entry).startsWith("lib/");
                assertThat(DIR.resolve(entry)).isRegularFile();
            });
            try (var libs = Files.list(DIR.resolve("lib"))) {
                assertThat(libs.map(p -> "lib/" + p.getFileName()).toList())
                        .as("nothing in lib/ that the jar does not use").containsExactlyInAnyOrderElementsOf(classPath);
            }
        }
    }

    @Test
    void aClassLoaderOverTheJarAlone_findsTheGatewayAndItsLibraries() throws Exception {
        try (URLClassLoader loader = new URLClassLoader(new URL[] {DIR.resolve("carerelay.jar").toUri().toURL()},
                ClassLoader.getPlatformClassLoader())) {
            for (String name : List.of("org.carerelay.gateway.CareRelayApplication", "org.carerelay.routes.crypto.CmsAttachmentCrypto",
                    "org.springframework.boot.SpringApplication", "org.apache.camel.CamelContext",
                    "ca.uhn.fhir.context.FhirContext", "org.apache.activemq.artemis.core.server.ActiveMQServer",
                    "io.zonky.test.db.postgres.embedded.EmbeddedPostgres")) {
                assertThat(Class.forName(name, false, loader).getClassLoader()).as(name).isSameAs(loader);
            }
        }
    }

    /**
     * The class list covers a complete start, not only the Spring context's refresh: the classes the
     * web server's, the MLLP listener's and the JMS listeners' start and the FHIR validator's warm-up
     * load are in it (a list recorded until the refresh lacked them all: a start loaded about 2,600
     * classes from the jars before it was ready, and the warm-up more after it).
     */
    @Test
    void classList_coversTheCompleteStart() throws IOException {
        Path list = DIR.resolve("carerelay.classlist");
        assertThat(list).as("the package phase records the class list").isRegularFile();
        List<String> lines = Files.readAllLines(list);
        Set<String> classes = lines.stream().filter(line -> !line.startsWith("#") && !line.startsWith("@"))
                .map(line -> line.split(" ", 2)[0]).collect(Collectors.toSet());
        assertThat(classes).hasSizeGreaterThan(15_000).contains(
                "org/apache/tomcat/util/net/NioEndpoint$Poller", // the HTTP connector started
                "org/apache/camel/component/mllp/internal/TcpServerAcceptThread", // the MLLP listener started
                "org/springframework/jms/listener/DefaultMessageListenerContainer$AsyncMessageListenerInvoker", // JMS listeners
                "org/carerelay/fhir/validation/DefinitionStrings"); // the FHIR validator's warm-up
        assertThat(lines).as("lambda proxies, on which JDK 17's -Xshare:dump crashes")
                .noneMatch(line -> line.startsWith("@lambda-proxy"));
        Set<String> versioned = versionedClasses();
        assertThat(versioned).as("multi-release jars among the libraries")
                .contains("org/postgresql/util/LazyCleanerImpl$CleanableWrapper");
        assertThat(classes).as("classes from a multi-release jar's version directories (the archive test below loads them with an agent)")
                .doesNotContainAnyElementsOf(versioned);
    }

    /** The classes the libraries' multi-release jars ship in a version directory, as internal names. */
    static Set<String> versionedClasses() throws IOException {
        Set<String> versioned = new TreeSet<>();
        try (var libs = Files.list(DIR.resolve("lib"))) {
            for (Path lib : libs.toList()) {
                try (JarFile jar = new JarFile(lib.toFile())) {
                    if (jar.getManifest() == null
                            || !"true".equalsIgnoreCase(jar.getManifest().getMainAttributes().getValue("Multi-Release"))) {
                        continue;
                    }
                    jar.stream().map(JarEntry::getName).filter(name -> name.startsWith("META-INF/versions/")
                            && name.endsWith(".class") && !name.endsWith("module-info.class"))
                            .map(name -> name.substring(name.indexOf('/', "META-INF/versions/".length()) + 1, name.length() - ".class".length()))
                            .forEach(versioned::add);
                }
            }
        }
        return versioned;
    }

    @Test
    void carerelayCds_writesAnArchiveTheJvmAcceptsForTheJar_keepsIt_andTheJvmRejectsItOnceAJarChanged() throws Exception {
        Path work = Files.createTempDirectory(DIR.toAbsolutePath().getParent(), "cds-it-");
        try {
            Path archive = work.resolve("carerelay.jsa");
            Files.writeString(archive, "an archive of another build"); // not one the JVM accepts: written anew
            String jar = DIR.resolve("carerelay.jar").toAbsolutePath().toString();
            List<String> options = List.of(GatewayProcess.DOCUMENTED_JVM_OPTIONS.split(" "));
            List<String> script = new ArrayList<>(List.of(DIR.resolve("carerelay-cds.sh").toString(), archive.toString(), jar));
            script.addAll(options);

            // the java line of an operator who added an APM agent and a flight recording (the systemd
            // unit passes its JAVA_OPTS to the script): -Xshare:dump refuses agents, the script leaves
            // them out, and the archive is the one for the plain options (the second call keeps it)
            Path agent = agentJar(work);
            List<String> monitoredScript = new ArrayList<>(script);
            monitoredScript.addAll(List.of("-javaagent:" + agent, "-XX:StartFlightRecording=filename=" + work.resolve("cds.jfr")));
            Run first = run(monitoredScript);
            assertThat(first.exit()).as(first.output()).isZero();
            assertThat(first.output()).contains("wrote " + archive);

            // as the README's line starts the gateway: -jar, the same path string and options
            List<String> print = new ArrayList<>(List.of(JAVA));
            print.addAll(options);
            print.addAll(List.of("-XX:SharedArchiveFile=" + archive, "-XX:+PrintSharedArchiveAndExit", "-jar", jar));
            Run shared = run(print);
            assertThat(shared.exit()).as("the JVM accepts the archive for this jar").isZero();
            assertThat(shared.output()).contains("archive is valid");
            for (String name : List.of("org.carerelay.gateway.CareRelayApplication", "org.springframework.boot.SpringApplication",
                    "org.apache.camel.impl.engine.AbstractCamelContext", "ca.uhn.fhir.context.FhirContext",
                    "org.apache.activemq.artemis.core.server.impl.ActiveMQServerImpl")) {
                assertThat(shared.output()).as(name).contains(" " + name + " app_loader");
            }

            // with a Java agent that watches class loading, as monitoring agents and a flight recording
            // started by -XX:StartFlightRecording do: JDK 17 crashed (SIGSEGV) loading a class the
            // archive held from a multi-release jar's version directory (the PostgreSQL driver's, at
            // the gateway's first database connection), so the list leaves those out
            String probeClassPath = jar + File.pathSeparator + agent;
            Set<String> versioned = versionedClasses();
            Run withAgent = probe(work, options, archive, probeClassPath, versioned, "-javaagent:" + agent);
            assertThat(withAgent.output()).as("the multi-release jars' classes loaded with the agent and the archive")
                    .containsPattern("loaded [1-9][0-9]* of [0-9]+ classes; the agent saw [1-9]");
            Run withRecording = probe(work, options, archive, probeClassPath, versioned,
                    "-XX:StartFlightRecording=filename=" + work.resolve("probe.jfr"));
            assertThat(withRecording.output()).as("the multi-release jars' classes loaded with a recording and the archive")
                    .containsPattern("loaded [1-9][0-9]* of [0-9]+ classes");

            FileTime written = Files.getLastModifiedTime(archive);
            for (List<String> again : List.of(script, monitoredScript)) { // the unit calls it at every start
                Run second = run(again);
                assertThat(second.exit()).as(second.output()).isZero();
                assertThat(second.output()).contains(archive + " is up to date");
                assertThat(Files.getLastModifiedTime(archive)).isEqualTo(written);
            }

            // a library replaced (here: only its modification time): the JVM no longer takes the
            // archive, which is what makes the script write it anew
            List<String> strict = new ArrayList<>(List.of(JAVA));
            strict.addAll(options);
            strict.addAll(List.of("-Xshare:on", "-XX:SharedArchiveFile=" + archive, "-cp", jar, "-version"));
            Path library;
            try (var libs = Files.list(DIR.resolve("lib"))) {
                library = libs.filter(p -> p.getFileName().toString().startsWith("spring-core-")).findFirst().orElseThrow();
            }
            FileTime built = Files.getLastModifiedTime(library);
            try {
                Files.setLastModifiedTime(library, FileTime.fromMillis(built.toMillis() + 60_000));
                Run changed = run(strict);
                assertThat(changed.exit()).as(changed.output()).isNotZero();
            } finally {
                Files.setLastModifiedTime(library, built);
            }
            assertThat(run(strict).exit()).as("the same jars again").isZero();
        } finally {
            try (var paths = Files.walk(work)) {
                for (Path path : paths.sorted(Comparator.reverseOrder()).toList()) {
                    Files.deleteIfExists(path);
                }
            }
        }
    }

    private static final String JAVA = Path.of(System.getProperty("java.home"), "bin", "java").toString();

    /**
     * {@link AgentProbe}'s main over {@code classes} (those of the multi-release jars' version
     * directories), in a JVM with the archive (required) and {@code watcher}; fails with the output
     * and the JVM's crash report, if any.
     */
    private static Run probe(Path work, List<String> options, Path archive, String classPath, Set<String> classes,
            String watcher) throws Exception {
        List<String> command = new ArrayList<>(List.of(JAVA));
        command.addAll(options);
        command.addAll(List.of("-Xshare:on", "-XX:SharedArchiveFile=" + archive, watcher,
                "-XX:-CreateCoredumpOnCrash", "-XX:ErrorFile=" + work.resolve("hs_err_pid%p.log"),
                "-cp", classPath, AgentProbe.class.getName()));
        command.addAll(classes);
        Run run = run(command);
        StringBuilder report = new StringBuilder(run.output());
        try (var files = Files.list(work)) {
            for (Path file : files.filter(f -> f.getFileName().toString().startsWith("hs_err_pid")).toList()) {
                String crash = Files.readString(file, StandardCharsets.ISO_8859_1);
                report.append('\n').append(crash, 0, Math.min(crash.length(), 4_000));
            }
        }
        assertThat(run.exit()).as("%s with %s and the archive:%n%s", AgentProbe.class.getSimpleName(), watcher, report).isZero();
        return run;
    }

    /** {@link AgentProbe} as an agent jar. */
    private static Path agentJar(Path dir) throws IOException {
        Path jar = dir.resolve("agent-probe.jar");
        Manifest manifest = new Manifest();
        manifest.getMainAttributes().put(Attributes.Name.MANIFEST_VERSION, "1.0");
        manifest.getMainAttributes().putValue("Premain-Class", AgentProbe.class.getName());
        String entry = AgentProbe.class.getName().replace('.', '/') + ".class";
        try (var out = new JarOutputStream(Files.newOutputStream(jar), manifest);
                var in = AgentProbe.class.getClassLoader().getResourceAsStream(entry)) {
            out.putNextEntry(new JarEntry(entry));
            in.transferTo(out);
            out.closeEntry();
        }
        return jar;
    }

    record Run(int exit, String output) {
    }

    private static Run run(List<String> command) throws IOException, InterruptedException {
        ProcessBuilder builder = new ProcessBuilder(command).redirectErrorStream(true);
        builder.environment().put("JAVA", JAVA);
        Process process = builder.start();
        String output = new String(process.getInputStream().readAllBytes(), StandardCharsets.UTF_8);
        return new Run(process.waitFor(), output);
    }
}
