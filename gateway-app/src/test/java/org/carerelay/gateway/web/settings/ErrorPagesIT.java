package org.carerelay.gateway.web.settings;

import static org.assertj.core.api.Assertions.assertThat;

import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.util.Map;
import org.carerelay.gateway.GatewayIntegrationTest;
import org.carerelay.gateway.Participants;
import org.carerelay.gateway.web.WebAccounts;
import org.carerelay.gateway.web.WebSession;
import org.carerelay.gateway.web.WebUsers;
import org.junit.jupiter.api.Test;
import org.springframework.beans.factory.annotation.Autowired;

/** A browser gets German HTML error pages for the web inbox; the API keeps its OperationOutcomes. */
class ErrorPagesIT extends GatewayIntegrationTest {

    @Autowired
    WebUsers users;

    private WebSession clerk() {
        String org = Participants.registerNew(this, "Praxis Fehlerseite").organizationId();
        return WebSession.signIn(webUrl(), WebAccounts.newUser(users, org, "Fritz Fehler", false));
    }

    private static void assertGermanPage(HttpResponse<String> response, int status, String text) {
        assertThat(response.statusCode()).isEqualTo(status);
        assertThat(response.headers().firstValue("Content-Type").orElse("")).startsWith("text/html");
        assertThat(response.body()).contains("<html lang=\"de\"").contains(text)
                .doesNotContain("Exception").doesNotContain("at org.").doesNotContain("OperationOutcome");
    }

    @Test
    void unknownPage_isAGerman404Page() {
        assertGermanPage(clerk().get("/gibt-es-nicht"), 404, "Seite nicht gefunden");
    }

    @Test
    void managerPageForAClerk_isAGerman403Page() {
        assertGermanPage(clerk().get("/einstellungen/benutzer"), 403, "Kein Zugriff");
    }

    @Test
    void formWithoutCsrfToken_saysTheSessionExpired() {
        WebSession session = clerk();
        session.get("/einstellungen");
        assertGermanPage(session.postWithoutCsrf("/einstellungen/benachrichtigung", Map.of("benachrichtigung", "a@example.org")),
                403, "Die Sitzung ist abgelaufen, bitte laden Sie die Seite neu.");
    }

    @Test
    void unknownFhirPath_stillAnswersAnOperationOutcome_evenToABrowser() throws Exception {
        HttpResponse<String> response = HttpClient.newHttpClient().send(
                HttpRequest.newBuilder(URI.create(baseUrl() + "/unknown")).header("Accept", "text/html,application/xhtml+xml")
                        .GET().build(), HttpResponse.BodyHandlers.ofString());
        assertThat(response.statusCode()).isEqualTo(404);
        assertThat(response.body()).contains("OperationOutcome").doesNotContain("Seite nicht gefunden");
    }
}
