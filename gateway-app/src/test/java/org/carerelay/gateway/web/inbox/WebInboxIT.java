package org.carerelay.gateway.web.inbox;

import static org.assertj.core.api.Assertions.assertThat;

import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.time.Duration;
import java.util.List;
import java.util.Map;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import org.carerelay.gateway.Conversations;
import org.carerelay.gateway.GatewayIntegrationTest;
import org.carerelay.gateway.Participants;
import org.carerelay.gateway.audit.AuditService;
import org.carerelay.gateway.web.WebAccounts;
import org.carerelay.gateway.web.WebSession;
import org.carerelay.gateway.web.WebUsers;
import org.hl7.fhir.r4.model.Attachment;
import org.hl7.fhir.r4.model.Bundle;
import org.hl7.fhir.r4.model.Communication;
import org.hl7.fhir.r4.model.Consent;
import org.hl7.fhir.r4.model.Organization;
import org.hl7.fhir.r4.model.Parameters;
import org.junit.jupiter.api.Test;
import org.springframework.beans.factory.annotation.Autowired;
import org.springframework.jdbc.core.simple.JdbcClient;

/**
 * The Posteingang, the conversation view, replies and attachment downloads of the web inbox, with
 * two organisations that exchange messages through the FHIR API and look at them in the browser.
 */
class WebInboxIT extends GatewayIntegrationTest {

    @Autowired
    WebUsers users;

    @Autowired
    JdbcClient jdbc;

    /** Two organisations, a patient with a consent naming both, and one message from A to B. */
    private record Scene(Participants.Registered a, Participants.Registered b, String nameA, String nameB,
            String patientId, String consentId, String family, String conversationId, String text) {
    }

    private Scene scene() {
        Participants.Registered a = Participants.registerNew(this, "Pflegedienst Inbox");
        Participants.Registered b = Participants.registerNew(this, "Hausarztpraxis Inbox");
        String family = unique("Inboxpatientin");
        String patientId = Conversations.createPatient(client(a.token()), Conversations.patient(family, "Erna", Conversations.kvnr()));
        String consentId = Conversations.uploadConsent(client(a.token()), patientId, a.organizationId(), b.organizationId());
        String text = "Blutzucker heute " + unique("Wert");
        String conversationId = Conversations.send(client(a.token()),
                Conversations.message(patientId, text, b.organizationId()));
        return new Scene(a, b, nameOf(a), nameOf(b), patientId, consentId, family, conversationId, text);
    }

    private String nameOf(Participants.Registered org) {
        return admin().read().resource(Organization.class).withId(org.organizationId()).execute().getName();
    }

    private WebSession signIn(Participants.Registered org, String person) {
        return WebSession.signIn(webUrl(), WebAccounts.newUser(users, org.organizationId(), person, false));
    }

    private static String item(String html, String conversationId) {
        Matcher m = Pattern.compile("<li[^>]*data-konversation=\"" + conversationId + "\"[^>]*>(?s:.*?)</li>").matcher(html);
        if (!m.find()) {
            throw new AssertionError("conversation " + conversationId + " not listed");
        }
        return m.group();
    }

    private static int unreadCount(String html) {
        return Integer.parseInt(WebSession.find(html, "id=\"ungelesen-anzahl\"[^>]*>(\\d+)<"));
    }

    @Test
    void partnerSeesTheNewConversationBoldWithPatientAndUnreadCount_senderSeesItRead() {
        Scene s = scene();
        WebSession b = signIn(s.b(), "Bettina Empfang");
        HttpResponse<String> inboxB = b.get("/posteingang");
        assertThat(inboxB.statusCode()).isEqualTo(200);
        String itemB = item(inboxB.body(), s.conversationId());
        assertThat(itemB).contains("konversation ungelesen").contains(s.family()).contains("17.03.1941").contains(s.nameA())
                .contains("href=\"/chat/" + s.conversationId() + "\"");
        assertThat(unreadCount(inboxB.body())).isEqualTo(1);
        assertThat(inboxB.body()).doesNotContain(s.text());

        WebSession a = signIn(s.a(), "Anna Absender");
        String inboxA = a.get("/posteingang").body();
        assertThat(item(inboxA, s.conversationId())).doesNotContain("ungelesen").contains(s.nameB()).contains(s.family());
        assertThat(unreadCount(inboxA)).isZero();
    }

    @Test
    void openingTheConversation_showsMessagesConsentOnTopAndDelivery_andMarksThemRead() {
        Scene s = scene();
        WebSession b = signIn(s.b(), "Bettina Empfang");
        HttpResponse<String> chat = b.get("/chat/" + s.conversationId());
        assertThat(chat.statusCode()).isEqualTo(200);
        String html = chat.body();
        assertThat(html).contains(s.text()).contains("data-nachricht=\"" + s.conversationId() + "\"").contains(s.nameA());
        assertThat(html.indexOf("id=\"einwilligung\"")).isPositive().isLessThan(html.indexOf("class=\"nachricht"));
        assertThat(WebSession.find(html, "class=\"einwilligung-status[^\"]*\">([^<]+)<")).isEqualTo("erteilt");
        assertThat(WebSession.find(html, "id=\"einwilligung-dokument\"\\s+href=\"([^\"]+)\""))
                .isEqualTo("/patienten/" + s.patientId() + "/einwilligung/dokument");
        assertThat(html).contains("class=\"einwilligung-partner\"");

        String after = b.get("/posteingang").body();
        assertThat(item(after, s.conversationId())).doesNotContain("ungelesen");
        assertThat(unreadCount(after)).isZero();
        Bundle unread = client(s.b().token()).search().byUrl("Communication?unread=true&part-of=Communication/" + s.conversationId())
                .returnBundle(Bundle.class).execute();
        assertThat(unread.getEntry()).isEmpty();

        String senderView = signIn(s.a(), "Anna Absender").get("/chat/" + s.conversationId()).body();
        assertThat(senderView).contains("class=\"zustellung\"").contains(s.nameB());
    }

    @Test
    void filtersByPartnerPatientAndUnread_showOnlyMatchingConversations() {
        Scene s = scene();
        Participants.Registered c = Participants.registerNew(this, "Sanitaetshaus Inbox");
        String general = Conversations.send(client(c.token()), Conversations.message(null, "Allgemeine Frage", s.b().organizationId()));
        WebSession b = signIn(s.b(), "Bettina Filter");

        String all = b.get("/posteingang").body();
        assertThat(all).contains("data-konversation=\"" + s.conversationId() + "\"").contains("data-konversation=\"" + general + "\"");
        assertThat(item(all, general)).contains("Allgemein");
        assertThat(unreadCount(all)).isEqualTo(2);

        String byPartner = b.get("/posteingang?partner=" + c.organizationId()).body();
        assertThat(byPartner).contains("data-konversation=\"" + general + "\"").doesNotContain("data-konversation=\"" + s.conversationId() + "\"");
        String byPatient = b.get("/posteingang?patient=" + s.patientId()).body();
        assertThat(byPatient).contains("data-konversation=\"" + s.conversationId() + "\"").doesNotContain("data-konversation=\"" + general + "\"");

        b.get("/chat/" + general);
        String unreadOnly = b.get("/posteingang?ungelesen=1").body();
        assertThat(unreadOnly).contains("data-konversation=\"" + s.conversationId() + "\"").doesNotContain("data-konversation=\"" + general + "\"");

        String nothing = b.get("/posteingang?partner=" + c.organizationId() + "&ungelesen=1").body();
        assertThat(nothing).contains("id=\"keine-konversationen\"");
    }

    @Test
    void replyWithAPdf_arrivesForThePartnerThroughTheApi_withTheSameBytes_andDownloadsInTheBrowser() throws Exception {
        Scene s = scene();
        WebSession b = signIn(s.b(), "Bettina Antwort");
        b.get("/chat/" + s.conversationId());
        byte[] pdf = Conversations.signedScan();
        HttpResponse<String> sent = b.postMultipart("/chat/" + s.conversationId() + "/antwort", Map.of("text", "Befund anbei"),
                Map.of("anhaenge", new WebSession.FilePart("Befund März.pdf", "application/pdf", pdf)));
        assertThat(sent.statusCode()).isEqualTo(302);
        assertThat(WebSession.location(sent)).endsWith("/chat/" + s.conversationId());
        assertThat(b.get("/chat/" + s.conversationId()).body()).contains("Ihre Antwort wurde gesendet").contains("Befund anbei");

        Bundle thread = client(s.a().token()).search().byUrl("Communication?part-of=Communication/" + s.conversationId())
                .returnBundle(Bundle.class).execute();
        assertThat(thread.getEntry()).hasSize(2);
        Communication reply = thread.getEntry().stream().map(e -> (Communication) e.getResource())
                .filter(m -> !m.getIdElement().getIdPart().equals(s.conversationId())).findFirst().orElseThrow();
        assertThat(reply.getSender().getReference()).isEqualTo("Organization/" + s.b().organizationId());
        assertThat(reply.getRecipientFirstRep().getReference()).isEqualTo("Organization/" + s.a().organizationId());
        assertThat(reply.getInResponseToFirstRep().getReference()).isEqualTo("Communication/" + s.conversationId());
        assertThat(reply.getSubject().getReference()).isEqualTo("Patient/" + s.patientId());
        Attachment attachment = reply.getPayload().stream().filter(p -> p.hasContentAttachment()).findFirst().orElseThrow()
                .getContentAttachment();
        String binaryId = attachment.getUrl().replace("Binary/", "");
        HttpResponse<byte[]> viaApi = HttpClient.newHttpClient().send(HttpRequest.newBuilder(
                        URI.create(webUrl() + "/fhir/Binary/" + binaryId)).header("Authorization", "Bearer " + s.a().token())
                .timeout(Duration.ofSeconds(30)).build(), HttpResponse.BodyHandlers.ofByteArray());
        assertThat(viaApi.statusCode()).isEqualTo(200);
        assertThat(viaApi.body()).isEqualTo(pdf);

        WebSession a = signIn(s.a(), "Anna Download");
        String inboxA = a.get("/posteingang").body();
        assertThat(item(inboxA, s.conversationId())).contains("ungelesen");
        String chatA = a.get("/chat/" + s.conversationId()).body();
        assertThat(chatA).contains("class=\"anhang\"").contains("/chat/" + s.conversationId() + "/anhang/" + binaryId);
        HttpResponse<byte[]> download = a.getBytes("/chat/" + s.conversationId() + "/anhang/" + binaryId);
        assertThat(download.statusCode()).isEqualTo(200);
        assertThat(download.body()).isEqualTo(pdf);
        assertThat(download.headers().firstValue("Content-Type").orElse("")).startsWith("application/pdf");
        assertThat(download.headers().firstValue("Content-Disposition").orElse(""))
                .startsWith("attachment").contains("Befund").doesNotContain("/").doesNotContain("\\");
        assertThat(jdbc.sql("select count(*) from audit_event where subtype_code = 'attachment-read' and entity_what = ?"
                + " and outcome = '0' and content::text like ?").params("Binary/" + binaryId, "%" + AuditService.WEB_USER_SYSTEM + "%")
                .query(Integer.class).single()).as("the download, audited naming the person").isEqualTo(1);
    }

    @Test
    void exeOrTooLargeAttachment_isRefusedInGerman_andNothingIsStored() {
        Scene s = scene();
        WebSession b = signIn(s.b(), "Bettina Upload");
        b.get("/chat/" + s.conversationId());
        int binariesBefore = binaries(s.b());
        HttpResponse<String> exe = b.postMultipart("/chat/" + s.conversationId() + "/antwort", Map.of("text", "Programm"),
                Map.of("anhaenge", new WebSession.FilePart("setup.exe", "application/x-msdownload", new byte[] {'M', 'Z', 0, 0})));
        assertThat(exe.statusCode()).isEqualTo(422);
        String page = exe.body();
        assertThat(page).contains("class=\"fehler\"").contains("Dieser Dateityp ist nicht erlaubt").doesNotContain("Exception")
                .contains("Programm");

        byte[] large = new byte[600 * 1024];
        byte[] head = "%PDF-1.4\n".getBytes(java.nio.charset.StandardCharsets.US_ASCII);
        System.arraycopy(head, 0, large, 0, head.length);
        HttpResponse<String> tooLarge = b.postMultipart("/chat/" + s.conversationId() + "/antwort", Map.of("text", "Groß"),
                Map.of("anhaenge", new WebSession.FilePart("gross.pdf", "application/pdf", large)));
        assertThat(tooLarge.statusCode()).isEqualTo(422);
        assertThat(tooLarge.body()).contains("Die Datei ist zu groß");

        assertThat(binaries(s.b())).isEqualTo(binariesBefore);
        assertThat(messagesIn(s.conversationId())).isEqualTo(1);
    }

    @Test
    void anotherOrganisationsConversationOrAttachment_is404AndShowsNothing() {
        Scene s = scene();
        WebSession b = signIn(s.b(), "Bettina Anhang");
        b.get("/chat/" + s.conversationId());
        b.postMultipart("/chat/" + s.conversationId() + "/antwort", Map.of("text", "Anbei"),
                Map.of("anhaenge", new WebSession.FilePart("befund.pdf", "application/pdf", Conversations.signedScan())));
        String binaryId = jdbc.sql("select ma.binary_id from message_attachment ma join message m on m.id = ma.message_id"
                + " where m.conversation_id = ?").param(s.conversationId()).query(String.class).single();

        Participants.Registered stranger = Participants.registerNew(this, "Fremde Praxis");
        String own = Conversations.send(client(stranger.token()), Conversations.message(null, "Eigene Frage", s.a().organizationId()));
        WebSession x = signIn(stranger, "Xaver Fremd");
        for (String path : List.of("/chat/" + s.conversationId(), "/chat/" + s.conversationId() + "/anhang/" + binaryId,
                "/chat/" + own + "/anhang/" + binaryId, "/chat/" + s.conversationId() + "-x", "/posteingang?patient=" + s.patientId())) {
            HttpResponse<String> r = x.get(path);
            if (!path.startsWith("/posteingang")) {
                assertThat(r.statusCode()).as(path).isEqualTo(404);
            }
            assertThat(r.body()).as(path).doesNotContain(s.family()).doesNotContain(s.text()).doesNotContain("%PDF")
                    .doesNotContain("data-konversation=\"" + s.conversationId());
        }
        x.get("/chat/" + own);
        HttpResponse<String> reply = x.postMultipart("/chat/" + s.conversationId() + "/antwort", Map.of("text", "Hallo"), Map.of());
        assertThat(reply.statusCode()).isEqualTo(404);
        assertThat(messagesIn(s.conversationId())).isEqualTo(2);
        assertThat(jdbc.sql("select count(*) from audit_event where subtype_code = 'message-read' and outcome = '4'"
                + " and entity_what = ? and agent_who = ?").params("Communication/" + s.conversationId(),
                "Organization/" + stranger.organizationId()).query(Integer.class).single()).isPositive();
    }

    @Test
    void replyWithoutCsrfToken_isForbidden_andNotSignedIn_goesToLogin() {
        Scene s = scene();
        WebSession b = signIn(s.b(), "Bettina Csrf");
        b.get("/chat/" + s.conversationId());
        HttpResponse<String> forged = b.postMultipart("/chat/" + s.conversationId() + "/antwort",
                Map.of("text", "Gefälscht", "_csrf", ""), Map.of());
        assertThat(forged.statusCode()).isEqualTo(403);
        assertThat(messagesIn(s.conversationId())).isEqualTo(1);

        HttpResponse<String> anonymous = new WebSession(webUrl()).get("/chat/" + s.conversationId());
        assertThat(anonymous.statusCode()).isEqualTo(302);
        assertThat(WebSession.location(anonymous)).endsWith("/anmelden");
    }

    @Test
    void afterRevocation_historyIsMasked_noticeShown_andAReplyIsRefusedInGerman() {
        Scene s = scene();
        client(s.a().token()).operation().onInstance("Consent/" + s.consentId()).named("$revoke")
                .withNoParameters(Parameters.class).returnResourceType(Consent.class).execute();
        WebSession b = signIn(s.b(), "Bettina Widerruf");
        String inbox = b.get("/posteingang").body();
        assertThat(item(inbox, s.conversationId())).contains("Einwilligung widerrufen");
        String chat = b.get("/chat/" + s.conversationId()).body();
        assertThat(WebSession.find(chat, "class=\"einwilligung-status[^\"]*\">([^<]+)<")).isEqualTo("widerrufen");
        assertThat(chat).contains("nachricht maskiert").doesNotContain(s.text());

        int binariesBefore = binaries(s.b());
        HttpResponse<String> reply = b.postMultipart("/chat/" + s.conversationId() + "/antwort", Map.of("text", "Noch eine Frage"),
                Map.of("anhaenge", new WebSession.FilePart("befund.pdf", "application/pdf", Conversations.signedScan())));
        assertThat(reply.statusCode()).isEqualTo(422);
        assertThat(reply.body()).contains("Einwilligung der Patientin bzw. des Patienten wurde widerrufen");
        assertThat(messagesIn(s.conversationId())).isEqualTo(1);
        assertThat(binaries(s.b())).isEqualTo(binariesBefore);
    }

    private int binaries(Participants.Registered org) {
        return jdbc.sql("select count(*) from binary_content where uploaded_by = ?").param(org.organizationId())
                .query(Integer.class).single();
    }

    private int messagesIn(String conversationId) {
        return jdbc.sql("select count(*) from message where conversation_id = ?").param(conversationId).query(Integer.class).single();
    }
}
