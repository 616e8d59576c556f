package org.carerelay.gateway.pipeline;

import static org.assertj.core.api.Assertions.assertThat;
import static org.awaitility.Awaitility.await;

import java.time.Duration;
import java.util.List;
import java.util.concurrent.CopyOnWriteArrayList;
import org.apache.camel.ProducerTemplate;
import org.carerelay.gateway.Conversations;
import org.carerelay.gateway.FakeMllpRecipient;
import org.carerelay.gateway.GatewayIntegrationTest;
import org.carerelay.gateway.Participants;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.springframework.beans.factory.annotation.Autowired;
import org.springframework.jdbc.core.simple.JdbcClient;

/**
 * A delivery attempt that dies with its node leaves its ledger lease behind. The two ways the work
 * comes back must both lead to a delivery: the broker hands the dead attempt's work item to another
 * consumer while the lease still runs (it must be retried, not acknowledged as done), or the item is
 * gone and only the expired lease is left (the sweeper hands it to the broker again). The dead node
 * is played by writing its lease into the ledger, as its claim did.
 */
class DeliveryLeaseIT extends GatewayIntegrationTest {

    static FakeMllpRecipient partner;
    static final List<String> controlIds = new CopyOnWriteArrayList<>();
    static Participants.Registered clinic;
    static Participants.Registered careHome;

    @Autowired
    JdbcClient jdbc;

    @Autowired
    ProducerTemplate producer;

    @Autowired
    org.carerelay.gateway.pipeline.DeliveryLedger ledger;

    @Autowired
    org.springframework.transaction.support.TransactionTemplate tx;

    @BeforeEach
    void setUp() throws Exception {
        if (clinic == null) {
            partner = new FakeMllpRecipient(message -> {
                controlIds.add(new ca.uhn.hl7v2.util.Terser(message).get("/MSH-10"));
                return message.generateACK();
            });
            clinic = Participants.registerNew(this, "Klinik Lease");
            careHome = Participants.registerNew(this, "Pflegeheim Lease");
            Participants.addEndpoint(admin(), careHome.organizationId(), "hl7v2-mllp", partner.address(), null);
        }
    }

    @AfterAll
    static void tearDown() throws Exception {
        if (partner != null) {
            partner.close();
        }
    }

    /** A message delivered once; then put back to "queued" with the lease a dead node's claim would leave. */
    private String deliveredThenReclaimedByADeadNode(String leaseExpiry) {
        String patientId = Conversations.createPatient(client(clinic.token()),
                Conversations.patient("Leasing", "Lore", Conversations.kvnr()));
        Conversations.uploadConsent(client(clinic.token()), patientId, clinic.organizationId(), careHome.organizationId());
        String id = Conversations.send(client(clinic.token()), Conversations.message(patientId, "Befund", careHome.organizationId()));
        await().atMost(Duration.ofSeconds(30)).until(() -> "delivered".equals(state(id)));
        int sent = jdbc.sql("update delivery set state = 'queued', delivered_at = null, in_flight_until = clock_timestamp() + cast(? as interval)"
                        + " where message_id = ? and recipient_org = ?")
                .params(leaseExpiry, id, careHome.organizationId()).update();
        assertThat(sent).isEqualTo(1);
        controlIds.clear();
        return id;
    }

    /** The ledger state; null until fan-out has written the entry (it runs after the 201, on the broker). */
    private String state(String messageId) {
        return jdbc.sql("select state from delivery where message_id = ? and recipient_org = ?")
                .params(messageId, careHome.organizationId()).query(String.class).optional().orElse(null);
    }

    @Test
    void workItemFindingADeadAttemptsLease_isRetriedAfterTheLeaseInsteadOfAcknowledged() {
        String id = deliveredThenReclaimedByADeadNode("4 seconds");
        // the broker gives the dead consumer's unacknowledged item to a live one while the lease runs
        producer.sendBody("jms:queue:carerelay.deliver-mllp", id + "|" + careHome.organizationId());

        await().atMost(Duration.ofSeconds(40)).pollInterval(Duration.ofMillis(200)).until(() -> "delivered".equals(state(id)));
        assertThat(controlIds).hasSize(1);
    }

    @Test
    void expiredLeaseWithoutAWorkItem_isHandedToTheBrokerAgainBySweeper() {
        String id = deliveredThenReclaimedByADeadNode("-61 seconds"); // past the sweeper's grace
        // no work item anywhere: only the sweeper knows

        await().atMost(Duration.ofSeconds(40)).pollInterval(Duration.ofMillis(200)).until(() -> "delivered".equals(state(id)));
        assertThat(controlIds).hasSize(1);
    }

    @Test
    void timerTick_whileAnotherNodeHoldsItsLock_isSkippedHere() throws Exception {
        java.util.concurrent.CountDownLatch held = new java.util.concurrent.CountDownLatch(1);
        java.util.concurrent.CountDownLatch done = new java.util.concurrent.CountDownLatch(1);
        Thread otherNode = new Thread(() -> tx.executeWithoutResult(status -> {
            assertThat(ledger.tryTickLock("release-held")).isTrue();
            held.countDown();
            try {
                done.await(30, java.util.concurrent.TimeUnit.SECONDS);
            } catch (InterruptedException e) {
                Thread.currentThread().interrupt();
            }
        }));
        otherNode.start();
        assertThat(held.await(30, java.util.concurrent.TimeUnit.SECONDS)).isTrue();
        try {
            assertThat(Boolean.TRUE.equals(tx.execute(status -> ledger.tryTickLock("release-held")))).isFalse();
            assertThat(Boolean.TRUE.equals(tx.execute(status -> ledger.tryTickLock("another-job")))).isTrue();
        } finally {
            done.countDown();
            otherNode.join();
        }
        // released with the other transaction
        assertThat(Boolean.TRUE.equals(tx.execute(status -> ledger.tryTickLock("release-held")))).isTrue();
    }
}
