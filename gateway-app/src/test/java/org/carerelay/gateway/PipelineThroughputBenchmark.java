package org.carerelay.gateway;

import static org.assertj.core.api.Assertions.assertThat;
import static org.awaitility.Awaitility.await;

import ca.uhn.fhir.rest.client.api.IGenericClient;
import ca.uhn.fhir.rest.client.interceptor.BearerTokenAuthInterceptor;
import ca.uhn.fhir.rest.server.exceptions.BaseServerResponseException;
import ca.uhn.hl7v2.DefaultHapiContext;
import ca.uhn.hl7v2.HapiContext;
import ca.uhn.hl7v2.app.HL7Service;
import ca.uhn.hl7v2.model.Message;
import ca.uhn.hl7v2.protocol.ReceivingApplication;
import ca.uhn.hl7v2.util.Terser;
import ca.uhn.hl7v2.util.idgenerator.InMemoryIDGenerator;
import ca.uhn.hl7v2.validation.impl.ValidationContextFactory;
import com.zaxxer.hikari.HikariDataSource;
import com.zaxxer.hikari.HikariPoolMXBean;
import java.io.BufferedInputStream;
import java.io.ByteArrayOutputStream;
import java.io.EOFException;
import java.io.IOException;
import java.io.InputStream;
import java.io.OutputStream;
import java.lang.management.ManagementFactory;
import java.net.ServerSocket;
import java.net.Socket;
import java.nio.charset.Charset;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardOpenOption;
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
import java.util.TreeMap;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.atomic.AtomicLong;
import java.util.concurrent.atomic.LongAdder;
import javax.sql.DataSource;
import org.HdrHistogram.Histogram;
import org.carerelay.fhir.Systems;
import org.carerelay.gateway.config.CareRelayProperties;
import org.hl7.fhir.r4.model.Bundle;
import org.hl7.fhir.r4.model.Communication;
import org.hl7.fhir.r4.model.Endpoint;
import org.hl7.fhir.r4.model.Organization;
import org.hl7.fhir.r4.model.Patient;
import org.junit.jupiter.api.Tag;
import org.junit.jupiter.api.Test;
import org.springframework.beans.factory.annotation.Autowired;
import org.springframework.test.context.ContextConfiguration;

/**
 * Pipeline and HL7 inbound throughput benchmark, not a test: it measures and prints, and asserts
 * nothing about speed.
 *
 * <ol>
 * <li><b>End-to-end pipeline</b>: {@code bench.threads} (8) FHIR clients (one HAPI
 * {@code IGenericClient} per thread; three registered sender organisations) POST patient-bound
 * text Communications to one registered recipient whose endpoint is {@code hl7v2-mllp}, pointing
 * at an in-test HAPI HL7 server that answers AA. Per message: the POST alone, and accept →
 * delivered = from just before the POST until the recipient has the MDM^T02 in hand (keyed by
 * TXA-12 = Communication id). After the senders stop, the benchmark waits for the backlog to drain
 * (bounded by {@code bench.drain-seconds}) and reports the drain time, duplicates (a TXA-12 seen
 * twice) and the delivery ledger.</li>
 * <li><b>HL7 inbound over MLLP</b>: 8 persistent MLLP connections (raw sockets) of one registered
 * sender organisation with an HL7 alias send ADT^A08 updates (distinct MSH-10) for a pool of
 * {@code bench.hl7-patients} (50) patients with KVNRs; the ACK latency is send → AA (AA comes only
 * after the commit). Then MDM^T02 (text only) about patients whose consent covers sender and
 * recipient.</li>
 * <li><b>Baseline</b>: plain single-row INSERT commits, one JDBC connection per thread, against
 * the same PostgreSQL, before and after the scenarios (as in {@link MessageThroughputBenchmark}).</li>
 * </ol>
 *
 * <p>Tagged {@code benchmark}: excluded from {@code ./mvnw verify}; run it with
 * {@code ./mvnw -B -pl gateway-app -am verify -Pbench -Dgroups=benchmark -Dtest=PipelineThroughputBenchmark
 * -Dsurefire.failIfNoSpecifiedTests=false}. The gateway runs with the integration-test settings of
 * {@link GatewayIntegrationTest} (short pipeline timeouts, 4 delivery attempts), printed in the
 * report. It shares the Spring context of {@link MessageThroughputBenchmark} (same initializer):
 * both benchmarks in one JVM must not start two gateways on the same data directory and MLLP port.
 * Results go to the console and are appended to {@code target/benchmark-results.txt}. Tunables
 * ({@code -D}): {@code bench.threads} (8), {@code bench.warmup-seconds} (10),
 * {@code bench.measure-seconds} (30, at most), {@code bench.baseline-warmup-seconds} (5),
 * {@code bench.baseline-seconds} (15), {@code bench.drain-seconds} (120), {@code bench.max-ops} (cap
 * on measured operations per scenario; defaults 20000 end-to-end, 50000 HL7, 2000000 baseline),
 * {@code bench.hl7-patients} (50).
 */
@Tag("benchmark")
@ContextConfiguration(initializers = MessageThroughputBenchmark.RoomForAttachments.class)
class PipelineThroughputBenchmark extends GatewayIntegrationTest {

    private static final int THREADS = Integer.getInteger("bench.threads", 8);
    private static final Duration WARMUP = seconds("bench.warmup-seconds", 10);
    private static final Duration MEASURE = seconds("bench.measure-seconds", 30);
    private static final Duration BASELINE_WARMUP = seconds("bench.baseline-warmup-seconds", 5);
    private static final Duration BASELINE_MEASURE = seconds("bench.baseline-seconds", 15);
    private static final Duration DRAIN_LIMIT = seconds("bench.drain-seconds", 120);
    private static final Long MAX_OPS = Long.getLong("bench.max-ops");
    private static final int HL7_PATIENTS = Integer.getInteger("bench.hl7-patients", 50);
    private static final int CONSENTED_PATIENTS = Math.min(10, HL7_PATIENTS);
    private static final int E2E_PATIENTS = 4;
    private static final Path RESULTS = Path.of("target", "benchmark-results.txt");
    private static final String BASELINE_TABLE = "bench_pipeline_baseline";
    private static final Charset LATIN1 = StandardCharsets.ISO_8859_1;
    private static final DateTimeFormatter HL7_TS = DateTimeFormatter.ofPattern("yyyyMMddHHmmss").withZone(ZoneId.of("Europe/Berlin"));

    /** About 500 characters of a typical hand-over note (no HL7 delimiters in it). */
    private static final String TEXT = fit("Überleitung Frau M., 85 J.: Entlassung aus der stationären Behandlung morgen "
            + "gegen 10 Uhr. Diagnosen: Oberschenkelhalsfraktur links, operativ versorgt (DHS), Diabetes mellitus Typ 2, "
            + "arterielle Hypertonie. Wundversorgung: Klammerentfernung am 12. postoperativen Tag, bis dahin Verbandwechsel "
            + "alle zwei Tage, Wunde reizlos. Mobilisation mit Rollator unter Vollbelastung. Medikation laut beiliegendem "
            + "Plan, Insulin unverändert. Bitte Blutzucker zweimal täglich und Blutdruck täglich kontrollieren und bei "
            + "Werten über 180 mmHg systolisch die Hausarztpraxis informieren. ", 500);

    @Autowired
    DataSource dataSource;

    @Autowired
    CareRelayProperties properties;

    /** Per scenario: the first error of each kind, with its text. */
    private final Map<String, List<String>> firstErrorsByScenario = new LinkedHashMap<>();

    private static Duration seconds(String property, long defaultSeconds) {
        return Duration.ofSeconds(Long.getLong(property, defaultSeconds));
    }

    private static long maxOps(long scenarioDefault) {
        return MAX_OPS != null ? MAX_OPS : scenarioDefault;
    }

    @Test
    void throughput() throws Exception {
        if (FHIR.getRestfulClientFactory().getPoolMaxPerRoute() < THREADS) {
            FHIR.getRestfulClientFactory().setPoolMaxPerRoute(THREADS);
            FHIR.getRestfulClientFactory().setPoolMaxTotal(Math.max(THREADS, FHIR.getRestfulClientFactory().getPoolMaxTotal()));
        }
        String runId = Long.toString(System.currentTimeMillis() % 1_679_616, 36).toUpperCase(Locale.ROOT); // 4 chars

        // --- setup: scenario 1 (FHIR senders -> MLLP recipient)
        List<Participants.Registered> senders = List.of(Participants.registerNew(this, "Bench-E2E-Klinik"),
                Participants.registerNew(this, "Bench-E2E-Praxis"), Participants.registerNew(this, "Bench-E2E-Pflegedienst"));
        Participants.Registered mllpRecipient = Participants.registerNew(this, "Bench-E2E-Pflegeheim-MLLP");
        Recipient recipient = new Recipient();
        int recipientPort = freeLocalPort();
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
            addEndpoint(mllpRecipient.organizationId(), "hl7v2-mllp", "mllp://127.0.0.1:" + recipientPort);
            String[] e2ePatients = new String[E2E_PATIENTS];
            List<String> consentPartners = new ArrayList<>();
            senders.forEach(s -> consentPartners.add(s.organizationId()));
            consentPartners.add(mllpRecipient.organizationId());
            for (int i = 0; i < E2E_PATIENTS; i++) {
                String kvnr = Conversations.kvnr();
                for (Participants.Registered sender : senders) { // same KVNR: the same patient, visible to each sender
                    var outcome = client(sender.token()).create().resource(Conversations.patient("Bench", "E2E" + i, kvnr)).execute();
                    if (e2ePatients[i] == null) {
                        e2ePatients[i] = outcome.getId().getIdPart();
                    }
                }
                Conversations.uploadConsent(client(senders.get(0).token()), e2ePatients[i], consentPartners.toArray(String[]::new));
            }
            verifyEndToEnd(senders, e2ePatients, mllpRecipient.organizationId(), recipient);

            addAlias(hl7Sender.organizationId(), senderAlias);
            addAlias(hl7Recipient.organizationId(), recipientAlias);
            String[] kvnrs = distinctKvnrs(HL7_PATIENTS);
            createHl7Patients(senderAlias, runId, kvnrs);
            String[] consented = new String[CONSENTED_PATIENTS];
            for (int i = 0; i < CONSENTED_PATIENTS; i++) {
                consented[i] = kvnrs[i];
                Conversations.uploadConsent(client(hl7Sender.token()), patientIdByKvnr(hl7Sender.token(), kvnrs[i]),
                        hl7Sender.organizationId(), hl7Recipient.organizationId());
            }

            try (Connection c = dataSource.getConnection(); Statement s = c.createStatement()) {
                s.execute("drop table if exists " + BASELINE_TABLE);
                s.execute("create table " + BASELINE_TABLE + " (id bigserial primary key, payload text)");
            }

            Environment environment = environment();
            List<String> drains = new ArrayList<>();
            drains.add(drain("after the setup", null).line());

            Phase baselineBefore = run("baseline: INSERT commit (before)", BASELINE_WARMUP, BASELINE_MEASURE,
                    maxOps(2_000_000), i -> new InsertClient());

            // 1. end to end
            Map<String, Posted> posted = new ConcurrentHashMap<>();
            Phase e2ePost = run("E2E: POST Communication (→ MLLP)", WARMUP, MEASURE, maxOps(20_000),
                    i -> new PostClient(senders.get(i % senders.size()), e2ePatients, mllpRecipient.organizationId(), posted));
            Drain e2eDrain = drain("after E2E", new DrainTarget(posted.keySet(), recipient));
            drains.add(e2eDrain.line());
            EndToEnd e2e = endToEnd(e2ePost, posted, recipient, e2eDrain, mllpRecipient.organizationId());

            // 2. HL7 inbound ADT^A08
            Phase adt = run("HL7 in: ADT^A08 (8 MLLP conn.)", WARMUP, MEASURE, maxOps(50_000),
                    i -> new Hl7Client(seq -> adtA08(senderAlias, runId + "U" + i + "-" + Long.toString(seq, 36).toUpperCase(Locale.ROOT),
                            kvnrs[(int) Math.floorMod(seq * 7919L + i, (long) kvnrs.length)], seq)));
            drains.add(drain("after " + adt.name(), null).line());

            // 3. HL7 inbound MDM^T02, text only, with consent
            Phase mdm = run("HL7 in: MDM^T02 text (8 MLLP conn.)", WARMUP, MEASURE, maxOps(50_000),
                    i -> new Hl7Client(seq -> mdmT02(senderAlias, recipientAlias,
                            runId + "D" + i + "-" + Long.toString(seq, 36).toUpperCase(Locale.ROOT),
                            consented[(int) Math.floorMod(seq * 7919L + i, (long) consented.length)], seq)));
            drains.add(drain("after " + mdm.name(), null).line());

            Phase baselineAfter = run("baseline: INSERT commit (after)", BASELINE_WARMUP, BASELINE_MEASURE,
                    maxOps(2_000_000), i -> new InsertClient());

            try (Connection c = dataSource.getConnection(); Statement s = c.createStatement()) {
                s.execute("drop table if exists " + BASELINE_TABLE);
            }

            List<Phase> phases = List.of(baselineBefore, e2ePost, adt, mdm, baselineAfter);
            String report = report(environment, phases, baselineBefore, baselineAfter, e2e, drains);
            System.out.println(report);
            Files.createDirectories(RESULTS.getParent());
            Files.writeString(RESULTS, report + "\n", StandardCharsets.UTF_8, StandardOpenOption.CREATE, StandardOpenOption.APPEND);

            // not about speed: a benchmark whose operations failed measured the wrong thing
            for (Phase p : phases) {
                assertThat(p.ok()).as("%s: successful operations", p.name()).isPositive();
                assertThat(p.errorKinds()).as("%s: errors during load", p.name()).isEmpty();
            }
            assertThat(e2e.delivered()).as("E2E: measured messages delivered").isPositive();
        } finally {
            server.stopAndWait();
            hapi.close();
        }
    }

    // --- setup helpers

    private static int freeLocalPort() throws IOException {
        try (ServerSocket s = new ServerSocket(0)) {
            return s.getLocalPort();
        }
    }

    /** As in {@link PipelineIT}: an active system endpoint managed by the organisation. */
    private void addEndpoint(String orgId, String type, String address) {
        Endpoint endpoint = new Endpoint();
        endpoint.setStatus(Endpoint.EndpointStatus.ACTIVE);
        endpoint.getConnectionType().setSystem(Systems.ENDPOINT_CONNECTION_TYPE).setCode(type);
        endpoint.addPayloadType().addCoding().setSystem(Systems.ENDPOINT_PAYLOAD_TYPE).setCode("any");
        endpoint.setAddress(address);
        endpoint.getManagingOrganization().setReference("Organization/" + orgId);
        admin().create().resource(endpoint).execute();
    }

    /** As in {@link Hl7InboundIT}: the organisation's HL7 facility alias. */
    private void addAlias(String orgId, String alias) {
        Organization org = admin().read().resource(Organization.class).withId(orgId).execute();
        org.addIdentifier().setSystem(Systems.HL7_FACILITY).setValue(alias);
        admin().update().resource(org).execute();
    }

    private String patientIdByKvnr(String token, String kvnr) {
        Bundle found = client(token).search().forResource(Patient.class)
                .where(Patient.IDENTIFIER.exactly().systemAndCode(Systems.KVNR, kvnr)).returnBundle(Bundle.class).execute();
        assertThat(found.getEntry()).as("patient with KVNR %s", kvnr).hasSize(1);
        return found.getEntryFirstRep().getResource().getIdElement().getIdPart();
    }

    private static String[] distinctKvnrs(int count) {
        Set<String> kvnrs = new HashSet<>();
        while (kvnrs.size() < count) {
            kvnrs.add(Conversations.kvnr());
        }
        return kvnrs.toArray(String[]::new);
    }

    /** Once, before measuring: every sender's message reaches the MLLP recipient. */
    private void verifyEndToEnd(List<Participants.Registered> senders, String[] patients, String recipientOrg, Recipient recipient) {
        List<String> ids = new ArrayList<>();
        for (Participants.Registered sender : senders) {
            ids.add(Conversations.send(client(sender.token()), Conversations.message(patients[0], "Vorab-Test", recipientOrg)));
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

    interface BenchClient extends AutoCloseable {
        void execute(long seq, boolean measured) throws Exception;

        @Override
        default void close() throws Exception {
        }
    }

    @FunctionalInterface
    interface ClientFactory {
        BenchClient create(int thread) throws Exception;
    }

    /** Baseline, as in {@link MessageThroughputBenchmark}: one row, one transaction (autocommit), own connection. */
    final class InsertClient implements BenchClient {
        private final Connection connection;
        private final PreparedStatement insert;

        InsertClient() {
            try {
                connection = dataSource.getConnection();
                connection.setAutoCommit(true);
                insert = connection.prepareStatement("insert into " + BASELINE_TABLE + " (payload) values (?)");
            } catch (java.sql.SQLException e) {
                throw new IllegalStateException(e);
            }
        }

        @Override
        public void execute(long seq, boolean measured) throws Exception {
            insert.setString(1, TEXT);
            if (insert.executeUpdate() != 1) {
                throw new IllegalStateException("insert did not insert one row");
            }
        }

        @Override
        public void close() throws Exception {
            insert.close();
            connection.close();
        }
    }

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
        public void execute(long seq, boolean measured) {
            Communication message = Conversations.message(patients[(int) (seq % patients.length)], "#" + seq + " " + TEXT, recipientOrg);
            long start = System.nanoTime();
            String id = Conversations.send(fhir, message);
            long accepted = System.nanoTime();
            if (id == null) {
                throw new IllegalStateException("no id for the created Communication");
            }
            posted.put(id, new Posted(start, accepted, measured));
        }
    }

    /** Thrown for an ACK other than AA: {@link #kind} is MSA-1 and ERR-5, the message adds MSH-10 and the ACK's text. */
    static final class AckException extends RuntimeException {
        final String kind;

        AckException(String kind, String detail) {
            super(kind + (detail == null ? "" : " (" + detail + ")"), null, false, false);
            this.kind = kind;
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
        public void execute(long seq, boolean measured) throws Exception {
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

    // --- the runner (as in MessageThroughputBenchmark: warm-up, then a bounded measured phase)

    record Phase(String name, long ok, Map<String, Long> errorKinds, long warmupOps, double seconds, Histogram latency,
            int maxPoolActive, int maxPoolWaiting, double machineCpu, double jvmCpu, double loadAverage,
            long measureStart, long measureEnd, long stopped) {
        double opsPerSecond() {
            return ok / seconds;
        }

        long errors() {
            return errorKinds.values().stream().mapToLong(Long::longValue).sum();
        }
    }

    private Phase run(String name, Duration warmup, Duration measure, long maxOps, ClientFactory factory) throws Exception {
        System.out.printf(Locale.ROOT, "%n[bench] %s: %d threads, warm-up %d s, measuring up to %d s or %d operations%n",
                name, THREADS, warmup.toSeconds(), measure.toSeconds(), maxOps);
        List<BenchClient> clients = new ArrayList<>();
        for (int i = 0; i < THREADS; i++) {
            clients.add(factory.create(i));
        }
        AtomicLong sequence = new AtomicLong();
        AtomicLong tickets = new AtomicLong();
        LongAdder warmupOps = new LongAdder();
        Map<String, LongAdder> errorKinds = new ConcurrentHashMap<>();
        Map<String, String> firstErrors = new ConcurrentHashMap<>();
        CountDownLatch go = new CountDownLatch(1);
        var state = new Object() {
            volatile boolean measuring;
            volatile boolean stop;
        };
        List<Histogram> latencies = new ArrayList<>();
        long[] lastEnd = new long[THREADS];
        long[] ok = new long[THREADS];
        List<Thread> threads = new ArrayList<>();
        for (int t = 0; t < THREADS; t++) {
            int index = t;
            Histogram latency = newHistogram();
            latencies.add(latency);
            BenchClient client = clients.get(t);
            Thread thread = new Thread(() -> {
                try {
                    go.await();
                } catch (InterruptedException e) {
                    return;
                }
                while (!state.stop) {
                    boolean measured = state.measuring;
                    if (measured && tickets.incrementAndGet() > maxOps) {
                        state.stop = true;
                        break;
                    }
                    long seq = sequence.getAndIncrement();
                    long start = System.nanoTime();
                    try {
                        client.execute(seq, measured);
                        long end = System.nanoTime();
                        if (measured) {
                            latency.recordValue(micros(end - start));
                            ok[index]++;
                            lastEnd[index] = end;
                        } else {
                            warmupOps.increment();
                        }
                    } catch (Exception | AssertionError e) {
                        String kind = (measured ? "" : "warm-up ") + kindOf(e);
                        errorKinds.computeIfAbsent(kind, k -> new LongAdder()).increment();
                        firstErrors.putIfAbsent(kind, String.valueOf(e.getMessage()));
                        if (!measured) {
                            warmupOps.increment();
                        }
                    }
                }
            }, "bench-" + t);
            thread.setDaemon(true);
            threads.add(thread);
            thread.start();
        }

        HikariPoolMXBean pool = dataSource.isWrapperFor(HikariDataSource.class)
                ? dataSource.unwrap(HikariDataSource.class).getHikariPoolMXBean() : null;
        var os = ManagementFactory.getOperatingSystemMXBean() instanceof com.sun.management.OperatingSystemMXBean sun ? sun : null;
        int maxActive = 0;
        int maxWaiting = 0;
        double machineCpu = 0;
        double jvmCpu = 0;
        int cpuSamples = 0;

        go.countDown();
        Thread.sleep(warmup.toMillis());
        long measureStart = System.nanoTime();
        state.measuring = true;
        long deadline = measureStart + measure.toNanos();
        long nextCpuSample = System.nanoTime() + 500_000_000L;
        if (os != null) {
            os.getCpuLoad(); // starts the interval
            os.getProcessCpuLoad();
        }
        while (!state.stop && System.nanoTime() < deadline) {
            Thread.sleep(20);
            if (pool != null) {
                maxActive = Math.max(maxActive, pool.getActiveConnections());
                maxWaiting = Math.max(maxWaiting, pool.getThreadsAwaitingConnection());
            }
            if (os != null && System.nanoTime() >= nextCpuSample) {
                double machine = os.getCpuLoad();
                double process = os.getProcessCpuLoad();
                if (machine >= 0 && process >= 0) {
                    machineCpu += machine;
                    jvmCpu += process;
                    cpuSamples++;
                }
                nextCpuSample += 500_000_000L;
            }
        }
        long measureEnd = System.nanoTime();
        double loadAverage = ManagementFactory.getOperatingSystemMXBean().getSystemLoadAverage();
        state.stop = true;
        for (Thread thread : threads) {
            thread.join(Duration.ofSeconds(120).toMillis());
        }
        long stopped = System.nanoTime();
        for (BenchClient client : clients) {
            client.close();
        }

        Histogram latency = newHistogram();
        latencies.forEach(latency::add);
        long end = measureStart;
        long total = 0;
        for (int t = 0; t < THREADS; t++) {
            end = Math.max(end, lastEnd[t]);
            total += ok[t];
        }
        double seconds = Math.max(1e-9, (end - measureStart) / 1e9);
        Map<String, Long> errors = new TreeMap<>();
        errorKinds.forEach((k, v) -> errors.put(k, v.sum()));
        Phase phase = new Phase(name, total, errors, warmupOps.sum(), seconds, latency, maxActive, maxWaiting,
                cpuSamples == 0 ? Double.NaN : machineCpu / cpuSamples, cpuSamples == 0 ? Double.NaN : jvmCpu / cpuSamples,
                loadAverage, measureStart, measureEnd, stopped);
        System.out.printf(Locale.ROOT, "[bench] %s: %d ops in %.1f s = %.1f ops/s, p50 %.2f ms, p99 %.2f ms, errors %s, load %.2f%n",
                name, total, seconds, phase.opsPerSecond(), ms(latency.getValueAtPercentile(50)),
                ms(latency.getValueAtPercentile(99)), errors, loadAverage);
        firstErrors.forEach((k, v) -> System.out.println("[bench]   first " + k + ": " + v));
        List<String> errorDetails = new ArrayList<>();
        firstErrors.forEach((k, v) -> errorDetails.add(k + ": " + v));
        firstErrorsByScenario.put(name, errorDetails);
        return phase;
    }

    private static String kindOf(Throwable e) {
        if (e instanceof BaseServerResponseException fhir) {
            String code;
            try {
                var errorCode = errorCodeOf(fhir);
                code = errorCode == null ? "?" : errorCode.code();
            } catch (RuntimeException ignored) {
                code = "?";
            }
            return "HTTP " + fhir.getStatusCode() + " " + code;
        }
        if (e instanceof AckException ack) {
            return ack.kind;
        }
        return e.getClass().getSimpleName();
    }

    private static Histogram newHistogram() {
        return new Histogram(Duration.ofMinutes(10).toNanos() / 1000, 3); // microseconds, up to 10 min
    }

    private static long micros(long nanos) {
        return Math.max(1, nanos / 1000);
    }

    private static double ms(long micros) {
        return micros / 1000.0;
    }

    // --- the asynchronous pipeline

    /** What a drain waits for besides an idle ledger: every accepted message at the MLLP recipient. */
    record DrainTarget(Set<String> accepted, Recipient recipient) {
    }

    /**
     * @param allDelivered seconds from the senders' stop until every accepted message was at the recipient (NaN: not all)
     * @param idle         seconds from the senders' stop until the ledger had no open work and no mail came for 1 s (NaN: limit)
     */
    record Drain(String line, long start, long openAtStart, double allDelivered, double idle, double machineCpu, double jvmCpu) {
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
        var os = ManagementFactory.getOperatingSystemMXBean() instanceof com.sun.management.OperatingSystemMXBean sun ? sun : null;
        if (os != null) {
            os.getCpuLoad();
            os.getProcessCpuLoad();
        }
        double machineCpu = 0;
        double jvmCpu = 0;
        int cpuSamples = 0;
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
            if (os != null) {
                double machine = os.getCpuLoad();
                double process = os.getProcessCpuLoad();
                if (machine >= 0 && process >= 0) {
                    machineCpu += machine;
                    jvmCpu += process;
                    cpuSamples++;
                }
            }
        }
        double allDeliveredSeconds = allDelivered < 0 ? Double.NaN : (allDelivered - start) / 1e9;
        double idleSeconds = idle < 0 ? Double.NaN : Math.max(0, (idle - start) / 1e9);
        double mCpu = cpuSamples == 0 ? Double.NaN : machineCpu / cpuSamples;
        double jCpu = cpuSamples == 0 ? Double.NaN : jvmCpu / cpuSamples;
        String line = String.format(Locale.ROOT, "%-40s %6d work items open; %s; cpu m/jvm %.0f/%.0f%%", when, openAtStart,
                idle >= 0 ? String.format(Locale.ROOT, "idle after %.1f s", idleSeconds)
                        : String.format(Locale.ROOT, "still %d open after %.0f s (limit)", open, DRAIN_LIMIT.toSeconds() * 1.0),
                100 * mCpu, 100 * jCpu);
        System.out.println("[bench] pipeline " + line);
        return new Drain(line, start, openAtStart, allDeliveredSeconds, idleSeconds, mCpu, jCpu);
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

    // --- end-to-end evaluation

    record EndToEnd(long acceptedMeasured, long acceptedTotal, long delivered, long deliveredInPhase, long receivedInPhase,
            double phaseSeconds, double deliverySpanSeconds, Histogram latency, Histogram post, long backlogAtStop,
            double drainAllDelivered, double drainIdle, long frames, long duplicates, long retransmissions,
            long duplicatesMeasured, Map<String, Long> ledger, Map<String, Long> attempts, Map<String, Long> failures,
            double drainMachineCpu, double drainJvmCpu, List<String> stages) {
        double deliveredPerSecond() {
            return delivered / deliverySpanSeconds;
        }

        double receivedPerSecondInPhase() {
            return receivedInPhase / phaseSeconds;
        }
    }

    private EndToEnd endToEnd(Phase phase, Map<String, Posted> posted, Recipient recipient, Drain drain, String recipientOrg)
            throws Exception {
        Histogram latency = newHistogram();
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
                latency.recordValue(micros(receipt.nanos() - entry.getValue().start()));
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
                drain.machineCpu(), drain.jvmCpu(), stages(recipientOrg, measuredIds));
    }

    /**
     * Where the time goes, per measured message, from the gateway's own timestamps (one JVM clock):
     * accepted (message.sent, before the commit) → handed to the broker (routing_job.queued_at) →
     * fanned out (delivery.created_at) → claimed by the MLLP stage (delivery.last_attempt) →
     * delivered (AA recorded, delivery.delivered_at); the notification (delivery.notified_at) is a
     * parallel stage after the fan-out.
     */
    private List<String> stages(String recipientOrg, List<String> ids) throws Exception {
        String[][] stages = {
                {"accepted → handed to the broker", "j.queued_at - m.sent"},
                {"handed to the broker → fanned out", "d.created_at - j.queued_at"},
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
                        + "join message m on m.id = d.message_id join routing_job j on j.message_id = m.id "
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

    record Environment(String postgres, String settings, int cores, String jvm, String gateway) {
    }

    private Environment environment() throws Exception {
        try (Connection c = dataSource.getConnection(); Statement s = c.createStatement()) {
            String version = single(s, "show server_version");
            StringBuilder settings = new StringBuilder();
            for (String name : List.of("synchronous_commit", "fsync", "wal_sync_method", "shared_buffers", "max_connections")) {
                settings.append(settings.isEmpty() ? "" : ", ").append(name).append('=').append(single(s, "show " + name));
            }
            var p = properties.pipeline();
            var h = properties.hl7();
            String gateway = String.format(Locale.ROOT,
                    "pipeline: %d concurrent consumers per stage, connect/response timeout %d/%d ms, max attempts %d, "
                            + "redelivery %d ms ×%.1f (test settings); MLLP listener: max %d connections",
                    p.concurrentConsumers(), p.connectTimeout().toMillis(), p.responseTimeout().toMillis(), p.maxAttempts(),
                    p.redeliveryDelay().toMillis(), p.redeliveryMultiplier(), h.maxConnections());
            return new Environment(version, settings.toString(), Runtime.getRuntime().availableProcessors(),
                    System.getProperty("java.vm.name") + " " + System.getProperty("java.version") + ", -Xmx"
                            + Runtime.getRuntime().maxMemory() / 1_048_576 + "m", gateway);
        }
    }

    private static String single(Statement s, String sql) throws Exception {
        try (ResultSet rs = s.executeQuery(sql)) {
            rs.next();
            return rs.getString(1);
        }
    }

    private String report(Environment env, List<Phase> phases, Phase before, Phase after, EndToEnd e2e, List<String> drains) {
        double baseline = (before.opsPerSecond() + after.opsPerSecond()) / 2;
        StringBuilder out = new StringBuilder();
        out.append("CareRelay pipeline and HL7 inbound benchmark, ").append(Instant.now()).append('\n');
        out.append(String.format(Locale.ROOT,
                "%d client threads, warm-up %d s, measured phase up to %d s (or the operation cap), baseline %d+%d s; "
                        + "gateway, clients and MLLP recipient in one JVM%n",
                THREADS, WARMUP.toSeconds(), MEASURE.toSeconds(), BASELINE_WARMUP.toSeconds(), BASELINE_MEASURE.toSeconds()));
        out.append("machine: ").append(env.cores()).append(" cores; ").append(env.jvm()).append('\n');
        out.append("PostgreSQL ").append(env.postgres()).append(" (embedded, same server for all rows): ")
                .append(env.settings()).append('\n');
        out.append(env.gateway()).append('\n');
        out.append(String.format(Locale.ROOT,
                "baseline = mean of the INSERT rates before and after the scenarios = %.1f/s (drift %+.1f%%)%n%n",
                baseline, 100.0 * (after.opsPerSecond() - before.opsPerSecond()) / before.opsPerSecond()));
        String format = "%-38s %8s %6s %10s %9s %9s %9s %11s %9s %10s %6s%n";
        out.append(String.format(Locale.ROOT, format, "scenario", "ops", "errors", "ops/s", "p50 ms", "p99 ms", "max ms",
                "÷ baseline", "pool max", "cpu m/jvm", "load"));
        out.append("-".repeat(131)).append('\n');
        for (Phase p : phases) {
            out.append(String.format(Locale.ROOT, format, p.name(), p.ok(), p.errors(), String.format(Locale.ROOT, "%.1f", p.opsPerSecond()),
                    fmt(p.latency().getValueAtPercentile(50)), fmt(p.latency().getValueAtPercentile(99)),
                    fmt(p.latency().getMaxValue()), String.format(Locale.ROOT, "%.4f", p.opsPerSecond() / baseline),
                    p.maxPoolActive() + "/" + p.maxPoolWaiting(),
                    String.format(Locale.ROOT, "%.0f/%.0f%%", 100 * p.machineCpu(), 100 * p.jvmCpu()),
                    String.format(Locale.ROOT, "%.2f", p.loadAverage())));
            if (p == phases.get(1)) {
                out.append(String.format(Locale.ROOT, format, "E2E: accept → MDM^T02 at recipient", e2e.delivered(),
                        e2e.acceptedMeasured() - e2e.delivered(), String.format(Locale.ROOT, "%.1f", e2e.deliveredPerSecond()),
                        fmt(e2e.latency().getValueAtPercentile(50)), fmt(e2e.latency().getValueAtPercentile(99)),
                        fmt(e2e.latency().getMaxValue()), String.format(Locale.ROOT, "%.4f", e2e.deliveredPerSecond() / baseline),
                        "", String.format(Locale.ROOT, "%.0f/%.0f%%", 100 * e2e.drainMachineCpu(), 100 * e2e.drainJvmCpu()), ""));
            }
        }
        out.append('\n');
        out.append("ops = successful operations started in the measured phase; errors = failed operations, warm-up included\n");
        out.append("  (E2E accept → delivered row: errors = measured messages accepted but not at the recipient by the end of the drain);\n");
        out.append("ops/s = ops ÷ (measured phase start → end of the last measured operation);\n");
        out.append("HL7 rows: p50/p99 = send frame → AA read back on a persistent connection (AA only after commit);\n");
        out.append("pool max = most Hikari connections in use / most threads waiting for one (pool size 20);\n");
        out.append("cpu m/jvm = mean machine-wide / JVM CPU load in the measured phase (E2E delivered row: during the drain), 100% = all cores;\n");
        out.append("load = 1-minute system load average at the end of the measured phase.\n");
        for (Phase p : phases) {
            if (!p.errorKinds().isEmpty()) {
                out.append("errors in ").append(p.name()).append(": ").append(p.errorKinds()).append('\n');
                for (String first : firstErrorsByScenario.getOrDefault(p.name(), List.of())) {
                    out.append("  first ").append(first).append('\n');
                }
            }
        }

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
                "  accept → delivered: p50 %s ms, p99 %s ms, max %s ms (%d messages)%n",
                fmt(e2e.latency().getValueAtPercentile(50)), fmt(e2e.latency().getValueAtPercentile(99)),
                fmt(e2e.latency().getMaxValue()), e2e.latency().getTotalCount()));
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

    private static String fmt(long micros) {
        return String.format(Locale.ROOT, "%.2f", ms(micros));
    }

    private static String fit(String text, int length) {
        StringBuilder b = new StringBuilder(text);
        while (b.length() < length) {
            b.append(text);
        }
        return b.substring(0, length);
    }
}
