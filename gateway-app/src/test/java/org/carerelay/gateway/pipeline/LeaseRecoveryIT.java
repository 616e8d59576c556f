package org.carerelay.gateway.pipeline;

import static org.assertj.core.api.Assertions.assertThat;
import static org.awaitility.Awaitility.await;

import ca.uhn.fhir.rest.client.api.IGenericClient;
import ca.uhn.hl7v2.util.Terser;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicInteger;
import org.carerelay.gateway.Conversations;
import org.carerelay.gateway.FakeMllpRecipient;
import org.carerelay.gateway.GatewayProcess;
import org.carerelay.gateway.Participants;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.parallel.Execution;
import org.junit.jupiter.api.parallel.ExecutionMode;

/**
 * A node dies between claiming a delivery (the ledger lease) and recording its outcome. With the
 * default pipeline settings (connect 10 s, response 30 s, so an 80 s lease; redelivery from 2 s up
 * to 1 h), the gateway is killed with SIGKILL while its deliveries hang in a partner that has taken
 * the frames but not answered yet, and is restarted on the same data directory. The work items the
 * broker hands back find the dead attempts' leases; they must not be acknowledged as done, and
 * every accepted message must reach the partner once the leases have run out.
 *
 * <p>Runs beside the other test classes (junit-platform.properties): most of its time is the wait for
 * the leases, and it shares nothing with them (a gateway process, data directory, ports from
 * {@link org.carerelay.gateway.TestPorts} and a partner of its own).
 */
@Execution(ExecutionMode.CONCURRENT)
class LeaseRecoveryIT {

    static final int MESSAGES = 24;

    final Map<String, AtomicInteger> processedByDocument = new ConcurrentHashMap<>();
    final Set<String> seenControlIds = ConcurrentHashMap.newKeySet();
    final Set<String> hangingControlIds = ConcurrentHashMap.newKeySet();
    final CountDownLatch release = new CountDownLatch(1);
    volatile boolean hang = true;

    @Test
    void sigkillWhileDeliveriesAreClaimed_defaultSettings_everyAcceptedMessageIsDeliveredOnce() throws Exception {
        GatewayProcess gateway = new GatewayProcess("lease-test", "-Xmx512m " + GatewayProcess.TEST_JVM_OPTIONS,
                // the shipped defaults instead of the short timeouts the other process tests use
                "--carerelay.pipeline.redelivery-delay=2s",
                "--carerelay.pipeline.max-redelivery-delay=1h",
                "--carerelay.pipeline.sweep-interval=10s",
                "--carerelay.pipeline.connect-timeout=10s",
                "--carerelay.pipeline.response-timeout=30s");
        FakeMllpRecipient partner = new FakeMllpRecipient(message -> {
            Terser terser = new Terser(message);
            String controlId = terser.get("/MSH-10");
            if (hang) {
                // the frame arrived, the answer never comes before the sender dies
                hangingControlIds.add(controlId);
                release.await(3, TimeUnit.MINUTES);
                return message.generateACK();
            }
            if (seenControlIds.add(controlId)) {
                processedByDocument.computeIfAbsent(terser.get("/TXA-12-1"), k -> new AtomicInteger()).incrementAndGet();
            }
            return message.generateACK();
        });
        try {
            gateway.start();
            gateway.awaitUp(Duration.ofMinutes(5));
            Participants.Registered recipient = gateway.register("Pflegeheim Lease", "4930" + (100_000_000 + (long) (Math.random() * 800_000_000)));
            Participants.addEndpoint(gateway.client(gateway.adminToken), recipient.organizationId(), "hl7v2-mllp", partner.address(), null);
            Participants.Registered sender = gateway.register("Praxis Lease", "4940" + (100_000_000 + (long) (Math.random() * 800_000_000)));
            IGenericClient client = gateway.client(sender.token());
            String patientId = Conversations.createPatient(client, Conversations.patient("Lease", "Luise", Conversations.kvnr()));
            Conversations.uploadConsent(client, patientId, sender.organizationId(), recipient.organizationId());

            List<String> accepted = new ArrayList<>();
            for (int i = 0; i < MESSAGES; i++) {
                accepted.add(Conversations.send(client, Conversations.message(patientId, "Nachricht " + i, recipient.organizationId())));
            }
            // every consumer is stuck in a claimed delivery: the partner holds the frames unanswered
            await().atMost(Duration.ofSeconds(60)).until(() -> hangingControlIds.size() >= 4);
            int claimedAtKill = hangingControlIds.size();
            gateway.kill();
            long killedAt = System.nanoTime();
            hang = false;
            release.countDown();

            gateway.start();
            gateway.awaitUp(Duration.ofMinutes(5));
            double upAfter = (System.nanoTime() - killedAt) / 1e9;
            await().atMost(Duration.ofMinutes(4)).pollInterval(Duration.ofSeconds(1))
                    .until(() -> accepted.stream().allMatch(processedByDocument::containsKey));
            double allAfter = (System.nanoTime() - killedAt) / 1e9;
            Thread.sleep(2000); // room for a duplicate to show
            long delivered = accepted.stream().filter(processedByDocument::containsKey).count();
            long twice = processedByDocument.values().stream().filter(n -> n.get() > 1).count();
            System.out.printf("lease-test: %d deliveries claimed and hanging at SIGKILL; UP again %.1f s after the kill; "
                    + "all delivered %.1f s after the kill%n", claimedAtKill, upAfter, allAfter);
            System.out.printf("accepted=%d delivered=%d lost=%d delivered-twice=%d%n",
                    accepted.size(), delivered, accepted.size() - delivered, twice);
            assertThat(delivered).isEqualTo(accepted.size());
            assertThat(twice).isZero();
        } finally {
            release.countDown();
            gateway.stop();
            partner.close();
        }
    }
}
