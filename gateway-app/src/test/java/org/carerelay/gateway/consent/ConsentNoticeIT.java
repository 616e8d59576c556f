package org.carerelay.gateway.consent;

import static org.assertj.core.api.Assertions.assertThat;
import static org.awaitility.Awaitility.await;

import com.icegreen.greenmail.util.GreenMailUtil;
import jakarta.mail.internet.MimeMessage;
import java.time.Duration;
import java.util.List;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.ThreadPoolExecutor;
import org.carerelay.gateway.Conversations;
import org.carerelay.gateway.GatewayIntegrationTest;
import org.carerelay.gateway.Participants;
import org.hl7.fhir.r4.model.Consent;
import org.hl7.fhir.r4.model.Parameters;
import org.junit.jupiter.api.Test;
import org.springframework.beans.factory.annotation.Autowired;
import org.springframework.beans.factory.annotation.Qualifier;
import org.springframework.jdbc.core.simple.JdbcClient;
import org.springframework.scheduling.concurrent.ThreadPoolTaskExecutor;

/**
 * The mail to every partner of a consent when it is revoked, through the real API, broker and SMTP
 * server: sent without patient data, and not lost when its hand-over after the commit never
 * happens (dropped, or its node died right after the commit) or its send fails.
 */
class ConsentNoticeIT extends GatewayIntegrationTest {

    private static final String FAMILY = "Lindqvist";
    private static final String GIVEN = "Hedwig";

    @Autowired
    JdbcClient jdbc;

    @Autowired
    @Qualifier(ConsentNotices.EXECUTOR)
    ThreadPoolTaskExecutor handOver;

    record Scenario(Participants.Registered clinic, Participants.Registered care, String kvnr, String consentId) {
    }

    private Scenario scenario(String name) {
        Participants.Registered clinic = Participants.registerNew(this, "Praxis " + name);
        Participants.Registered care = Participants.registerNew(this, "Pflegedienst " + name);
        String kvnr = Conversations.kvnr();
        String patientId = Conversations.createPatient(client(clinic.token()), Conversations.patient(FAMILY, GIVEN, kvnr));
        String consentId = Conversations.uploadConsent(client(clinic.token()), patientId, clinic.organizationId(), care.organizationId());
        return new Scenario(clinic, care, kvnr, consentId);
    }

    private Consent revoke(Scenario s) {
        return client(s.clinic().token()).operation().onInstance("Consent/" + s.consentId()).named("$revoke")
                .withNoParameters(Parameters.class).returnResourceType(Consent.class).execute();
    }

    private static String contact(Participants.Registered org) {
        return "kontakt@" + org.organizationId() + ".example.org";
    }

    @Test
    void revocation_isMailedToTheAuthorAndEveryPartner_withoutPatientData() throws Exception {
        Scenario s = scenario("Widerruf");
        assertThat(revoke(s).getStatus()).isEqualTo(Consent.ConsentState.INACTIVE);

        for (Participants.Registered org : List.of(s.clinic(), s.care())) {
            await().atMost(Duration.ofSeconds(30)).until(() -> !noticesTo(org).isEmpty());
        }
        Thread.sleep(1_000);
        for (Participants.Registered org : List.of(s.clinic(), s.care())) {
            assertThat(noticesTo(org)).singleElement().satisfies(mail -> {
                assertThat(Participants.allText(mail)).contains("/Consent/" + s.consentId());
                assertNoPatientData(mail, s.kvnr());
            });
        }
        assertThat(openPublications(s.consentId())).isZero();
    }

    @Test
    void noticeWhoseHandOverIsLostAfterTheCommit_staysOpen_andIsMailedWhenResubmitted() throws Exception {
        Scenario s = scenario("Verlorener Hinweis");
        CountDownLatch release = new CountDownLatch(1);
        ThreadPoolExecutor pool = handOver.getThreadPoolExecutor();
        try {
            // the hand-over thread is busy and its queue full: the notices after the commit are dropped
            handOver.execute(() -> {
                try {
                    release.await();
                } catch (InterruptedException e) {
                    Thread.currentThread().interrupt();
                }
            });
            await().atMost(Duration.ofSeconds(10)).until(() -> pool.getActiveCount() == 1);
            while (pool.getQueue().remainingCapacity() > 0) {
                handOver.execute(() -> { });
            }
            assertThat(revoke(s).getStatus()).as("the change is answered all the same").isEqualTo(Consent.ConsentState.INACTIVE);
        } finally {
            release.countDown();
            await().atMost(Duration.ofSeconds(30)).until(() -> pool.getQueue().isEmpty());
        }

        assertThat(openPublications(s.consentId())).as("one open notice per organisation").isEqualTo(2);
        Thread.sleep(1_500); // a few resubmission ticks: the publications are not stale yet
        assertThat(noticesTo(s.clinic())).isEmpty();
        assertThat(noticesTo(s.care())).isEmpty();

        // time passes: the hand-overs have been open for longer than the resubmission threshold
        jdbc.sql("update event_publication set last_resubmission_date = now() - interval '10 minutes', "
                + "publication_date = now() - interval '10 minutes' where serialized_event like ?")
                .param("%" + s.consentId() + "%").update();

        for (Participants.Registered org : List.of(s.clinic(), s.care())) {
            await().atMost(Duration.ofSeconds(30)).until(() -> !noticesTo(org).isEmpty());
        }
        await().atMost(Duration.ofSeconds(10)).until(() -> openPublications(s.consentId()) == 0);
        Thread.sleep(1_000);
        for (Participants.Registered org : List.of(s.clinic(), s.care())) {
            assertThat(noticesTo(org)).singleElement().satisfies(mail -> assertNoPatientData(mail, s.kvnr()));
        }
    }

    @Test
    void noticeWhoseSendFails_staysOpen_andIsMailedOnceTheCauseIsGone() throws Exception {
        Scenario s = scenario("Fehlschlag");
        String address = contact(s.care());
        // a contact address the mail cannot be written to: every send of the partner's notice fails
        jdbc.sql("update participant set contact_email = ? where organization_id = ?")
                .params("kein gültiger Empfänger <", s.care().organizationId()).update();

        assertThat(revoke(s).getStatus()).isEqualTo(Consent.ConsentState.INACTIVE);

        await().atMost(Duration.ofSeconds(30)).until(() -> !noticesTo(s.clinic()).isEmpty());
        await().atMost(Duration.ofSeconds(30)).until(() -> openPublications(s.consentId()) == 1);
        Thread.sleep(1_500); // resubmitted on every tick, failing every time: still open, nothing sent
        assertThat(openPublications(s.consentId())).isEqualTo(1);
        assertThat(mailsTo(address)).noneMatch(ConsentNoticeIT::isNotice);

        jdbc.sql("update participant set contact_email = ? where organization_id = ?")
                .params(address, s.care().organizationId()).update();

        await().atMost(Duration.ofSeconds(30)).until(() -> !noticesTo(s.care()).isEmpty());
        await().atMost(Duration.ofSeconds(10)).until(() -> openPublications(s.consentId()) == 0);
        Thread.sleep(1_000);
        assertThat(noticesTo(s.care())).singleElement().satisfies(mail -> assertNoPatientData(mail, s.kvnr()));
        assertThat(noticesTo(s.clinic())).hasSize(1);
    }

    private static boolean isNotice(MimeMessage mail) {
        try {
            return mail.getSubject().contains("Einwilligung");
        } catch (Exception e) {
            throw new IllegalStateException(e);
        }
    }

    private static List<MimeMessage> noticesTo(Participants.Registered org) {
        return mailsTo(contact(org)).stream().filter(ConsentNoticeIT::isNotice).toList();
    }

    private int openPublications(String consentId) {
        return jdbc.sql("select count(*) from event_publication where completion_date is null and listener_id = ? "
                + "and serialized_event like ?").params(ConsentNotices.LISTENER_ID, "%" + consentId + "%")
                .query(Integer.class).single();
    }

    private static void assertNoPatientData(MimeMessage mail, String kvnr) {
        for (String content : List.of(GreenMailUtil.getWholeMessage(mail), Participants.allText(mail))) {
            assertThat(content).doesNotContain(FAMILY).doesNotContain(GIVEN).doesNotContain(kvnr);
        }
    }
}
