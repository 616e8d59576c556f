package org.carerelay.gateway;

import static org.assertj.core.api.Assertions.assertThat;
import static org.carerelay.gateway.BenchmarkSupport.TEXT;
import static org.carerelay.gateway.BenchmarkSupport.THREADS;
import static org.carerelay.gateway.BenchmarkSupport.createBaselineTable;
import static org.carerelay.gateway.BenchmarkSupport.dropBaselineTable;
import static org.carerelay.gateway.BenchmarkSupport.environment;
import static org.carerelay.gateway.BenchmarkSupport.fmt;
import static org.carerelay.gateway.BenchmarkSupport.maxOps;
import static org.carerelay.gateway.BenchmarkSupport.micros;
import static org.carerelay.gateway.BenchmarkSupport.ms;
import static org.carerelay.gateway.BenchmarkSupport.newHistogram;
import static org.carerelay.gateway.BenchmarkSupport.seconds;
import static org.carerelay.gateway.BenchmarkSupport.single;
import static org.carerelay.gateway.BenchmarkSupport.tableCells;
import static org.carerelay.gateway.BenchmarkSupport.widenClientPool;

import ca.uhn.fhir.rest.client.api.IGenericClient;
import ca.uhn.fhir.rest.client.interceptor.BearerTokenAuthInterceptor;
import java.io.IOException;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.charset.StandardCharsets;
import java.sql.Connection;
import java.sql.Statement;
import java.time.Duration;
import java.time.Instant;
import java.util.ArrayList;
import java.util.Date;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.Random;
import java.util.UUID;
import javax.sql.DataSource;
import org.HdrHistogram.Histogram;
import org.carerelay.gateway.BenchmarkSupport.BenchClient;
import org.carerelay.gateway.BenchmarkSupport.ClientFactory;
import org.carerelay.gateway.BenchmarkSupport.Environment;
import org.carerelay.gateway.BenchmarkSupport.InsertClient;
import org.carerelay.gateway.BenchmarkSupport.KindedException;
import org.carerelay.gateway.BenchmarkSupport.Parts;
import org.carerelay.gateway.BenchmarkSupport.Phase;
import org.carerelay.gateway.config.CareRelayProperties;
import org.carerelay.gateway.fhir.Validation;
import org.carerelay.routes.crypto.ContentCipher;
import org.hl7.fhir.r4.model.Attachment;
import org.hl7.fhir.r4.model.Binary;
import org.hl7.fhir.r4.model.Communication;
import org.hl7.fhir.r4.model.Reference;
import org.junit.jupiter.api.Tag;
import org.junit.jupiter.api.Test;
import org.springframework.beans.factory.annotation.Autowired;
import org.springframework.context.ApplicationContextInitializer;
import org.springframework.context.ConfigurableApplicationContext;
import org.springframework.core.env.MapPropertySource;
import org.springframework.test.context.ContextConfiguration;

/**
 * Throughput benchmark, not a test: it measures and prints, and asserts nothing about speed.
 *
 * <p>Communication creates per second with {@code bench.threads} (8) concurrent FHIR clients, and
 * their p50/p99 latency, without and with a 1 MiB attachment (the realistic client flow: raw
 * {@code POST /fhir/Binary}, then {@code POST /fhir/Communication} referencing {@code Binary/<id>},
 * timed as one operation). Next to it, in the same run and against the same PostgreSQL, a
 * baseline: plain single-row INSERT commits (autocommit, one row per transaction, one JDBC
 * connection per thread). The machine matters more than the code for absolute figures, so the
 * report relates every rate to the baseline (measured before and after the gateway scenarios).
 * Each message also starts the asynchronous routing pipeline (in the same JVM); it runs during
 * the measured phase like in production, and the next scenario waits until it is idle.
 *
 * <p>In the {@code src/bench} source set, which only the {@code bench} profile compiles (not
 * {@code ./mvnw verify}); run it with
 * {@code ./mvnw -B -pl gateway-app -am verify -Pbench -Dsurefire.failIfNoSpecifiedTests=false}.
 * Results go to the console and to {@code target/benchmark-results.txt}. Tunables (system
 * properties, {@code -D} on the Maven command line): {@code bench.threads} (8; at most 20, the
 * size of the gateway's connection pool, since the baseline holds one pooled connection per thread),
 * {@code bench.warmup-seconds} (5), {@code bench.measure-seconds} (20), {@code bench.warmup-round-seconds} (30;
 * 0 = none), {@code bench.jit-quiet-percent} (5), {@code bench.warmup-limit-seconds} (300), {@code bench.max-ops}
 * (cap on measured operations per scenario; default 2000000 for the baseline, 100000 for plain
 * messages, 20000 with attachment), {@code bench.attachment-bytes} (1048576).
 */
@Tag("benchmark")
@ContextConfiguration(initializers = MessageThroughputBenchmark.RoomForAttachments.class)
class MessageThroughputBenchmark extends GatewayIntegrationTest {

    private static final int MIB = 1_048_576;
    private static final long ATTACHMENT_LIMIT = 16L * MIB;
    private static final long REQUEST_LIMIT = 20L * MIB;

    private static final Duration WARMUP = seconds("bench.warmup-seconds", 5);
    private static final Duration MEASURE = seconds("bench.measure-seconds", 20);
    /**
     * Rounds of text messages before the scenarios, each followed by draining the pipeline, until the
     * JIT compilers are quiet ({@link BenchmarkSupport#warmUp}), so that the scenarios measure compiled
     * code: in a fresh JVM on 2 cores the compilers took a quarter to two fifths of its CPU time for
     * minutes, and after one round of 30 s still 15 % while the text messages were measured (the jit
     * column shows what is left of it). This is the length of one round.
     */
    private static final Duration WARMUP_ROUND = seconds("bench.warmup-round-seconds", 30);
    private static final int ATTACHMENT_BYTES = Integer.getInteger("bench.attachment-bytes", MIB);
    private static final String BASELINE_TABLE = "bench_baseline";

    /**
     * Room for 1 MiB attachments: the integration-test base caps attachments at 512 KiB and request
     * bodies at 1 MiB. The base sets them with {@code @DynamicPropertySource}, which outranks
     * {@code @SpringBootTest(properties)} and {@code @TestPropertySource}, and a second
     * {@code @DynamicPropertySource} here would run before the base's and lose. So the limits go in
     * as the first property source from a bean-factory post-processor, which runs after every
     * context customizer and initializer but before any bean (the request filter, the attachment
     * service) reads them. Checked at the start of the benchmark. The same way the embedded
     * PostgreSQL runs durable, as shipped (the integration tests run it with fsync off).
     */
    static final class RoomForAttachments implements ApplicationContextInitializer<ConfigurableApplicationContext> {
        @Override
        public void initialize(ConfigurableApplicationContext context) {
            context.addBeanFactoryPostProcessor(beanFactory -> context.getEnvironment().getPropertySources().addFirst(
                    new MapPropertySource("benchmark-limits", Map.<String, Object>of(
                            "carerelay.attachments.max-bytes", ATTACHMENT_LIMIT,
                            "carerelay.fhir.max-request-bytes", REQUEST_LIMIT,
                            // a throughput measurement, not a runaway sender: no per-organisation message limit
                            "carerelay.security.message-rate-limit", 0,
                            // as shipped: fsync and synchronous_commit on (the test suite turns them off for speed)
                            "carerelay.db.embedded-durable", true))));
        }
    }

    @Autowired
    DataSource dataSource;

    @Autowired
    CareRelayProperties properties;

    @Autowired
    Validation validation;

    @Autowired
    ContentCipher cipher;

    @Test
    void throughput() throws Exception {
        BenchmarkSupport.summaryStart();
        assertThat(properties.attachments().maxBytes()).as("carerelay.attachments.max-bytes").isEqualTo(ATTACHMENT_LIMIT);
        assertThat(properties.fhir().maxRequestBytes()).as("carerelay.fhir.max-request-bytes").isEqualTo(REQUEST_LIMIT);
        assertThat(properties.db().embeddedDurable()).as("carerelay.db.embedded-durable").isTrue();

        // three registered organisations; a patient whose consent covers all three
        Participants.Registered clinic = Participants.registerNew(this, "Bench-Klinik");
        Participants.Registered careService = Participants.registerNew(this, "Bench-Pflegedienst");
        Participants.Registered practice = Participants.registerNew(this, "Bench-Praxis");
        String patientId = Conversations.createPatient(client(clinic.token()),
                Conversations.patient("Bench", "Erika", Conversations.kvnr()));
        Conversations.uploadConsent(client(clinic.token()), patientId,
                clinic.organizationId(), careService.organizationId(), practice.organizationId());
        // senders rotate between clinic and care service; each message goes to the other two
        Sender[] senders = {
                new Sender(clinic.token(), careService.organizationId(), practice.organizationId()),
                new Sender(careService.token(), clinic.organizationId(), practice.organizationId())};
        verifyAttachmentFlow(senders[0], patientId, careService.token());

        createBaselineTable(dataSource, BASELINE_TABLE);
        widenClientPool(FHIR);

        Environment environment = environment(dataSource);
        List<Phase> results = new ArrayList<>();
        List<String> pipeline = new ArrayList<>();
        pipeline.add(drainPipeline("after the setup").line());
        Phase baselineBefore = run("baseline: INSERT commit (before)", maxOps(2_000_000), i -> new InsertClient(dataSource, BASELINE_TABLE));
        results.add(baselineBefore);
        String warmUp = "warm-up: none (bench.warmup-round-seconds=0), the scenarios measure a fresh JVM";
        if (!WARMUP_ROUND.isZero()) {
            warmUp = BenchmarkSupport.warmUp(WARMUP_ROUND.toSeconds() + " s of text messages, then the pipeline drained", round -> {
                BenchmarkSupport.run(dataSource, "warm-up round " + round + " (not reported)", WARMUP_ROUND, Duration.ofSeconds(1),
                        maxOps(100_000), i -> new MessageClient(senders, patientId, i));
                pipeline.add(drainPipeline("after warm-up round " + round).line());
            });
        }
        results.add(run("Communication, text only", maxOps(100_000), i -> new MessageClient(senders, patientId, i)));
        Drained textDrained = drainPipeline("after " + results.get(results.size() - 1).name());
        pipeline.add(textDrained.line());
        double textRouted = routedPerSecond(results.get(1), textDrained);
        pipeline.add(Double.isNaN(textRouted)
                ? String.format(Locale.ROOT, "%-36s not measured: the pipeline was not idle within the limit", "text only, routed")
                : String.format(Locale.ROOT, "%-36s %.1f messages/s (accepted and routed: %d creates, warm-up included, "
                        + "from the phase's start until idle)", "text only, routed", textRouted,
                        results.get(1).warmupOps() + results.get(1).ok()));
        results.add(run("Communication + 1 MiB Binary", maxOps(20_000),
                i -> new AttachmentMessageClient(senders, patientId, i), "Binary upload", "Communication create"));
        pipeline.add(drainPipeline("after " + results.get(results.size() - 1).name()).line());
        Phase baselineAfter = run("baseline: INSERT commit (after)", maxOps(2_000_000), i -> new InsertClient(dataSource, BASELINE_TABLE));
        results.add(baselineAfter);
        List<String> costs = inProcessCosts(patientId, senders[0]);

        dropBaselineTable(dataSource, BASELINE_TABLE);

        String report = report(environment, warmUp, results, baselineBefore, baselineAfter, pipeline, costs);
        System.out.println(report);
        double baseline = (baselineBefore.opsPerSecond() + baselineAfter.opsPerSecond()) / 2;
        String insert = "INSERT commits, " + THREADS + " conn.: " + BenchmarkSupport.rate(baseline, "/s");
        for (Phase r : List.of(results.get(1), results.get(2))) {
            BenchmarkSupport.summaryRow("FHIR create: " + r.name() + ", " + THREADS + " clients", BenchmarkSupport.rate(r.opsPerSecond(), "/s"),
                    fmt(r.latency().getValueAtPercentile(50)) + " ms", fmt(r.latency().getValueAtPercentile(99)) + " ms", insert,
                    BenchmarkSupport.ratio(r.opsPerSecond(), baseline));
            if (r == results.get(1) && !Double.isNaN(textRouted)) {
                BenchmarkSupport.summaryRow("FHIR create: text only, " + THREADS + " clients, until routed (fan-out, 2 notification mails each)",
                        BenchmarkSupport.rate(textRouted, "/s"), "", "", insert, BenchmarkSupport.ratio(textRouted, baseline));
            }
        }
        BenchmarkSupport.results(report);

        // not about speed: a benchmark whose operations failed measured the wrong thing
        for (Phase r : results) {
            assertThat(r.ok()).as("%s: successful operations", r.name()).isPositive();
            assertThat(r.errorKinds()).as("%s: errors during load", r.name()).isEmpty();
        }
    }

    // --- the operations

    record Sender(String token, String... recipients) {
    }

    /** A patient-bound text message; the sender alternates, the token with it. */
    class MessageClient implements BenchClient {
        final Sender[] senders;
        final String patientId;
        final BearerTokenAuthInterceptor auth = new BearerTokenAuthInterceptor();
        final IGenericClient fhir;

        MessageClient(Sender[] senders, String patientId, int thread) {
            this.senders = senders;
            this.patientId = patientId;
            this.fhir = FHIR.newRestfulGenericClient(baseUrl());
            fhir.registerInterceptor(auth);
        }

        Sender sender(long seq) {
            Sender sender = senders[(int) (seq % senders.length)];
            auth.setToken(sender.token());
            return sender;
        }

        Communication message(Sender sender, long seq) {
            return Conversations.message(patientId, "#" + seq + " " + TEXT, sender.recipients());
        }

        @Override
        public void execute(long seq, Parts parts) throws Exception {
            Sender sender = sender(seq);
            String id = Conversations.send(fhir, message(sender, seq));
            if (id == null) {
                throw new IllegalStateException("no id for the created Communication");
            }
        }
    }

    /** Raw {@code POST /fhir/Binary} (1 MiB PDF), then the message that references it. */
    final class AttachmentMessageClient extends MessageClient {
        private final HttpClient http = HttpClient.newBuilder().version(HttpClient.Version.HTTP_1_1)
                .connectTimeout(Duration.ofSeconds(10)).build();
        private final byte[] pdf;

        AttachmentMessageClient(Sender[] senders, String patientId, int thread) {
            super(senders, patientId, thread);
            pdf = pdf(ATTACHMENT_BYTES, new Random(thread));
        }

        @Override
        public void execute(long seq, Parts parts) throws Exception {
            Sender sender = sender(seq);
            stamp(pdf, seq); // every upload differs
            long start = System.nanoTime();
            String binaryId = uploadBinary(http, sender.token(), pdf);
            long uploaded = System.nanoTime();
            Communication message = message(sender, seq);
            message.addPayload().setContent(new Attachment().setContentType("application/pdf")
                    .setUrl("Binary/" + binaryId).setTitle("Befund-" + seq + ".pdf"));
            Conversations.send(fhir, message);
            long sent = System.nanoTime();
            parts.record(0, uploaded - start);
            parts.record(1, sent - uploaded);
        }
    }

    /** {@code %PDF-1.4} and random padding: what the type check (magic number) accepts as a PDF. */
    static byte[] pdf(int size, Random random) {
        byte[] data = new byte[size];
        random.nextBytes(data);
        byte[] header = "%PDF-1.4\n".getBytes(StandardCharsets.US_ASCII);
        System.arraycopy(header, 0, data, 0, header.length);
        return data;
    }

    private static void stamp(byte[] pdf, long seq) {
        for (int i = 0; i < 8; i++) {
            pdf[16 + i] = (byte) (seq >>> (8 * i));
        }
    }

    private String uploadBinary(HttpClient http, String token, byte[] data) throws IOException, InterruptedException {
        HttpResponse<String> response = http.send(HttpRequest.newBuilder(URI.create(baseUrl() + "/Binary"))
                        .timeout(Duration.ofSeconds(60))
                        .header("Authorization", "Bearer " + token)
                        .header("Content-Type", "application/pdf")
                        .header("Accept", "application/fhir+json")
                        .POST(HttpRequest.BodyPublishers.ofByteArray(data)).build(),
                HttpResponse.BodyHandlers.ofString());
        if (response.statusCode() != 201) {
            throw new HttpStatusException(response.statusCode(), response.body());
        }
        String location = response.headers().firstValue("Location")
                .orElseThrow(() -> new IllegalStateException("201 without Location"));
        return location.replaceAll(".*/Binary/([^/]+).*", "$1");
    }

    static final class HttpStatusException extends KindedException {
        HttpStatusException(int status, String body) {
            super("HTTP " + status + " (Binary)", "HTTP " + status + ": " + (body.length() > 300 ? body.substring(0, 300) + "…" : body), true);
        }
    }

    /** Once, before measuring: the padded PDF passes the type check and arrives byte for byte. */
    private void verifyAttachmentFlow(Sender sender, String patientId, String recipientToken) throws Exception {
        byte[] pdf = pdf(ATTACHMENT_BYTES, new Random(42));
        HttpClient http = HttpClient.newBuilder().version(HttpClient.Version.HTTP_1_1).build();
        String binaryId = uploadBinary(http, sender.token(), pdf);
        Communication message = Conversations.message(patientId, TEXT, sender.recipients());
        message.addPayload().setContent(new Attachment().setContentType("application/pdf").setUrl("Binary/" + binaryId));
        Conversations.send(client(sender.token()), message);
        Binary received = client(recipientToken).read().resource(Binary.class).withId(binaryId).execute();
        assertThat(received.getContentType()).isEqualTo("application/pdf");
        assertThat(received.getData()).as("the attachment as received").isEqualTo(pdf);
    }

    // --- the asynchronous pipeline

    /**
     * Every message is routed after the commit (fan-out over the broker, delivery ledger, a
     * notification mail per recipient). That work competes for the same CPU, so the next scenario
     * starts only when it is done: work left in the ledger is zero and no mail arrived for a second.
     */
    private Drained drainPipeline(String when) throws Exception {
        long start = System.nanoTime();
        long backlog = pipelineBacklog();
        long limit = start + Duration.ofMinutes(5).toNanos();
        long current = backlog;
        int mails = GREEN_MAIL.getReceivedMessages().length;
        int stable = 0;
        long quietSince = start;
        while (System.nanoTime() < limit && stable < 2) {
            Thread.sleep(500);
            current = pipelineBacklog();
            int now = GREEN_MAIL.getReceivedMessages().length;
            boolean quiet = current == 0 && now == mails;
            if (quiet && stable == 0) {
                quietSince = System.nanoTime();
            }
            stable = quiet ? stable + 1 : 0;
            mails = now;
        }
        // idle from the first of the quiet samples on (the last change came at most 500 ms before it)
        double idleSeconds = current == 0 ? (quietSince - start) / 1e9 : Double.NaN;
        String line = String.format(Locale.ROOT, "%-36s %6d work items open, %s after %.1f s", when, backlog,
                current == 0 ? "idle" : "still " + current + " open", (current == 0 ? quietSince - start : System.nanoTime() - start) / 1e9);
        System.out.println("[bench] pipeline " + line);
        return new Drained(line, idleSeconds);
    }

    /** @param idleSeconds from the drain's start until the pipeline was idle; NaN if it was not within the limit */
    record Drained(String line, double idleSeconds) {
    }

    /**
     * Messages per second accepted and routed (fanned out, every recipient notified): the phase's
     * operations, warm-up included, over the time from its start until the pipeline was idle again.
     * The create rate of the closed loop is what the FHIR port takes while the pipeline falls behind;
     * this is what the gateway finishes.
     */
    private static double routedPerSecond(Phase phase, Drained drained) {
        double seconds = WARMUP.toNanos() / 1e9 + (phase.stopped() - phase.measureStart()) / 1e9 + drained.idleSeconds();
        return (phase.warmupOps() + phase.ok()) / seconds;
    }

    /** Messages not yet fanned out plus recipients not yet notified. */
    private long pipelineBacklog() throws Exception {
        try (Connection c = dataSource.getConnection(); Statement s = c.createStatement()) {
            return Long.parseLong(single(s, """
                    select (select count(*) from message m where not exists (select 1 from delivery d where d.message_id = m.id))
                         + (select count(*) from delivery where notified_at is null and state in ('queued', 'delivered'))
                    """));
        }
    }

    // --- the runner

    private Phase run(String name, long maxOps, ClientFactory factory, String... partNames) throws Exception {
        return BenchmarkSupport.run(dataSource, name, WARMUP, MEASURE, maxOps, factory, partNames);
    }

    // --- single-threaded, in-process costs of suspected hot spots, to read the figures against

    private List<String> inProcessCosts(String patientId, Sender sender) {
        List<String> lines = new ArrayList<>();
        Communication message = Conversations.message(patientId, TEXT, sender.recipients());
        message.setId(UUID.randomUUID().toString());
        message.setSender(new Reference("Organization/x"));
        message.setSent(new Date());
        lines.add(cost("FHIR validation of the text message (Validation.require)", 200, 1000, () -> validation.require(message)));
        Communication withAttachment = message.copy();
        withAttachment.addPayload().setContent(new Attachment().setContentType("application/pdf").setUrl("Binary/x"));
        lines.add(cost("FHIR validation of the message with attachment reference", 200, 1000,
                () -> validation.require(withAttachment)));
        byte[] attachment = pdf(ATTACHMENT_BYTES, new Random(7));
        byte[] aad = UUID.randomUUID().toString().getBytes(StandardCharsets.UTF_8);
        lines.add(cost("AES-GCM encryption of the attachment (ContentCipher)", 50, 200, () -> cipher.encrypt(attachment, aad)));
        lines.add(cost("SHA-256 of the attachment", 50, 200, () -> sha256(attachment)));
        lines.add(cost("Binary.setData(attachment) (HAPI keeps a Base64 copy)", 50, 200, () -> new Binary().setData(attachment)));
        return lines;
    }

    private static void sha256(byte[] data) {
        try {
            java.security.MessageDigest.getInstance("SHA-256").digest(data);
        } catch (java.security.NoSuchAlgorithmException e) {
            throw new IllegalStateException(e);
        }
    }

    private static String cost(String what, int warmup, int runs, Runnable action) {
        for (int i = 0; i < warmup; i++) {
            action.run();
        }
        Histogram h = newHistogram();
        for (int i = 0; i < runs; i++) {
            long start = System.nanoTime();
            action.run();
            h.recordValue(micros(System.nanoTime() - start));
        }
        return String.format(Locale.ROOT, "%-56s p50 %7.2f ms   p99 %7.2f ms   (%d runs, 1 thread)", what,
                ms(h.getValueAtPercentile(50)), ms(h.getValueAtPercentile(99)), runs);
    }

    // --- the report

    private static String report(Environment env, String warmUp, List<Phase> results, Phase before, Phase after,
            List<String> pipeline, List<String> costs) {
        double baseline = (before.opsPerSecond() + after.opsPerSecond()) / 2;
        StringBuilder out = new StringBuilder();
        out.append("CareRelay message throughput benchmark, ").append(Instant.now()).append('\n');
        out.append(String.format(Locale.ROOT,
                "%d client threads, warm-up %d s, measured phase up to %d s (or the operation cap), gateway and clients in one JVM%n",
                THREADS, WARMUP.toSeconds(), MEASURE.toSeconds()));
        out.append("before the gateway scenarios, ").append(warmUp).append('\n');
        out.append(env.describe());
        out.append(String.format(Locale.ROOT,
                "baseline = mean of the INSERT rates before and after the gateway scenarios = %.1f/s (drift %+.1f%%)%n%n",
                baseline, 100.0 * (after.opsPerSecond() - before.opsPerSecond()) / before.opsPerSecond()));
        String format = "%-36s %8s %6s %10s %9s %9s %9s %11s %10s %13s%n";
        out.append(String.format(Locale.ROOT, format, "scenario", "ops", "errors", "ops/s", "p50 ms", "p99 ms", "max ms",
                "÷ baseline", "pool max", "cpu m/jvm/jit"));
        out.append("-".repeat(129)).append('\n');
        for (Phase r : results) {
            out.append(String.format(Locale.ROOT, format, tableCells(r, baseline).toArray()));
            for (int p = 0; p < r.partNames().size(); p++) {
                Histogram h = r.parts().get(p);
                out.append(String.format(Locale.ROOT, format, "  part: " + r.partNames().get(p), h.getTotalCount(), "", "",
                        fmt(h.getValueAtPercentile(50)), fmt(h.getValueAtPercentile(99)), fmt(h.getMaxValue()), "", "", ""));
            }
        }
        out.append('\n');
        out.append(String.format(Locale.ROOT, "ratio creates/s ÷ baseline inserts/s: text only %.4f (1 : %.0f), with 1 MiB attachment %.4f (1 : %.0f)%n",
                results.get(1).opsPerSecond() / baseline, baseline / results.get(1).opsPerSecond(),
                results.get(2).opsPerSecond() / baseline, baseline / results.get(2).opsPerSecond()));
        out.append("ops = successful operations started in the measured phase; errors = failed operations, warm-up included;\n");
        out.append("pool max = most Hikari connections in use / most threads waiting for one, sampled every 20 ms (pool size 20);\n");
        out.append("cpu m/jvm/jit = mean machine-wide / gateway+client JVM CPU load / the JVM's JIT compiler threads' CPU time\n");
        out.append("  during the measured phase (100% = all cores).\n");
        out.append("An operation with attachment = POST /fhir/Binary (raw bytes) + POST /fhir/Communication referencing it.\n");
        for (Phase r : results) {
            if (!r.errorKinds().isEmpty()) {
                out.append("errors in ").append(r.name()).append(": ").append(r.errorKinds()).append('\n');
            }
        }
        out.append("\ndatabase work per operation during the measured phase (PostgreSQL's statistics; the pipeline's work included):\n");
        results.forEach(r -> out.append("  ").append(BenchmarkSupport.DbWork.line(r.name(), r.db())).append('\n'));
        out.append("\nasynchronous routing pipeline (fan-out, delivery ledger, notification mail; same JVM, runs during the scenarios):\n");
        pipeline.forEach(line -> out.append("  ").append(line).append('\n'));
        out.append("\nin-process cost, for reading the figures:\n");
        costs.forEach(line -> out.append("  ").append(line).append('\n'));
        return out.toString();
    }
}
