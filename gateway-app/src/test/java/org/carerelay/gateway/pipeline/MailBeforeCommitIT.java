package org.carerelay.gateway.pipeline;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;
import static org.awaitility.Awaitility.await;

import jakarta.jms.ConnectionFactory;
import java.time.Duration;
import java.util.List;
import java.util.UUID;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.Future;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicInteger;
import org.apache.camel.CamelContext;
import org.apache.camel.builder.RouteBuilder;
import org.carerelay.gateway.Conversations;
import org.carerelay.gateway.GatewayIntegrationTest;
import org.carerelay.gateway.Participants;
import org.carerelay.gateway.config.CareRelayProperties;
import org.carerelay.gateway.mail.MailOutbox;
import org.carerelay.routes.mail.OutboundMail;
import org.carerelay.routes.pipeline.PipelineRoutes;
import org.carerelay.routes.pipeline.WorkItem;
import org.carerelay.routes.pipeline.WorkItem.Stage;
import org.junit.jupiter.api.Test;
import org.springframework.beans.factory.annotation.Autowired;
import org.springframework.jdbc.core.simple.JdbcClient;
import org.springframework.jms.core.JmsTemplate;
import org.springframework.transaction.support.TransactionTemplate;

/**
 * A step that records its mail as sent in the database (a recipient notified, an invitation made)
 * commits that before its work item's acknowledgement. A node that dies between the two commits
 * must not leave the mail unsent: the mail is durable before the database commit, so the worst case
 * is the same mail twice, never none. And a transaction that fails after queueing a mail sends
 * nothing: the mail goes to the queue only as the transaction commits.
 *
 * <p>The death is played by a consumer with the pipeline's very options that fails after the step
 * returned: its JMS transaction (work item and everything sent in it) rolls back, the database
 * commit stays, and the broker hands the work item to the next attempt.
 */
class MailBeforeCommitIT extends GatewayIntegrationTest {

    @Autowired
    Notifications notifications;

    @Autowired
    Invitations invitations;

    @Autowired
    PipelineService pipeline;

    @Autowired
    JdbcClient jdbc;

    @Autowired
    CamelContext camel;

    @Autowired
    ConnectionFactory connectionFactory;

    @Autowired
    CareRelayProperties properties;

    @Autowired
    MailOutbox outbox;

    @Autowired
    TransactionTemplate tx;

    @Test
    void aNotificationWhoseWorkItemIsRolledBackAfterTheDatabaseCommit_isStillSent() throws Exception {
        Participants.Registered clinic = Participants.registerNew(this, "Praxis Absturz");
        Participants.Registered care = Participants.registerNew(this, "Pflegedienst Absturz");
        String patientId = Conversations.createPatient(client(clinic.token()), Conversations.patient("Brandt", "Ilse", Conversations.kvnr()));
        Conversations.uploadConsent(client(clinic.token()), patientId, clinic.organizationId(), care.organizationId());
        String id = Conversations.send(client(clinic.token()), Conversations.message(patientId, "Bitte melden.", care.organizationId()));
        String address = "kontakt@" + care.organizationId() + ".example.org";
        await().atMost(Duration.ofSeconds(30)).until(() -> mailsTo(address).size() == 1 && notifiedAt(id, care.organizationId()));

        // the pipeline notified the recipient; the ledger forgets it, as if the notification were still to do
        jdbc.sql("update delivery set notified_at = null where message_id = ? and recipient_org = ?")
                .params(id, care.organizationId()).update();

        int attempts = runDyingAfterTheStep(() -> notifications.notifyRecipient(id, care.organizationId()));

        assertThat(attempts).isEqualTo(2);
        assertThat(notifiedAt(id, care.organizationId())).as("the first attempt's database commit").isTrue();
        await().atMost(Duration.ofSeconds(30)).until(() -> mailsTo(address).size() >= 2);
        Thread.sleep(1_000);
        assertThat(mailsTo(address)).as("the pipeline's notification, and the one of the attempt that died").hasSize(2);
    }

    @Test
    void aFanOutWhoseWorkItemIsRolledBackAfterTheDatabaseCommit_hasNotifiedInItsTransaction_once() throws Exception {
        Participants.Registered clinic = Participants.registerNew(this, "Praxis Verteilung");
        Participants.Registered care = Participants.registerNew(this, "Pflegedienst Verteilung");
        String patientId = Conversations.createPatient(client(clinic.token()), Conversations.patient("Brandt", "Ilse", Conversations.kvnr()));
        Conversations.uploadConsent(client(clinic.token()), patientId, clinic.organizationId(), care.organizationId());
        String id = Conversations.send(client(clinic.token()), Conversations.message(patientId, "Bitte melden.", care.organizationId()));
        String address = "kontakt@" + care.organizationId() + ".example.org";
        await().atMost(Duration.ofSeconds(30)).until(() -> mailsTo(address).size() == 1 && notifiedAt(id, care.organizationId()));

        // the ledger forgets the recipient, as if the message were still to fan out
        jdbc.sql("delete from delivery where message_id = ? and recipient_org = ?").params(id, care.organizationId()).update();

        List<List<WorkItem>> planned = new CopyOnWriteArrayList<>();
        int attempts = runDyingAfterTheStep(() -> planned.add(pipeline.fanOut(id)));

        assertThat(attempts).isEqualTo(2);
        assertThat(planned).as("routed now and notified in the fan-out's transaction: no notification work item; "
                + "the second attempt finds it notified").containsExactly(List.of(), List.of());
        assertThat(notifiedAt(id, care.organizationId())).as("the first attempt's database commit").isTrue();
        await().atMost(Duration.ofSeconds(30)).until(() -> mailsTo(address).size() >= 2);
        Thread.sleep(1_000);
        assertThat(mailsTo(address)).as("the pipeline's notification, and the one of the attempt that died; not a third").hasSize(2);
    }

    @Test
    void twoFanOutsOfTheSameMessageAtTheSameTime_notifyOnce() throws Exception {
        Participants.Registered clinic = Participants.registerNew(this, "Praxis Doppelt");
        Participants.Registered care = Participants.registerNew(this, "Pflegedienst Doppelt");
        String patientId = Conversations.createPatient(client(clinic.token()), Conversations.patient("Brandt", "Ilse", Conversations.kvnr()));
        Conversations.uploadConsent(client(clinic.token()), patientId, clinic.organizationId(), care.organizationId());
        String id = Conversations.send(client(clinic.token()), Conversations.message(patientId, "Einmal bitte.", care.organizationId()));
        String address = "kontakt@" + care.organizationId() + ".example.org";
        await().atMost(Duration.ofSeconds(30)).until(() -> mailsTo(address).size() == 1 && notifiedAt(id, care.organizationId()));
        jdbc.sql("delete from delivery where message_id = ? and recipient_org = ?").params(id, care.organizationId()).update();

        // the first fan-out has routed and notified the recipient but not committed yet when the second one starts
        CountDownLatch firstRouted = new CountDownLatch(1);
        CountDownLatch commitFirst = new CountDownLatch(1);
        ExecutorService threads = Executors.newFixedThreadPool(2);
        try {
            Future<List<WorkItem>> first = threads.submit(() -> tx.execute(status -> {
                List<WorkItem> work = pipeline.fanOut(id);
                firstRouted.countDown();
                await().atMost(Duration.ofSeconds(30)).until(() -> commitFirst.getCount() == 0);
                return work;
            }));
            assertThat(firstRouted.await(30, TimeUnit.SECONDS)).isTrue();
            Future<List<WorkItem>> second = threads.submit(() -> pipeline.fanOut(id));
            // the second one found no ledger row and waits to insert its own, until the first one commits
            await().atMost(Duration.ofSeconds(30)).until(() -> jdbc.sql("select count(*) from pg_stat_activity "
                    + "where wait_event_type = 'Lock' and query like '%insert into delivery%'").query(Integer.class).single() > 0);
            commitFirst.countDown();

            assertThat(first.get(30, TimeUnit.SECONDS)).isEmpty();
            assertThat(second.get(30, TimeUnit.SECONDS)).as("it finds the recipient routed and notified").isEmpty();
        } finally {
            threads.shutdownNow();
        }
        await().atMost(Duration.ofSeconds(30)).until(() -> mailsTo(address).size() >= 2);
        Thread.sleep(1_000);
        assertThat(mailsTo(address)).as("the pipeline's notification and the first fan-out's; not the second's").hasSize(2);
    }

    @Test
    void aRecipientWhoseAddressTheMailLibraryRefuses_failsAlone_theOtherRecipientIsNotified() throws Exception {
        Participants.Registered clinic = Participants.registerNew(this, "Praxis Adresse");
        Participants.Registered good = Participants.registerNew(this, "Pflegedienst Adresse");
        Participants.Registered odd = Participants.registerNew(this, "Pflegeheim Adresse");
        // plausible enough for the settings page, refused by the strict address parser of the mail library
        jdbc.sql("update participant set contact_email = 'pflege.@heim.example.org' where organization_id = ?")
                .param(odd.organizationId()).update();
        String patientId = Conversations.createPatient(client(clinic.token()), Conversations.patient("Brandt", "Ilse", Conversations.kvnr()));
        Conversations.uploadConsent(client(clinic.token()), patientId, clinic.organizationId(), good.organizationId(),
                odd.organizationId());

        String id = Conversations.send(client(clinic.token()),
                Conversations.message(patientId, "An beide.", good.organizationId(), odd.organizationId()));

        String address = "kontakt@" + good.organizationId() + ".example.org";
        await().atMost(Duration.ofSeconds(30)).until(() -> mailsTo(address).size() == 1 && notifiedAt(id, good.organizationId()));
        assertThat(notifiedAt(id, odd.organizationId())).as("its notification work item fails on its own").isFalse();
        assertThat(jdbc.sql("select state from delivery where message_id = ? and recipient_org = ?")
                .params(id, odd.organizationId()).query(String.class).single()).isEqualTo("queued");
    }

    @Test
    void anInvitationWhoseWorkItemIsRolledBackAfterTheDatabaseCommit_isStillSent() throws Exception {
        Participants.Registered clinic = Participants.registerNew(this, "Praxis Einladung");
        String digits = "4940" + (long) (Math.random() * 1_000_000_000L);
        String newcomer = Participants.create(admin(), Participants.newOrganization(unique("Pflegeheim Absturz"), "+" + digits, null));
        String faxMailbox = digits + "@" + FAX_DOMAIN;
        String patientId = Conversations.createPatient(client(clinic.token()), Conversations.patient("Brandt", "Ilse", Conversations.kvnr()));
        Conversations.uploadConsent(client(clinic.token()), patientId, clinic.organizationId(), newcomer);
        String id = Conversations.send(client(clinic.token()), Conversations.message(patientId, "Bitte melden.", newcomer));
        await().atMost(Duration.ofSeconds(30)).until(() -> mailsTo(faxMailbox).size() == 1 && invitations.open(newcomer).isPresent());

        // the pipeline invited the organisation; the invitation is forgotten, as if it were still to do
        jdbc.sql("delete from invitation where organization_id = ?").param(newcomer).update();

        int attempts = runDyingAfterTheStep(() -> invitations.invite(id, newcomer));

        assertThat(attempts).isEqualTo(2);
        assertThat(invitations.open(newcomer)).as("the first attempt's database commit").isPresent();
        await().atMost(Duration.ofSeconds(30)).until(() -> mailsTo(faxMailbox).size() >= 2);
        Thread.sleep(1_000);
        assertThat(mailsTo(faxMailbox)).as("the pipeline's invitation, and the one of the attempt that died").hasSize(2);
    }

    @Test
    void aTransactionThatFailsAfterQueueingAMail_sendsNothing_andOneThatCommitsSendsIt() throws Exception {
        String rolledBack = unique("zurueckgerollt") + "@example.org";
        String committed = unique("bestaetigt") + "@example.org";
        assertThatThrownBy(() -> tx.executeWithoutResult(status -> {
            outbox.send(new OutboundMail("test", rolledBack, "Test", "Nicht senden.", List.of()));
            throw new IllegalStateException("a write after the mail fails");
        })).isInstanceOf(IllegalStateException.class);
        tx.executeWithoutResult(status -> outbox.send(new OutboundMail("test", committed, "Test", "Senden.", List.of())));

        await().atMost(Duration.ofSeconds(30)).until(() -> mailsTo(committed).size() == 1);
        Thread.sleep(1_000); // the mail queue keeps its order: the first one would have gone out by now
        assertThat(mailsTo(rolledBack)).isEmpty();
    }

    private boolean notifiedAt(String messageId, String recipient) {
        return jdbc.sql("select notified_at is not null from delivery where message_id = ? and recipient_org = ?")
                .params(messageId, recipient).query(Boolean.class).single();
    }

    /**
     * Runs {@code step} on a work item of a test queue, consumed with the pipeline's options; the first
     * attempt fails after the step returned (its database work committed). Returns the attempts made.
     */
    private int runDyingAfterTheStep(Runnable step) throws Exception {
        String id = UUID.randomUUID().toString();
        String input = "mail-before-commit-it." + id;
        String notification = PipelineRoutes.queue(properties.pipeline().queuePrefix(), Stage.NOTIFY);
        String endpoint = camel.getRoute("notification").getEndpoint().getEndpointUri().replace(notification, input);
        assertThat(endpoint).contains(input);
        AtomicInteger attempts = new AtomicInteger();
        AtomicInteger done = new AtomicInteger();
        camel.addRoutes(new RouteBuilder() {
            @Override
            public void configure() {
                from(endpoint).routeId("mail-before-commit-it-" + id)
                        .process(exchange -> {
                            step.run();
                            if (attempts.incrementAndGet() == 1) {
                                throw new IllegalStateException("the node dies after the database commit");
                            }
                            done.incrementAndGet();
                        });
            }
        });
        try {
            new JmsTemplate(connectionFactory).send(input, session -> session.createTextMessage(""));
            await().atMost(Duration.ofSeconds(30)).until(() -> done.get() == 1);
            return attempts.get();
        } finally {
            camel.getRouteController().stopRoute("mail-before-commit-it-" + id);
            camel.removeRoute("mail-before-commit-it-" + id);
        }
    }
}
