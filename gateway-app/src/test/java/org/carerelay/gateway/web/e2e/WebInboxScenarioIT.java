package org.carerelay.gateway.web.e2e;

import static org.assertj.core.api.Assertions.assertThat;
import static org.awaitility.Awaitility.await;

import java.net.http.HttpResponse;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.Locale;
import java.util.UUID;
import org.apache.commons.codec.binary.Base32;
import org.carerelay.gateway.Conversations;
import org.carerelay.gateway.GatewayIntegrationTest;
import org.carerelay.gateway.Participants;
import org.carerelay.gateway.web.SecondFactorController;
import org.carerelay.gateway.web.WebAccounts;
import org.carerelay.gateway.web.WebSession;
import org.carerelay.gateway.web.WebUsers;
import org.junit.jupiter.api.Test;
import org.openqa.selenium.support.ui.Select;
import org.springframework.beans.factory.annotation.Autowired;

/**
 * The web inbox end to end in a real (headless) Chromium, as three organisations use it: A (a
 * practice) registers in the browser with the code from its letter and sets up TOTP, creates a
 * patient, downloads the consent template, uploads the signed consent naming B and C, and writes to
 * B (registered) and C (not registered: invited by fax). C registers from its letter and finds the
 * held message; B replies with a PDF; A sees the reply unread, opens it and downloads the PDF (the
 * same bytes); C records a revocation; A sees the masked history and the notice. B cannot open A's
 * other conversation by changing the id in the URL. Screenshots of the main pages go to
 * {@code target/screenshots}. Each step prints whether it passed.
 */
class WebInboxScenarioIT extends GatewayIntegrationTest {

    @Autowired
    WebUsers users;

    private final String tag = UUID.randomUUID().toString().substring(0, 6).toUpperCase(Locale.ROOT).replaceAll("[0-9]", "X");

    @Test
    void registerWriteInviteReplyDownloadRevoke_inChromium_andTheOtherOrganisationCannotOpenForeignConversations()
            throws Exception {
        Browser.assumeInstalled();
        // the directory: A and C are listed but not registered, B is registered and has a person
        String aFax = "4930" + (long) (Math.random() * 1_000_000_000L);
        String aId = Participants.create(admin(), Participants.newOrganization("Praxis Anfang " + tag, "+" + aFax, null));
        Participants.Registered b = Participants.registerNew(this, "Pflegeheim Birke " + tag);
        WebAccounts.Login bPerson = WebAccounts.newUser(users, b.organizationId(), "Berta Birke", true);
        String cFax = "4930" + (long) (Math.random() * 1_000_000_000L);
        String cId = Participants.create(admin(), Participants.newOrganization("Pflegedienst Clemens " + tag, "+" + cFax, null));
        // A asked for its registration letter (by fax)
        Participants.requestCode(anonymous(), aId, null);
        String aCode = Participants.awaitCode(aFax + "@" + FAX_DOMAIN, 1);

        String kvnr = Conversations.kvnr();
        String family = "Sommer" + tag.toLowerCase(Locale.ROOT);
        String firstText = "Bitte Wundversorgung ab Montag " + tag;
        String otherText = "Nur fuer Clemens " + tag;
        String replyText = "Wunde versorgt, Bericht anbei " + tag;
        Path tmp = Files.createTempDirectory("scenario");
        Path consentScan = Files.write(tmp.resolve("einwilligung.pdf"), Conversations.signedScan());
        Path report = Files.write(tmp.resolve("bericht.pdf"), Conversations.signedScan());

        try (Browser a = Browser.start(webUrl()); Browser bBrowser = Browser.start(webUrl())) {
            String aEmail = "anna-" + tag.toLowerCase(Locale.ROOT) + "@praxis.example.org";

            step("1 A registers with the code from the letter and sets up TOTP", () -> {
                register(a, "Praxis Anfang " + tag, aId, aCode, "Anna Anfang", aEmail, "registrieren");
            });

            String[] patient = new String[1];
            step("2 A creates a patient", () -> {
                a.open("/patienten/neu");
                a.type("kvnr", kvnr).type("vorname", "Erika").type("nachname", family).type("geburtsdatum", "1941-03-17");
                new Select(a.find("select[name=geschlecht]")).selectByValue("female");
                a.screenshot("patient-anlegen");
                a.click("#patient-anlegen-speichern");
                assertThat(a.path()).as(a.pageText()).matches("/patienten/[^/]+/einwilligung.*");
                patient[0] = a.path().split("/")[2];
            });

            step("3 A downloads the consent template", () -> {
                var before = a.downloadedFiles();
                a.clickToDownload("a#vorlage-herunterladen");
                Path template = a.awaitDownload(before);
                assertThat(new String(Files.readAllBytes(template), 0, 5, java.nio.charset.StandardCharsets.US_ASCII))
                        .isEqualTo("%PDF-");
            });

            step("4 A uploads the signed consent naming B and C", () -> {
                a.type("q", tag).click("#partner-suchen");
                a.tick("#partner-" + b.organizationId()).tick("#partner-" + cId);
                a.attach("dokument", consentScan);
                a.screenshot("einwilligung-hochladen");
                a.click("#einwilligung-hochladen");
                assertThat(a.all(".fehler")).as(a.pageText()).isEmpty();
                assertThat(a.path()).as(a.pageText()).isEqualTo("/patienten/" + patient[0]);
                assertThat(a.find("#einwilligung .einwilligung-status").getText()).contains("erteilt");
            });

            String[] conversation = new String[2];
            step("5 A writes to B (registered) and C (invited) about the patient", () -> {
                conversation[0] = newChat(a, patient[0], kvnr, firstText, b.organizationId(), cId);
                assertThat(a.find("#einwilligung .einwilligung-status").getText()).contains("erteilt");
                assertThat(a.pageText()).contains(firstText);
                a.screenshot("chat-mit-einwilligung");
            });

            step("5b A writes a general chat to C only", () -> {
                conversation[1] = newChat(a, "allgemein", null, otherText, cId);
            });

            String[] cCode = new String[1];
            step("6 C's invitation arrives by fax, with a registration code and no patient data", () -> {
                await().atMost(Duration.ofSeconds(60)).until(() -> !mailsTo(cFax + "@" + FAX_DOMAIN).isEmpty());
                var letter = mailsTo(cFax + "@" + FAX_DOMAIN).get(0);
                String text = Participants.allText(letter);
                assertThat(text).doesNotContain(family).doesNotContain(kvnr).doesNotContain(firstText);
                cCode[0] = Participants.codeIn(letter);
            });

            try (Browser c = Browser.start(webUrl())) {
                String cEmail = "clara-" + tag.toLowerCase(Locale.ROOT) + "@pflege.example.org";
                step("7 C registers from its letter in the browser and finds the held message", () -> {
                    register(c, "Pflegedienst Clemens " + tag, cId, cCode[0], "Clara Clemens", cEmail, null);
                    await().atMost(Duration.ofSeconds(60)).pollInterval(Duration.ofSeconds(2)).until(() -> {
                        c.open("/posteingang");
                        return c.has(".konversation[data-konversation='" + conversation[0] + "']");
                    });
                    c.click(".konversation[data-konversation='" + conversation[0] + "'] a.oeffnen");
                    assertThat(c.pageText()).contains(firstText);
                });

                step("8 B replies with a PDF", () -> {
                    bBrowser.signIn(bPerson.email(), bPerson.password(), bPerson.totpSecret());
                    assertThat(bBrowser.path()).startsWith("/posteingang");
                    await().atMost(Duration.ofSeconds(30)).pollInterval(Duration.ofSeconds(1)).until(() -> {
                        bBrowser.open("/posteingang");
                        return bBrowser.has(".konversation[data-konversation='" + conversation[0] + "']");
                    });
                    bBrowser.click(".konversation[data-konversation='" + conversation[0] + "'] a.oeffnen");
                    assertThat(bBrowser.pageText()).contains(firstText);
                    bBrowser.type("text", replyText).attach("anhaenge", report).click("#senden");
                    assertThat(bBrowser.path()).startsWith("/chat/" + conversation[0]);
                    assertThat(bBrowser.pageText()).contains(replyText);
                });

                step("9 A sees the reply unread, opens it and downloads the PDF (the same bytes)", () -> {
                    await().atMost(Duration.ofSeconds(30)).pollInterval(Duration.ofSeconds(1)).until(() -> {
                        a.open("/posteingang");
                        return a.has(".konversation.ungelesen[data-konversation='" + conversation[0] + "']");
                    });
                    assertThat(Integer.parseInt(a.find("#ungelesen-anzahl").getText().trim())).isPositive();
                    a.screenshot("posteingang");
                    a.screenshot("posteingang-tablet", Browser.TABLET);
                    a.click(".konversation[data-konversation='" + conversation[0] + "'] a.oeffnen");
                    assertThat(a.pageText()).contains(replyText);
                    assertThat(a.find("#einwilligung .einwilligung-status").getText()).contains("erteilt");
                    a.screenshot("chat");
                    var before = a.downloadedFiles();
                    a.find("a.anhang").click();
                    Path downloaded = a.awaitDownload(before);
                    assertThat(Files.readAllBytes(downloaded)).isEqualTo(Files.readAllBytes(report));
                    a.open("/posteingang");
                    assertThat(a.has(".konversation.ungelesen[data-konversation='" + conversation[0] + "']")).isFalse();
                });

                step("10 C records a revocation", () -> {
                    c.open("/patienten/" + patient[0]);
                    c.type("grund", "Patientin hat widerrufen").click("#widerrufen");
                    assertThat(c.find("#einwilligung .einwilligung-status").getText()).as(c.pageText()).contains("widerrufen");
                });
            }

            step("11 A sees the masked history and the revocation notice", () -> {
                a.open("/chat/" + conversation[0]);
                assertThat(a.find("#einwilligung .einwilligung-status").getText()).contains("widerrufen");
                assertThat(a.all(".nachricht.maskiert")).isNotEmpty();
                assertThat(a.pageText()).doesNotContain(firstText).doesNotContain(replyText);
                a.open("/patienten");
                a.type("kvnr", kvnr).click("#patient-suchen");
                assertThat(a.has(".widerruf-hinweis")).as(a.pageText()).isTrue();
                a.open("/patienten/" + patient[0]);
                a.screenshot("patient-widerruf");
            });

            step("12 B cannot open A's other conversation by changing the id in the URL", () -> {
                bBrowser.open("/chat/" + conversation[1]);
                assertThat(bBrowser.pageText()).doesNotContain(otherText);
                assertThat(bBrowser.has(".nachricht")).isFalse();
                WebSession bSession = WebSession.signIn(webUrl(), bPerson);
                HttpResponse<String> foreign = bSession.get("/chat/" + conversation[1]);
                assertThat(foreign.statusCode()).isEqualTo(404);
                assertThat(foreign.body()).doesNotContain(otherText);
                bBrowser.screenshot("fremde-konversation");
            });
        } finally {
            try (var files = Files.list(tmp)) {
                files.forEach(f -> f.toFile().delete());
            }
            Files.deleteIfExists(tmp);
        }
    }

    /** The registration page: find the organisation, enter the code and the first person; then sign in and set up TOTP. */
    private void register(Browser browser, String orgName, String orgId, String code, String name, String email, String shot) {
        browser.open("/registrieren");
        browser.type("q", orgName).click("#org-suchen");
        browser.tick("#org-" + orgId);
        browser.type("code", code).type("name", name).type("email", email)
                .type("passwort", WebAccounts.PASSWORD).type("passwort2", WebAccounts.PASSWORD);
        if (shot != null) {
            browser.screenshot(shot);
        }
        browser.click("#registrieren");
        assertThat(browser.path()).as(browser.pageText()).startsWith("/anmelden?registriert");
        browser.type("email", email).type("passwort", WebAccounts.PASSWORD).click("#anmelden");
        assertThat(browser.path()).startsWith(SecondFactorController.SETUP);
        String secret = browser.find("#totp-secret").getText().trim();
        browser.type("code", WebSession.nextCode(new Base32().decode(secret))).click("#aktivieren");
        assertThat(browser.path()).startsWith("/posteingang");
    }

    /** Neuer Chat: partners from the directory search, the patient (by KVNR search, or "allgemein"), the text. */
    private String newChat(Browser browser, String patient, String kvnr, String text, String... partners) {
        browser.open("/neu");
        browser.type("q", tag).click("#partner-suchen");
        for (String partner : partners) {
            browser.tick("#partner-" + partner);
        }
        if (kvnr != null) {
            browser.type("kvnr", kvnr).click("#patient-suchen");
            for (String partner : partners) {
                browser.tick("#partner-" + partner); // kept across the search, or chosen again
            }
        }
        browser.tick("input[name=patient][value='" + patient + "']");
        browser.type("text", text);
        browser.screenshot(kvnr != null ? "neuer-chat" : "neuer-chat-allgemein");
        browser.click("#chat-starten");
        assertThat(browser.path()).as(browser.pageText()).startsWith("/chat/");
        return browser.path().substring("/chat/".length()).replaceFirst("[?#/].*", "");
    }

    @FunctionalInterface
    interface Step {
        void run() throws Exception;
    }

    private static void step(String name, Step step) {
        try {
            step.run();
            System.out.println("scenario step " + name + ": passed");
        } catch (Exception | AssertionError e) {
            System.out.println("scenario step " + name + ": FAILED: " + e);
            if (e instanceof Exception ex) {
                throw new AssertionError("step " + name, ex);
            }
            throw (AssertionError) e;
        }
    }
}
