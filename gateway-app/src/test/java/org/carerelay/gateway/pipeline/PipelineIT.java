package org.carerelay.gateway.pipeline;

import static org.assertj.core.api.Assertions.assertThat;
import static org.awaitility.Awaitility.await;

import ca.uhn.hl7v2.util.Terser;
import com.icegreen.greenmail.util.GreenMailUtil;
import jakarta.mail.internet.MimeMessage;
import java.time.Duration;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.concurrent.CopyOnWriteArrayList;
import org.carerelay.gateway.Conversations;
import org.carerelay.gateway.FakeFhirRecipient;
import org.carerelay.gateway.FakeMllpRecipient;
import org.carerelay.gateway.GatewayIntegrationTest;
import org.carerelay.gateway.Participants;
import org.hl7.fhir.r4.model.Bundle;
import org.hl7.fhir.r4.model.Communication;
import org.hl7.fhir.r4.model.Consent;
import org.hl7.fhir.r4.model.Parameters;
import org.hl7.fhir.r4.model.StringType;
import org.hl7.fhir.r4.model.Task;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.springframework.beans.factory.annotation.Autowired;
import org.springframework.jdbc.core.simple.JdbcClient;

class PipelineIT extends GatewayIntegrationTest {

    @Autowired
    Invitations invitations;

    @Autowired
    JdbcClient jdbc;

    static final String FAMILY = "Kowalczyk";
    static final String GIVEN = "Wilhelmine";
    static FakeFhirRecipient fhirRecipient;
    static Participants.Registered clinic;
    static Participants.Registered hospital;

    @BeforeEach
    void setUp() throws Exception {
        if (clinic == null) {
            fhirRecipient = new FakeFhirRecipient();
            clinic = Participants.registerNew(this, "Klinik Pipeline");
            hospital = Participants.registerNew(this, "Krankenhaus FHIR");
            Participants.addEndpoint(admin(), hospital.organizationId(), "hl7-fhir-rest", fhirRecipient.baseUrl(),
                    "Authorization: Bearer partner-secret");
        }
        fhirRecipient.down = false;
        fhirRecipient.failNext = 0;
    }

    @AfterAll
    static void tearDown() {
        if (fhirRecipient != null) {
            fhirRecipient.close();
        }
    }

    private String patientWithConsent(String kvnr, String... partners) {
        String patientId = Conversations.createPatient(client(clinic.token()), Conversations.patient(FAMILY, GIVEN, kvnr));
        Conversations.uploadConsent(client(clinic.token()), patientId, partners);
        return patientId;
    }

    /** The clinic revokes the patient's consent ({@code $revoke}). */
    private void revokeConsentOf(String patientId) {
        String consentId = client(clinic.token()).search().forResource(Consent.class)
                .where(Consent.PATIENT.hasId("Patient/" + patientId)).returnBundle(Bundle.class).execute()
                .getEntryFirstRep().getResource().getIdElement().getIdPart();
        client(clinic.token()).operation().onInstance("Consent/" + consentId).named("$revoke")
                .withNoParameters(Parameters.class).returnResourceType(Consent.class).execute();
    }

    private Map<String, String> states(String token, String messageId) {
        return Conversations.deliveryStates(client(token), messageId);
    }

    private String detail(String token, String messageId) {
        return Conversations.deliveryPart(client(token), messageId, "detail");
    }

    private static void assertNoPatientData(MimeMessage mail, String kvnr) {
        String raw = GreenMailUtil.getWholeMessage(mail);
        String text = Participants.allText(mail);
        for (String content : List.of(raw, text)) {
            assertThat(content).doesNotContain(FAMILY).doesNotContain(GIVEN).doesNotContain("17.03.1941")
                    .doesNotContain("1941-03-17").doesNotContain("19410317").doesNotContain(kvnr)
                    .doesNotContain("Wundversorgung");
        }
    }

    @Test
    void fhirRecipient_getsTheCommunicationOnce_withContainedPatientAndCredentials() {
        String kvnr = Conversations.kvnr();
        String patientId = patientWithConsent(kvnr, clinic.organizationId(), hospital.organizationId());
        int before = fhirRecipient.communications.size();
        String id = Conversations.send(client(clinic.token()),
                Conversations.message(patientId, "Bitte Wundversorgung übernehmen.", hospital.organizationId()));

        await().atMost(Duration.ofSeconds(30)).until(() -> "delivered".equals(states(clinic.token(), id).get(hospital.organizationId())));
        assertThat(fhirRecipient.communications).hasSize(before + 1);
        Communication received = fhirRecipient.communications.get(before);
        assertThat(received.getIdentifierFirstRep().getValue()).isEqualTo("urn:uuid:" + id);
        assertThat(received.getSubject().getReference()).isEqualTo("#patient");
        assertThat(received.getContained()).hasSize(1);
        assertThat(fhirRecipient.authorizations).contains("Bearer partner-secret");

        // the registered recipient is notified, without patient data
        await().atMost(Duration.ofSeconds(30)).until(() -> !mailsTo("kontakt@" + hospital.organizationId() + ".example.org").isEmpty());
        mailsTo("kontakt@" + hospital.organizationId() + ".example.org").forEach(m -> assertNoPatientData(m, kvnr));
    }

    @Test
    void recipientDown_isRetried_andDeliveredWhenItComesUp() {
        String patientId = patientWithConsent(Conversations.kvnr(), clinic.organizationId(), hospital.organizationId());
        fhirRecipient.failNext = 2;
        int before = fhirRecipient.communications.size();
        String id = Conversations.send(client(clinic.token()), Conversations.message(patientId, "zweiter Versuch", hospital.organizationId()));
        await().atMost(Duration.ofSeconds(30)).until(() -> "delivered".equals(states(clinic.token(), id).get(hospital.organizationId())));
        assertThat(fhirRecipient.communications).hasSize(before + 1);
    }

    @Test
    void poisonDelivery_goesToDeadLetter_andIsDeliveredAfterAdminRetry() {
        String patientId = patientWithConsent(Conversations.kvnr(), clinic.organizationId(), hospital.organizationId());
        fhirRecipient.down = true;
        String id = Conversations.send(client(clinic.token()), Conversations.message(patientId, "kommt später", hospital.organizationId()));
        await().atMost(Duration.ofSeconds(60)).until(() -> "failed".equals(states(clinic.token(), id).get(hospital.organizationId())));
        assertThat(detail(clinic.token(), id)).isEqualTo("partner unreachable");
        assertThat(Conversations.deliveryPart(admin(), id, "detail")).contains("dead-lettered").contains("HTTP 503");

        Parameters parked = admin().operation().onServer().named("$dead-letters").withNoParameters(Parameters.class)
                .useHttpGet().execute();
        assertThat(parked.getParameter()).anyMatch(p -> p.getPart().stream()
                .anyMatch(x -> x.getName().equals("item") && x.getValue().primitiveValue().startsWith(id)));

        fhirRecipient.down = false;
        Parameters in = new Parameters();
        in.addParameter("stage", new StringType("deliver-fhir"));
        Parameters retried = admin().operation().onServer().named("$retry-dead-letters").withParameters(in).execute();
        assertThat(((org.hl7.fhir.r4.model.IntegerType) retried.getParameter("retried").getValue()).getValue()).isGreaterThanOrEqualTo(1);
        await().atMost(Duration.ofSeconds(30)).until(() -> "delivered".equals(states(clinic.token(), id).get(hospital.organizationId())));
    }

    @Test
    void mllpRecipient_AA_isDelivered_AE_failsWithAckText() throws Exception {
        List<String> received = new CopyOnWriteArrayList<>();
        final boolean[] reject = {false};
        try (FakeMllpRecipient recipientSystem = new FakeMllpRecipient(message -> {
            received.add(new Terser(message).get("/TXA-12-1"));
            if (reject[0]) {
                return message.generateACK(ca.uhn.hl7v2.AcknowledgmentCode.AE,
                        new ca.uhn.hl7v2.HL7Exception("Patient unbekannt im Zielsystem"));
            }
            return message.generateACK();
        })) {
            Participants.Registered care = Participants.registerNew(this, "Pflegedienst MLLP");
            Participants.addEndpoint(admin(), care.organizationId(), "hl7v2-mllp", recipientSystem.address(), null);
            String patientId = patientWithConsent(Conversations.kvnr(), clinic.organizationId(), care.organizationId());

            String ok = Conversations.send(client(clinic.token()), Conversations.message(patientId, "Zeile 1\nZeile 2", care.organizationId()));
            await().atMost(Duration.ofSeconds(30)).until(() -> "delivered".equals(states(clinic.token(), ok).get(care.organizationId())));
            assertThat(received).containsExactly(ok);

            reject[0] = true;
            String bad = Conversations.send(client(clinic.token()), Conversations.message(patientId, "abgelehnt", care.organizationId()));
            await().atMost(Duration.ofSeconds(30)).until(() -> "failed".equals(states(clinic.token(), bad).get(care.organizationId())));
            assertThat(detail(clinic.token(), bad)).contains("AE");
        }
    }

    @Test
    void unregisteredRecipient_isInvitedOnce_andHeldMessagesAreDeliveredAfterRegistration() throws Exception {
        Unregistered unregistered = unregistered("Pflegeheim Neu", "4940");
        String newcomer = unregistered.id();
        String faxMailbox = unregistered.faxMailbox();
        String kvnr = Conversations.kvnr();
        String patientId = patientWithConsent(kvnr, clinic.organizationId(), newcomer);

        String first = Conversations.send(client(clinic.token()), Conversations.message(patientId, "Bitte Wundversorgung übernehmen.", newcomer));
        String second = Conversations.send(client(clinic.token()), Conversations.message(patientId, "Nachtrag", newcomer));
        await().atMost(Duration.ofSeconds(30)).until(() -> "held-invited".equals(states(clinic.token(), first).get(newcomer))
                && "held-invited".equals(states(clinic.token(), second).get(newcomer)));
        await().atMost(Duration.ofSeconds(30)).until(() -> mailsTo(faxMailbox).size() >= 1);
        Thread.sleep(1500);
        assertThat(mailsTo(faxMailbox)).hasSize(1); // one invitation, not one per message
        MimeMessage invitation = mailsTo(faxMailbox).get(0);
        assertNoPatientData(invitation, kvnr);
        assertThat(Participants.allText(invitation)).contains("Nachricht");

        assertThat(task(newcomer, "requested")).hasValueSatisfying(t -> assertThat(t.getStatus()).isEqualTo(Task.TaskStatus.REQUESTED));
        assertThat(task(newcomer, "completed")).isEmpty();

        String code = Participants.codeIn(invitation);
        Parameters in = new Parameters();
        in.addParameter("code", new StringType(code));
        in.addParameter("email", new StringType("team@" + newcomer + ".example.org"));
        Parameters registered = anonymous().operation().onInstance("Organization/" + newcomer).named("$register")
                .withParameters(in).execute();
        String token = registered.getParameter("token").getValue().primitiveValue();

        await().atMost(Duration.ofSeconds(30)).until(() -> "notified".equals(states(clinic.token(), first).get(newcomer))
                && "notified".equals(states(clinic.token(), second).get(newcomer)));
        List<Communication> inbox = client(token).search().byUrl("Communication?unread=true").returnBundle(Bundle.class).execute()
                .getEntry().stream().map(e -> (Communication) e.getResource()).toList();
        assertThat(inbox).extracting(c -> c.getIdElement().getIdPart()).contains(first, second);
        await().atMost(Duration.ofSeconds(30)).until(() -> mailsTo("team@" + newcomer + ".example.org").size() >= 2);
        Thread.sleep(500);
        List<MimeMessage> notifications = mailsTo("team@" + newcomer + ".example.org");
        assertThat(notifications).hasSize(2);
        notifications.forEach(m -> assertNoPatientData(m, kvnr));
        assertThat(task(newcomer, "completed")).hasValueSatisfying(t -> assertThat(t.getStatus()).isEqualTo(Task.TaskStatus.COMPLETED));
        assertThat(task(newcomer, "requested")).isEmpty();
    }

    @Test
    void consentRevokedBeforeTheInvitationStepRunsAgain_noSecondLetter_andTheHeldMessageFails() throws Exception {
        Unregistered unregistered = unregistered("Praxis Widerruf", "4942");
        String newcomer = unregistered.id();
        String faxMailbox = unregistered.faxMailbox();
        String patientId = patientWithConsent(Conversations.kvnr(), clinic.organizationId(), newcomer);
        String id = Conversations.send(client(clinic.token()), Conversations.message(patientId, "vor dem Widerruf", newcomer));
        await().atMost(Duration.ofSeconds(30)).until(() -> mailsTo(faxMailbox).size() >= 1);
        await().atMost(Duration.ofSeconds(30)).until(() -> "held-invited".equals(states(clinic.token(), id).get(newcomer)));
        revokeConsentOf(patientId);

        // the invitation step for the held message runs again (its work item redelivered after a node
        // died), and the first invitation is no longer open: it would send a new letter
        jdbc.sql("update invitation set status = 'cancelled' where organization_id = ? and status = 'requested'").param(newcomer).update();
        invitations.invite(id, newcomer);

        assertThat(states(clinic.token(), id).get(newcomer)).isEqualTo("failed");
        assertThat(detail(clinic.token(), id)).contains("consent-revoked");
        Thread.sleep(1500);
        assertThat(mailsTo(faxMailbox)).as("only the letter sent before the revocation").hasSize(1);
    }

    @Test
    void reminders_goOutWhileAMessageWaits_revokedOnesFail_andWithNoneLeftTheInvitationIsCancelled() throws Exception {
        Unregistered unregistered = unregistered("Praxis Erinnerung", "4943");
        String newcomer = unregistered.id();
        String faxMailbox = unregistered.faxMailbox();
        String first = patientWithConsent(Conversations.kvnr(), clinic.organizationId(), newcomer);
        String second = patientWithConsent(Conversations.kvnr(), clinic.organizationId(), newcomer);
        String aboutFirst = Conversations.send(client(clinic.token()), Conversations.message(first, "wartet 1", newcomer));
        String aboutSecond = Conversations.send(client(clinic.token()), Conversations.message(second, "wartet 2", newcomer));
        await().atMost(Duration.ofSeconds(30)).until(() -> mailsTo(faxMailbox).size() >= 1);
        await().atMost(Duration.ofSeconds(30)).until(() -> "held-invited".equals(states(clinic.token(), aboutFirst).get(newcomer))
                && "held-invited".equals(states(clinic.token(), aboutSecond).get(newcomer)));
        String backdate = "update invitation set last_sent_at = now() - interval '30 days' where organization_id = ? and status = 'requested'";

        // one of the two consents revoked: its message fails when the reminder falls due, and the
        // reminder goes out for the other one, which still waits
        revokeConsentOf(first);
        assertThat(jdbc.sql(backdate).param(newcomer).update()).isEqualTo(1);
        invitations.sendDueReminders();
        assertThat(states(clinic.token(), aboutFirst).get(newcomer)).isEqualTo("failed");
        assertThat(detail(clinic.token(), aboutFirst)).contains("consent-revoked");
        assertThat(states(clinic.token(), aboutSecond).get(newcomer)).isEqualTo("held-invited");
        await().atMost(Duration.ofSeconds(30)).until(() -> mailsTo(faxMailbox).size() >= 2);
        assertThat(task(newcomer, "requested")).isPresent();

        // the other consent revoked too: no message can be released any more; the next reminder that
        // falls due fails it and cancels the invitation, and no letter says that a message waits
        revokeConsentOf(second);
        assertThat(jdbc.sql(backdate).param(newcomer).update()).isEqualTo(1);
        invitations.sendDueReminders();
        assertThat(states(clinic.token(), aboutSecond).get(newcomer)).isEqualTo("failed");
        assertThat(task(newcomer, "cancelled")).hasValueSatisfying(t -> assertThat(t.getStatus()).isEqualTo(Task.TaskStatus.CANCELLED));
        assertThat(task(newcomer, "requested")).isEmpty();
        Thread.sleep(1500);
        assertThat(mailsTo(faxMailbox)).as("the invitation and the one reminder sent while a message waited").hasSize(2);

        // a later message starts a new invitation
        String third = patientWithConsent(Conversations.kvnr(), clinic.organizationId(), newcomer);
        Conversations.send(client(clinic.token()), Conversations.message(third, "später", newcomer));
        await().atMost(Duration.ofSeconds(30)).until(() -> mailsTo(faxMailbox).size() >= 3);
        assertThat(task(newcomer, "requested")).isPresent();
    }

    /** A directory organisation that is not registered, with a fax number of its own, and the fax's mailbox. */
    record Unregistered(String id, String faxMailbox) {
    }

    private Unregistered unregistered(String name, String faxPrefix) {
        String digits = faxPrefix + (long) (Math.random() * 1_000_000_000L);
        String id = Participants.create(admin(), Participants.newOrganization(unique(name), "+" + digits, null));
        return new Unregistered(id, digits + "@" + FAX_DOMAIN);
    }

    /** The invitation of {@code organization} in the given status, as the inviting clinic sees it. */
    private Optional<Task> task(String organization, String status) {
        return client(clinic.token()).search().forResource(Task.class).where(Task.OWNER.hasId("Organization/" + organization))
                .and(Task.STATUS.exactly().code(status)).returnBundle(Bundle.class).execute().getEntry().stream()
                .map(e -> (Task) e.getResource()).findFirst();
    }

    @Test
    void revokedConsentBeforeRegistration_heldMessageIsNotReleased() {
        Unregistered unregistered = unregistered("Praxis Spät", "4941");
        String newcomer = unregistered.id();
        String faxMailbox = unregistered.faxMailbox();
        String patientId = patientWithConsent(Conversations.kvnr(), clinic.organizationId(), newcomer);
        String id = Conversations.send(client(clinic.token()), Conversations.message(patientId, "vor dem Widerruf", newcomer));
        await().atMost(Duration.ofSeconds(30)).until(() -> mailsTo(faxMailbox).size() >= 1);
        revokeConsentOf(patientId);

        String code = Participants.codeIn(mailsTo(faxMailbox).get(0));
        Parameters in = new Parameters();
        in.addParameter("code", new StringType(code));
        in.addParameter("email", new StringType("x@" + newcomer + ".example.org"));
        anonymous().operation().onInstance("Organization/" + newcomer).named("$register").withParameters(in).execute();
        await().atMost(Duration.ofSeconds(30)).until(() -> "failed".equals(states(clinic.token(), id).get(newcomer)));
        assertThat(detail(clinic.token(), id)).contains("consent-revoked");
        // the revocation notice to the newcomer (named in the consent) is sent after the revocation's
        // commit, on a thread of its own: it finds the address registered just now or no address at
        // all; what must never reach the newcomer is a notification of the held message
        assertThat(mailsTo("x@" + newcomer + ".example.org"))
                .extracting(m -> m.getHeader("X-CareRelay-Kind", null))
                .allMatch("consent-revoked"::equals);
    }
}
