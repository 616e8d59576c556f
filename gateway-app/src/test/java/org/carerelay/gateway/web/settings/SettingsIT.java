package org.carerelay.gateway.web.settings;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;
import static org.awaitility.Awaitility.await;

import ca.uhn.fhir.rest.server.exceptions.AuthenticationException;
import jakarta.mail.internet.MimeMessage;
import java.net.http.HttpResponse;
import java.nio.charset.StandardCharsets;
import java.security.KeyPair;
import java.security.cert.X509Certificate;
import java.time.Duration;
import java.time.Instant;
import java.util.List;
import java.util.Map;
import org.carerelay.gateway.Conversations;
import org.carerelay.gateway.GatewayIntegrationTest;
import org.carerelay.gateway.Participants;
import org.carerelay.gateway.TestPki;
import org.carerelay.gateway.web.WebAccounts;
import org.carerelay.gateway.web.WebSession;
import org.carerelay.gateway.web.WebUsers;
import org.hl7.fhir.r4.model.Communication;
import org.hl7.fhir.r4.model.Organization;
import org.hl7.fhir.r4.model.Reference;
import org.junit.jupiter.api.Test;
import org.springframework.beans.factory.annotation.Autowired;

/** Einstellungen: what managers change, what everyone else only sees, through the same services as the API. */
class SettingsIT extends GatewayIntegrationTest {

    @Autowired
    WebUsers users;

    private record Org(Participants.Registered registered, WebSession manager, WebAccounts.Login login) {
    }

    private Org managerOf(String name) {
        Participants.Registered org = Participants.registerNew(this, name);
        WebAccounts.Login login = WebAccounts.newUser(users, org.organizationId(), "Maria Leitung", true);
        WebSession session = WebSession.signIn(webUrl(), login);
        session.get("/einstellungen");
        return new Org(org, session, login);
    }

    @Test
    void managerChangesTheNotificationAddress_replyMailGoesThereWithTheChatLinkAndNoPatientData() {
        Org clinic = managerOf("Klinik Einstellungen");
        Participants.Registered home = Participants.registerNew(this, "Pflegeheim Einstellungen");
        String address = "station@" + clinic.registered().organizationId() + ".example.org";

        HttpResponse<String> saved = clinic.manager().post("/einstellungen/benachrichtigung", Map.of("benachrichtigung", address));
        assertThat(saved.statusCode()).isEqualTo(302);
        HttpResponse<String> page = clinic.manager().get("/einstellungen");
        assertThat(page.body()).contains("Die Benachrichtigungsadresse wurde gespeichert.").contains(address);

        String kvnr = Conversations.kvnr();
        String clinicToken = clinic.registered().token();
        String patientId = Conversations.createPatient(client(clinicToken), Conversations.patient("Vertraulich", "Vera", kvnr));
        Conversations.uploadConsent(client(clinicToken), patientId, clinic.registered().organizationId(), home.organizationId());
        String first = Conversations.send(client(clinicToken),
                Conversations.message(patientId, "Bitte um Rückruf.", home.organizationId()));
        Communication reply = Conversations.message(patientId, "Rückruf folgt.", clinic.registered().organizationId());
        reply.addPartOf(new Reference("Communication/" + first));
        reply.addInResponseTo(new Reference("Communication/" + first));
        String replyId = Conversations.send(client(home.token()), reply);

        await().atMost(Duration.ofSeconds(30)).until(() -> !mailsTo(address).isEmpty());
        List<MimeMessage> mails = mailsTo(address);
        String text = Participants.allText(mails.get(mails.size() - 1));
        assertThat(text).contains("http://localhost:" + port + "/chat/" + first)
                .contains("/fhir/Communication/" + replyId)
                .doesNotContain("Vertraulich").doesNotContain(kvnr).doesNotContain("Rückruf");
    }

    @Test
    void notAnEmailAddress_isRefusedWithAGermanMessage() {
        Org clinic = managerOf("Klinik Adresse");
        HttpResponse<String> refused = clinic.manager().post("/einstellungen/benachrichtigung", Map.of("benachrichtigung", "keine adresse"));
        assertThat(refused.body()).contains("class=\"fehler\"").contains("gültige E-Mail-Adresse");
    }

    @Test
    void tokenRotation_showsANewTokenOnce_thatWorksAgainstFhir_andTheOldOneNoLonger() {
        Org clinic = managerOf("Klinik Token");
        String old = clinic.registered().token();
        HttpResponse<String> withoutCode = clinic.manager().post("/einstellungen/token", Map.of("code", "000000"));
        assertThat(withoutCode.body()).contains("class=\"fehler\"").doesNotContain("id=\"neues-token\"");
        client(old).read().resource(Organization.class).withId(clinic.registered().organizationId()).execute();
        HttpResponse<String> rotated = clinic.manager().post("/einstellungen/token",
                Map.of("code", WebSession.nextCode(clinic.login().totpSecret())));
        assertThat(rotated.statusCode()).isEqualTo(200);
        String token = WebSession.find(rotated.body(), "id=\"neues-token\">([^<]+)<");

        Organization own = client(token).read().resource(Organization.class).withId(clinic.registered().organizationId()).execute();
        assertThat(own.getIdElement().getIdPart()).isEqualTo(clinic.registered().organizationId());
        assertThatThrownBy(() -> client(old).read().resource(Organization.class)
                .withId(clinic.registered().organizationId()).execute()).isInstanceOf(AuthenticationException.class);
        assertThat(clinic.manager().get("/einstellungen").body()).doesNotContain(token).doesNotContain("neues-token");
    }

    @Test
    void certificate_uploadedShowsItsSubject_aBadOneGetsAGermanMessage_andItCanBeRemoved() {
        Org clinic = managerOf("Klinik Zertifikat");
        KeyPair key = TestPki.rsaKeyPair();
        X509Certificate certificate = TestPki.encryptionCertificate(key, "CN=Klinik Zertifikat Test",
                Instant.now().minus(Duration.ofDays(1)), Instant.now().plus(Duration.ofDays(365)));
        byte[] pem;
        try {
            pem = TestPki.pem("CERTIFICATE", certificate.getEncoded()).getBytes(StandardCharsets.US_ASCII);
        } catch (Exception e) {
            throw new AssertionError(e);
        }

        HttpResponse<String> bad = clinic.manager().postMultipart("/einstellungen/zertifikat", Map.of(),
                Map.of("zertifikat", new WebSession.FilePart("kein.pem", "application/x-pem-file",
                        "kein Zertifikat".getBytes(StandardCharsets.UTF_8))));
        assertThat(bad.body()).contains("class=\"fehler\"").contains("Das Zertifikat kann nicht zur Verschlüsselung verwendet werden")
                .doesNotContain("Exception");

        HttpResponse<String> good = clinic.manager().postMultipart("/einstellungen/zertifikat", Map.of(),
                Map.of("zertifikat", new WebSession.FilePart("klinik.pem", "application/x-pem-file", pem)));
        assertThat(good.statusCode()).isEqualTo(302);
        assertThat(clinic.manager().get("/einstellungen").body()).contains("CN=Klinik Zertifikat Test");

        clinic.manager().post("/einstellungen/zertifikat/entfernen", Map.of());
        assertThat(clinic.manager().get("/einstellungen").body()).contains("id=\"kein-zertifikat\"")
                .doesNotContain("CN=Klinik Zertifikat Test");
    }

    @Test
    void endpoints_addedAndSwitchedOff_anInternalAddressIsRefused() {
        Org clinic = managerOf("Klinik Endpunkt");
        HttpResponse<String> added = clinic.manager().post("/einstellungen/endpunkte",
                Map.of("typ", "hl7-fhir-rest", "adresse", "http://127.0.0.1:9/fhir"));
        assertThat(added.statusCode()).isEqualTo(302);
        String page = clinic.manager().get("/einstellungen").body();
        assertThat(page).contains("http://127.0.0.1:9/fhir");
        String id = WebSession.find(page, "data-endpunkt=\"([^\"]+)\"");

        HttpResponse<String> refused = clinic.manager().post("/einstellungen/endpunkte",
                Map.of("typ", "hl7v2-mllp", "adresse", "mllp://10.1.2.3:2575"));
        assertThat(refused.body()).contains("class=\"fehler\"").contains("nicht zulässig");

        clinic.manager().post("/einstellungen/endpunkte/" + id + "/abschalten", Map.of());
        assertThat(clinic.manager().get("/einstellungen").body()).contains("abgeschaltet");
    }

    @Test
    void anotherOrganisationsEndpoint_cannotBeSwitchedOff() {
        Org clinic = managerOf("Klinik Fremd");
        clinic.manager().post("/einstellungen/endpunkte", Map.of("typ", "hl7-fhir-rest", "adresse", "http://127.0.0.1:9/fhir"));
        String id = WebSession.find(clinic.manager().get("/einstellungen").body(), "data-endpunkt=\"([^\"]+)\"");
        Org stranger = managerOf("Fremde Einrichtung");
        HttpResponse<String> refused = stranger.manager().post("/einstellungen/endpunkte/" + id + "/abschalten", Map.of());
        assertThat(refused.body()).contains("Diesen Eintrag gibt es nicht.");
        assertThat(clinic.manager().get("/einstellungen").body()).doesNotContain("abgeschaltet");
    }

    @Test
    void nonManager_seesTheSettingsReadOnly_andCannotChangeThem() {
        Participants.Registered org = Participants.registerNew(this, "Praxis Lesend");
        WebSession clerk = WebSession.signIn(webUrl(), WebAccounts.newUser(users, org.organizationId(), "Karl Kraft", false));
        HttpResponse<String> page = clerk.get("/einstellungen");
        assertThat(page.statusCode()).isEqualTo(200);
        assertThat(page.body()).contains("Einstellungen").doesNotContain("id=\"token-erneuern\"")
                .doesNotContain("id=\"benachrichtigung-speichern\"").doesNotContain("/einstellungen/benutzer");

        HttpResponse<String> rotate = clerk.post("/einstellungen/token", Map.of());
        assertThat(rotate.statusCode()).isEqualTo(403);
        assertThat(rotate.body()).doesNotContain("neues-token");
        HttpResponse<String> address = clerk.post("/einstellungen/benachrichtigung", Map.of("benachrichtigung", "x@example.org"));
        assertThat(address.statusCode()).isEqualTo(403);
        client(org.token()).read().resource(Organization.class).withId(org.organizationId()).execute(); // the token still works
    }

    @Test
    void missingCsrfToken_changesNothing() {
        Org clinic = managerOf("Klinik Csrf");
        HttpResponse<String> forged = clinic.manager().postWithoutCsrf("/einstellungen/token", Map.of());
        assertThat(forged.statusCode()).isEqualTo(403);
        assertThat(forged.body()).doesNotContain("neues-token");
        client(clinic.registered().token()).read().resource(Organization.class)
                .withId(clinic.registered().organizationId()).execute();
    }

    @Test
    void notSignedIn_isSentToTheLoginPage() {
        HttpResponse<String> page = new WebSession(webUrl()).get("/einstellungen");
        assertThat(page.statusCode()).isEqualTo(302);
        assertThat(WebSession.location(page)).endsWith("/anmelden");
    }
}
