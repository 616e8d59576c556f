package org.carerelay.gateway;

import static org.assertj.core.api.Assertions.assertThat;
import static org.awaitility.Awaitility.await;

import ca.uhn.fhir.rest.client.api.IGenericClient;
import ca.uhn.fhir.rest.client.interceptor.BearerTokenAuthInterceptor;
import ca.uhn.hl7v2.DefaultHapiContext;
import ca.uhn.hl7v2.HapiContext;
import ca.uhn.hl7v2.app.HL7Service;
import ca.uhn.hl7v2.model.Message;
import ca.uhn.hl7v2.protocol.ReceivingApplication;
import ca.uhn.hl7v2.util.Terser;
import jakarta.mail.internet.MimeMessage;
import java.io.File;
import java.net.ServerSocket;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.Comparator;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.UUID;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.atomic.AtomicBoolean;
import java.util.concurrent.atomic.AtomicInteger;
import org.carerelay.fhir.Systems;
import org.carerelay.routes.mail.MailComposer;
import org.hl7.fhir.r4.model.Endpoint;
import org.hl7.fhir.r4.model.Parameters;
import org.hl7.fhir.r4.model.StringType;
import org.junit.jupiter.api.Test;

/**
 * Crash test: N messages from several senders to an MLLP recipient; the gateway process is killed
 * with SIGKILL in the middle and restarted on the same data directory. Every message acknowledged
 * with 201 must reach the recipient exactly once. Prints {@code accepted=N delivered=N duplicates=0}.
 *
 * <p>A kill between the recipient's AA and the ledger update cannot be told apart from a lost
 * message, so the gateway sends again with the same MSH-10 (derived from message and recipient);
 * the recipient here does what HL7 asks of receivers and acknowledges a known control id without
 * processing it twice. Such retransmissions are counted and printed; documents processed twice
 * (duplicates) must be zero.
 */
class CrashRecoveryIT {

    static final int MESSAGES = 120;
    static final int SENDERS = 3;
    static final String ADMIN = "crash-test-admin-token-0123456789";

    final Map<String, AtomicInteger> receivedByDocument = new ConcurrentHashMap<>();
    /** Control ids (MSH-10) seen: a compliant receiver acknowledges a retransmission without processing it again. */
    final Set<String> seenControlIds = ConcurrentHashMap.newKeySet();
    final AtomicInteger retransmissions = new AtomicInteger();
    Path dataDir;
    int port;
    int hl7Port;
    Process gateway;

    static int freePort() throws Exception {
        try (ServerSocket s = new ServerSocket(0)) {
            return s.getLocalPort();
        }
    }

    Process start() throws Exception {
        Path log = dataDir.resolve("gateway-" + System.nanoTime() + ".log");
        List<String> command = new ArrayList<>(List.of(
                Path.of(System.getProperty("java.home"), "bin", "java").toString(), "-Xmx768m",
                "-cp", System.getProperty("java.class.path"),
                "org.carerelay.gateway.CareRelayApplication",
                "--server.port=" + port,
                "--carerelay.data-dir=" + dataDir,
                "--carerelay.security.admin-token=" + ADMIN,
                "--carerelay.fax.domain=fax.crash.example",
                "--carerelay.hl7.port=" + hl7Port,
                "--carerelay.pipeline.redelivery-delay=300ms",
                "--carerelay.pipeline.max-redelivery-delay=2s",
                "--carerelay.pipeline.sweep-interval=1s",
                "--carerelay.pipeline.connect-timeout=1s",
                "--carerelay.pipeline.response-timeout=3s"));
        return new ProcessBuilder(command).redirectErrorStream(true).redirectOutput(log.toFile()).start();
    }

    void awaitUp(Duration timeout) {
        HttpClient http = HttpClient.newHttpClient();
        await().atMost(timeout).pollInterval(Duration.ofMillis(250)).ignoreExceptions().until(() ->
                http.send(HttpRequest.newBuilder(URI.create("http://127.0.0.1:" + port + "/actuator/health")).build(),
                        HttpResponse.BodyHandlers.ofString()).body().contains("\"UP\""));
    }

    IGenericClient client(String token) {
        IGenericClient client = GatewayIntegrationTest.FHIR.newRestfulGenericClient("http://127.0.0.1:" + port + "/fhir");
        client.registerInterceptor(new BearerTokenAuthInterceptor(token));
        return client;
    }

    String register(String name, String digits) throws Exception {
        IGenericClient admin = client(ADMIN);
        String orgId = Participants.create(admin, Participants.newOrganization(name, "+" + digits, null));
        IGenericClient anonymous = GatewayIntegrationTest.FHIR.newRestfulGenericClient("http://127.0.0.1:" + port + "/fhir");
        Participants.requestCode(anonymous, orgId, "kontakt@" + orgId + ".example.org");
        Path outbox = dataDir.resolve("outbox");
        String to = digits + "@fax.crash.example";
        MimeMessage[] found = new MimeMessage[1];
        await().atMost(Duration.ofSeconds(30)).ignoreExceptions().until(() -> {
            try (var files = Files.list(outbox)) {
                for (Path f : files.filter(p -> p.toString().endsWith(".eml")).toList()) {
                    MimeMessage m = MailComposer.parse(Files.readAllBytes(f));
                    if (m.getAllRecipients()[0].toString().equals(to)) {
                        found[0] = m;
                        return true;
                    }
                }
            }
            return false;
        });
        Parameters result = Participants.confirm(anonymous, orgId, Participants.codeIn(found[0]));
        return orgId + " " + result.getParameter("token").getValue().primitiveValue();
    }

    @Test
    void sigkillDuringLoad_everyAcceptedMessageIsDeliveredExactlyOnce() throws Exception {
        dataDir = Path.of("target", "crash-test", UUID.randomUUID().toString()).toAbsolutePath();
        Files.createDirectories(dataDir);
        port = freePort();
        hl7Port = freePort();
        int mllpPort = freePort();
        HapiContext hapi = new DefaultHapiContext();
        HL7Service recipientSystem = hapi.newServer(mllpPort, false);
        recipientSystem.registerApplication("*", "*", new ReceivingApplication<Message>() {
            @Override
            public Message processMessage(Message message, Map<String, Object> metadata) {
                try {
                    Terser terser = new Terser(message);
                    if (!seenControlIds.add(terser.get("/MSH-10"))) {
                        retransmissions.incrementAndGet();
                        return message.generateACK();
                    }
                    receivedByDocument.computeIfAbsent(terser.get("/TXA-12-1"), k -> new AtomicInteger()).incrementAndGet();
                    return message.generateACK();
                } catch (Exception e) {
                    throw new IllegalStateException(e);
                }
            }

            @Override
            public boolean canProcess(Message message) {
                return true;
            }
        });
        recipientSystem.startAndWait();
        ExecutorService pool = Executors.newFixedThreadPool(SENDERS);
        try {
            gateway = start();
            awaitUp(Duration.ofSeconds(120));

            String[] recipient = register("Pflegedienst Crash", "4930" + (100_000_000 + (long) (Math.random() * 800_000_000))).split(" ");
            Endpoint endpoint = new Endpoint();
            endpoint.setStatus(Endpoint.EndpointStatus.ACTIVE);
            endpoint.getConnectionType().setSystem(Systems.ENDPOINT_CONNECTION_TYPE).setCode("hl7v2-mllp");
            endpoint.addPayloadType().addCoding().setSystem(Systems.ENDPOINT_PAYLOAD_TYPE).setCode("any");
            endpoint.setAddress("mllp://127.0.0.1:" + mllpPort);
            endpoint.getManagingOrganization().setReference("Organization/" + recipient[0]);
            client(ADMIN).create().resource(endpoint).execute();

            List<String[]> senders = new ArrayList<>();
            for (int i = 0; i < SENDERS; i++) {
                senders.add(register("Praxis Crash " + i, "4940" + (100_000_000 + (long) (Math.random() * 800_000_000))).split(" "));
            }
            List<String> partners = new ArrayList<>(senders.stream().map(s -> s[0]).toList());
            partners.add(recipient[0]);
            String patientId = Conversations.createPatient(client(senders.get(0)[1]),
                    Conversations.patient("Absturz", "Agathe", Conversations.kvnr()));
            Conversations.uploadConsent(client(senders.get(0)[1]), patientId, partners.toArray(String[]::new));
            // the other senders see the patient once they take part in a conversation about it
            for (int i = 1; i < SENDERS; i++) {
                Conversations.send(client(senders.get(0)[1]), Conversations.message(patientId, "Start", senders.get(i)[0]));
            }

            Set<String> accepted = ConcurrentHashMap.newKeySet();
            AtomicBoolean killed = new AtomicBoolean();
            AtomicInteger attempts = new AtomicInteger();
            List<java.util.concurrent.Future<?>> futures = new ArrayList<>();
            for (String[] sender : senders) {
                futures.add(pool.submit(() -> {
                    IGenericClient client = client(sender[1]);
                    while (accepted.size() < MESSAGES) {
                        attempts.incrementAndGet();
                        try {
                            accepted.add(Conversations.send(client,
                                    Conversations.message(patientId, "Nachricht " + UUID.randomUUID(), recipient[0])));
                        } catch (Exception e) {
                            try {
                                Thread.sleep(200); // gateway down: the client retries, as a real one would
                            } catch (InterruptedException ie) {
                                return;
                            }
                        }
                    }
                }));
            }
            await().atMost(Duration.ofMinutes(3)).until(() -> accepted.size() >= MESSAGES / 2);
            long pid = gateway.pid();
            gateway.destroyForcibly(); // SIGKILL
            gateway.waitFor();
            killed.set(true);
            int acceptedBeforeCrash = accepted.size();
            long restartAt = System.nanoTime();
            gateway = start();
            awaitUp(Duration.ofSeconds(120));
            double resumeSeconds = (System.nanoTime() - restartAt) / 1e9;
            for (var f : futures) {
                f.get(5, java.util.concurrent.TimeUnit.MINUTES);
            }
            await().atMost(Duration.ofMinutes(3)).pollInterval(Duration.ofMillis(500))
                    .until(() -> accepted.stream().allMatch(receivedByDocument::containsKey));

            Thread.sleep(2000); // give any duplicate a chance to show up
            long delivered = accepted.stream().filter(receivedByDocument::containsKey).count();
            long duplicates = receivedByDocument.values().stream().mapToInt(AtomicInteger::get).filter(n -> n > 1).count();
            System.out.printf("crash-test: killed pid %d after %d accepted; gateway UP again after %.1f s; %d send attempts%n",
                    pid, acceptedBeforeCrash, resumeSeconds, attempts.get());
            System.out.printf("accepted=%d delivered=%d duplicates=%d (retransmissions recognised by MSH-10: %d)%n",
                    accepted.size(), delivered, duplicates, retransmissions.get());
            assertThat(killed).isTrue();
            assertThat(delivered).isEqualTo(accepted.size());
            assertThat(duplicates).isZero();
        } finally {
            pool.shutdownNow();
            if (gateway != null) {
                gateway.destroy();
                gateway.waitFor(30, java.util.concurrent.TimeUnit.SECONDS);
                gateway.destroyForcibly();
            }
            recipientSystem.stopAndWait();
            hapi.close();
        }
    }

    @SuppressWarnings("unused")
    private static void deleteQuietly(Path dir) throws Exception {
        try (var walk = Files.walk(dir)) {
            walk.sorted(Comparator.reverseOrder()).map(Path::toFile).forEach(File::delete);
        }
    }
}
