package org.carerelay.gateway;

import static org.awaitility.Awaitility.await;

import ca.uhn.fhir.context.FhirContext;
import ca.uhn.fhir.rest.client.api.IGenericClient;
import ca.uhn.fhir.rest.client.api.ServerValidationModeEnum;
import ca.uhn.fhir.rest.client.interceptor.BearerTokenAuthInterceptor;
import jakarta.mail.internet.MimeMessage;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.Comparator;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.UUID;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.TimeoutException;
import org.carerelay.routes.mail.MailComposer;
import org.hl7.fhir.r4.model.Parameters;

/**
 * A gateway in a JVM of its own, for what the shared test context cannot do (SIGKILL and restart,
 * a heap of its own): started from the test class path on free ports, with its own data directory
 * {@code target/<name>/<uuid>} (embedded PostgreSQL and Artemis as configured by default) and short
 * pipeline timeouts. Mail goes nowhere: the fax letters it writes to {@code <data-dir>/outbox}
 * carry the registration codes. Further {@code --name=value} settings point it elsewhere, e.g. at a
 * PostgreSQL server or a broker behind a {@link PortForwarder}. Used by {@code CrashRecoveryIT},
 * {@code LeaseRecoveryIT}, {@code DatabaseOutageIT}, {@code BrokerOutageIT}, {@code OperationsIT} and
 * the attachment streaming benchmark ({@code src/bench}).
 *
 * <p>{@link #production} starts a node as an operator would: profile {@code production}, from the
 * repository root (so {@code config/application-production.yml} applies), every setting from the
 * environment it is given (external PostgreSQL and broker, SMTP, keys, admin token); only the ports
 * and the data directory are arguments. Used by {@code MultiNodeIT}.
 */
public final class GatewayProcess {

    private static final FhirContext FHIR = FhirContext.forR4Cached();

    /**
     * The JVM options the README's {@code java -jar} line and the systemd unit document for a node
     * (section "Memory"); {@code DocumentedJvmOptionsTest} keeps the three equal.
     */
    public static final String DOCUMENTED_JVM_OPTIONS =
            "-XX:+UseSerialGC -Xms128m -Xmx1g -XX:MaxHeapFreeRatio=30 -XX:MinHeapFreeRatio=10 -XX:TrimNativeHeapInterval=10000"
                    + " -XX:+ExitOnOutOfMemoryError";

    /**
     * JVM options for the gateways the process tests start beside their heap size: they test recovery,
     * not speed, and share the machine's cores with the test JVM and each other. With the C1 compiler
     * alone a node is up sooner (about 14 instead of 18–21 s on 2 cores, of which C2 took 12–14 s of
     * CPU) and takes less CPU from the others while it runs.
     */
    public static final String TEST_JVM_OPTIONS = "-XX:TieredStopAtLevel=1 -XX:+UseSerialGC";

    static {
        FHIR.getRestfulClientFactory().setServerValidationMode(ServerValidationModeEnum.NEVER);
        FHIR.getRestfulClientFactory().setSocketTimeout(60_000);
    }

    public final Path dataDir;
    final int port;
    public final int hl7Port;
    public final String adminToken;
    public final String faxDomain;
    final String xmx;
    private final List<String> settings;
    private final Map<String, String> environment;
    private final boolean production;
    private final List<ProcessHandle> descendants = new ArrayList<>();
    private String jar;
    private Process process;
    private Path log;

    /**
     * @param name     folder under {@code target/}, and the admin token's and fax domain's prefix
     * @param xmx      the gateway JVM's {@code -Xmx} option, or several JVM options separated by spaces
     *                 (e.g. {@link #DOCUMENTED_JVM_OPTIONS})
     * @param settings further {@code --name=value} arguments for the gateway; one that names a
     *                 setting this class sets (ports excepted) replaces it
     */
    public GatewayProcess(String name, String xmx, String... settings) throws IOException {
        this(name, xmx, Path.of("target", name, UUID.randomUUID().toString()), TestPorts.free(), TestPorts.free(), settings);
    }

    /** A gateway on the given data directory and HTTP and MLLP ports (e.g. ones already taken). */
    public GatewayProcess(String name, String xmx, Path dataDir, int port, int hl7Port, String... settings) throws IOException {
        this(name, xmx, name + "-admin-token-0123456789", "fax." + name + ".example", Map.of(), false, dataDir, port, hl7Port,
                settings);
    }

    private GatewayProcess(String name, String xmx, String adminToken, String faxDomain, Map<String, String> environment,
            boolean production, Path dataDir, int port, int hl7Port, String... settings) throws IOException {
        this.dataDir = dataDir.toAbsolutePath();
        Files.createDirectories(this.dataDir);
        this.port = port;
        this.hl7Port = hl7Port;
        this.adminToken = adminToken;
        this.faxDomain = faxDomain;
        this.xmx = xmx;
        this.environment = Map.copyOf(environment);
        this.production = production;
        this.settings = List.of(settings);
    }

    /**
     * A node with the production profile; {@code environment} holds the {@code CARERELAY_…}
     * variables the profile requires ({@code CARERELAY_ADMIN_TOKEN} and {@code CARERELAY_FAX_DOMAIN}
     * among them).
     */
    public static GatewayProcess production(String name, String xmx, Map<String, String> environment, String... settings)
            throws IOException {
        return new GatewayProcess(name, xmx, environment.get("CARERELAY_ADMIN_TOKEN"), environment.get("CARERELAY_FAX_DOMAIN"),
                environment, true, Path.of("target", name, UUID.randomUUID().toString()), TestPorts.free(), TestPorts.free(), settings);
    }

    /**
     * Starts the node with {@code -jar jar} (e.g. the unpacked application of the package phase)
     * instead of the test class path, as the README's {@code java -jar} line does; {@code jar} is
     * passed exactly as given (a class-data archive only applies to the same class path string).
     */
    public GatewayProcess fromJar(String jar) {
        this.jar = jar;
        return this;
    }

    /** Starts the gateway (again: same data directory and ports), its output into a new log file. */
    public void start() throws IOException {
        log = dataDir.resolve("gateway-" + System.nanoTime() + ".log");
        descendants.clear();
        ProcessBuilder builder = production ? productionNode() : testNode();
        process = builder.redirectErrorStream(true).redirectOutput(log.toFile()).start();
    }

    private ProcessBuilder testNode() {
        List<String> command = new ArrayList<>(List.of(
                Path.of(System.getProperty("java.home"), "bin", "java").toString()));
        command.addAll(List.of(xmx.strip().split("\\s+")));
        command.addAll(jar == null ? List.of("-cp", System.getProperty("java.class.path"), "org.carerelay.gateway.CareRelayApplication")
                : List.of("-jar", jar));
        command.addAll(List.of(
                "--server.port=" + port,
                "--carerelay.data-dir=" + dataDir,
                "--carerelay.security.admin-token=" + adminToken,
                "--carerelay.fax.domain=" + faxDomain,
                "--carerelay.hl7.port=" + hl7Port,
                "--carerelay.egress.allowed=127.0.0.0/8", // the fake partner systems run on loopback
                "--carerelay.pipeline.redelivery-delay=300ms",
                "--carerelay.pipeline.max-redelivery-delay=2s",
                "--carerelay.pipeline.sweep-interval=1s",
                "--carerelay.pipeline.connect-timeout=1s",
                "--carerelay.pipeline.response-timeout=3s"));
        // a setting given to the constructor replaces the default above (a repeated option would become a list)
        command.removeIf(arg -> arg.startsWith("--") && settings.stream().anyMatch(s -> s.startsWith(arg.substring(0, arg.indexOf('=') + 1))));
        command.addAll(settings);
        return new ProcessBuilder(command);
    }

    /** Profile {@code production}, started from the repository root, settings from the environment. */
    private ProcessBuilder productionNode() {
        List<String> command = new ArrayList<>(List.of(
                Path.of(System.getProperty("java.home"), "bin", "java").toString()));
        command.addAll(List.of(xmx.strip().split("\\s+")));
        command.addAll(List.of(TEST_JVM_OPTIONS.split(" ")));
        command.addAll(jar == null ? List.of("-cp", System.getProperty("java.class.path"), "org.carerelay.gateway.CareRelayApplication")
                : List.of("-jar", jar));
        command.addAll(List.of(
                "--server.port=" + port,
                "--carerelay.data-dir=" + dataDir,
                "--carerelay.hl7.port=" + hl7Port));
        command.addAll(settings);
        ProcessBuilder builder = new ProcessBuilder(command).directory(repositoryRoot().toFile());
        builder.environment().put("SPRING_PROFILES_ACTIVE", "production");
        builder.environment().putAll(environment);
        return builder;
    }

    /** The folder holding {@code config/}, where an operator starts the gateway. */
    public static Path repositoryRoot() {
        for (Path dir = Path.of("").toAbsolutePath(); dir != null; dir = dir.getParent()) {
            if (Files.isRegularFile(dir.resolve("config").resolve("application-production.yml"))) {
                return dir;
            }
        }
        throw new IllegalStateException("no config/application-production.yml above " + Path.of("").toAbsolutePath());
    }

    /** Waits until {@code /actuator/health} says UP; fails at once when the process exits. */
    public void awaitUp(Duration timeout) throws InterruptedException {
        HttpClient http = HttpClient.newBuilder().version(HttpClient.Version.HTTP_1_1).connectTimeout(Duration.ofSeconds(5)).build();
        HttpRequest health = HttpRequest.newBuilder(URI.create(baseUrl() + "/actuator/health")).timeout(Duration.ofSeconds(5)).build();
        long deadline = System.nanoTime() + timeout.toNanos();
        String last = "no answer yet";
        while (System.nanoTime() < deadline) {
            if (!process.isAlive()) {
                throw new AssertionError("the gateway exited with status " + process.exitValue() + " before it was UP; see " + log);
            }
            try {
                HttpResponse<String> response = http.send(health, HttpResponse.BodyHandlers.ofString());
                if (response.body().contains("\"UP\"")) {
                    process.descendants().forEach(descendants::add); // the embedded PostgreSQL among them
                    return;
                }
                last = "HTTP " + response.statusCode() + ": " + response.body();
            } catch (IOException e) {
                last = e.toString();
            }
            Thread.sleep(250);
        }
        throw new AssertionError("the gateway was not UP within " + timeout + " (last: " + last + "); see " + log);
    }

    public long pid() {
        return process.pid();
    }

    /** SIGKILL, as a crash: nothing is shut down, the embedded PostgreSQL is left to the next start. */
    public void kill() throws InterruptedException {
        process.destroyForcibly();
        process.waitFor();
    }

    /**
     * SIGTERM, as a container runtime or systemd sends it, and the time until the JVM has exited;
     * fails when it has not exited within {@code limit} (it is then killed).
     */
    public Duration terminate(Duration limit) throws InterruptedException {
        long start = System.nanoTime();
        process.destroy();
        if (!process.waitFor(limit.toMillis(), TimeUnit.MILLISECONDS)) {
            process.destroyForcibly();
            throw new AssertionError("the gateway did not exit within " + limit + " of SIGTERM; see " + log);
        }
        return Duration.ofNanos(System.nanoTime() - start);
    }

    /** Waits for the process to end by itself (e.g. a failed start); its exit status. */
    public int awaitExit(Duration limit) throws InterruptedException {
        if (!process.waitFor(limit.toMillis(), TimeUnit.MILLISECONDS)) {
            throw new AssertionError("the gateway was still running after " + limit + "; see " + log);
        }
        return process.exitValue();
    }

    boolean isAlive() {
        return process != null && process.isAlive();
    }

    /** Everything the current run wrote to stdout and stderr. */
    public String output() throws IOException {
        return log == null || !Files.isRegularFile(log) ? "" : Files.readString(log, StandardCharsets.UTF_8);
    }

    /**
     * SIGTERM first (Spring closes the embedded PostgreSQL), SIGKILL after 30 s, then whatever it
     * left behind: its child processes and the postmaster named in its data directory. Returns what
     * did not go as planned (empty when nothing).
     */
    public List<String> stop() {
        List<String> problems = new ArrayList<>();
        if (process == null) {
            return problems;
        }
        List<ProcessHandle> children = new ArrayList<>(descendants);
        process.descendants().forEach(children::add);
        try {
            process.destroy();
            if (!process.waitFor(30, TimeUnit.SECONDS)) {
                problems.add("the gateway did not stop within 30 s of SIGTERM: killed");
            }
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
        } finally {
            process.destroyForcibly();
        }
        for (ProcessHandle child : children) {
            if (child.isAlive()) {
                child.destroyForcibly();
            }
        }
        Path postmasterPid = dataDir.resolve("postgres").resolve("postmaster.pid");
        try {
            if (Files.isRegularFile(postmasterPid)) {
                List<String> lines = Files.readAllLines(postmasterPid);
                long pid = Long.parseLong(lines.get(0).strip());
                Path pgData = dataDir.resolve("postgres").toRealPath();
                Optional<ProcessHandle> postmaster = ProcessHandle.of(pid);
                if (postmaster.isPresent() && postmaster.get().isAlive() && lines.size() > 1
                        && Path.of(lines.get(1).strip()).toRealPath().equals(pgData)) {
                    postmaster.get().destroy(); // smart shutdown; its clients are gone
                    postmaster.get().onExit().get(20, TimeUnit.SECONDS);
                }
            }
        } catch (TimeoutException e) {
            try {
                ProcessHandle.of(Long.parseLong(Files.readAllLines(postmasterPid).get(0).strip())).ifPresent(ProcessHandle::destroyForcibly);
            } catch (Exception ignored) {
                // best effort
            }
        } catch (Exception e) {
            problems.add("could not check the embedded PostgreSQL after the gateway stopped: " + e);
        }
        return problems;
    }

    Path log() {
        return log;
    }

    /** The last lines of the current log; empty when there is none. */
    public String logTail(int lines) {
        try {
            if (log == null || !Files.isRegularFile(log)) {
                return "";
            }
            List<String> all = Files.readAllLines(log, StandardCharsets.UTF_8);
            StringBuilder out = new StringBuilder();
            for (String line : all.subList(Math.max(0, all.size() - lines), all.size())) {
                out.append(line).append('\n');
            }
            return out.toString();
        } catch (IOException e) {
            return "(cannot read " + log + ": " + e + ")\n";
        }
    }

    public void deleteDataDir() throws IOException {
        if (!Files.exists(dataDir)) {
            return;
        }
        try (var paths = Files.walk(dataDir)) {
            for (Path path : paths.sorted(Comparator.reverseOrder()).toList()) {
                Files.deleteIfExists(path);
            }
        }
    }

    public String baseUrl() {
        return "http://127.0.0.1:" + port;
    }

    /** A FHIR client; anonymous when {@code token} is null. */
    public IGenericClient client(String token) {
        IGenericClient client = FHIR.newRestfulGenericClient(baseUrl() + "/fhir");
        if (token != null) {
            client.registerInterceptor(new BearerTokenAuthInterceptor(token));
        }
        return client;
    }

    /** Creates an organisation with fax {@code +<digits>} and registers it with the code from its fax letter. */
    public Participants.Registered register(String name, String digits) {
        String orgId = Participants.create(client(adminToken), Participants.newOrganization(name, "+" + digits, null));
        IGenericClient anonymous = client(null);
        Participants.requestCode(anonymous, orgId, "kontakt@" + orgId + ".example.org");
        String to = digits + "@" + faxDomain;
        MimeMessage[] letter = new MimeMessage[1];
        await().atMost(Duration.ofSeconds(60)).pollInterval(Duration.ofMillis(250))
                .until(() -> (letter[0] = faxLetterTo(to)) != null);
        Parameters result = Participants.confirm(anonymous, orgId, Participants.codeIn(letter[0]));
        return new Participants.Registered(orgId, result.getParameter("token").getValue().primitiveValue(), to);
    }

    private MimeMessage faxLetterTo(String to) {
        Path outbox = dataDir.resolve("outbox");
        if (!Files.isDirectory(outbox)) {
            return null;
        }
        try (var files = Files.list(outbox)) {
            for (Path f : files.filter(p -> p.toString().endsWith(".eml")).toList()) {
                try {
                    MimeMessage m = MailComposer.parse(Files.readAllBytes(f));
                    if (m.getAllRecipients()[0].toString().equals(to)) {
                        return m;
                    }
                } catch (Exception e) {
                    // being written: the next poll reads it again
                }
            }
            return null;
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        }
    }
}
