package org.carerelay.gateway.web.account;

import static org.assertj.core.api.Assertions.assertThat;
import static org.awaitility.Awaitility.await;

import jakarta.mail.internet.MimeMessage;
import java.net.http.HttpResponse;
import java.time.Duration;
import java.util.List;
import java.util.Map;
import org.carerelay.gateway.GatewayIntegrationTest;
import org.carerelay.gateway.Participants;
import org.carerelay.gateway.web.SecondFactorController;
import org.carerelay.gateway.web.WebAccounts;
import org.carerelay.gateway.web.WebSession;
import org.carerelay.gateway.web.WebUsers;
import org.junit.jupiter.api.Test;
import org.springframework.beans.factory.annotation.Autowired;
import org.springframework.jdbc.core.simple.JdbcClient;

/** Managers invite colleagues, deactivate accounts and reset second factors, in their own organisation only. */
class UserManagementIT extends GatewayIntegrationTest {

    static final String PASSWORD = "Kollegen-Passwort-2026";

    @Autowired
    WebUsers users;
    @Autowired
    JdbcClient jdbc;

    private WebAccounts.Login manager(String prefix) {
        String org = Participants.registerNew(this, prefix).organizationId();
        return WebAccounts.newUser(users, org, "Maria Manager", true);
    }

    /** Invites {@code email} from the page and returns the path of the link in the mail. */
    private String invite(WebSession session, String name, String email) {
        session.get("/einstellungen/benutzer");
        HttpResponse<String> sent = session.post("/einstellungen/benutzer/einladen", Map.of("name", name, "email", email));
        assertThat(WebSession.location(sent)).endsWith("/einstellungen/benutzer");
        await().atMost(Duration.ofSeconds(30)).until(() -> !mailsTo(email).isEmpty());
        List<MimeMessage> mails = mailsTo(email);
        String text = Participants.allText(mails.get(mails.size() - 1));
        return WebSession.find(text, "https?://[^/\\s]+(/einladung/[A-Za-z0-9_-]+)");
    }

    private String newEmail() {
        return unique("kollegin").toLowerCase() + "@kollegen.example.org";
    }

    @Test
    void invitedColleague_setsAPassword_andSignsInWithANewAuthenticator() {
        WebAccounts.Login manager = manager("Heim Einladung");
        WebSession session = WebSession.signIn(webUrl(), manager);
        String email = newEmail();
        String link = invite(session, "Klara Kollegin", email);

        WebSession colleague = new WebSession(webUrl());
        HttpResponse<String> page = colleague.get(link);
        assertThat(page.statusCode()).isEqualTo(200);
        assertThat(page.body()).contains("value=\"Klara Kollegin\"").contains(email);
        HttpResponse<String> accepted = colleague.post(link, Map.of("name", "Klara Kollegin", "passwort", PASSWORD,
                "passwort2", PASSWORD));
        assertThat(WebSession.location(accepted)).endsWith("/anmelden?registriert");
        WebUsers.Account account = users.ofOrganization(manager.organizationId()).stream()
                .filter(a -> a.email().equals(email)).findFirst().orElseThrow();
        assertThat(account.manager()).isFalse();

        colleague.get("/anmelden");
        HttpResponse<String> login = colleague.post("/anmelden", Map.of("email", email, "passwort", PASSWORD));
        assertThat(WebSession.location(login)).endsWith(SecondFactorController.SETUP);
        // the manager's list shows the new account
        assertThat(session.get("/einstellungen/benutzer").body()).contains("data-user=\"" + account.id() + "\"");
    }

    @Test
    void usedInvitationLink_doesNotWorkASecondTime() {
        WebAccounts.Login manager = manager("Heim Zweimal");
        WebSession session = WebSession.signIn(webUrl(), manager);
        String link = invite(session, "Karl Kollege", newEmail());
        WebSession first = new WebSession(webUrl());
        first.get(link);
        assertThat(WebSession.location(first.post(link, Map.of("name", "Karl", "passwort", PASSWORD, "passwort2", PASSWORD))))
                .endsWith("/anmelden?registriert");
        WebSession second = new WebSession(webUrl());
        HttpResponse<String> again = second.get(link);
        assertThat(again.statusCode()).isEqualTo(410);
        assertThat(again.body()).contains("abgelaufen oder wurde schon verwendet").doesNotContain("name=\"passwort\"");
        second.get("/anmelden"); // a CSRF token of this session: the refusal must come from the used link
        HttpResponse<String> replay = second.post(link, Map.of("name", "Mallory", "passwort", PASSWORD + "!",
                "passwort2", PASSWORD + "!"));
        assertThat(replay.statusCode()).isEqualTo(410);
        assertThat(users.ofOrganization(manager.organizationId())).hasSize(2);
    }

    @Test
    void expiredInvitationLink_isRefused() {
        WebAccounts.Login manager = manager("Heim Abgelaufen");
        WebSession session = WebSession.signIn(webUrl(), manager);
        String email = newEmail();
        String link = invite(session, "Erna Abgelaufen", email);
        jdbc.sql("update web_invitation set expires_at = now() - interval '1 minute' where email = ?").param(email).update();
        WebSession colleague = new WebSession(webUrl());
        assertThat(colleague.get(link).statusCode()).isEqualTo(410);
        colleague.get("/anmelden"); // a CSRF token of this session: the refusal must come from the expired link
        HttpResponse<String> late = colleague.post(link, Map.of("name", "Erna", "passwort", PASSWORD, "passwort2", PASSWORD));
        assertThat(late.statusCode()).isEqualTo(410);
        assertThat(users.emailTaken(email)).isFalse();
    }

    @Test
    void invitationOfAManagerDeactivatedSince_isRefused() {
        WebAccounts.Login manager = manager("Heim Ehemalig");
        WebAccounts.Login leaving = WebAccounts.newUser(users, manager.organizationId(), "Lars Leaving", true);
        String email = newEmail();
        String link = invite(WebSession.signIn(webUrl(), leaving), "Lars Privat", email);
        WebSession session = WebSession.signIn(webUrl(), manager);
        session.get("/einstellungen/benutzer");
        session.post("/einstellungen/benutzer/" + leaving.userId() + "/deaktivieren", Map.of());
        assertThat(users.find(leaving.userId()).orElseThrow().active()).isFalse();

        WebSession colleague = new WebSession(webUrl());
        assertThat(colleague.get(link).statusCode()).isEqualTo(410);
        colleague.get("/anmelden");
        HttpResponse<String> late = colleague.post(link, Map.of("name", "Lars", "passwort", PASSWORD, "passwort2", PASSWORD));
        assertThat(late.statusCode()).isEqualTo(410);
        assertThat(users.emailTaken(email)).isFalse();
    }

    @Test
    void invitationNameWithALineBreakOrALink_isRefused() {
        WebSession session = WebSession.signIn(webUrl(), manager("Heim Spam"));
        session.get("/einstellungen/benutzer");
        String email = newEmail();
        HttpResponse<String> spam = session.post("/einstellungen/benutzer/einladen",
                Map.of("name", "Gewinn!\nKlicken Sie https://phish.example", "email", email));
        assertThat(spam.statusCode()).isEqualTo(302);
        assertThat(session.get("/einstellungen/benutzer").body()).contains("in einer Zeile und ohne Links");
        assertThat(mailsTo(email)).isEmpty();
    }

    @Test
    void invitationWithMismatchedPasswords_isRefused_andTheLinkStaysValid() {
        WebAccounts.Login manager = manager("Heim Tippfehler");
        WebSession session = WebSession.signIn(webUrl(), manager);
        String email = newEmail();
        String link = invite(session, "Tina Tippfehler", email);
        WebSession colleague = new WebSession(webUrl());
        colleague.get(link);
        HttpResponse<String> refused = colleague.post(link, Map.of("name", "Tina", "passwort", PASSWORD, "passwort2", "anders"));
        assertThat(refused.body()).contains("stimmen nicht überein");
        HttpResponse<String> tooShort = colleague.post(link, Map.of("name", "Tina", "passwort", "kurz", "passwort2", "kurz"));
        assertThat(tooShort.body()).contains("mindestens 12 Zeichen");
        assertThat(WebSession.location(colleague.post(link, Map.of("name", "Tina", "passwort", PASSWORD, "passwort2", PASSWORD))))
                .endsWith("/anmelden?registriert");
    }

    @Test
    void deactivatedColleague_isSignedOutAtTheNextRequest() {
        WebAccounts.Login manager = manager("Heim Deaktivieren");
        WebAccounts.Login colleague = WebAccounts.newUser(users, manager.organizationId(), "Dora Deaktiviert", false);
        WebSession colleagueSession = WebSession.signIn(webUrl(), colleague);
        assertThat(colleagueSession.get("/posteingang").statusCode()).isEqualTo(200);

        WebSession session = WebSession.signIn(webUrl(), manager);
        session.get("/einstellungen/benutzer");
        HttpResponse<String> done = session.post("/einstellungen/benutzer/" + colleague.userId() + "/deaktivieren", Map.of());
        assertThat(WebSession.location(done)).endsWith("/einstellungen/benutzer");
        assertThat(users.find(colleague.userId()).orElseThrow().active()).isFalse();

        HttpResponse<String> next = colleagueSession.get("/posteingang");
        assertThat(next.statusCode()).isEqualTo(302);
        assertThat(WebSession.location(next)).contains("/anmelden");
        assertThat(colleagueSession.get("/posteingang").statusCode()).isEqualTo(302);
    }

    @Test
    void lastActiveManager_cannotDeactivateThemself() {
        WebAccounts.Login manager = manager("Heim Letzte");
        WebSession session = WebSession.signIn(webUrl(), manager);
        session.get("/einstellungen/benutzer");
        HttpResponse<String> refused = session.post("/einstellungen/benutzer/" + manager.userId() + "/deaktivieren", Map.of());
        assertThat(WebSession.location(refused)).endsWith("/einstellungen/benutzer");
        assertThat(session.get("/einstellungen/benutzer").body()).contains("letzte aktive Konto");
        assertThat(users.find(manager.userId()).orElseThrow().active()).isTrue();
    }

    @Test
    void resetSecondFactor_makesThePersonSetUpANewAuthenticator() {
        WebAccounts.Login manager = manager("Heim Faktor");
        WebAccounts.Login colleague = WebAccounts.newUser(users, manager.organizationId(), "Fritz Faktor", false);
        WebSession session = WebSession.signIn(webUrl(), manager);
        session.get("/einstellungen/benutzer");
        session.post("/einstellungen/benutzer/" + colleague.userId() + "/faktor-zuruecksetzen", Map.of());
        assertThat(users.find(colleague.userId()).orElseThrow().totpEnabled()).isFalse();
        WebSession again = new WebSession(webUrl());
        again.get("/anmelden");
        HttpResponse<String> login = again.post("/anmelden", Map.of("email", colleague.email(), "passwort", colleague.password()));
        assertThat(WebSession.location(login)).endsWith(SecondFactorController.SETUP);
    }

    @Test
    void anotherOrganisationsUserId_isNotFound_andNothingChanges() {
        WebAccounts.Login manager = manager("Heim Angreifer");
        WebAccounts.Login victim = WebAccounts.newUser(users, manager("Heim Opfer").organizationId(), "Otto Opfer", false);
        WebSession session = WebSession.signIn(webUrl(), manager);
        HttpResponse<String> list = session.get("/einstellungen/benutzer");
        assertThat(list.body()).doesNotContain(victim.userId()).doesNotContain("Otto Opfer");
        HttpResponse<String> deactivate = session.post("/einstellungen/benutzer/" + victim.userId() + "/deaktivieren", Map.of());
        assertThat(deactivate.statusCode()).isEqualTo(404);
        HttpResponse<String> reset = session.post("/einstellungen/benutzer/" + victim.userId() + "/faktor-zuruecksetzen", Map.of());
        assertThat(reset.statusCode()).isEqualTo(404);
        WebUsers.Account untouched = users.find(victim.userId()).orElseThrow();
        assertThat(untouched.active()).isTrue();
        assertThat(untouched.totpEnabled()).isTrue();
    }

    @Test
    void nonManager_getsForbidden_onUserManagement() {
        WebAccounts.Login manager = manager("Heim Mitarbeit");
        WebAccounts.Login staff = WebAccounts.newUser(users, manager.organizationId(), "Susi Mitarbeit", false);
        WebSession session = WebSession.signIn(webUrl(), staff);
        assertThat(session.get("/einstellungen/benutzer").statusCode()).isEqualTo(403);
        session.get("/posteingang");
        assertThat(session.post("/einstellungen/benutzer/" + manager.userId() + "/deaktivieren", Map.of()).statusCode())
                .isEqualTo(403);
        assertThat(session.post("/einstellungen/benutzer/einladen", Map.of("name", "X", "email", newEmail())).statusCode())
                .isEqualTo(403);
        assertThat(users.find(manager.userId()).orElseThrow().active()).isTrue();
    }

    @Test
    void strangerAndForgedForms_getNothing() {
        WebAccounts.Login manager = manager("Heim Fremd");
        HttpResponse<String> stranger = new WebSession(webUrl()).get("/einstellungen/benutzer");
        assertThat(stranger.statusCode()).isEqualTo(302);
        assertThat(WebSession.location(stranger)).endsWith("/anmelden");
        WebSession session = WebSession.signIn(webUrl(), manager);
        session.get("/einstellungen/benutzer");
        HttpResponse<String> forged = session.postWithoutCsrf("/einstellungen/benutzer/einladen",
                Map.of("name", "X", "email", newEmail()));
        assertThat(forged.statusCode()).isEqualTo(403);
    }
}
