package org.carerelay.gateway.ops;

import static org.assertj.core.api.Assertions.assertThat;
import static org.awaitility.Awaitility.await;

import ca.uhn.fhir.rest.client.api.IGenericClient;
import ca.uhn.hl7v2.util.Terser;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.UUID;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.atomic.AtomicInteger;
import org.carerelay.gateway.Conversations;
import org.carerelay.gateway.FakeMllpRecipient;
import org.carerelay.gateway.GatewayProcess;
import org.carerelay.gateway.Participants;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.parallel.Execution;
import org.junit.jupiter.api.parallel.ExecutionMode;

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
@Execution(ExecutionMode.CONCURRENT) // beside the other classes: see junit-platform.properties
class CrashRecoveryIT {

    static final int MESSAGES = 120;
    static final int SENDERS = 3;

    final Map<String, AtomicInteger> receivedByDocument = new ConcurrentHashMap<>();
    /** Control ids (MSH-10) seen: a compliant receiver acknowledges a retransmission without processing it again. */
    final Set<String> seenControlIds = ConcurrentHashMap.newKeySet();
    final AtomicInteger retransmissions = new AtomicInteger();

    @Test
    void sigkillDuringLoad_everyAcceptedMessageIsDeliveredExactlyOnce() throws Exception {
        GatewayProcess gateway = new GatewayProcess("crash-test", "-Xmx768m " + GatewayProcess.TEST_JVM_OPTIONS);
        FakeMllpRecipient recipientSystem = new FakeMllpRecipient(message -> {
            Terser terser = new Terser(message);
            if (!seenControlIds.add(terser.get("/MSH-10"))) {
                retransmissions.incrementAndGet();
                return message.generateACK();
            }
            receivedByDocument.computeIfAbsent(terser.get("/TXA-12-1"), k -> new AtomicInteger()).incrementAndGet();
            return message.generateACK();
        });
        ExecutorService pool = Executors.newFixedThreadPool(SENDERS);
        try {
            gateway.start();
            gateway.awaitUp(Duration.ofSeconds(300)); // a loaded build machine can take minutes to start a JVM

            Participants.Registered recipient = gateway.register("Pflegedienst Crash",
                    "4930" + (100_000_000 + (long) (Math.random() * 800_000_000)));
            Participants.addEndpoint(gateway.client(gateway.adminToken), recipient.organizationId(), "hl7v2-mllp",
                    recipientSystem.address(), null);

            List<Participants.Registered> senders = new ArrayList<>();
            for (int i = 0; i < SENDERS; i++) {
                senders.add(gateway.register("Praxis Crash " + i, "4940" + (100_000_000 + (long) (Math.random() * 800_000_000))));
            }
            List<String> partners = new ArrayList<>(senders.stream().map(Participants.Registered::organizationId).toList());
            partners.add(recipient.organizationId());
            IGenericClient firstSender = gateway.client(senders.get(0).token());
            String patientId = Conversations.createPatient(firstSender, Conversations.patient("Absturz", "Agathe", Conversations.kvnr()));
            Conversations.uploadConsent(firstSender, patientId, partners.toArray(String[]::new));
            // the other senders see the patient once they take part in a conversation about it
            for (int i = 1; i < SENDERS; i++) {
                Conversations.send(firstSender, Conversations.message(patientId, "Start", senders.get(i).organizationId()));
            }

            Set<String> accepted = ConcurrentHashMap.newKeySet();
            AtomicInteger attempts = new AtomicInteger();
            List<java.util.concurrent.Future<?>> futures = new ArrayList<>();
            for (Participants.Registered sender : senders) {
                futures.add(pool.submit(() -> {
                    IGenericClient client = gateway.client(sender.token());
                    while (accepted.size() < MESSAGES) {
                        attempts.incrementAndGet();
                        try {
                            accepted.add(Conversations.send(client,
                                    Conversations.message(patientId, "Nachricht " + UUID.randomUUID(), recipient.organizationId())));
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
            gateway.kill(); // SIGKILL
            int acceptedBeforeCrash = accepted.size();
            long restartAt = System.nanoTime();
            gateway.start();
            gateway.awaitUp(Duration.ofSeconds(300)); // a loaded build machine can take minutes to start a JVM
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
            assertThat(delivered).isEqualTo(accepted.size());
            assertThat(duplicates).isZero();
        } finally {
            pool.shutdownNow();
            gateway.stop();
            recipientSystem.close();
        }
    }
}
