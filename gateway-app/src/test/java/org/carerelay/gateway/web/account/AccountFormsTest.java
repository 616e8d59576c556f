package org.carerelay.gateway.web.account;

import static org.assertj.core.api.Assertions.assertThat;

import org.carerelay.gateway.web.SessionCookies;
import org.junit.jupiter.api.Test;

class AccountFormsTest {

    @Test
    void passwordShorterThanTwelve_isRefused() {
        assertThat(AccountForms.passwordProblem("elf-Zeichen", "elf-Zeichen", "a@b.de")).get().asString()
                .contains("mindestens 12 Zeichen");
        assertThat(AccountForms.passwordProblem("zwoelf-Zeich", "zwoelf-Zeich", "a@b.de")).isEmpty();
    }

    @Test
    void passwordEqualToTheEmail_isRefused_ignoringCase() {
        assertThat(AccountForms.passwordProblem("Leitung@Heim.example", "Leitung@Heim.example", "leitung@heim.example"))
                .get().asString().contains("nicht Ihre E-Mail-Adresse");
    }

    @Test
    void differentRepetition_isRefused() {
        assertThat(AccountForms.passwordProblem("ein-langes-passwort", "ein-langes-passwort!", "a@b.de")).get().asString()
                .contains("stimmen nicht überein");
    }

    @Test
    void missingNameOrImplausibleEmail_isRefused() {
        assertThat(AccountForms.nameProblem(" ")).isPresent();
        assertThat(AccountForms.emailProblem("keine-adresse")).get().asString().contains("nicht gültig");
        assertThat(AccountForms.emailProblem("a@b.de")).isEmpty();
    }

    @Test
    void sessionCookieIsSecure_onlyBehindAnHttpsBaseUrl() {
        assertThat(SessionCookies.secure("https://carerelay.example.org")).isTrue();
        assertThat(SessionCookies.secure(" HTTPS://carerelay.example.org")).isTrue();
        assertThat(SessionCookies.secure("http://localhost:8080")).isFalse();
        assertThat(SessionCookies.secure(null)).isFalse();
    }
}
