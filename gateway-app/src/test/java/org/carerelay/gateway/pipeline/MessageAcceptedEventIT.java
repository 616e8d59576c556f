package org.carerelay.gateway.pipeline;

import static org.assertj.core.api.Assertions.assertThat;
import static org.awaitility.Awaitility.await;

import ca.uhn.hl7v2.util.Terser;
import java.time.Duration;
import java.util.Map;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.ThreadPoolExecutor;
import java.util.concurrent.atomic.AtomicInteger;
import org.carerelay.gateway.Conversations;
import org.carerelay.gateway.FakeMllpRecipient;
import org.carerelay.gateway.GatewayIntegrationTest;
import org.carerelay.gateway.Participants;
import org.carerelay.gateway.pipeline.WorkQueue;
import org.junit.jupiter.api.Test;
import org.springframework.beans.factory.annotation.Autowired;
import org.springframework.beans.factory.annotation.Qualifier;
import org.springframework.jdbc.core.simple.JdbcClient;
import org.springframework.scheduling.concurrent.ThreadPoolTaskExecutor;

/**
 * "Message accepted" is an event stored with the message (Spring Modulith's event publication
 * registry). A hand-over to the broker that never happens — dropped, or its node died after the
 * commit — leaves the publication open; the gateway resubmits it, and the message is delivered
 * exactly once, even when it reaches fan-out twice.
 */
class MessageAcceptedEventIT extends GatewayIntegrationTest {

    @Autowired
    JdbcClient jdbc;

    @Autowired
    @Qualifier("messageAcceptedHandOver")
    ThreadPoolTaskExecutor handOver;

    @Autowired
    WorkQueue workQueue;

    final Map<String, AtomicInteger> received = new ConcurrentHashMap<>();

    @Test
    void handOverLostAfterCommit_publicationStaysOpen_isResubmitted_andDeliveredOnce() throws Exception {
        try (FakeMllpRecipient recipientSystem = countingRecipient()) {
            Scenario s = scenario(recipientSystem, "Verlorene Übergabe");
            String id = sendWhileHandOverIsLost(s, "Übergabe nach Neustart");

            assertThat(openPublications(id)).as("the accepted message's publication is open").isEqualTo(1);
            Thread.sleep(1500); // a few resubmission ticks: the publication is not stale yet
            assertThat(received).doesNotContainKey(id);
            assertThat(openPublications(id)).isEqualTo(1);

            // time passes: the hand-over has been open for longer than the resubmission threshold
            jdbc.sql("update event_publication set last_resubmission_date = now() - interval '10 minutes', "
                    + "publication_date = now() - interval '10 minutes' where serialized_event like ?").param("%" + id + "%").update();

            await().atMost(Duration.ofSeconds(30)).until(() -> received.containsKey(id));
            await().atMost(Duration.ofSeconds(10)).until(() -> openPublications(id) == 0);

            // a second routing item for the same message (a double hand-over) delivers nothing twice
            workQueue.fanOut(id);
            Thread.sleep(2000);
            assertThat(received.get(id)).hasValue(1);
            assertThat(Conversations.deliveryStates(client(s.clinic().token()), id))
                    .containsEntry(s.care().organizationId(), "delivered");
        }
    }

    @Test
    void routingJobLeftByThePreviousRelease_isAdopted_andDeliveredOnce() throws Exception {
        try (FakeMllpRecipient recipientSystem = countingRecipient()) {
            Scenario s = scenario(recipientSystem, "Altbestand");
            String id = sendWhileHandOverIsLost(s, "vor dem Update angenommen");
            // what the previous release stored: the message and its routing job, no publication
            jdbc.sql("delete from event_publication where serialized_event like ?").param("%" + id + "%").update();
            jdbc.sql("insert into routing_job (message_id, created_at) values (?, now() - interval '10 minutes')").param(id).update();

            await().atMost(Duration.ofSeconds(30)).until(() -> received.containsKey(id));
            await().atMost(Duration.ofSeconds(10)).until(() -> openPublications(id) == 0);
            assertThat(jdbc.sql("select count(*) from routing_job where message_id = ?").param(id).query(Integer.class).single())
                    .isZero();
            Thread.sleep(2000);
            assertThat(received.get(id)).hasValue(1);
        }
    }

    record Scenario(Participants.Registered clinic, Participants.Registered care, String patientId) {
    }

    private FakeMllpRecipient countingRecipient() throws Exception {
        return new FakeMllpRecipient(message -> {
            received.computeIfAbsent(new Terser(message).get("/TXA-12-1"), k -> new AtomicInteger()).incrementAndGet();
            return message.generateACK();
        });
    }

    private Scenario scenario(FakeMllpRecipient recipientSystem, String name) {
        Participants.Registered clinic = Participants.registerNew(this, "Praxis " + name);
        Participants.Registered care = Participants.registerNew(this, "Pflegedienst " + name);
        Participants.addEndpoint(admin(), care.organizationId(), "hl7v2-mllp", recipientSystem.address(), null);
        String patientId = Conversations.createPatient(client(clinic.token()),
                Conversations.patient("Übergabe", "Ursula", Conversations.kvnr()));
        Conversations.uploadConsent(client(clinic.token()), patientId, clinic.organizationId(), care.organizationId());
        return new Scenario(clinic, care, patientId);
    }

    /**
     * The hand-over threads are busy and their queue is full, so the hand-over after the commit is
     * dropped (as if the node had died right after the commit); the 201 comes all the same.
     */
    private String sendWhileHandOverIsLost(Scenario s, String text) throws Exception {
        CountDownLatch release = new CountDownLatch(1);
        ThreadPoolExecutor pool = handOver.getThreadPoolExecutor();
        try {
            for (int i = 0; i < pool.getMaximumPoolSize(); i++) {
                handOver.execute(() -> {
                    try {
                        release.await();
                    } catch (InterruptedException e) {
                        Thread.currentThread().interrupt();
                    }
                });
            }
            await().atMost(Duration.ofSeconds(10)).until(() -> pool.getActiveCount() == pool.getMaximumPoolSize());
            while (pool.getQueue().remainingCapacity() > 0) {
                handOver.execute(() -> { });
            }
            return Conversations.send(client(s.clinic().token()), Conversations.message(s.patientId(), text, s.care().organizationId()));
        } finally {
            release.countDown();
            await().atMost(Duration.ofSeconds(10)).until(() -> pool.getQueue().isEmpty());
        }
    }

    private int openPublications(String messageId) {
        return jdbc.sql("select count(*) from event_publication where completion_date is null and serialized_event like ?")
                .param("%" + messageId + "%").query(Integer.class).single();
    }
}
