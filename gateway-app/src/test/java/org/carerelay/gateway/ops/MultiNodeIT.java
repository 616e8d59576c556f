package org.carerelay.gateway.ops;

import static org.assertj.core.api.Assertions.assertThat;
import static org.awaitility.Awaitility.await;

import ca.uhn.fhir.rest.client.api.IGenericClient;
import ca.uhn.hl7v2.util.Terser;
import com.icegreen.greenmail.util.GreenMail;
import com.icegreen.greenmail.util.ServerSetup;
import jakarta.mail.internet.MimeMessage;
import java.nio.file.Files;
import java.nio.file.Path;
import java.security.SecureRandom;
import java.sql.Connection;
import java.sql.ResultSet;
import java.sql.Statement;
import java.time.Duration;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.Base64;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.Queue;
import java.util.Set;
import java.util.UUID;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.ConcurrentLinkedQueue;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.Future;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicBoolean;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.function.BooleanSupplier;
import org.carerelay.gateway.Conversations;
import org.carerelay.gateway.FakeMllpRecipient;
import org.carerelay.gateway.GatewayProcess;
import org.carerelay.gateway.Participants;
import org.carerelay.gateway.StandaloneArtemis;
import org.carerelay.gateway.StandalonePostgres;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.parallel.Execution;
import org.junit.jupiter.api.parallel.ExecutionMode;

/**
 * Two gateway nodes as the README's production section sets them up — profile {@code production},
 * one standalone PostgreSQL server, one standalone Artemis broker with the README's address
 * settings, SMTP (GreenMail), keys from {@code config/make-keystore.sh} — under load from 8 senders
 * spread over both nodes, all writing to one MLLP recipient. Node A is killed with SIGKILL
 * half-way and restarted, then the broker is restarted, then PostgreSQL, each under load. Every
 * message acknowledged with 201 must reach the recipient exactly once (a retransmission with a known
 * MSH-10 is acknowledged without processing, as HL7 asks of receivers), and timers must not act
 * twice across nodes: an invitation reminder that falls due while both nodes run goes out once.
 * Prints {@code accepted=N delivered=N lost=0 delivered-twice=0} and the recovery times.
 */
@Execution(ExecutionMode.CONCURRENT) // beside the other classes: see junit-platform.properties
class MultiNodeIT {

    static final int SENDERS = 8;
    /**
     * Each sender (an organisation of its own) waits this long after a 201 before its next message:
     * less than one message per second, below the shipped rate limit of 600 messages per organisation
     * in 10 minutes however long the test runs, instead of running into {@code 429} half-way.
     */
    static final Duration PACE = Duration.ofMillis(1000);
    /** Accepted messages at which node A is killed. */
    static final int KILL_AT = 40;
    /** Messages accepted after the step before (node A up again, broker back, PostgreSQL back) before the next step. */
    static final int STEP = 50;
    static final Duration OUTAGE = Duration.ofSeconds(5);
    static final Duration BROKER_START = Duration.ofSeconds(120);
    /** The demo directory's rehab clinic: not registered, reachable by fax. */
    static final String UNREGISTERED = "reha-klinik-am-kurpark";
    static final String UNREGISTERED_FAX_DIGITS = "4961116020299";

    final Path dir = Path.of("target", "multi-node", UUID.randomUUID().toString()).toAbsolutePath();
    final List<AutoCloseable> cleanup = new ArrayList<>();

    /** Documents (TXA-12, the message id) the recipient processed, with how often. */
    final Map<String, AtomicInteger> processed = new ConcurrentHashMap<>();
    final Set<String> seenControlIds = ConcurrentHashMap.newKeySet();
    final AtomicInteger retransmissions = new AtomicInteger();
    final AtomicInteger deliveries = new AtomicInteger();
    /** When each new document reached the recipient, and when each 201 came ({@link System#nanoTime()}). */
    final Queue<Long> deliveryTimes = new ConcurrentLinkedQueue<>();
    final Queue<Long> acceptTimes = new ConcurrentLinkedQueue<>();
    final Set<String> accepted = ConcurrentHashMap.newKeySet();
    final AtomicInteger failedPosts = new AtomicInteger();

    @AfterEach
    void stopEverything() {
        for (int i = cleanup.size() - 1; i >= 0; i--) {
            try {
                cleanup.get(i).close();
            } catch (Exception e) {
                System.out.println("multi-node: cleanup: " + e);
            }
        }
    }

    @Test
    void twoProductionNodes_nodeKillBrokerRestartDatabaseRestart_everyAcceptedMessageDeliveredOnce_remindersOnce()
            throws Exception {
        long testStart = System.nanoTime();
        GreenMail smtp = new GreenMail(new ServerSetup(0, "127.0.0.1", ServerSetup.PROTOCOL_SMTP));
        smtp.start();
        cleanup.add(smtp::stop);
        FakeMllpRecipient recipientSystem = new FakeMllpRecipient(message -> {
            Terser terser = new Terser(message);
            if (!seenControlIds.add(terser.get("/MSH-10"))) {
                retransmissions.incrementAndGet();
                return message.generateACK();
            }
            processed.computeIfAbsent(terser.get("/TXA-12-1"), k -> new AtomicInteger()).incrementAndGet();
            deliveries.incrementAndGet();
            deliveryTimes.add(System.nanoTime());
            return message.generateACK();
        });
        cleanup.add(recipientSystem);

        StandalonePostgres postgres = StandalonePostgres.start(dir.resolve("postgres"));
        cleanup.add(postgres);
        StandaloneArtemis broker = StandaloneArtemis.single("multi-node-artemis");
        cleanup.add(broker::stop);
        broker.start();
        broker.awaitUp(BROKER_START);

        Path keys = dir.resolve("keys");
        String keystorePassword = makeKeystore(keys);
        byte[] dataKey = new byte[32];
        new SecureRandom().nextBytes(dataKey);

        Map<String, String> env = new HashMap<>();
        env.put("CARERELAY_DB_URL", postgres.jdbcUrl());
        env.put("CARERELAY_DB_USER", StandalonePostgres.USER);
        env.put("CARERELAY_DB_PASSWORD", StandalonePostgres.PASSWORD);
        env.put("CARERELAY_BROKER_URL", broker.url());
        env.put("CARERELAY_BROKER_USER", broker.user());
        env.put("CARERELAY_BROKER_PASSWORD", broker.password());
        env.put("CARERELAY_ADMIN_TOKEN", "multi-node-admin-token-" + UUID.randomUUID());
        env.put("CARERELAY_MAIL_FROM", "carerelay@multi-node.example");
        env.put("CARERELAY_MAIL_SMTP_HOST", "127.0.0.1");
        env.put("CARERELAY_MAIL_SMTP_PORT", String.valueOf(smtp.getSmtp().getPort()));
        env.put("CARERELAY_MAIL_SMTP_STARTTLS", "false"); // GreenMail speaks plain SMTP
        env.put("CARERELAY_FAX_DOMAIN", "fax.multi-node.example");
        env.put("CARERELAY_DATA_KEY", Base64.getEncoder().encodeToString(dataKey));
        env.put("CARERELAY_CRYPTO_KEYSTORE", keys.resolve("carerelay.p12").toString());
        env.put("CARERELAY_CRYPTO_KEYSTORE_PASSWORD", keystorePassword);
        // the one partner system runs on loopback: named exactly, as an operator names a host in the private network
        env.put("CARERELAY_EGRESS_ALLOWED", "127.0.0.1:" + recipientSystem.port);
        env.put("CARERELAY_HL7_HOST", "127.0.0.1");
        env.put("CARERELAY_DIRECTORY_LOAD_DEMO", "true");
        env.put("CARERELAY_PIPELINE_CONNECT_TIMEOUT", "1s");
        env.put("CARERELAY_PIPELINE_RESPONSE_TIMEOUT", "3s");
        env.put("CARERELAY_PIPELINE_SWEEP_INTERVAL", "1s");
        env.put("CARERELAY_INVITATION_REMINDER_AFTER", "15s");
        env.put("CARERELAY_INVITATION_REMINDER_CHECK_INTERVAL", "1s");
        env.put("CARERELAY_INVITATION_MAX_REMINDERS", "1");
        // all registrations of this test come from 127.0.0.1
        env.put("CARERELAY_REGISTRATION_MAX_CODE_REQUESTS_PER_ADDRESS", "1000");
        env.put("CARERELAY_REGISTRATION_MAX_CODE_ATTEMPTS_PER_ADDRESS", "1000");

        GatewayProcess nodeA = GatewayProcess.production("multi-node-a", "-Xmx512m", env);
        GatewayProcess nodeB = GatewayProcess.production("multi-node-b", "-Xmx512m", env);
        cleanup.add(() -> report(nodeA.stop()));
        cleanup.add(() -> report(nodeB.stop()));
        // both at once, as a deployment starts them: migrations and the demo directory race
        nodeA.start();
        nodeB.start();
        nodeA.awaitUp(Duration.ofSeconds(300));
        nodeB.awaitUp(Duration.ofSeconds(300));
        double startSeconds = seconds(testStart);

        // the demo directory was loaded once
        IGenericClient adminA = nodeA.client(nodeA.adminToken);
        int demoEntries = (int) Files.readAllLines(GatewayProcess.repositoryRoot().resolve("config/demo-directory.csv")).stream()
                .filter(line -> !line.isBlank() && !line.startsWith("#") && !line.startsWith("id,")).count();
        assertThat(count(postgres, "select count(*) from fhir_resource where resource_type = 'Organization'"))
                .as("organisations after both nodes loaded the demo directory").isEqualTo(demoEntries);

        // registration: step 1 on node A, step 2 on node B
        Participants.Registered recipient = register(nodeA, nodeB, smtp, "Pflegedienst Zwei Knoten", phone("4930"));
        Participants.addEndpoint(adminA, recipient.organizationId(), "hl7v2-mllp", recipientSystem.address(), null);
        List<Participants.Registered> senders = new ArrayList<>();
        for (int i = 0; i < SENDERS; i++) {
            GatewayProcess first = i % 2 == 0 ? nodeA : nodeB;
            GatewayProcess second = i % 2 == 0 ? nodeB : nodeA;
            senders.add(register(first, second, smtp, "Praxis Knoten " + i, phone("4940")));
        }
        List<String> partners = new ArrayList<>(senders.stream().map(Participants.Registered::organizationId).toList());
        partners.add(recipient.organizationId());
        partners.add(UNREGISTERED);
        IGenericClient firstSender = nodeA.client(senders.get(0).token());
        String patientId = Conversations.createPatient(firstSender, Conversations.patient("Knoten", "Klara", Conversations.kvnr()));
        Conversations.uploadConsent(firstSender, patientId, partners.toArray(String[]::new));
        for (int i = 1; i < SENDERS; i++) {
            Conversations.send(firstSender, Conversations.message(patientId, "Start", senders.get(i).organizationId()));
        }

        // (d) an invitation whose reminder falls due while both nodes check every second
        String faxOfUnregistered = UNREGISTERED_FAX_DIGITS + "@" + nodeA.faxDomain;
        long invitedAt = System.nanoTime();
        Conversations.send(nodeB.client(senders.get(1).token()), Conversations.message(patientId, "Einladung", UNREGISTERED));
        await().atMost(Duration.ofSeconds(60)).until(() -> mailsTo(smtp, faxOfUnregistered) >= 1);
        await().atMost(Duration.ofSeconds(90)).until(() -> mailsTo(smtp, faxOfUnregistered) >= 2);
        double reminderSeconds = seconds(invitedAt);
        Thread.sleep(4000); // four more ticks on each node
        int invitationMails = mailsTo(smtp, faxOfUnregistered);

        // load: 8 senders, half of them on each node
        AtomicBoolean stop = new AtomicBoolean();
        GatewayProcess[] nodes = {nodeA, nodeB};
        ExecutorService pool = Executors.newFixedThreadPool(SENDERS);
        cleanup.add(pool::shutdownNow);
        List<Future<?>> futures = new ArrayList<>();
        for (int i = 0; i < SENDERS; i++) {
            GatewayProcess node = nodes[i % 2];
            String token = senders.get(i).token();
            futures.add(pool.submit(() -> {
                while (!stop.get()) {
                    IGenericClient client = node.client(token);
                    try {
                        accepted.add(Conversations.send(client,
                                Conversations.message(patientId, "Nachricht " + UUID.randomUUID(), recipient.organizationId())));
                        acceptTimes.add(System.nanoTime());
                        Thread.sleep(PACE.toMillis());
                    } catch (InterruptedException e) {
                        return;
                    } catch (Exception e) {
                        failedPosts.incrementAndGet();
                        try {
                            Thread.sleep(200); // node or its database down: the client retries, as a real one would
                        } catch (InterruptedException ie) {
                            return;
                        }
                    }
                }
            }));
        }

        // (a) SIGKILL node A half-way, restart it
        await().atMost(Duration.ofMinutes(3)).until(() -> accepted.size() >= KILL_AT);
        List<String> acceptedBeforeKill = List.copyOf(accepted);
        long killedAt = System.nanoTime();
        nodeA.kill();
        awaitTrue(Duration.ofMinutes(3), () -> acceptedBeforeKill.stream().allMatch(processed::containsKey));
        double killAllDeliveredSeconds = seconds(killedAt);
        nodeA.start();
        nodeA.awaitUp(Duration.ofSeconds(300));
        double nodeUpSeconds = seconds(killedAt);
        double killFirstDeliverySeconds = firstAfter(deliveryTimes, killedAt);

        // (b) the broker restarts under load
        int acceptedWhenNodeUp = accepted.size();
        await().atMost(Duration.ofMinutes(3)).until(() -> accepted.size() >= acceptedWhenNodeUp + STEP);
        broker.stop();
        Thread.sleep(OUTAGE.toMillis());
        broker.start();
        broker.awaitUp(BROKER_START);
        long brokerBackAt = System.nanoTime();
        int deliveredWhileBrokerDown = deliveries.get();
        boolean deliveringAfterBroker = awaitTrue(Duration.ofMinutes(3), () -> deliveries.get() > deliveredWhileBrokerDown);
        double brokerFirstDeliverySeconds = firstAfter(deliveryTimes, brokerBackAt);

        // (c) PostgreSQL restarts under load; the nodes are not touched
        int acceptedWhenBrokerBack = accepted.size();
        await().atMost(Duration.ofMinutes(3)).until(() -> accepted.size() >= acceptedWhenBrokerBack + STEP);
        postgres.stop();
        Thread.sleep(OUTAGE.toMillis());
        postgres.start();
        long databaseBackAt = System.nanoTime();
        boolean acceptingAfterDatabase = awaitTrue(Duration.ofMinutes(3), () -> firstAfter(acceptTimes, databaseBackAt) >= 0);
        double databaseFirstAcceptSeconds = firstAfter(acceptTimes, databaseBackAt);
        boolean deliveringAfterDatabase = awaitTrue(Duration.ofMinutes(3), () -> firstAfter(deliveryTimes, databaseBackAt) >= 0);
        double databaseFirstDeliverySeconds = firstAfter(deliveryTimes, databaseBackAt);

        int acceptedWhenDatabaseBack = accepted.size();
        await().atMost(Duration.ofMinutes(3)).until(() -> accepted.size() >= acceptedWhenDatabaseBack + STEP);
        stop.set(true);
        for (Future<?> f : futures) {
            f.get(2, TimeUnit.MINUTES);
        }
        long loadEndedAt = System.nanoTime();
        boolean allArrived = awaitTrue(Duration.ofMinutes(3), () -> accepted.stream().allMatch(processed::containsKey));
        double drainSeconds = seconds(loadEndedAt);
        Thread.sleep(3000); // give a late duplicate the chance to show up

        long delivered = accepted.stream().filter(processed::containsKey).count();
        long lost = accepted.size() - delivered;
        long deliveredTwice = processed.values().stream().filter(n -> n.get() > 1).count();
        System.out.printf("multi-node: 2 nodes (production profile), standalone PostgreSQL and Artemis; both UP %.1f s after start%n",
                startSeconds);
        System.out.printf("multi-node: invitation reminder %.1f s after the message; mails to the invited fax: %d (1 invitation + 1 reminder expected)%n",
                reminderSeconds, invitationMails);
        System.out.printf("multi-node: node A SIGKILLed after %d accepted: first delivery after the kill +%.1f s, "
                + "everything accepted before the kill delivered +%.1f s (by node B), node A UP again +%.1f s%n",
                acceptedBeforeKill.size(), killFirstDeliverySeconds, killAllDeliveredSeconds, nodeUpSeconds);
        System.out.printf("multi-node: broker down %d s: first delivery %.1f s after it was back%n", OUTAGE.toSeconds(),
                brokerFirstDeliverySeconds);
        System.out.printf("multi-node: PostgreSQL down %d s: first 201 %.1f s, first delivery %.1f s after it was back (no node restarted)%n",
                OUTAGE.toSeconds(), databaseFirstAcceptSeconds, databaseFirstDeliverySeconds);
        System.out.printf("multi-node: load ended; the rest delivered within %.1f s; failed POSTs (retried by the senders): %d; total %.0f s%n",
                drainSeconds, failedPosts.get(), seconds(testStart));
        System.out.printf("accepted=%d delivered=%d lost=%d delivered-twice=%d (retransmissions recognised by MSH-10: %d)%n",
                accepted.size(), delivered, lost, deliveredTwice, retransmissions.get());
        if (!allArrived) {
            System.out.println("multi-node: ledger of the lost ones: " + ledgerOf(postgres, accepted.stream()
                    .filter(id -> !processed.containsKey(id)).limit(5).toList()));
        }

        assertThat(lost).as("accepted messages that never reached the recipient").isZero();
        assertThat(deliveringAfterBroker).as("deliveries resumed after the broker restart").isTrue();
        assertThat(acceptingAfterDatabase).as("a 201 after PostgreSQL came back, without a node restart").isTrue();
        assertThat(deliveringAfterDatabase).as("deliveries resumed after PostgreSQL came back").isTrue();
        assertThat(deliveredTwice).as("documents the recipient processed twice").isZero();
        assertThat(invitationMails).as("mails to the invited organisation: the invitation and one reminder").isEqualTo(2);
    }

    private static void report(List<String> problems) {
        problems.forEach(p -> System.out.println("multi-node: " + p));
    }

    /** Runs {@code config/make-keystore.sh}, as the README tells operators; returns the keystore password. */
    private static String makeKeystore(Path keys) throws Exception {
        Process p = new ProcessBuilder("bash", GatewayProcess.repositoryRoot().resolve("config/make-keystore.sh").toString(),
                keys.toString(), "Multi-Node Test").redirectErrorStream(true).start();
        String out = new String(p.getInputStream().readAllBytes());
        assertThat(p.waitFor()).as("make-keystore.sh: " + out).isZero();
        return Files.readString(keys.resolve("keystore-password")).strip();
    }

    /** Step 1 on one node, step 2 (the code from the fax letter in the SMTP server) on the other. */
    private static Participants.Registered register(GatewayProcess first, GatewayProcess second, GreenMail smtp, String name,
            String digits) {
        String orgId = Participants.create(first.client(first.adminToken), Participants.newOrganization(name, "+" + digits, null));
        Participants.requestCode(first.client(null), orgId, null);
        String to = digits + "@" + first.faxDomain;
        await().atMost(Duration.ofSeconds(60)).until(() -> mailsTo(smtp, to) >= 1);
        MimeMessage letter = Arrays.stream(smtp.getReceivedMessages()).filter(m -> sentTo(m, to)).findFirst().orElseThrow();
        String token = Participants.confirm(second.client(null), orgId, Participants.codeIn(letter))
                .getParameter("token").getValue().primitiveValue();
        return new Participants.Registered(orgId, token, to);
    }

    private static int mailsTo(GreenMail smtp, String address) {
        return (int) Arrays.stream(smtp.getReceivedMessages()).filter(m -> sentTo(m, address)).count();
    }

    private static boolean sentTo(MimeMessage m, String address) {
        try {
            return m.getAllRecipients() != null && Arrays.stream(m.getAllRecipients()).anyMatch(a -> a.toString().equals(address));
        } catch (Exception e) {
            return false;
        }
    }

    private static String phone(String prefix) {
        return prefix + (100_000_000 + (long) (Math.random() * 800_000_000));
    }

    /** Seconds from {@code since} to the first time in {@code times} after it; -1 when there is none yet. */
    private static double firstAfter(Queue<Long> times, long since) {
        return times.stream().filter(t -> t > since).min(Long::compare).map(t -> (t - since) / 1e9).orElse(-1.0);
    }

    private static double seconds(long since) {
        return (System.nanoTime() - since) / 1e9;
    }

    /** Waits for the condition; false (not an exception) when it did not come true, so the figures still print. */
    private static boolean awaitTrue(Duration timeout, BooleanSupplier condition) throws InterruptedException {
        long deadline = System.nanoTime() + timeout.toNanos();
        while (System.nanoTime() < deadline) {
            if (condition.getAsBoolean()) {
                return true;
            }
            Thread.sleep(100);
        }
        return condition.getAsBoolean();
    }

    private static long count(StandalonePostgres pg, String sql) throws Exception {
        try (Connection c = pg.connect(); Statement s = c.createStatement(); ResultSet rs = s.executeQuery(sql)) {
            rs.next();
            return rs.getLong(1);
        }
    }

    private static List<String> ledgerOf(StandalonePostgres pg, List<String> messageIds) {
        List<String> rows = new ArrayList<>();
        try (Connection c = pg.connect(); Statement s = c.createStatement()) {
            for (String id : messageIds) {
                try (ResultSet rs = s.executeQuery("select state, attempts, in_flight_until, detail from delivery where message_id = '"
                        + id.replace("'", "") + "' and channel = 'mllp'")) {
                    while (rs.next()) {
                        rows.add(id + ": " + rs.getString(1) + ", attempts " + rs.getInt(2) + ", in flight until "
                                + rs.getTimestamp(3) + ", " + rs.getString(4));
                    }
                }
            }
        } catch (Exception e) {
            rows.add("(cannot read the ledger: " + e + ")");
        }
        return rows;
    }
}
