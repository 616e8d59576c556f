package org.carerelay.gateway;

import java.io.IOException;
import java.io.UncheckedIOException;
import java.net.ServerSocket;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.UUID;
import java.util.concurrent.TimeUnit;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import java.util.stream.Stream;

/**
 * A standalone Apache Artemis broker in a process of its own, as an operator runs it: the
 * distribution from the Maven registry ({@code org.apache.activemq:apache-artemis:bin:tar.gz},
 * unpacked by the build into {@code target/artemis-dist}), an instance made with the distribution's
 * own {@code bin/artemis create} under {@code target/<name>/<uuid>/}, the README's
 * {@code carerelay.#} address settings patched into its {@code broker.xml}, and {@code bin/artemis run}
 * as a child process on the Java that runs the tests (Artemis 2.40 needs Java 17 or newer).
 *
 * <p>The broker's output goes to {@code <instance>/log/console.log} (its own log to
 * {@code log/artemis.log}); the tail is printed when a start fails. {@link #replicatedPair} makes a
 * primary and a backup with replication, as the README's production section describes.
 *
 * <p>Used by the broker fail-over test and the multi-node test.
 */
public final class StandaloneArtemis {

    public static final String USER = "carerelay";
    public static final String PASSWORD = "carerelay-broker-secret";
    static final String CLUSTER_USER = "carerelay-cluster";
    static final String CLUSTER_PASSWORD = "carerelay-cluster-secret";

    /** The README's address settings for the pipeline queues (production section), verbatim. */
    static final String CARERELAY_ADDRESS_SETTING = """
                     <address-setting match="carerelay.#">
                        <redelivery-delay>2000</redelivery-delay>
                        <redelivery-delay-multiplier>2.0</redelivery-delay-multiplier>
                        <max-redelivery-delay>3600000</max-redelivery-delay>
                        <max-delivery-attempts>35</max-delivery-attempts>
                        <dead-letter-address>carerelay.dead-letter</dead-letter-address>
                     </address-setting>
                     <address-setting match="carerelay.dead-letter">
                        <max-delivery-attempts>-1</max-delivery-attempts>
                        <auto-delete-queues>false</auto-delete-queues>
                     </address-setting>
            """;

    /** The primary of a replicated pair (README, production section). */
    static final String PRIMARY_HA_POLICY = """
                  <ha-policy>
                     <replication>
                        <primary>
                           <check-for-active-server>true</check-for-active-server>
                           <vote-on-replication-failure>false</vote-on-replication-failure>
                        </primary>
                     </replication>
                  </ha-policy>
            """;

    /** The backup of a replicated pair (README, production section). */
    static final String BACKUP_HA_POLICY = """
                  <ha-policy>
                     <replication>
                        <backup>
                           <allow-failback>false</allow-failback>
                        </backup>
                     </replication>
                  </ha-policy>
            """;

    /** A primary broker is serving clients (also the backup once it has taken over). */
    private static final Pattern ACTIVE = Pattern.compile("AMQ221007|AMQ221010");
    /** A backup has copied the primary's journal and stands by. */
    private static final Pattern BACKUP_READY = Pattern.compile("AMQ221024");
    /** The broker could not start (AMQ224000: Failure in initialisation). */
    private static final Pattern FATAL = Pattern.compile("AMQ224000|Exception in thread \"main\"");

    final String name;
    final Path instance;
    final int port;
    private final List<String> createOptions;
    private final String haPolicy;
    private Process process;
    private long logOffset;

    private StandaloneArtemis(String name, Path instance, int port, List<String> createOptions, String haPolicy) {
        this.name = name;
        this.instance = instance;
        this.port = port;
        this.createOptions = createOptions;
        this.haPolicy = haPolicy;
    }

    /** One broker with persistence, login required, listening on a free loopback port. */
    public static StandaloneArtemis single(String name) throws IOException {
        Path base = Path.of("target", name, UUID.randomUUID().toString()).toAbsolutePath();
        StandaloneArtemis broker = new StandaloneArtemis(name, base.resolve("broker"), TestPorts.free(), List.of(), null);
        broker.create();
        return broker;
    }

    /**
     * A primary and a backup replicating its journal, joined by a cluster connection with static
     * connectors (no UDP discovery). Start the primary first and wait for it, then the backup and
     * {@link #awaitBackupReady}.
     */
    public static Pair replicatedPair(String name) throws IOException {
        Path base = Path.of("target", name, UUID.randomUUID().toString()).toAbsolutePath();
        int primaryPort = TestPorts.free();
        int backupPort = TestPorts.free();
        StandaloneArtemis primary = new StandaloneArtemis(name + "-primary", base.resolve("primary"), primaryPort,
                clusterOptions("primary", backupPort, false), PRIMARY_HA_POLICY);
        StandaloneArtemis backup = new StandaloneArtemis(name + "-backup", base.resolve("backup"), backupPort,
                clusterOptions("backup", primaryPort, true), BACKUP_HA_POLICY);
        primary.create();
        backup.create();
        return new Pair(primary, backup);
    }

    private static List<String> clusterOptions(String nodeName, int otherPort, boolean backup) {
        List<String> options = new ArrayList<>(List.of("--clustered", "--replicated", "--name", nodeName,
                "--cluster-user", CLUSTER_USER, "--cluster-password", CLUSTER_PASSWORD,
                "--staticCluster", "tcp://127.0.0.1:" + otherPort, "--max-hops", "1"));
        if (backup) {
            options.add("--backup");
        }
        return options;
    }

    /** A replicated primary/backup pair and the client URL that names both. */
    public record Pair(StandaloneArtemis primary, StandaloneArtemis backup) {

        /** The URL for {@code CARERELAY_BROKER_URL}: both brokers, fail-over on, reconnecting for ever. */
        public String url() {
            return "(tcp://127.0.0.1:" + primary.port + ",tcp://127.0.0.1:" + backup.port + ")"
                    + "?ha=true&reconnectAttempts=-1&retryInterval=500&retryIntervalMultiplier=1.5&maxRetryInterval=5000";
        }

        /** Starts the primary, then the backup, and waits until the backup holds a copy of the journal. */
        public void start(Duration timeout) throws IOException, InterruptedException {
            primary.start();
            primary.awaitUp(timeout);
            backup.start();
            backup.awaitBackupReady(timeout);
        }

        public void stop() {
            backup.stop();
            primary.stop();
        }
    }


    /** The unpacked distribution ({@code target/artemis-dist/apache-artemis-<version>}). */
    static Path distribution() {
        Path dist = Path.of("target", "artemis-dist").toAbsolutePath();
        try (Stream<Path> children = Files.list(dist)) {
            return children.filter(p -> p.getFileName().toString().startsWith("apache-artemis-")
                            && Files.isRegularFile(p.resolve("bin").resolve("artemis")))
                    .findFirst()
                    .orElseThrow(() -> new IllegalStateException("no Artemis distribution in " + dist));
        } catch (IOException e) {
            throw new UncheckedIOException("the Artemis distribution is unpacked by the build (maven-dependency-plugin, "
                    + "process-test-resources); run the tests with Maven first", e);
        }
    }

    private void create() throws IOException {
        Files.createDirectories(instance.getParent());
        List<String> command = new ArrayList<>(List.of(
                distribution().resolve("bin").resolve("artemis").toString(), "create", instance.toString(),
                "--silent", "--force",
                "--user", USER, "--password", PASSWORD, "--require-login",
                "--host", "127.0.0.1", "--default-port", Integer.toString(port),
                "--no-web", "--http-port", Integer.toString(TestPorts.free()),
                "--no-amqp-acceptor", "--no-stomp-acceptor", "--no-hornetq-acceptor", "--no-mqtt-acceptor",
                "--nio", "--no-autotune", "--java-memory", "384M",
                "--data", instance.resolve("data").toString()));
        command.addAll(createOptions);
        Path createLog = instance.getParent().resolve(instance.getFileName() + "-create.log");
        Process create = processBuilder(command).redirectOutput(createLog.toFile()).start();
        try {
            if (!create.waitFor(120, TimeUnit.SECONDS) || create.exitValue() != 0) {
                create.destroyForcibly();
                throw new IllegalStateException("artemis create failed for " + instance + ":\n" + tail(createLog, 40));
            }
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            throw new IllegalStateException(e);
        }
        patchBrokerXml();
    }

    /** The README's {@code carerelay.#} address setting; for a pair the README's ha-policy. */
    private void patchBrokerXml() throws IOException {
        Path brokerXml = instance.resolve("etc").resolve("broker.xml");
        String xml = Files.readString(brokerXml, StandardCharsets.UTF_8);
        int settings = xml.indexOf("<address-settings>");
        if (settings < 0) {
            throw new IllegalStateException("no <address-settings> in " + brokerXml);
        }
        int insertAt = settings + "<address-settings>".length();
        xml = xml.substring(0, insertAt) + "\n" + CARERELAY_ADDRESS_SETTING + xml.substring(insertAt);
        if (haPolicy != null) {
            Matcher policy = Pattern.compile("(?s)<ha-policy>.*?</ha-policy>").matcher(xml);
            if (!policy.find()) {
                throw new IllegalStateException("no <ha-policy> in " + brokerXml);
            }
            xml = xml.substring(0, policy.start()) + haPolicy.strip() + xml.substring(policy.end());
        }
        Files.writeString(brokerXml, xml, StandardCharsets.UTF_8);
        // a small initial heap: several brokers and gateways share the test machine
        Path profile = instance.resolve("etc").resolve("artemis.profile");
        Files.writeString(profile, Files.readString(profile, StandardCharsets.UTF_8).replaceAll("-Xms\\S+", "-Xms64M"),
                StandardCharsets.UTF_8);
    }

    private static ProcessBuilder processBuilder(List<String> command) {
        ProcessBuilder builder = new ProcessBuilder(command).redirectErrorStream(true);
        Map<String, String> env = builder.environment();
        String javaHome = System.getProperty("java.home");
        env.put("JAVA_HOME", javaHome);
        env.put("PATH", Path.of(javaHome, "bin") + java.io.File.pathSeparator + env.getOrDefault("PATH", "/usr/bin:/bin"));
        env.remove("JAVA_ARGS"); // the instance's artemis.profile sets them
        env.remove("JAVACMD");
        return builder;
    }

    /** Starts the broker ({@code bin/artemis run}); its output is appended to {@code log/console.log}. */
    public void start() throws IOException {
        if (process != null && process.isAlive()) {
            throw new IllegalStateException(name + " is running already");
        }
        Path console = consoleLog();
        Files.createDirectories(console.getParent());
        logOffset = Files.exists(console) ? Files.size(console) : 0;
        process = processBuilder(List.of(instance.resolve("bin").resolve("artemis").toString(), "run"))
                .redirectOutput(ProcessBuilder.Redirect.appendTo(console.toFile()))
                .start();
    }

    /** Waits until this broker serves clients (a primary after start, a backup after taking over). */
    public void awaitUp(Duration timeout) throws InterruptedException {
        awaitLog(ACTIVE, timeout, "active");
    }

    /** Waits until this backup (or a restarted primary that rejoins as standby) has synchronised with the active broker. */
    public void awaitBackupReady(Duration timeout) throws InterruptedException {
        awaitLog(BACKUP_READY, timeout, "synchronised with its primary");
    }

    /** True when the log since the last start shows that this broker serves clients. */
    boolean isActive() {
        return ACTIVE.matcher(logSinceStart()).find();
    }

    private void awaitLog(Pattern pattern, Duration timeout, String what) throws InterruptedException {
        long deadline = System.nanoTime() + timeout.toNanos();
        while (System.nanoTime() < deadline) {
            String log = logSinceStart();
            if (pattern.matcher(log).find()) {
                return;
            }
            if (process == null || !process.isAlive()) {
                throw new AssertionError(name + " exited (" + (process == null ? "never started" : "status " + process.exitValue())
                        + ") before it was " + what + "; last lines of " + consoleLog() + ":\n" + tail(consoleLog(), 60));
            }
            if (FATAL.matcher(log).find()) {
                throw new AssertionError(name + " failed to start; last lines of " + consoleLog() + ":\n" + tail(consoleLog(), 60));
            }
            Thread.sleep(200);
        }
        throw new AssertionError(name + " was not " + what + " within " + timeout + "; last lines of " + consoleLog() + ":\n"
                + tail(consoleLog(), 60));
    }

    /** SIGTERM (the broker shuts down cleanly), SIGKILL after 30 s. */
    public void stop() {
        if (process == null || !process.isAlive()) {
            return;
        }
        List<ProcessHandle> descendants = process.descendants().toList();
        process.destroy();
        try {
            if (!process.waitFor(30, TimeUnit.SECONDS)) {
                System.out.println(name + " did not stop within 30 s of SIGTERM: killed");
                kill();
            }
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            kill();
        }
        descendants.stream().filter(ProcessHandle::isAlive).forEach(ProcessHandle::destroyForcibly);
    }

    /** SIGKILL to the broker and everything it started, as a crash: nothing is shut down. */
    public void kill() {
        if (process == null) {
            return;
        }
        List<ProcessHandle> descendants = process.descendants().toList();
        process.destroyForcibly();
        descendants.forEach(ProcessHandle::destroyForcibly);
        try {
            process.waitFor(30, TimeUnit.SECONDS);
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
        }
    }

    /** Graceful stop, then start on the same instance and data; waits until it is active again. */
    void restart(Duration timeout) throws IOException, InterruptedException {
        stop();
        start();
        awaitUp(timeout);
    }

    public boolean isAlive() {
        return process != null && process.isAlive();
    }

    /** The client URL of this broker alone. */
    public String url() {
        return "tcp://127.0.0.1:" + port;
    }

    public String user() {
        return USER;
    }

    public String password() {
        return PASSWORD;
    }

    Path consoleLog() {
        return instance.resolve("log").resolve("console.log");
    }

    /** The broker's output since the last {@link #start()}. */
    String logSinceStart() {
        Path console = consoleLog();
        try {
            if (!Files.exists(console)) {
                return "";
            }
            byte[] all = Files.readAllBytes(console);
            int from = (int) Math.min(logOffset, all.length);
            return new String(all, from, all.length - from, StandardCharsets.UTF_8);
        } catch (IOException e) {
            return "";
        }
    }

    /** The last lines of the broker's output, for a failure message. */
    public String logTail(int lines) {
        return tail(consoleLog(), lines);
    }

    private static String tail(Path file, int lines) {
        try {
            if (!Files.isRegularFile(file)) {
                return "(no " + file + ")";
            }
            List<String> all = Files.readAllLines(file, StandardCharsets.UTF_8);
            return String.join("\n", all.subList(Math.max(0, all.size() - lines), all.size()));
        } catch (IOException | UncheckedIOException e) {
            return "(cannot read " + file + ": " + e + ")";
        }
    }
}
