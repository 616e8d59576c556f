package org.carerelay.gateway.web.e2e;

import static org.assertj.core.api.Assertions.assertThat;

import org.apache.commons.codec.binary.Base32;
import org.carerelay.gateway.GatewayIntegrationTest;
import org.carerelay.gateway.Participants;
import org.carerelay.gateway.web.SecondFactorController;
import org.carerelay.gateway.web.WebAccounts;
import org.carerelay.gateway.web.WebSession;
import org.carerelay.gateway.web.WebUsers;
import org.junit.jupiter.api.Test;
import org.springframework.beans.factory.annotation.Autowired;

/** Signing in to the web inbox in a real (headless) Chromium: password, then the mandatory second factor. */
class BrowserSignInIT extends GatewayIntegrationTest {

    @Autowired
    WebUsers users;

    @Test
    void passwordAndTotpCode_openTheInbox_inChromium() {
        String org = Participants.registerNew(this, "Browser Anmeldung").organizationId();
        WebAccounts.Login login = WebAccounts.newUser(users, org, "Bruno Browser", false);
        try (Browser browser = Browser.start(webUrl())) {
            browser.open("/posteingang");
            assertThat(browser.path()).startsWith("/anmelden");
            assertThat(browser.find("h1").getText()).isEqualTo("Anmelden");
            browser.screenshot("anmelden");
            browser.screenshot("anmelden-tablet", Browser.TABLET);

            browser.type("email", login.email()).type("passwort", login.password()).click("#anmelden");
            assertThat(browser.path()).startsWith(SecondFactorController.VERIFY);
            assertThat(browser.has("#nav-posteingang")).as("navigation before the second factor").isFalse();
            browser.screenshot("zweiter-faktor");
            // the password alone opens nothing else
            browser.open("/posteingang");
            assertThat(browser.path()).startsWith(SecondFactorController.VERIFY);

            browser.type("code", WebSession.nextCode(login.totpSecret())).click("#bestaetigen");
            assertThat(browser.path()).startsWith("/posteingang");
            assertThat(browser.find("h1").getText()).contains("Posteingang");
            assertThat(browser.pageText()).contains("Bruno Browser");

            browser.click("#abmelden");
            browser.open("/posteingang");
            assertThat(browser.path()).startsWith("/anmelden");
        }
    }

    @Test
    void wrongCode_isRefusedWithAGermanMessage_andTheInboxStaysClosed() {
        String org = Participants.registerNew(this, "Browser Falscher Code").organizationId();
        WebAccounts.Login login = WebAccounts.newUser(users, org, "Fritz Falsch", false);
        try (Browser browser = Browser.start(webUrl())) {
            browser.open("/anmelden").type("email", login.email()).type("passwort", login.password()).click("#anmelden");
            String right = WebSession.nextCode(login.totpSecret());
            String wrong = String.format("%06d", (Integer.parseInt(right) + 1) % 1_000_000);
            browser.type("code", wrong).click("#bestaetigen");
            assertThat(browser.find(".fehler").getText()).contains("Der Code stimmt nicht");
            browser.open("/posteingang");
            assertThat(browser.path()).doesNotStartWith("/posteingang");
        }
    }

    @Test
    void firstSignIn_setsUpTheAuthenticatorFromTheSecretOnThePage() {
        String org = Participants.registerNew(this, "Browser Einrichtung").organizationId();
        WebAccounts.Login login = WebAccounts.newUserWithoutSecondFactor(users, org, "Nora Neu");
        try (Browser browser = Browser.start(webUrl())) {
            browser.open("/anmelden").type("email", login.email()).type("passwort", login.password()).click("#anmelden");
            assertThat(browser.path()).startsWith(SecondFactorController.SETUP);
            String secret = browser.find("#totp-secret").getText().trim();
            assertThat(secret).matches("[A-Z2-7]{32}");
            browser.screenshot("zweiter-faktor-einrichten");

            browser.type("code", WebSession.nextCode(new Base32().decode(secret))).click("#aktivieren");
            assertThat(browser.path()).startsWith("/posteingang");
            assertThat(users.find(login.userId()).orElseThrow().totpEnabled()).isTrue();
        }
    }
}
