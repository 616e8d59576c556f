package org.carerelay.gateway.web;

import static org.assertj.core.api.Assertions.assertThat;

import java.net.http.HttpResponse;
import java.time.Instant;
import java.util.Map;
import org.apache.commons.codec.binary.Base32;
import org.carerelay.gateway.GatewayIntegrationTest;
import org.carerelay.gateway.Participants;
import org.junit.jupiter.api.Test;
import org.springframework.beans.factory.annotation.Autowired;

/** Signing in to the web inbox: password, then a mandatory second factor; deny by default. */
class WebLoginIT extends GatewayIntegrationTest {

    @Autowired
    WebUsers users;

    private WebAccounts.Login person() {
        String org = Participants.registerNew(this, "Web Login").organizationId();
        return WebAccounts.newUser(users, org, "Erika Muster", false);
    }

    @Test
    void strangerOpeningTheInbox_isSentToTheLoginPage() {
        HttpResponse<String> inbox = new WebSession(webUrl()).get("/posteingang");
        assertThat(inbox.statusCode()).isEqualTo(302);
        assertThat(WebSession.location(inbox)).endsWith("/anmelden");
        HttpResponse<String> root = new WebSession(webUrl()).get("/");
        assertThat(root.statusCode()).isEqualTo(302);
    }

    @Test
    void passwordAlone_opensNothingButTheSecondFactor() {
        WebAccounts.Login login = person();
        WebSession session = new WebSession(webUrl());
        session.get("/anmelden");
        HttpResponse<String> password = session.post("/anmelden", Map.of("email", login.email(), "passwort", login.password()));
        assertThat(WebSession.location(password)).endsWith(SecondFactorController.VERIFY);
        HttpResponse<String> inbox = session.get("/posteingang");
        assertThat(inbox.statusCode()).isEqualTo(302);
        assertThat(WebSession.location(inbox)).endsWith(SecondFactorController.VERIFY);
        assertThat(inbox.body()).doesNotContain("Posteingang");
    }

    @Test
    void passwordAndCode_openTheInbox_underANewSessionId() {
        WebAccounts.Login login = person();
        WebSession session = new WebSession(webUrl());
        session.get("/anmelden");
        String before = session.sessionId().orElseThrow();
        session.post("/anmelden", Map.of("email", login.email(), "passwort", login.password()));
        String afterPassword = session.sessionId().orElseThrow();
        session.get(SecondFactorController.VERIFY);
        HttpResponse<String> code = session.post(SecondFactorController.VERIFY, Map.of("code", WebSession.nextCode(login.totpSecret())));
        assertThat(WebSession.location(code)).endsWith("/posteingang");
        assertThat(session.sessionId().orElseThrow()).isNotEqualTo(before).isNotEqualTo(afterPassword);
        HttpResponse<String> inbox = session.get("/posteingang");
        assertThat(inbox.statusCode()).isEqualTo(200);
        assertThat(inbox.body()).contains("Posteingang").contains("Erika Muster");
    }

    @Test
    void aCodeUsedOnce_isRefusedTheSecondTime() {
        WebAccounts.Login login = person();
        String code = WebSession.nextCode(login.totpSecret());
        WebSession first = new WebSession(webUrl());
        first.get("/anmelden");
        first.post("/anmelden", Map.of("email", login.email(), "passwort", login.password()));
        first.get(SecondFactorController.VERIFY);
        assertThat(WebSession.location(first.post(SecondFactorController.VERIFY, Map.of("code", code)))).endsWith("/posteingang");

        WebSession replay = new WebSession(webUrl());
        replay.get("/anmelden");
        replay.post("/anmelden", Map.of("email", login.email(), "passwort", login.password()));
        replay.get(SecondFactorController.VERIFY);
        HttpResponse<String> refused = replay.post(SecondFactorController.VERIFY, Map.of("code", code));
        assertThat(refused.statusCode()).isEqualTo(200);
        assertThat(refused.body()).contains("Der Code stimmt nicht");
        assertThat(replay.get("/posteingang").statusCode()).isEqualTo(302);
    }

    @Test
    void fiveWrongPasswords_lockTheAccount_evenForTheRightOne() {
        WebAccounts.Login login = person();
        for (int i = 0; i < WebUsers.MAX_FAILURES; i++) {
            WebSession s = new WebSession(webUrl());
            s.get("/anmelden");
            assertThat(WebSession.location(s.post("/anmelden", Map.of("email", login.email(), "passwort", "falsch" + i))))
                    .endsWith("/anmelden?fehler");
        }
        WebSession session = new WebSession(webUrl());
        session.get("/anmelden");
        HttpResponse<String> right = session.post("/anmelden", Map.of("email", login.email(), "passwort", login.password()));
        assertThat(WebSession.location(right)).endsWith("/anmelden?fehler");
        assertThat(users.find(login.userId()).orElseThrow().lockedUntil()).isAfter(Instant.now());
    }

    @Test
    void loginFormWithoutCsrfToken_isRefused() {
        WebAccounts.Login login = person();
        WebSession session = new WebSession(webUrl());
        session.get("/anmelden");
        HttpResponse<String> forged = session.postWithoutCsrf("/anmelden", Map.of("email", login.email(), "passwort", login.password()));
        assertThat(forged.statusCode()).isEqualTo(403);
    }

    @Test
    void firstSignIn_setsUpTheAuthenticator_beforeTheInboxOpens() {
        String org = Participants.registerNew(this, "Web Setup").organizationId();
        WebAccounts.Login login = WebAccounts.newUserWithoutSecondFactor(users, org, "Neu Person");
        WebSession session = new WebSession(webUrl());
        session.get("/anmelden");
        HttpResponse<String> password = session.post("/anmelden", Map.of("email", login.email(), "passwort", login.password()));
        assertThat(WebSession.location(password)).endsWith(SecondFactorController.SETUP);
        assertThat(session.get("/posteingang").statusCode()).isEqualTo(302);
        HttpResponse<String> setup = session.get(SecondFactorController.SETUP);
        String secret = WebSession.find(setup.body(), "id=\"totp-secret\">([A-Z2-7]+)<");
        byte[] raw = new Base32().decode(secret);
        HttpResponse<String> done = session.post(SecondFactorController.SETUP, Map.of("code", WebSession.nextCode(raw)));
        assertThat(WebSession.location(done)).endsWith("/posteingang");
        assertThat(session.get("/posteingang").statusCode()).isEqualTo(200);
        assertThat(users.find(login.userId()).orElseThrow().totpEnabled()).isTrue();
    }

    @Test
    void pages_carryTheSecurityHeaders_andTheApiIsUntouched() {
        HttpResponse<String> login = new WebSession(webUrl()).get("/anmelden");
        assertThat(login.statusCode()).isEqualTo(200);
        assertThat(login.headers().firstValue("Content-Security-Policy").orElse(""))
                .contains("script-src 'self'").contains("frame-ancestors 'none'").doesNotContain("unsafe-inline");
        assertThat(login.headers().firstValue("X-Frame-Options")).contains("DENY");
        assertThat(login.headers().firstValue("X-Content-Type-Options")).contains("nosniff");
        assertThat(login.headers().firstValue("Referrer-Policy")).contains("same-origin");
        HttpResponse<String> metadata = new WebSession(webUrl()).get("/fhir/metadata");
        assertThat(metadata.statusCode()).isEqualTo(200);
        assertThat(metadata.headers().firstValue("Set-Cookie")).isEmpty();
    }

    @Test
    void sessionsOpenedBeforeTheLock_cannotGoOnGuessingCodes_notEvenTheRightOne() {
        WebAccounts.Login login = person();
        WebSession guesser = passwordStep(login);
        WebSession spare = passwordStep(login);
        for (int i = 0; i < WebUsers.MAX_FAILURES; i++) {
            guesser.post(SecondFactorController.VERIFY, Map.of("code", "000000"));
        }
        assertThat(users.find(login.userId()).orElseThrow().lockedUntil()).isAfter(Instant.now());
        HttpResponse<String> right = spare.post(SecondFactorController.VERIFY, Map.of("code", WebSession.nextCode(login.totpSecret())));
        assertThat(WebSession.location(right)).endsWith("/anmelden?fehler");
        assertThat(spare.get("/posteingang").statusCode()).isEqualTo(302);
        assertThat(users.find(login.userId()).orElseThrow().lockedUntil()).isAfter(Instant.now());
    }

    private WebSession passwordStep(WebAccounts.Login login) {
        WebSession session = new WebSession(webUrl());
        session.get("/anmelden");
        session.post("/anmelden", Map.of("email", login.email(), "passwort", login.password()));
        session.get(SecondFactorController.VERIFY);
        return session;
    }
}
