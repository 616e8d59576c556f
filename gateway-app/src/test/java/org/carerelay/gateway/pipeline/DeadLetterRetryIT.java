package org.carerelay.gateway.pipeline;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;
import static org.awaitility.Awaitility.await;

import ca.uhn.fhir.rest.server.exceptions.BaseServerResponseException;
import jakarta.jms.ConnectionFactory;
import java.time.Duration;
import java.util.List;
import java.util.concurrent.CopyOnWriteArrayList;
import org.carerelay.gateway.Conversations;
import org.carerelay.gateway.FakeMllpRecipient;
import org.carerelay.gateway.GatewayIntegrationTest;
import org.carerelay.gateway.Participants;
import org.carerelay.gateway.config.CareRelayProperties;
import org.carerelay.routes.pipeline.PipelineRoutes;
import org.carerelay.routes.pipeline.WorkItem;
import org.carerelay.routes.pipeline.WorkItem.Stage;
import org.hl7.fhir.r4.model.IntegerType;
import org.hl7.fhir.r4.model.Parameters;
import org.hl7.fhir.r4.model.StringType;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.springframework.beans.factory.annotation.Autowired;
import org.springframework.jdbc.core.simple.JdbcClient;
import org.springframework.jms.core.JmsTemplate;

/**
 * {@code $retry-dead-letters} takes a parked work item off its parking queue only together with its
 * re-send: when the retry fails half-way (here the ledger refuses the update), the item is still parked
 * and a later retry puts it back on its stage queue, once.
 */
class DeadLetterRetryIT extends GatewayIntegrationTest {

    static FakeMllpRecipient partner;
    static final List<String> received = new CopyOnWriteArrayList<>();
    static Participants.Registered clinic;
    static Participants.Registered careHome;

    @Autowired
    JdbcClient jdbc;

    @Autowired
    ConnectionFactory connectionFactory;

    @Autowired
    CareRelayProperties props;

    @BeforeEach
    void setUp() throws Exception {
        if (clinic == null) {
            partner = new FakeMllpRecipient(message -> {
                received.add(new ca.uhn.hl7v2.util.Terser(message).get("/TXA-12-1"));
                return message.generateACK();
            });
            clinic = Participants.registerNew(this, "Klinik Parkplatz");
            careHome = Participants.registerNew(this, "Pflegeheim Parkplatz");
            Participants.addEndpoint(admin(), careHome.organizationId(), "hl7v2-mllp", partner.address(), null);
        }
    }

    @AfterAll
    static void tearDown() throws Exception {
        if (partner != null) {
            partner.close();
        }
    }

    private String state(String messageId) {
        return jdbc.sql("select state from delivery where message_id = ? and recipient_org = ?")
                .params(messageId, careHome.organizationId()).query(String.class).optional().orElse(null);
    }

    /** A delivered message recorded as failed and parked, as the dead-letter route leaves a dead work item. */
    private String parkedDelivery() {
        String patientId = Conversations.createPatient(client(clinic.token()),
                Conversations.patient("Parker", "Paula", Conversations.kvnr()));
        Conversations.uploadConsent(client(clinic.token()), patientId, clinic.organizationId(), careHome.organizationId());
        String id = Conversations.send(client(clinic.token()), Conversations.message(patientId, "Befund", careHome.organizationId()));
        await().atMost(Duration.ofSeconds(30)).until(() -> "delivered".equals(state(id)));
        assertThat(jdbc.sql("update delivery set state = 'failed', delivered_at = null where message_id = ? and recipient_org = ?")
                .params(id, careHome.organizationId()).update()).isEqualTo(1);
        // where the dead-letter route parks a dead work item
        new JmsTemplate(connectionFactory).execute(session -> {
            WorkQueue.send(session, PipelineRoutes.parkingQueue(props.pipeline().queuePrefix(), Stage.DELIVER_MLLP),
                    new WorkItem(Stage.DELIVER_MLLP, id, careHome.organizationId()), Duration.ZERO);
            return null;
        }, false);
        received.clear();
        return id;
    }

    private long parked(String messageId) {
        Parameters listed = admin().operation().onServer().named("$dead-letters").withNoParameters(Parameters.class)
                .useHttpGet().execute();
        return listed.getParameter().stream().filter(p -> p.getName().equals("deadLetter"))
                .flatMap(p -> p.getPart().stream())
                .filter(x -> x.getName().equals("item") && x.getValue().primitiveValue().startsWith(messageId))
                .count();
    }

    private int retry(String messageId) {
        Parameters in = new Parameters();
        in.addParameter("stage", new StringType("deliver-mllp"));
        in.addParameter("message", new StringType(messageId));
        Parameters out = admin().operation().onServer().named("$retry-dead-letters").withParameters(in).execute();
        return ((IntegerType) out.getParameter("retried").getValue()).getValue();
    }

    @Test
    void retryFailingBeforeTheResend_leavesTheItemParked_andTheNextRetryPutsItBackOnce() throws Exception {
        String id = parkedDelivery();
        assertThat(parked(id)).isEqualTo(1);

        // the ledger refuses to put this delivery back to "queued": the retry fails after taking the item
        jdbc.sql("create or replace function test_refuse_requeue() returns trigger language plpgsql as "
                + "'begin raise exception ''ledger unavailable''; end'").update();
        jdbc.sql("create trigger test_refuse_requeue before update on delivery for each row when (old.message_id = '"
                + id + "' and new.state = 'queued') execute function test_refuse_requeue()").update();
        try {
            assertThatThrownBy(() -> retry(id)).isInstanceOf(BaseServerResponseException.class);
        } finally {
            jdbc.sql("drop trigger test_refuse_requeue on delivery").update();
            jdbc.sql("drop function test_refuse_requeue()").update();
        }

        // rolled back to the parking queue (listed again once the broker's redelivery delay has passed)
        await().atMost(Duration.ofSeconds(15)).pollInterval(Duration.ofMillis(200)).until(() -> parked(id) == 1);
        assertThat(state(id)).isEqualTo("failed");
        assertThat(received).isEmpty();

        assertThat(retry(id)).isEqualTo(1);
        await().atMost(Duration.ofSeconds(30)).until(() -> "delivered".equals(state(id)));
        assertThat(parked(id)).isZero();
        Thread.sleep(1500); // a second copy would arrive within the redelivery delays
        assertThat(received).containsExactly(id);
        assertThat(parked(id)).isZero();
    }

    @Test
    void retryOfOneMessage_leavesTheOtherParkedItemsParked() throws Exception {
        String first = parkedDelivery();
        String second = parkedDelivery();

        assertThat(retry(first)).isEqualTo(1);
        await().atMost(Duration.ofSeconds(30)).until(() -> "delivered".equals(state(first)));
        assertThat(parked(first)).isZero();
        assertThat(parked(second)).isEqualTo(1);
        assertThat(state(second)).isEqualTo("failed");

        assertThat(retry(second)).isEqualTo(1);
        await().atMost(Duration.ofSeconds(30)).until(() -> "delivered".equals(state(second)));
        Thread.sleep(1500);
        assertThat(received).containsExactly(first, second);
        assertThat(parked(first) + parked(second)).isZero();
    }
}
