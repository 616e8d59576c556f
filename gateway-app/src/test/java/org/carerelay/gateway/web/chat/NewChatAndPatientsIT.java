package org.carerelay.gateway.web.chat;

import static org.assertj.core.api.Assertions.assertThat;
import static org.awaitility.Awaitility.await;

import com.icegreen.greenmail.util.GreenMailUtil;
import jakarta.mail.internet.MimeMessage;
import java.net.URLEncoder;
import java.net.http.HttpResponse;
import java.nio.charset.StandardCharsets;
import java.time.Duration;
import java.util.List;
import java.util.Map;
import org.carerelay.fhir.Systems;
import org.carerelay.gateway.Conversations;
import org.carerelay.gateway.GatewayIntegrationTest;
import org.carerelay.gateway.Participants;
import org.carerelay.gateway.web.WebAccounts;
import org.carerelay.gateway.web.WebSession;
import org.carerelay.gateway.web.WebUsers;
import org.hl7.fhir.r4.model.Bundle;
import org.hl7.fhir.r4.model.Communication;
import org.hl7.fhir.r4.model.Extension;
import org.hl7.fhir.r4.model.Patient;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.springframework.beans.factory.annotation.Autowired;
import org.springframework.jdbc.core.simple.JdbcClient;

/**
 * Neuer Chat and Patienten in the browser, over real HTTP: the same services and access decisions
 * as the API (patients, consents, messages, invitations).
 */
class NewChatAndPatientsIT extends GatewayIntegrationTest {

    private static final String FAMILY = "Wegener";
    private static final String GIVEN = "Hedwig";

    @Autowired
    WebUsers users;

    @Autowired
    JdbcClient jdbc;

    private Participants.Registered a;
    private Participants.Registered b;

    @BeforeEach
    void organisations() {
        a = Participants.registerNew(this, "Pflegedienst Web");
        b = Participants.registerNew(this, "Hausarztpraxis Web");
    }

    private WebSession signIn(String orgId) {
        return WebSession.signIn(webUrl(), WebAccounts.newUser(users, orgId, "Erika Muster", false));
    }

    /** Creates the patient through the page; returns its id (from the redirect to the consent page). */
    private String createPatient(WebSession web, String kvnr) {
        web.get("/patienten/neu");
        HttpResponse<String> created = web.post("/patienten/neu", Map.of("kvnr", kvnr, "vorname", GIVEN, "nachname", FAMILY,
                "geburtsdatum", "1941-03-17", "geschlecht", "female"));
        assertThat(created.statusCode()).as(created.body()).isEqualTo(302);
        return WebSession.find(WebSession.location(created), "/patienten/([^/]+)/einwilligung$");
    }

    private HttpResponse<String> uploadConsent(WebSession web, String patientId, WebSession.FilePart scan, String... partners) {
        web.get("/patienten/" + patientId + "/einwilligung");
        return web.postMultipartRepeated("/patienten/" + patientId + "/einwilligung", Map.of("aktion", "hochladen"),
                "partner", List.of(partners), Map.of("dokument", scan));
    }

    private static WebSession.FilePart pdf() {
        return new WebSession.FilePart("einwilligung.pdf", "application/pdf", Conversations.signedScan());
    }

    @Test
    void newPatientConsentAndFirstChat_reachRegisteredPartner_andInviteTheUnregisteredOneWithoutPatientData() throws Exception {
        String digits = "4950" + (long) (Math.random() * 1_000_000_000L);
        String c = Participants.create(admin(), Participants.newOrganization(unique("Pflegeheim Unregistriert"), "+" + digits, null));
        String faxMailbox = digits + "@" + FAX_DOMAIN;
        String kvnr = Conversations.kvnr();
        WebSession web = signIn(a.organizationId());

        String patientId = createPatient(web, kvnr);
        HttpResponse<String> consentPage = web.get("/patienten/" + patientId + "/einwilligung");
        assertThat(consentPage.body()).contains("id=\"vorlage-herunterladen\"").contains("name=\"dokument\"");
        HttpResponse<byte[]> template = web.getBytes("/patienten/" + patientId + "/einwilligungsvorlage");
        assertThat(template.statusCode()).isEqualTo(200);
        assertThat(new String(template.body(), 0, 4, StandardCharsets.ISO_8859_1)).isEqualTo("%PDF");

        // the partner search finds both directory entries, the unregistered one as "wird eingeladen"
        HttpResponse<String> search = web.postMultipartRepeated("/patienten/" + patientId + "/einwilligung",
                Map.of("q", "Pflegeheim Unregistriert", "aktion", "partner-suchen"), "partner", List.of(), Map.of());
        assertThat(search.body()).contains("id=\"partner-" + c + "\"").contains("wird eingeladen");

        WebSession.FilePart scan = pdf();
        HttpResponse<String> uploaded = uploadConsent(web, patientId, scan, b.organizationId(), c);
        assertThat(uploaded.statusCode()).as(uploaded.body()).isEqualTo(302);
        assertThat(WebSession.location(uploaded)).endsWith("/patienten/" + patientId);
        HttpResponse<String> page = web.get("/patienten/" + patientId);
        assertThat(page.body()).contains("id=\"einwilligung\"").contains("class=\"einwilligung-status\">erteilt<")
                .contains("id=\"einwilligung-dokument\"");
        HttpResponse<byte[]> document = web.getBytes("/patienten/" + patientId + "/einwilligung/dokument");
        assertThat(document.statusCode()).isEqualTo(200);
        assertThat(document.body()).isEqualTo(scan.data());

        web.get("/neu?patient=" + patientId);
        HttpResponse<String> started = web.postMultipartRepeated("/neu",
                Map.of("patient", patientId, "text", "Bitte Wundversorgung übernehmen.", "aktion", "starten"),
                "partner", List.of(b.organizationId(), c),
                Map.of("anhaenge", new WebSession.FilePart("befund.pdf", "application/pdf", Conversations.signedScan())));
        assertThat(started.statusCode()).as(started.body()).isEqualTo(302);
        String conversationId = WebSession.find(WebSession.location(started), "/chat/([^/?]+)$");

        Communication received = client(b.token()).read().resource(Communication.class).withId(conversationId).execute();
        assertThat(received.getSubject().getReference()).isEqualTo("Patient/" + patientId);
        assertThat(received.getRecipient()).extracting(r -> r.getReferenceElement().getIdPart())
                .containsExactlyInAnyOrder(b.organizationId(), c);
        assertThat(received.getPayload()).anyMatch(p -> p.hasContentAttachment()
                && p.getContentAttachment().getUrl().startsWith("Binary/"));
        assertThat(web.get("/patienten/" + patientId).body()).contains("/chat/" + conversationId);

        await().atMost(Duration.ofSeconds(30)).until(() -> mailsTo(faxMailbox).size() >= 1);
        MimeMessage invitation = mailsTo(faxMailbox).get(0);
        for (String content : List.of(GreenMailUtil.getWholeMessage(invitation), Participants.allText(invitation))) {
            assertThat(content).doesNotContain(FAMILY).doesNotContain(GIVEN).doesNotContain(kvnr)
                    .doesNotContain("1941-03-17").doesNotContain("17.03.1941").doesNotContain("Wundversorgung");
        }
    }

    @Test
    void wrongKvnrCheckDigit_isRefusedInGerman_andTheFormKeepsWhatWasTyped() {
        WebSession web = signIn(a.organizationId());
        String valid = Conversations.kvnr();
        String wrong = valid.substring(0, 9) + ((valid.charAt(9) - '0' + 1) % 10);
        web.get("/patienten/neu");
        HttpResponse<String> refused = web.post("/patienten/neu", Map.of("kvnr", wrong, "vorname", GIVEN, "nachname", FAMILY,
                "geburtsdatum", "1941-03-17", "geschlecht", "female"));
        assertThat(refused.statusCode()).isEqualTo(200);
        assertThat(refused.body()).contains("class=\"fehler\"").contains("Krankenversichertennummer (KVNR) ist ungültig")
                .contains("value=\"" + wrong + "\"").contains("value=\"" + FAMILY + "\"");
        Bundle none = client(a.token()).search().forResource(Patient.class)
                .where(Patient.IDENTIFIER.exactly().systemAndCode(Systems.KVNR, wrong)).returnBundle(Bundle.class).execute();
        assertThat(none.getEntry()).isEmpty();

        HttpResponse<String> missing = web.post("/patienten/neu", Map.of("kvnr", valid, "vorname", "", "nachname", FAMILY,
                "geburtsdatum", "17.03.1941", "geschlecht", "female"));
        assertThat(missing.body()).contains("Bitte geben Sie den Vornamen an").contains("JJJJ-MM-TT");
    }

    @Test
    void revocationOnThePatientPage_showsTheNoticeInSearch_andEarlierMessagesAreMaskedInTheApi() {
        String kvnr = Conversations.kvnr();
        String patientId = Conversations.createPatient(client(a.token()), Conversations.patient(FAMILY, GIVEN, kvnr));
        Conversations.uploadConsent(client(a.token()), patientId, a.organizationId(), b.organizationId());
        String messageId = Conversations.send(client(a.token()), Conversations.message(patientId, "Demenz, bitte Besuch", b.organizationId()));

        WebSession web = signIn(a.organizationId());
        web.get("/patienten/" + patientId);
        HttpResponse<String> revoked = web.post("/patienten/" + patientId + "/widerruf", Map.of("grund", "mündlich widerrufen"));
        assertThat(revoked.statusCode()).isEqualTo(302);
        HttpResponse<String> page = web.get("/patienten/" + patientId);
        assertThat(page.body()).contains("class=\"einwilligung-status\">widerrufen<").contains("widerruf-hinweis")
                .contains("mündlich widerrufen");
        web.get("/patienten");
        HttpResponse<String> search = web.post("/patienten", Map.of("kvnr", kvnr));
        assertThat(search.body()).contains("data-patient=\"" + patientId + "\"").contains("class=\"widerruf-hinweis\"");

        Communication masked = client(b.token()).read().resource(Communication.class).withId(messageId).execute();
        assertThat(masked.getMeta().getSecurity()).anyMatch(s -> Systems.ACT_CODE.equals(s.getSystem()) && "REDACT".equals(s.getCode()));
        assertThat(FHIR.newJsonParser().encodeResourceToString(masked)).doesNotContain("Demenz");
        Patient looked = client(a.token()).read().resource(Patient.class).withId(patientId).execute();
        Extension marker = looked.getExtensionByUrl(Systems.EXT_CONSENT_STATUS);
        assertThat(marker.getExtensionByUrl("status").getValue().primitiveValue()).isEqualTo("revoked");

        // a patient-bound chat after the revocation is refused, in German, keeping the text
        web.get("/neu");
        HttpResponse<String> refused = web.postMultipartRepeated("/neu",
                Map.of("patient", patientId, "text", "Noch eine Frage", "aktion", "starten"), "partner", List.of(b.organizationId()), Map.of());
        assertThat(refused.statusCode()).isEqualTo(200);
        assertThat(refused.body()).contains("class=\"fehler\"").contains("widerrufen").contains("Noch eine Frage");
    }

    @Test
    void chatToAPartnerTheConsentDoesNotCover_isRefusedInGerman_andKeepsTheText() {
        String other = Participants.registerNew(this, "Apotheke Web").organizationId();
        String patientId = Conversations.createPatient(client(a.token()), Conversations.patient(FAMILY, GIVEN, Conversations.kvnr()));
        Conversations.uploadConsent(client(a.token()), patientId, a.organizationId(), b.organizationId());
        WebSession web = signIn(a.organizationId());
        web.get("/neu");
        HttpResponse<String> refused = web.postMultipartRepeated("/neu",
                Map.of("patient", patientId, "text", "Rezept bitte", "aktion", "starten"), "partner", List.of(other), Map.of());
        assertThat(refused.statusCode()).isEqualTo(200);
        assertThat(refused.body()).contains("Die Einwilligung deckt nicht alle gewählten Partner ab").contains("Rezept bitte")
                .contains("id=\"partner-" + other + "\"");
        assertThat(client(a.token()).search().byUrl("Communication?patient=Patient/" + patientId).returnBundle(Bundle.class)
                .execute().getEntry()).isEmpty();
    }

    @Test
    void generalChatWithoutPatient_needsNoConsent() {
        WebSession web = signIn(a.organizationId());
        web.get("/neu?q=" + URLEncoder.encode("Hausarztpraxis Web", StandardCharsets.UTF_8));
        HttpResponse<String> started = web.postMultipartRepeated("/neu",
                Map.of("patient", "allgemein", "text", "Wie erreichen wir Sie am Wochenende?", "aktion", "starten"),
                "partner", List.of(b.organizationId()), Map.of());
        assertThat(started.statusCode()).as(started.body()).isEqualTo(302);
        String conversationId = WebSession.find(WebSession.location(started), "/chat/([^/?]+)$");
        Communication received = client(b.token()).read().resource(Communication.class).withId(conversationId).execute();
        assertThat(received.hasSubject()).isFalse();
        assertThat(received.getCategoryFirstRep().getCodingFirstRep().getCode()).isEqualTo("networking");
    }

    @Test
    void consentScanOfADisallowedType_isRefusedInGerman_andNothingIsStored() {
        WebSession web = signIn(a.organizationId());
        String patientId = createPatient(web, Conversations.kvnr());
        long before = binariesOf(a.organizationId());
        HttpResponse<String> refused = uploadConsent(web, patientId,
                new WebSession.FilePart("einwilligung.txt", "text/plain", "unterschrieben".getBytes(StandardCharsets.UTF_8)),
                b.organizationId());
        assertThat(refused.statusCode()).isEqualTo(200);
        assertThat(refused.body()).contains("class=\"fehler\"").contains("PDF-, JPEG- oder PNG-Datei");
        // a PDF label on bytes that are not a PDF is refused too
        HttpResponse<String> disguised = uploadConsent(web, patientId,
                new WebSession.FilePart("einwilligung.pdf", "application/pdf", "kein pdf".getBytes(StandardCharsets.UTF_8)),
                b.organizationId());
        assertThat(disguised.body()).contains("class=\"fehler\"");
        assertThat(binariesOf(a.organizationId())).isEqualTo(before);
        Patient looked = client(a.token()).read().resource(Patient.class).withId(patientId).execute();
        assertThat(looked.getExtensionByUrl(Systems.EXT_CONSENT_STATUS).getExtensionByUrl("status").getValue().primitiveValue())
                .isEqualTo("none");
    }

    @Test
    void anotherOrganisationsPatientId_isNotFoundOnEveryPage_andNothingIsShown() {
        String kvnr = Conversations.kvnr();
        String patientId = Conversations.createPatient(client(a.token()), Conversations.patient(FAMILY, GIVEN, kvnr));
        Conversations.uploadConsent(client(a.token()), patientId, a.organizationId(), b.organizationId());
        String stranger = Participants.registerNew(this, "Fremde Praxis").organizationId();
        WebSession web = signIn(stranger);
        for (String path : List.of("/patienten/" + patientId, "/patienten/" + patientId + "/einwilligung",
                "/neu?patient=" + patientId)) {
            HttpResponse<String> page = web.get(path);
            assertThat(page.statusCode()).as(path).isEqualTo(404);
            assertThat(page.body()).as(path).doesNotContain(FAMILY).doesNotContain(kvnr);
        }
        for (String path : List.of("/patienten/" + patientId + "/einwilligungsvorlage",
                "/patienten/" + patientId + "/einwilligung/dokument")) {
            HttpResponse<byte[]> download = web.getBytes(path);
            assertThat(download.statusCode()).as(path).isEqualTo(404);
            assertThat(new String(download.body(), StandardCharsets.ISO_8859_1)).doesNotContain("%PDF").doesNotContain(FAMILY);
        }
        web.get("/patienten");
        assertThat(web.post("/patienten/" + patientId + "/widerruf", Map.of("grund", "x")).statusCode()).isEqualTo(404);
        assertThat(uploadConsent(web, patientId, pdf(), stranger).statusCode()).isEqualTo(404);
        web.get("/patienten");
        assertThat(web.post("/patienten", Map.of("kvnr", kvnr)).body()).doesNotContain(patientId).doesNotContain(FAMILY);
        Patient still = client(a.token()).read().resource(Patient.class).withId(patientId).execute();
        assertThat(still.getExtensionByUrl(Systems.EXT_CONSENT_STATUS).getExtensionByUrl("status").getValue().primitiveValue())
                .isEqualTo("active");
    }

    @Test
    void formsWithoutCsrfToken_areRefused_andPagesNeedSignIn() {
        WebSession web = signIn(a.organizationId());
        String patientId = Conversations.createPatient(client(a.token()), Conversations.patient(FAMILY, GIVEN, Conversations.kvnr()));
        Conversations.uploadConsent(client(a.token()), patientId, a.organizationId(), b.organizationId());
        web.get("/patienten/neu");
        assertThat(web.postWithoutCsrf("/patienten/neu", Map.of("kvnr", Conversations.kvnr(), "vorname", GIVEN,
                "nachname", FAMILY, "geburtsdatum", "1941-03-17", "geschlecht", "female")).statusCode()).isEqualTo(403);
        assertThat(web.postWithoutCsrf("/patienten/" + patientId + "/widerruf", Map.of("grund", "")).statusCode()).isEqualTo(403);
        assertThat(web.postWithoutCsrf("/neu", Map.of("patient", "allgemein", "partner", b.organizationId(), "text", "x",
                "aktion", "starten")).statusCode()).isEqualTo(403);
        Patient still = client(a.token()).read().resource(Patient.class).withId(patientId).execute();
        assertThat(still.getExtensionByUrl(Systems.EXT_CONSENT_STATUS).getExtensionByUrl("status").getValue().primitiveValue())
                .isEqualTo("active");

        for (String path : List.of("/neu", "/patienten", "/patienten/neu", "/patienten/" + patientId)) {
            HttpResponse<String> anonymous = new WebSession(webUrl()).get(path);
            assertThat(anonymous.statusCode()).as(path).isEqualTo(302);
            assertThat(WebSession.location(anonymous)).as(path).endsWith("/anmelden");
        }
    }

    private long binariesOf(String organizationId) {
        return jdbc.sql("select count(*) from binary_content where uploaded_by = ?").param(organizationId).query(Long.class).single();
    }
}
