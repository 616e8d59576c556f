package org.carerelay.gateway.web.account;

import static org.assertj.core.api.Assertions.assertThat;

import java.net.http.HttpResponse;
import java.util.HashMap;
import java.util.Map;
import org.apache.commons.codec.binary.Base32;
import org.carerelay.gateway.GatewayIntegrationTest;
import org.carerelay.gateway.Participants;
import org.carerelay.gateway.registration.ParticipantRepository;
import org.carerelay.gateway.web.SecondFactorController;
import org.carerelay.gateway.web.WebSession;
import org.carerelay.gateway.web.WebUsers;
import org.junit.jupiter.api.Test;
import org.springframework.beans.factory.annotation.Autowired;

/** Registration in the browser with the code from the letter; the person becomes the first manager. */
class WebRegistrationIT extends GatewayIntegrationTest {

    static final String PASSWORD = "Ein-sicheres-Passwort-2026";

    @Autowired
    WebUsers users;
    @Autowired
    ParticipantRepository participants;

    /** An organisation in the directory with a fax number, not registered. */
    record Unregistered(String organizationId, String name, String faxMailbox) {
    }

    private Unregistered unregistered(String prefix) {
        String digits = "4930" + (long) (Math.random() * 1_000_000_000L);
        String name = unique(prefix);
        String orgId = Participants.create(admin(), Participants.newOrganization(name, "+" + digits, null));
        return new Unregistered(orgId, name, digits + "@" + FAX_DOMAIN);
    }

    /** Asks for the letter on the registration page and reads the code from the fax in the outbox. */
    private String codeFromTheLetter(WebSession session, Unregistered org) {
        int before = mailsTo(org.faxMailbox()).size();
        session.get("/registrieren?q=" + org.name().replace(" ", "+"));
        HttpResponse<String> requested = session.post("/registrieren/code", Map.of("organisation", org.organizationId()));
        assertThat(requested.statusCode()).isEqualTo(200);
        assertThat(requested.body()).contains("class=\"erfolg\"");
        return Participants.awaitCode(org.faxMailbox(), before + 1);
    }

    private static Map<String, String> form(Unregistered org, String code, String email, String password, String repeated) {
        Map<String, String> form = new HashMap<>();
        form.put("organisation", org.organizationId());
        form.put("code", code);
        form.put("name", "Petra Pflege");
        form.put("email", email);
        form.put("passwort", password);
        form.put("passwort2", repeated);
        return form;
    }

    private String email(Unregistered org) {
        return "leitung@" + org.organizationId() + ".example.org";
    }

    @Test
    void codeFromTheFaxLetter_registersTheOrganisation_andThePersonSetsUpTotpAndOpensTheInbox() {
        Unregistered org = unregistered("Pflegeheim Web");
        WebSession session = new WebSession(webUrl());
        HttpResponse<String> search = session.get("/registrieren?q=" + org.name().replace(" ", "+"));
        assertThat(search.body()).contains("id=\"org-" + org.organizationId() + "\"");
        String code = codeFromTheLetter(session, org);
        String letter = Participants.allText(mailsTo(org.faxMailbox()).get(mailsTo(org.faxMailbox()).size() - 1))
                .replaceAll("\\s+", " ");
        assertThat(letter).contains("http://localhost:" + port + "/registrieren").contains("$register");

        HttpResponse<String> done = session.post("/registrieren", form(org, code, email(org), PASSWORD, PASSWORD));
        assertThat(done.statusCode()).isEqualTo(302);
        assertThat(WebSession.location(done)).endsWith("/anmelden?registriert");
        assertThat(participants.isRegistered(org.organizationId())).isTrue();
        WebUsers.Account account = users.ofOrganization(org.organizationId()).get(0);
        assertThat(account.manager()).isTrue();
        assertThat(account.email()).isEqualTo(email(org));

        WebSession login = new WebSession(webUrl());
        login.get("/anmelden");
        HttpResponse<String> password = login.post("/anmelden", Map.of("email", email(org), "passwort", PASSWORD));
        assertThat(WebSession.location(password)).endsWith(SecondFactorController.SETUP);
        String secret = WebSession.find(login.get(SecondFactorController.SETUP).body(), "id=\"totp-secret\">([A-Z2-7]+)<");
        HttpResponse<String> totp = login.post(SecondFactorController.SETUP,
                Map.of("code", WebSession.nextCode(new Base32().decode(secret))));
        assertThat(WebSession.location(totp)).endsWith("/posteingang");
        assertThat(login.get("/einstellungen/benutzer").statusCode()).isEqualTo(200);
        // the organisation is no longer offered for registration
        assertThat(new WebSession(webUrl()).get("/registrieren?q=" + org.name().replace(" ", "+")).body())
                .doesNotContain("org-" + org.organizationId());
    }

    @Test
    void wrongCode_registersNothing_andSaysSoInGerman() {
        Unregistered org = unregistered("Pflegeheim Falsch");
        WebSession session = new WebSession(webUrl());
        String code = codeFromTheLetter(session, org);
        String wrong = code.startsWith("A") ? "BBBBB-BBBBB" : "AAAAA-AAAAA";
        HttpResponse<String> refused = session.post("/registrieren", form(org, wrong, email(org), PASSWORD, PASSWORD));
        assertThat(refused.statusCode()).isEqualTo(200);
        assertThat(refused.body()).contains("class=\"fehler\"").contains("Der Code stimmt nicht");
        assertThat(participants.isRegistered(org.organizationId())).isFalse();
        assertThat(users.ofOrganization(org.organizationId())).isEmpty();
        // the right code still works afterwards
        HttpResponse<String> done = session.post("/registrieren", form(org, code, email(org), PASSWORD, PASSWORD));
        assertThat(WebSession.location(done)).endsWith("/anmelden?registriert");
    }

    @Test
    void organisationRegisteredThroughTheApi_isToldToAskItsManagerForAnInvitation() {
        Participants.Registered api = Participants.registerNew(this, "Praxis API");
        WebSession session = new WebSession(webUrl());
        session.get("/registrieren");
        Unregistered org = new Unregistered(api.organizationId(), "", api.faxMailbox());
        HttpResponse<String> refused = session.post("/registrieren", form(org, "AAAAA-AAAAA", email(org), PASSWORD, PASSWORD));
        assertThat(refused.statusCode()).isEqualTo(200);
        assertThat(refused.body()).contains("bereits registriert").contains("Einladung");
        assertThat(users.ofOrganization(api.organizationId())).isEmpty();
    }

    @Test
    void weakOrMismatchedPassword_isRefusedWithAClearMessage_andTheCodeStaysValid() {
        Unregistered org = unregistered("Pflegeheim Schwach");
        WebSession session = new WebSession(webUrl());
        String code = codeFromTheLetter(session, org);
        HttpResponse<String> tooShort = session.post("/registrieren", form(org, code, email(org), "kurz", "kurz"));
        assertThat(tooShort.body()).contains("mindestens 12 Zeichen");
        HttpResponse<String> isEmail = session.post("/registrieren", form(org, code, email(org), email(org), email(org)));
        assertThat(isEmail.body()).contains("nicht Ihre E-Mail-Adresse sein");
        HttpResponse<String> differs = session.post("/registrieren", form(org, code, email(org), PASSWORD, PASSWORD + "x"));
        assertThat(differs.body()).contains("stimmen nicht überein");
        assertThat(participants.isRegistered(org.organizationId())).isFalse();
        assertThat(WebSession.location(session.post("/registrieren", form(org, code, email(org), PASSWORD, PASSWORD))))
                .endsWith("/anmelden?registriert");
    }

    @Test
    void registrationWithoutCsrfToken_isRefused() {
        Unregistered org = unregistered("Pflegeheim Csrf");
        WebSession session = new WebSession(webUrl());
        session.get("/registrieren");
        HttpResponse<String> forged = session.postWithoutCsrf("/registrieren",
                form(org, "AAAAA-AAAAA", email(org), PASSWORD, PASSWORD));
        assertThat(forged.statusCode()).isEqualTo(403);
    }
}
