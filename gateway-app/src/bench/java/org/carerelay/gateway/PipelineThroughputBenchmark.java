package org.carerelay.gateway;

import static org.assertj.core.api.Assertions.assertThat;
import static org.awaitility.Awaitility.await;
import static org.carerelay.gateway.BenchmarkSupport.TEXT;
import static org.carerelay.gateway.BenchmarkSupport.THREADS;
import static org.carerelay.gateway.BenchmarkSupport.createBaselineTable;
import static org.carerelay.gateway.BenchmarkSupport.dropBaselineTable;
import static org.carerelay.gateway.BenchmarkSupport.environment;
import static org.carerelay.gateway.BenchmarkSupport.fmt;
import static org.carerelay.gateway.BenchmarkSupport.maxOps;
import static org.carerelay.gateway.BenchmarkSupport.micros;
import static org.carerelay.gateway.BenchmarkSupport.newHistogram;
import static org.carerelay.gateway.BenchmarkSupport.seconds;
import static org.carerelay.gateway.BenchmarkSupport.single;
import static org.carerelay.gateway.BenchmarkSupport.tableCells;
import static org.carerelay.gateway.BenchmarkSupport.widenClientPool;

import ca.uhn.fhir.rest.client.api.IGenericClient;
import ca.uhn.fhir.rest.client.interceptor.BearerTokenAuthInterceptor;
import ca.uhn.hl7v2.DefaultHapiContext;
import ca.uhn.hl7v2.HapiContext;
import ca.uhn.hl7v2.app.HL7Service;
import ca.uhn.hl7v2.model.Message;
import ca.uhn.hl7v2.protocol.ReceivingApplication;
import ca.uhn.hl7v2.util.Terser;
import ca.uhn.hl7v2.util.idgenerator.InMemoryIDGenerator;
import ca.uhn.hl7v2.validation.impl.ValidationContextFactory;
import java.io.BufferedInputStream;
import java.io.ByteArrayOutputStream;
import java.io.EOFException;
import java.io.IOException;
import java.io.InputStream;
import java.io.OutputStream;
import java.net.Socket;
import java.nio.charset.Charset;
import java.nio.charset.StandardCharsets;
import java.sql.Connection;
import java.sql.PreparedStatement;
import java.sql.ResultSet;
import java.sql.Statement;
import java.time.Duration;
import java.time.Instant;
import java.time.ZoneId;
import java.time.format.DateTimeFormatter;
import java.util.ArrayList;
import java.util.HashSet;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.Set;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.atomic.LongAdder;
import java.util.function.Function;
import javax.sql.DataSource;
import org.HdrHistogram.Histogram;
import org.carerelay.gateway.BenchmarkSupport.BenchClient;
import org.carerelay.gateway.BenchmarkSupport.ClientFactory;
import org.carerelay.gateway.BenchmarkSupport.CpuSampler;
import org.carerelay.gateway.BenchmarkSupport.Environment;
import org.carerelay.gateway.BenchmarkSupport.InsertClient;
import org.carerelay.gateway.BenchmarkSupport.KindedException;
import org.carerelay.gateway.BenchmarkSupport.Parts;
import org.carerelay.gateway.BenchmarkSupport.Phase;
import org.carerelay.gateway.config.CareRelayProperties;
import org.hl7.fhir.r4.model.Communication;
import org.junit.jupiter.api.Tag;
import org.junit.jupiter.api.Test;
import org.springframework.beans.factory.annotation.Autowired;
import org.springframework.test.context.ContextConfiguration;

/**
 * Pipeline and HL7 inbound throughput benchmark, not a test: it measures and prints, and asserts
 * nothing about speed.
 *
 * <ol>
 * <li><b>End-to-end pipeline</b>: an open loop offers {@code bench.e2e-rate} (50) messages/s for
 * {@code bench.e2e-seconds} (120) after a warm-up at the same rate: up to {@code bench.threads} (8)
 * FHIR clients (one HAPI {@code IGenericClient} per thread; three registered sender organisations)
 * POST patient-bound text Communications, each at its due time, to one registered recipient whose
 * endpoint is {@code hl7v2-mllp}, pointing at an in-test HAPI HL7 server that answers AA. Per
 * message: the POST (from its due time), and accepted → delivered = from the 201 until the
 * recipient has the MDM^T02 in hand (keyed by TXA-12 = Communication id). Every 10 s the backlog
 * (accepted, not yet at the recipient) is sampled; the backlog when the senders stop is the one the
 * pipeline did not keep up with. After the senders stop, the benchmark waits for the backlog to
 * drain (bounded by {@code bench.drain-seconds}) and reports the drain time, duplicates (a TXA-12
 * seen twice) and the delivery ledger.</li>
 * <li><b>HL7 inbound over MLLP</b>: 8 persistent MLLP connections (raw sockets) of one registered
 * sender organisation with an HL7 alias send ADT^A08 updates (distinct MSH-10) for a pool of
 * {@code bench.hl7-patients} (50) patients with KVNRs; the ACK latency is send → AA (AA comes only
 * after the commit). Then MDM^T02 (text only) about patients whose consent covers sender and
 * recipient.</li>
 * <li><b>Baseline</b>: plain single-row INSERT commits, one JDBC connection per thread, against
 * the same PostgreSQL, before and after the scenarios (as in {@link MessageThroughputBenchmark}).</li>
 * </ol>
 *
 * <p>In the {@code src/bench} source set, which only the {@code bench} profile compiles (not
 * {@code ./mvnw verify}); run it with
 * {@code ./mvnw -B -pl gateway-app -am verify -Pbench -Dgroups=benchmark -Dtest=PipelineThroughputBenchmark
 * -Dsurefire.failIfNoSpecifiedTests=false}. The gateway runs with the integration-test settings of
 * {@link GatewayIntegrationTest} (short pipeline timeouts, 4 delivery attempts), printed in the
 * report. It shares the Spring context of {@link MessageThroughputBenchmark} (same initializer):
 * both benchmarks in one JVM must not start two gateways on the same data directory and MLLP port.
 * Results go to the console and are appended to {@code target/benchmark-results.txt}. Tunables
 * ({@code -D}): {@code bench.e2e-rate} (50), {@code bench.e2e-seconds} (120), {@code bench.threads} (8), {@code bench.warmup-seconds} (5),
 * {@code bench.measure-seconds} (20, at most; HL7 scenarios), {@code bench.baseline-warmup-seconds} (3),
 * {@code bench.baseline-seconds} (10), {@code bench.drain-seconds} (120), {@code bench.max-ops} (cap
 * on measured operations per closed-loop scenario; defaults 50000 HL7, 2000000 baseline),
 * {@code bench.hl7-patients} (50), {@code bench.warmup-round-seconds} (30, the end-to-end part of a warm-up round, the
 * HL7 parts a third of it each; 0 measures a cold start), {@code bench.jit-quiet-percent} (5),
 * {@code bench.warmup-limit-seconds} (300).
 */
@Tag("benchmark")
@ContextConfiguration(initializers = MessageThroughputBenchmark.RoomForAttachments.class)
class PipelineThroughputBenchmark extends GatewayIntegrationTest {

    private static final Duration WARMUP = seconds("bench.warmup-seconds", 5);
    private static final Duration MEASURE = seconds("bench.measure-seconds", 20);
    private static final Duration BASELINE_WARMUP = seconds("bench.baseline-warmup-seconds", 3);
    private static final Duration BASELINE_MEASURE = seconds("bench.baseline-seconds", 10);
    private static final Duration DRAIN_LIMIT = seconds("bench.drain-seconds", 120);
    /**
     * Rounds of each scenario's load before the measured ones, each followed by draining the pipeline,
     * until the JIT compilers are quiet, as in {@link MessageThroughputBenchmark}: in a JVM where this
     * path had not run yet, the JIT compilers took a fifth to a third of the CPU for the first minute
     * of the end-to-end load (about 11,000 compilations), and the delivery fell behind the 50
     * messages/s offered until they were done. The E2E part of a round lasts this long, the HL7 parts
     * a third of it each. Set to 0 to measure that cold start.
     */
    private static final Duration WARMUP_ROUND = seconds("bench.warmup-round-seconds", 30);
    /** The end-to-end target: a steady offered rate (messages/s) for a fixed time, not a closed loop. */
    private static final double E2E_RATE = Double.parseDouble(System.getProperty("bench.e2e-rate", "50"));
    private static final Duration E2E_MEASURE = seconds("bench.e2e-seconds", 120);
    private static final int HL7_PATIENTS = Integer.getInteger("bench.hl7-patients", 50);
    private static final int CONSENTED_PATIENTS = Math.min(10, HL7_PATIENTS);
    private static final int E2E_PATIENTS = 4;
    private static final int PARSE_CORPUS = 1000;
    private static final String BASELINE_TABLE = "bench_pipeline_baseline";
    private static final Charset LATIN1 = StandardCharsets.ISO_8859_1;
    private static final DateTimeFormatter HL7_TS = DateTimeFormatter.ofPattern("yyyyMMddHHmmss").withZone(ZoneId.of("Europe/Berlin"));

    @Autowired
    DataSource dataSource;

    @Autowired
    CareRelayProperties properties;

    @Test
    void throughput() throws Exception {
        BenchmarkSupport.summaryStart();
        assertThat(properties.db().embeddedDurable()).as("carerelay.db.embedded-durable").isTrue();
        widenClientPool(FHIR);
        String runId = Long.toString(System.currentTimeMillis() % 1_679_616, 36).toUpperCase(Locale.ROOT); // 4 chars

        // --- setup: scenario 1 (FHIR senders -> MLLP recipient)
        List<Participants.Registered> senders = List.of(Participants.registerNew(this, "Bench-E2E-Klinik"),
                Participants.registerNew(this, "Bench-E2E-Praxis"), Participants.registerNew(this, "Bench-E2E-Pflegedienst"));
        Participants.Registered mllpRecipient = Participants.registerNew(this, "Bench-E2E-Pflegeheim-MLLP");
        Recipient recipient = new Recipient();
        int recipientPort = TestPorts.free();
        HapiContext hapi = new DefaultHapiContext();
        hapi.setValidationContext(ValidationContextFactory.noValidation());
        hapi.getParserConfiguration().setValidating(false);
        hapi.getParserConfiguration().setIdGenerator(new InMemoryIDGenerator()); // generateACK writes no id file
        HL7Service server = hapi.newServer(recipientPort, false);
        server.registerApplication("*", "*", recipient);
        server.startAndWait();

        // --- setup: scenario 2/3 (HL7 sender with alias -> recipient with alias)
        Participants.Registered hl7Sender = Participants.registerNew(this, "Bench-HL7-Pflegedienst");
        Participants.Registered hl7Recipient = Participants.registerNew(this, "Bench-HL7-Klinik");
        String senderAlias = "BPS" + runId;
        String recipientAlias = "BKL" + runId;
        try {
            Participants.addEndpoint(admin(), mllpRecipient.organizationId(), "hl7v2-mllp", "mllp://127.0.0.1:" + recipientPort, null);
            // a patient per sender: a KVNR another organisation created first is not the next sender's patient
            String[][] e2ePatients = new String[senders.size()][E2E_PATIENTS];
            for (int s = 0; s < senders.size(); s++) {
                Participants.Registered sender = senders.get(s);
                for (int i = 0; i < E2E_PATIENTS; i++) {
                    e2ePatients[s][i] = client(sender.token()).create()
                            .resource(Conversations.patient("Bench", "E2E" + i, Conversations.kvnr())).execute().getId().getIdPart();
                    Conversations.uploadConsent(client(sender.token()), e2ePatients[s][i], sender.organizationId(),
                            mllpRecipient.organizationId());
                }
            }
            verifyEndToEnd(senders, e2ePatients, mllpRecipient.organizationId(), recipient);

            Participants.addHl7Alias(admin(), hl7Sender.organizationId(), senderAlias);
            Participants.addHl7Alias(admin(), hl7Recipient.organizationId(), recipientAlias);
            String[] kvnrs = distinctKvnrs(HL7_PATIENTS);
            createHl7Patients(senderAlias, runId, kvnrs);
            String[] consented = new String[CONSENTED_PATIENTS];
            for (int i = 0; i < CONSENTED_PATIENTS; i++) {
                consented[i] = kvnrs[i];
                IGenericClient sender = client(hl7Sender.token());
                Conversations.uploadConsent(sender, Conversations.patientIdByKvnr(sender, kvnrs[i]),
                        hl7Sender.organizationId(), hl7Recipient.organizationId());
            }

            createBaselineTable(dataSource, BASELINE_TABLE);

            Environment environment = environment(dataSource);
            List<String> drains = new ArrayList<>();
            drains.add(drain("after the setup", null).line());

            // the clients of each scenario; the warm-up rounds use the same ones (control ids of their own)
            Function<Map<String, Posted>, ClientFactory> e2eClients = posted -> i -> new PostClient(senders.get(i % senders.size()),
                    e2ePatients[i % senders.size()], mllpRecipient.organizationId(), posted);
            Function<String, ClientFactory> adtClients = prefix -> i -> new Hl7Client(seq -> adtA08(senderAlias,
                    runId + prefix + i + "-" + Long.toString(seq, 36).toUpperCase(Locale.ROOT),
                    kvnrs[(int) Math.floorMod(seq * 7919L + i, (long) kvnrs.length)], seq));
            Function<String, ClientFactory> mdmClients = prefix -> i -> new Hl7Client(seq -> mdmT02(senderAlias, recipientAlias,
                    runId + prefix + i + "-" + Long.toString(seq, 36).toUpperCase(Locale.ROOT),
                    consented[(int) Math.floorMod(seq * 7919L + i, (long) consented.length)], seq));

            String warmUp = "warm-up: none (bench.warmup-round-seconds=0), the scenarios measure a fresh JVM";
            if (!WARMUP_ROUND.isZero()) {
                Duration hl7Round = WARMUP_ROUND.dividedBy(3);
                warmUp = BenchmarkSupport.warmUp(String.format(Locale.ROOT, "%d s at the E2E rate, %d s each of ADT^A08 and MDM^T02, "
                        + "then the pipeline drained", WARMUP_ROUND.toSeconds(), hl7Round.toSeconds()), round -> {
                    Map<String, Posted> warmupPosted = new ConcurrentHashMap<>();
                    BenchmarkSupport.runPaced(dataSource, "E2E warm-up round (not reported)", E2E_RATE, WARMUP_ROUND, Duration.ofSeconds(1),
                            e2eClients.apply(warmupPosted));
                    drains.add(drain("after E2E warm-up round " + round, new DrainTarget(warmupPosted.keySet(), recipient)).line());
                    run("HL7 in: ADT^A08 warm-up round (not reported)", hl7Round, Duration.ofSeconds(1), maxOps(50_000),
                            adtClients.apply("WU" + round + "-"));
                    run("HL7 in: MDM^T02 warm-up round (not reported)", hl7Round, Duration.ofSeconds(1), maxOps(50_000),
                            mdmClients.apply("WD" + round + "-"));
                    drains.add(drain("after warm-up round " + round, null).line());
                });
            }

            Phase baselineBefore = run("baseline: INSERT commit (before)", BASELINE_WARMUP, BASELINE_MEASURE,
                    maxOps(2_000_000), i -> new InsertClient(dataSource, BASELINE_TABLE));

            // 1. end to end
            Map<String, Posted> posted = new ConcurrentHashMap<>();
            BacklogSampler backlog = new BacklogSampler(posted, recipient);
            backlog.start();
            Phase e2ePost = BenchmarkSupport.runPaced(dataSource, String.format(Locale.ROOT, "E2E: POST Communication, %.0f/s (→ MLLP)", E2E_RATE),
                    E2E_RATE, WARMUP, E2E_MEASURE, e2eClients.apply(posted));
            backlog.stop(e2ePost);
            Drain e2eDrain = drain("after E2E", new DrainTarget(posted.keySet(), recipient));
            drains.add(e2eDrain.line());
            EndToEnd e2e = endToEnd(e2ePost, posted, recipient, e2eDrain, mllpRecipient.organizationId(), backlog.lines());

            // 2. HL7 inbound ADT^A08
            Phase adt = run("HL7 in: ADT^A08 (8 MLLP conn.)", WARMUP, MEASURE, maxOps(50_000), adtClients.apply("U"));
            drains.add(drain("after " + adt.name(), null).line());

            // 3. HL7 inbound MDM^T02, text only, with consent
            Phase mdm = run("HL7 in: MDM^T02 text (8 MLLP conn.)", WARMUP, MEASURE, maxOps(50_000), mdmClients.apply("D"));
            drains.add(drain("after " + mdm.name(), null).line());

            Phase baselineAfter = run("baseline: INSERT commit (after)", BASELINE_WARMUP, BASELINE_MEASURE,
                    maxOps(2_000_000), i -> new InsertClient(dataSource, BASELINE_TABLE));

            // 4. baselines of the HL7 rows: HAPI's PipeParser over the same messages, same concurrency
            List<String> adtCorpus = new ArrayList<>();
            List<String> mdmCorpus = new ArrayList<>();
            for (int i = 0; i < PARSE_CORPUS; i++) {
                adtCorpus.add(adtA08(senderAlias, runId + "P" + i, kvnrs[i % kvnrs.length], i));
                mdmCorpus.add(mdmT02(senderAlias, recipientAlias, runId + "Q" + i, consented[i % consented.length], i));
            }
            Phase adtParse = run("baseline: PipeParser, the ADT^A08", BASELINE_WARMUP, BASELINE_MEASURE, maxOps(50_000_000),
                    i -> new ParseClient(adtCorpus));
            Phase mdmParse = run("baseline: PipeParser, the MDM^T02", BASELINE_WARMUP, BASELINE_MEASURE, maxOps(50_000_000),
                    i -> new ParseClient(mdmCorpus));

            dropBaselineTable(dataSource, BASELINE_TABLE);

            List<Phase> phases = List.of(baselineBefore, e2ePost, adt, mdm, baselineAfter, adtParse, mdmParse);
            String report = report(environment, warmUp, gatewaySettings(), phases, baselineBefore, baselineAfter, e2e, drains);
            System.out.println(report);
            summarise(baselineBefore, baselineAfter, e2ePost, e2e, adt, adtParse, mdm, mdmParse);
            BenchmarkSupport.results(report);

            // not about speed: a benchmark whose operations failed measured the wrong thing
            for (Phase p : phases) {
                assertThat(p.ok()).as("%s: successful operations", p.name()).isPositive();
                // late starts are a figure (the offered load fell behind, the report says so), not a failed operation
                assertThat(p.errorKinds().keySet().stream().filter(k -> !k.equals(BenchmarkSupport.LATE_STARTS)))
                        .as("%s: errors during load", p.name()).isEmpty();
            }
            assertThat(e2e.delivered()).as("E2E: measured messages delivered").isPositive();
        } finally {
            server.stopAndWait();
            hapi.close();
        }
    }

    // --- the summary rows

    private void summarise(Phase before, Phase after, Phase post, EndToEnd e2e, Phase adt, Phase adtParse, Phase mdm, Phase mdmParse) {
        double baseline = (before.opsPerSecond() + after.opsPerSecond()) / 2;
        String insert = "INSERT commits, " + THREADS + " conn.: " + BenchmarkSupport.rate(baseline, "/s");
        BenchmarkSupport.summaryRow("FHIR create → MLLP recipient: POST, " + THREADS + " clients",
                BenchmarkSupport.rate(post.opsPerSecond(), "/s"), fmt(post.latency().getValueAtPercentile(50)) + " ms",
                fmt(post.latency().getValueAtPercentile(99)) + " ms", insert, BenchmarkSupport.ratio(post.opsPerSecond(), baseline));
        BenchmarkSupport.summaryRow(String.format(Locale.ROOT,
                        "accepted → delivered to an MLLP recipient, %.0f/s offered for %d s (%d of %d delivered; backlog at the end %d, "
                                + "drained %s s later)",
                        E2E_RATE, E2E_MEASURE.toSeconds(), e2e.delivered(), e2e.acceptedMeasured(), e2e.backlogAtStop(),
                        Double.isNaN(e2e.drainAllDelivered()) ? "–" : String.format(Locale.ROOT, "%.1f", e2e.drainAllDelivered())),
                BenchmarkSupport.rate(e2e.deliveredPerSecond(), "/s"), fmt(e2e.latency().getValueAtPercentile(50)) + " ms",
                fmt(e2e.latency().getValueAtPercentile(99)) + " ms", insert, BenchmarkSupport.ratio(e2e.deliveredPerSecond(), baseline));
        for (Phase[] pair : new Phase[][] {{adt, adtParse}, {mdm, mdmParse}}) {
            Phase in = pair[0];
            Phase parse = pair[1];
            BenchmarkSupport.summaryRow(in.name().replace("HL7 in: ", "HL7 in, AA after commit: "),
                    BenchmarkSupport.rate(in.opsPerSecond(), "/s"), fmt(in.latency().getValueAtPercentile(50)) + " ms",
                    fmt(in.latency().getValueAtPercentile(99)) + " ms",
                    "HAPI PipeParser, same messages, " + THREADS + " threads: " + BenchmarkSupport.rate(parse.opsPerSecond(), "/s"),
                    BenchmarkSupport.ratio(in.opsPerSecond(), parse.opsPerSecond()));
        }
    }

    /** HAPI's plain {@code PipeParser} (default context, validation off), one per thread, cycling through a corpus. */
    static final class ParseClient implements BenchClient {
        private final List<String> corpus;
        private final HapiContext context = new DefaultHapiContext();
        private final ca.uhn.hl7v2.parser.PipeParser parser;

        ParseClient(List<String> corpus) {
            this.corpus = corpus;
            context.setValidationContext(ValidationContextFactory.noValidation());
            context.getParserConfiguration().setValidating(false);
            parser = context.getPipeParser();
        }

        @Override
        public void execute(long seq, Parts parts) throws Exception {
            Message message = parser.parse(corpus.get((int) (seq % corpus.size())));
            if (message == null) {
                throw new IllegalStateException("no message parsed");
            }
        }

        @Override
        public void close() throws Exception {
            context.close();
        }
    }

    // --- setup helpers

    private static String[] distinctKvnrs(int count) {
        Set<String> kvnrs = new HashSet<>();
        while (kvnrs.size() < count) {
            kvnrs.add(Conversations.kvnr());
        }
        return kvnrs.toArray(String[]::new);
    }

    /** Once, before measuring: every sender's message reaches the MLLP recipient. */
    private void verifyEndToEnd(List<Participants.Registered> senders, String[][] patients, String recipientOrg, Recipient recipient) {
        List<String> ids = new ArrayList<>();
        for (int s = 0; s < senders.size(); s++) {
            ids.add(Conversations.send(client(senders.get(s).token()), Conversations.message(patients[s][0], "Vorab-Test", recipientOrg)));
        }
        await().atMost(Duration.ofSeconds(30)).until(() -> recipient.receipts.keySet().containsAll(ids));
    }

    /** Every patient once as ADT^A01 over one connection, so the ADT^A08 later update existing patients. */
    private void createHl7Patients(String senderAlias, String runId, String[] kvnrs) throws IOException {
        try (MllpConnection connection = new MllpConnection()) {
            for (int i = 0; i < kvnrs.length; i++) {
                String controlId = runId + "C" + i;
                String ack = connection.exchange(adt(senderAlias, controlId, "A01", kvnrs[i], i));
                assertThat(Mllp.field(ack, "MSA", 1)).as("ADT^A01 %s: %s", controlId, ack).isEqualTo("AA");
            }
        }
    }

    // --- HL7 messages

    private static String msh(String sender, String recipient, String type, String controlId) {
        return "MSH|^~\\&|PFLEGE_SW|" + sender + "|CARERELAY|" + recipient + "|" + HL7_TS.format(Instant.now()) + "||" + type + "|"
                + controlId + "|P|2.5|||||DEU|8859/1\r";
    }

    private static String pid(String kvnr, long variant) {
        return "PID|1||" + kvnr + "^^^KVNR^KVNR~BP" + kvnr + "^^^PFL^PI||Müßig^Jürgen||19380412|M|||Straße der Einheit "
                + (1 + variant % 99) + "^^Görlitz^^02826^DEU\r";
    }

    static String adt(String sender, String controlId, String event, String kvnr, long variant) {
        return msh(sender, "CARERELAY", "ADT^" + event + "^ADT_A01", controlId)
                + "EVN|" + event + "|" + HL7_TS.format(Instant.now()) + "\r"
                + pid(kvnr, variant)
                + "PV1|1|O\r";
    }

    static String adtA08(String sender, String controlId, String kvnr, long seq) {
        return adt(sender, controlId, "A08", kvnr, seq);
    }

    static String mdmT02(String sender, String recipient, String controlId, String kvnr, long seq) {
        String ts = HL7_TS.format(Instant.now());
        return msh(sender, recipient, "MDM^T02^MDM_T02", controlId)
                + "EVN|T02|" + ts + "\r"
                + pid(kvnr, 0)
                + "PV1|1|O\r"
                + "TXA|1|CN|TX|" + ts + "||||||||DOC-" + controlId + "||||||AU||AV\r"
                + "OBX|1|TX|^Nachricht||#" + seq + " " + TEXT.substring(0, 250) + "||||||F\r"
                + "OBX|2|TX|^Nachricht||" + TEXT.substring(250) + "||||||F\r";
    }

    /** One persistent MLLP connection to the gateway (reopened after an error). */
    final class MllpConnection implements AutoCloseable {
        private Socket socket;
        private InputStream in;
        private OutputStream out;

        String exchange(String er7) throws IOException {
            if (socket == null) {
                socket = new Socket("127.0.0.1", HL7_PORT);
                socket.setTcpNoDelay(true);
                socket.setSoTimeout(30_000);
                in = new BufferedInputStream(socket.getInputStream());
                out = socket.getOutputStream();
            }
            try {
                byte[] payload = er7.getBytes(LATIN1);
                ByteArrayOutputStream frame = new ByteArrayOutputStream(payload.length + 3);
                frame.write(Mllp.START);
                frame.write(payload, 0, payload.length);
                frame.write(Mllp.END);
                frame.write(Mllp.CR);
                out.write(frame.toByteArray());
                out.flush();
                String ack = Mllp.readFrame(in, LATIN1);
                if (ack == null) {
                    throw new EOFException("connection closed by the gateway");
                }
                return ack;
            } catch (IOException e) {
                close();
                throw e;
            }
        }

        @Override
        public void close() {
            if (socket != null) {
                try {
                    socket.close();
                } catch (IOException ignored) {
                    // closing anyway
                }
            }
            socket = null;
        }
    }

    // --- the in-test MLLP recipient

    record Receipt(long nanos, String controlId) {
    }

    /** Answers AA; remembers when each TXA-12 (message id) arrived first, and every repeat. */
    static final class Recipient implements ReceivingApplication<Message> {
        final Map<String, Receipt> receipts = new ConcurrentHashMap<>();
        final LongAdder frames = new LongAdder();
        final LongAdder duplicates = new LongAdder();
        final LongAdder retransmissions = new LongAdder();
        final Set<String> duplicateIds = ConcurrentHashMap.newKeySet();

        @Override
        public Message processMessage(Message message, Map<String, Object> metadata) {
            long now = System.nanoTime();
            frames.increment();
            try {
                Terser terser = new Terser(message);
                String id = terser.get("/TXA-12-1");
                String controlId = terser.get("/MSH-10");
                Receipt first = receipts.putIfAbsent(id, new Receipt(now, controlId));
                if (first != null) {
                    duplicates.increment();
                    duplicateIds.add(id);
                    if (first.controlId().equals(controlId)) {
                        retransmissions.increment();
                    }
                }
                return message.generateACK();
            } catch (Exception e) {
                throw new IllegalStateException(e);
            }
        }

        @Override
        public boolean canProcess(Message message) {
            return true;
        }
    }

    // --- the operations

    /** When a message was POSTed (just before the request) and accepted, and whether in the measured phase. */
    record Posted(long start, long accepted, boolean measured) {
    }

    /** A patient-bound text message to the MLLP recipient; one sender organisation per thread. */
    final class PostClient implements BenchClient {
        private final IGenericClient fhir;
        private final String[] patients;
        private final String recipientOrg;
        private final Map<String, Posted> posted;

        PostClient(Participants.Registered sender, String[] patients, String recipientOrg, Map<String, Posted> posted) {
            this.fhir = FHIR.newRestfulGenericClient(baseUrl());
            this.fhir.registerInterceptor(new BearerTokenAuthInterceptor(sender.token()));
            this.patients = patients;
            this.recipientOrg = recipientOrg;
            this.posted = posted;
        }

        @Override
        public void execute(long seq, Parts parts) {
            Communication message = Conversations.message(patients[(int) (seq % patients.length)], "#" + seq + " " + TEXT, recipientOrg);
            long start = System.nanoTime();
            String id = Conversations.send(fhir, message);
            long accepted = System.nanoTime();
            if (id == null) {
                throw new IllegalStateException("no id for the created Communication");
            }
            posted.put(id, new Posted(start, accepted, parts.measured));
        }
    }

    /** Thrown for an ACK other than AA: {@link #kind} is MSA-1 and ERR-5, the message adds MSH-10 and the ACK's text. */
    static final class AckException extends KindedException {
        AckException(String kind, String detail) {
            super(kind, kind + (detail == null ? "" : " (" + detail + ")"), false);
        }
    }

    @FunctionalInterface
    interface Er7Source {
        String message(long seq);
    }

    /** One persistent MLLP connection per thread; every frame must get AA naming its MSH-10. */
    final class Hl7Client implements BenchClient {
        private final MllpConnection connection = new MllpConnection();
        private final Er7Source source;

        Hl7Client(Er7Source source) {
            this.source = source;
        }

        @Override
        public void execute(long seq, Parts parts) throws Exception {
            String er7 = source.message(seq);
            String controlId = er7.split("\r", 2)[0].split("\\|", -1)[9];
            String ack = connection.exchange(er7);
            String code = Mllp.field(ack, "MSA", 1);
            if (!"AA".equals(code)) {
                String err = Mllp.field(ack, "ERR", 5);
                throw new AckException("MSA-1 " + code + (err == null ? "" : " " + err.split("\\^", 2)[0]),
                        "MSH-10 " + controlId + ", MSA-3 '" + Mllp.field(ack, "MSA", 3) + "', ERR-8 '" + Mllp.field(ack, "ERR", 8) + "'");
            }
            if (!controlId.equals(Mllp.field(ack, "MSA", 2))) {
                throw new AckException("MSA-2 does not name the MSH-10", "MSH-10 " + controlId + ", MSA-2 " + Mllp.field(ack, "MSA", 2));
            }
        }

        @Override
        public void close() {
            connection.close();
        }
    }

    // --- the runner

    private Phase run(String name, Duration warmup, Duration measure, long maxOps, ClientFactory factory) throws Exception {
        return BenchmarkSupport.run(dataSource, name, warmup, measure, maxOps, factory);
    }

    // --- the asynchronous pipeline

    /** What a drain waits for besides an idle ledger: every accepted message at the MLLP recipient. */
    record DrainTarget(Set<String> accepted, Recipient recipient) {
    }

    /**
     * @param allDelivered seconds from the senders' stop until every accepted message was at the recipient (NaN: not all)
     * @param idle         seconds from the senders' stop until the ledger had no open work and no mail came for 1 s (NaN: limit)
     */
    record Drain(String line, long start, long openAtStart, double allDelivered, double idle, double machineCpu, double jvmCpu,
            double jitCpu) {
    }

    /**
     * Waits, at most {@code bench.drain-seconds}, until no work is open in the ledger (messages not
     * fanned out, deliveries queued, recipients not notified), no mail arrived for a second, and, with
     * a target, every accepted message has reached the recipient.
     */
    private Drain drain(String when, DrainTarget target) throws Exception {
        long start = System.nanoTime();
        long limit = start + DRAIN_LIMIT.toNanos();
        long openAtStart = openWork();
        long open = openAtStart;
        int mails = GREEN_MAIL.getReceivedMessages().length;
        CpuSampler cpu = new CpuSampler();
        long allDelivered = -1;
        long idle = -1;
        int stable = 0;
        while (System.nanoTime() < limit) {
            if (target != null && allDelivered < 0 && target.recipient().receipts.keySet().containsAll(target.accepted())) {
                allDelivered = System.nanoTime();
            }
            open = openWork();
            int now = GREEN_MAIL.getReceivedMessages().length;
            // open == 0: every delivery is delivered or failed (a failed one never reaches the recipient)
            boolean quiet = open == 0 && now == mails;
            mails = now;
            if (quiet && ++stable >= 4) { // 4 × 250 ms without change
                idle = System.nanoTime() - 1_000_000_000L;
                break;
            } else if (!quiet) {
                stable = 0;
            }
            Thread.sleep(250);
            cpu.sample();
        }
        cpu.end();
        double allDeliveredSeconds = allDelivered < 0 ? Double.NaN : (allDelivered - start) / 1e9;
        double idleSeconds = idle < 0 ? Double.NaN : Math.max(0, (idle - start) / 1e9);
        double mCpu = cpu.machine();
        double jCpu = cpu.jvm();
        double jitCpu = cpu.jit();
        String line = String.format(Locale.ROOT, "%-40s %6d work items open; %s; cpu m/jvm/jit %.0f/%.0f/%.0f%%", when, openAtStart,
                idle >= 0 ? String.format(Locale.ROOT, "idle after %.1f s", idleSeconds)
                        : String.format(Locale.ROOT, "still %d open after %.0f s (limit)", open, DRAIN_LIMIT.toSeconds() * 1.0),
                100 * mCpu, 100 * jCpu, 100 * jitCpu);
        System.out.println("[bench] pipeline " + line);
        return new Drain(line, start, openAtStart, allDeliveredSeconds, idleSeconds, mCpu, jCpu, jitCpu);
    }

    /** Messages not yet fanned out, deliveries still queued, delivered but not yet notified. */
    private long openWork() throws Exception {
        try (Connection c = dataSource.getConnection(); Statement s = c.createStatement()) {
            return Long.parseLong(single(s, """
                    select (select count(*) from message m where not exists (select 1 from delivery d where d.message_id = m.id))
                         + (select count(*) from delivery where state = 'queued')
                         + (select count(*) from delivery where state = 'delivered' and notified_at is null)
                    """));
        }
    }

    /**
     * Every 10 s while the senders run: how many messages were accepted so far, how many of them are
     * at the recipient, and the difference (the backlog); a backlog that keeps growing means the
     * pipeline does not keep up with the offered rate.
     */
    static final class BacklogSampler {
        private final Map<String, Posted> posted;
        private final Recipient recipient;
        private final List<String> lines = new ArrayList<>();
        private final long origin = System.nanoTime();
        private Thread thread;

        BacklogSampler(Map<String, Posted> posted, Recipient recipient) {
            this.posted = posted;
            this.recipient = recipient;
        }

        void start() {
            thread = new Thread(() -> {
                try {
                    while (!Thread.currentThread().isInterrupted()) {
                        Thread.sleep(10_000);
                        sample();
                    }
                } catch (InterruptedException e) {
                    Thread.currentThread().interrupt();
                }
            }, "bench-backlog");
            thread.setDaemon(true);
            thread.start();
        }

        void stop(Phase phase) throws InterruptedException {
            thread.interrupt();
            thread.join();
            sample();
        }

        private synchronized void sample() {
            long accepted = 0;
            long delivered = 0;
            for (String id : posted.keySet()) {
                accepted++;
                if (recipient.receipts.containsKey(id)) {
                    delivered++;
                }
            }
            String line = String.format(Locale.ROOT, "%6.0f s: accepted %6d, at the recipient %6d, backlog %5d",
                    (System.nanoTime() - origin) / 1e9, accepted, delivered, accepted - delivered);
            lines.add(line);
            System.out.println("[bench] E2E " + line);
        }

        synchronized List<String> lines() {
            return List.copyOf(lines);
        }
    }

    // --- end-to-end evaluation

    record EndToEnd(long acceptedMeasured, long acceptedTotal, long delivered, long deliveredInPhase, long receivedInPhase,
            double phaseSeconds, double deliverySpanSeconds, Histogram latency, Histogram post, long backlogAtStop,
            double drainAllDelivered, double drainIdle, long frames, long duplicates, long retransmissions,
            long duplicatesMeasured, Map<String, Long> ledger, Map<String, Long> attempts, Map<String, Long> failures,
            double drainMachineCpu, double drainJvmCpu, double drainJitCpu, List<String> stages, Histogram fromPostStart,
            List<String> backlogSamples) {
        double deliveredPerSecond() {
            return delivered / deliverySpanSeconds;
        }

        double receivedPerSecondInPhase() {
            return receivedInPhase / phaseSeconds;
        }
    }

    private EndToEnd endToEnd(Phase phase, Map<String, Posted> posted, Recipient recipient, Drain drain, String recipientOrg,
            List<String> backlogSamples) throws Exception {
        Histogram latency = newHistogram();
        Histogram fromPostStart = newHistogram();
        long acceptedMeasured = 0;
        long delivered = 0;
        long deliveredInPhase = 0;
        long lastDelivery = phase.measureStart();
        long backlogAtStop = 0;
        long duplicatesMeasured = 0;
        List<String> measuredIds = new ArrayList<>();
        for (Map.Entry<String, Posted> entry : posted.entrySet()) {
            Receipt receipt = recipient.receipts.get(entry.getKey());
            if (receipt == null || receipt.nanos() > phase.stopped()) {
                backlogAtStop++;
            }
            if (!entry.getValue().measured()) {
                continue;
            }
            acceptedMeasured++;
            measuredIds.add(entry.getKey());
            if (recipient.duplicateIds.contains(entry.getKey())) {
                duplicatesMeasured++;
            }
            if (receipt != null) {
                delivered++;
                latency.recordValue(micros(receipt.nanos() - entry.getValue().accepted()));
                fromPostStart.recordValue(micros(receipt.nanos() - entry.getValue().start()));
                lastDelivery = Math.max(lastDelivery, receipt.nanos());
                if (receipt.nanos() <= phase.measureEnd()) {
                    deliveredInPhase++;
                }
            }
        }
        long receivedInPhase = recipient.receipts.values().stream()
                .filter(r -> r.nanos() >= phase.measureStart() && r.nanos() <= phase.measureEnd()).count();
        Map<String, Long> ledger = new LinkedHashMap<>();
        Map<String, Long> attempts = new LinkedHashMap<>();
        Map<String, Long> failures = new LinkedHashMap<>();
        try (Connection c = dataSource.getConnection()) {
            groupCount(c, "select channel || ' ' || state, count(*) from delivery where recipient_org = ? group by 1 order by 1",
                    recipientOrg, ledger);
            groupCount(c, "select attempts::text, count(*) from delivery where recipient_org = ? group by attempts order by attempts",
                    recipientOrg, attempts);
            groupCount(c, "select coalesce(left(detail, 80), '(none)'), count(*) from delivery where recipient_org = ? and state = 'failed' "
                    + "group by 1 order by 2 desc limit 5", recipientOrg, failures);
        }
        double drainAll = drain.allDelivered();
        // the drain starts when the senders have stopped; time it from there
        double offset = (drain.start() - phase.stopped()) / 1e9;
        return new EndToEnd(acceptedMeasured, posted.size(), delivered, deliveredInPhase, receivedInPhase,
                (phase.measureEnd() - phase.measureStart()) / 1e9, Math.max(1e-9, (lastDelivery - phase.measureStart()) / 1e9),
                latency, phase.latency(), backlogAtStop, drainAll + offset, drain.idle() + offset, recipient.frames.sum(),
                recipient.duplicates.sum(), recipient.retransmissions.sum(), duplicatesMeasured, ledger, attempts, failures,
                drain.machineCpu(), drain.jvmCpu(), drain.jitCpu(), stages(recipientOrg, measuredIds), fromPostStart, backlogSamples);
    }

    /**
     * Where the time goes, per measured message, from the gateway's own timestamps (one JVM clock):
     * accepted (message.sent, before the commit) → handed to the broker and fanned out
     * (delivery.created_at; the event publication that carried it is deleted on completion) → claimed by the MLLP stage (delivery.last_attempt) →
     * delivered (AA recorded, delivery.delivered_at); the notification (delivery.notified_at) is a
     * parallel stage after the fan-out.
     */
    private List<String> stages(String recipientOrg, List<String> ids) throws Exception {
        String[][] stages = {
                {"accepted → fanned out", "d.created_at - m.sent"},
                {"fanned out → claimed by deliver-mllp", "d.last_attempt - d.created_at"},
                {"claimed → delivered (MLLP send, AA)", "d.delivered_at - d.last_attempt"},
                {"fanned out → notified (parallel stage)", "d.notified_at - d.created_at"},
                {"accepted → delivered (ledger)", "d.delivered_at - m.sent"}};
        List<String> lines = new ArrayList<>();
        try (Connection c = dataSource.getConnection()) {
            java.sql.Array array = c.createArrayOf("text", ids.toArray());
            for (String[] stage : stages) {
                String sql = "select percentile_cont(0.5) within group (order by x), percentile_cont(0.99) within group (order by x), "
                        + "max(x), count(x) from (select extract(epoch from (" + stage[1] + ")) * 1000 as x from delivery d "
                        + "join message m on m.id = d.message_id "
                        + "where d.recipient_org = ? and d.message_id = any(?)) t";
                try (PreparedStatement s = c.prepareStatement(sql)) {
                    s.setString(1, recipientOrg);
                    s.setArray(2, array);
                    try (ResultSet rs = s.executeQuery()) {
                        rs.next();
                        lines.add(String.format(Locale.ROOT, "%-40s p50 %9.1f ms   p99 %9.1f ms   max %9.1f ms   (%d)", stage[0],
                                rs.getDouble(1), rs.getDouble(2), rs.getDouble(3), rs.getLong(4)));
                    }
                }
            }
        }
        return lines;
    }

    private static void groupCount(Connection c, String sql, String param, Map<String, Long> into) throws Exception {
        try (PreparedStatement s = c.prepareStatement(sql)) {
            s.setString(1, param);
            try (ResultSet rs = s.executeQuery()) {
                while (rs.next()) {
                    into.put(rs.getString(1), rs.getLong(2));
                }
            }
        }
    }

    // --- the report

    /** The gateway settings that shape the figures (the integration-test settings). */
    private String gatewaySettings() {
        var p = properties.pipeline();
        var h = properties.hl7();
        return String.format(Locale.ROOT,
                "pipeline: %d concurrent consumers per stage, connect/response timeout %d/%d ms, max attempts %d, "
                        + "redelivery %d ms ×%.1f (test settings); MLLP listener: max %d connections; mail: %d consumers",
                p.concurrentConsumers(), p.connectTimeout().toMillis(), p.responseTimeout().toMillis(), p.maxAttempts(),
                p.redeliveryDelay().toMillis(), p.redeliveryMultiplier(), h.maxConnections(),
                properties.mail().effectiveConsumers());
    }

    private String report(Environment env, String warmUp, String gateway, List<Phase> phases, Phase before, Phase after, EndToEnd e2e,
            List<String> drains) {
        double baseline = (before.opsPerSecond() + after.opsPerSecond()) / 2;
        StringBuilder out = new StringBuilder();
        out.append("CareRelay pipeline and HL7 inbound benchmark, ").append(Instant.now()).append('\n');
        out.append(String.format(Locale.ROOT,
                "%d client threads, warm-up %d s, measured phase up to %d s (or the operation cap), baseline %d+%d s; "
                        + "E2E: open loop, %.1f messages/s offered for %d s after the warm-up; "
                        + "gateway, clients and MLLP recipient in one JVM%n"
                        + "before the scenarios, %s%n",
                THREADS, WARMUP.toSeconds(), MEASURE.toSeconds(), BASELINE_WARMUP.toSeconds(), BASELINE_MEASURE.toSeconds(),
                E2E_RATE, E2E_MEASURE.toSeconds(), warmUp));
        out.append(env.describe());
        out.append(gateway).append('\n');
        out.append(String.format(Locale.ROOT,
                "baseline = mean of the INSERT rates before and after the scenarios = %.1f/s (drift %+.1f%%)%n%n",
                baseline, 100.0 * (after.opsPerSecond() - before.opsPerSecond()) / before.opsPerSecond()));
        String format = "%-38s %8s %6s %10s %9s %9s %9s %11s %9s %13s %6s%n";
        out.append(String.format(Locale.ROOT, format, "scenario", "ops", "errors", "ops/s", "p50 ms", "p99 ms", "max ms",
                "÷ baseline", "pool max", "cpu m/jvm/jit", "load"));
        out.append("-".repeat(134)).append('\n');
        for (Phase p : phases) {
            List<Object> cells = tableCells(p, baseline);
            cells.add(String.format(Locale.ROOT, "%.2f", p.loadAverage()));
            out.append(String.format(Locale.ROOT, format, cells.toArray()));
            if (p == phases.get(1)) {
                out.append(String.format(Locale.ROOT, format, "E2E: accept → MDM^T02 at recipient", e2e.delivered(),
                        e2e.acceptedMeasured() - e2e.delivered(), String.format(Locale.ROOT, "%.1f", e2e.deliveredPerSecond()),
                        fmt(e2e.latency().getValueAtPercentile(50)), fmt(e2e.latency().getValueAtPercentile(99)),
                        fmt(e2e.latency().getMaxValue()), String.format(Locale.ROOT, "%.4f", e2e.deliveredPerSecond() / baseline),
                        "", String.format(Locale.ROOT, "%.0f/%.0f/%.0f%%", 100 * e2e.drainMachineCpu(), 100 * e2e.drainJvmCpu(),
                                100 * e2e.drainJitCpu()), ""));
            }
        }
        out.append('\n');
        out.append("ops = successful operations started in the measured phase; errors = failed operations, warm-up included\n");
        out.append("  (E2E accept → delivered row: errors = measured messages accepted but not at the recipient by the end of the drain);\n");
        out.append("ops/s = ops ÷ (measured phase start → end of the last measured operation);\n");
        out.append("HL7 rows: p50/p99 = send frame → AA read back on a persistent connection (AA only after commit);\n");
        out.append("pool max = most Hikari connections in use / most threads waiting for one (pool size 20);\n");
        out.append("cpu m/jvm/jit = mean machine-wide / JVM CPU load / the JIT compiler threads' CPU time in the measured phase\n");
        out.append("  (E2E delivered row: during the drain), 100% = all cores;\n");
        out.append("load = 1-minute system load average at the end of the measured phase.\n");
        for (Phase p : phases) {
            if (!p.errorKinds().isEmpty()) {
                out.append("errors in ").append(p.name()).append(": ").append(p.errorKinds()).append('\n');
                p.firstErrors().forEach((kind, message) -> out.append("  first ").append(kind).append(": ").append(message).append('\n'));
            }
        }

        out.append("\ndatabase work per operation during the measured phase (PostgreSQL's statistics; the pipeline's work included):\n");
        phases.forEach(p -> out.append("  ").append(BenchmarkSupport.DbWork.line(p.name(), p.db())).append('\n'));
        out.append("\nend-to-end (FHIR POST → gateway → Artemis → MLLP → in-test HAPI HL7 server, AA):\n");
        out.append(String.format(Locale.ROOT,
                "  accepted in the measured phase: %d in %.1f s = %.1f/s (POST p50 %s ms, p99 %s ms); accepted in all (warm-up too): %d%n",
                e2e.acceptedMeasured(), e2e.phaseSeconds(), e2e.acceptedMeasured() / e2e.phaseSeconds(),
                fmt(e2e.post().getValueAtPercentile(50)), fmt(e2e.post().getValueAtPercentile(99)), e2e.acceptedTotal()));
        out.append(String.format(Locale.ROOT,
                "  delivered/s = measured messages at the recipient by the end of the drain (%d of %d) ÷ (measured phase start → "
                        + "last of them delivered, %.1f s) = %.1f/s%n",
                e2e.delivered(), e2e.acceptedMeasured(), e2e.deliverySpanSeconds(), e2e.deliveredPerSecond()));
        out.append(String.format(Locale.ROOT,
                "  delivered within the measured phase: %d of the measured messages; recipient output during the phase (any message, "
                        + "warm-up backlog too): %d = %.1f/s%n",
                e2e.deliveredInPhase(), e2e.receivedInPhase(), e2e.receivedPerSecondInPhase()));
        out.append(String.format(Locale.ROOT,
                "  accepted (201 read by the sender) → delivered (MDM^T02 at the recipient): p50 %s ms, p99 %s ms, max %s ms (%d messages); "
                        + "from just before the POST: p50 %s ms, p99 %s ms%n",
                fmt(e2e.latency().getValueAtPercentile(50)), fmt(e2e.latency().getValueAtPercentile(99)),
                fmt(e2e.latency().getMaxValue()), e2e.latency().getTotalCount(),
                fmt(e2e.fromPostStart().getValueAtPercentile(50)), fmt(e2e.fromPostStart().getValueAtPercentile(99))));
        out.append("  backlog while the senders ran (time since the warm-up began; accepted − at the recipient):\n");
        e2e.backlogSamples().forEach(line -> out.append("    ").append(line).append('\n'));
        out.append(String.format(Locale.ROOT,
                "  backlog when the senders stopped: %d accepted messages not yet at the recipient; drained (all at the recipient) "
                        + "%s s after the stop; pipeline idle (notifications too) %s s after the stop%n",
                e2e.backlogAtStop(), Double.isNaN(e2e.drainAllDelivered()) ? "never (not all delivered)," : String.format(Locale.ROOT, "%.1f", e2e.drainAllDelivered()),
                Double.isNaN(e2e.drainIdle()) ? "never (not all delivered)," : String.format(Locale.ROOT, "%.1f", e2e.drainIdle())));
        out.append(String.format(Locale.ROOT,
                "  recipient: %d MDM frames, %d duplicates (TXA-12 seen again; %d of them with the same MSH-10 = retransmissions; "
                        + "%d duplicated ids among the measured messages)%n",
                e2e.frames(), e2e.duplicates(), e2e.retransmissions(), e2e.duplicatesMeasured()));
        out.append("  ledger of the recipient (channel state: count): ").append(e2e.ledger()).append('\n');
        out.append("  attempts per delivery (attempts: count): ").append(e2e.attempts()).append('\n');
        if (!e2e.failures().isEmpty()) {
            out.append("  failed deliveries (detail: count): ").append(e2e.failures()).append('\n');
        }
        out.append("  stages of the measured messages (gateway timestamps; delivery.last_attempt = the last claim):\n");
        e2e.stages().forEach(line -> out.append("    ").append(line).append('\n'));
        out.append(String.format(Locale.ROOT, "%nratios ÷ baseline inserts/s (%.1f/s): E2E accepted %.4f (1 : %.0f), E2E delivered %.4f (1 : %.0f), "
                        + "ADT^A08 %.4f (1 : %.0f), MDM^T02 %.4f (1 : %.0f)%n",
                baseline,
                phases.get(1).opsPerSecond() / baseline, baseline / phases.get(1).opsPerSecond(),
                e2e.deliveredPerSecond() / baseline, baseline / e2e.deliveredPerSecond(),
                phases.get(2).opsPerSecond() / baseline, baseline / phases.get(2).opsPerSecond(),
                phases.get(3).opsPerSecond() / baseline, baseline / phases.get(3).opsPerSecond()));
        out.append("\nasynchronous routing pipeline (fan-out, delivery ledger, MLLP delivery, notification mail; same JVM):\n");
        drains.forEach(line -> out.append("  ").append(line).append('\n'));
        return out.toString();
    }
}
