package org.carerelay.gateway.web.settings;

import static org.assertj.core.api.Assertions.assertThat;

import org.junit.jupiter.api.Test;

class GermanErrorPagesTest {

    @Test
    void onlyBrowserRequestsForPages_getAnHtmlPage() {
        String browser = "text/html,application/xhtml+xml,*/*;q=0.8";
        assertThat(GermanErrorPages.isPage("/posteingang", browser)).isTrue();
        assertThat(GermanErrorPages.isPage("/gibt-es-nicht", browser)).isTrue();
        assertThat(GermanErrorPages.isPage("/fhir/Patient", browser)).isFalse();
        assertThat(GermanErrorPages.isPage("/fhir", browser)).isFalse();
        assertThat(GermanErrorPages.isPage("/actuator/health", browser)).isFalse();
        assertThat(GermanErrorPages.isPage("/.well-known/smart-configuration", browser)).isFalse();
        assertThat(GermanErrorPages.isPage("/posteingang", "application/fhir+json")).isFalse();
        assertThat(GermanErrorPages.isPage("/posteingang", null)).isFalse();
        assertThat(GermanErrorPages.isPage("/fhirlike", browser)).isTrue();
    }

    @Test
    void everyStatusHasAGermanText_andAnExpiredCsrfTokenSaysToReload() {
        for (int status : new int[] {400, 403, 404, 405, 413, 500}) {
            assertThat(GermanErrorPages.text(status, false).title()).isNotBlank();
        }
        assertThat(GermanErrorPages.text(413, false).explanation()).contains("zu groß");
        assertThat(GermanErrorPages.text(403, true).explanation())
                .isEqualTo("Die Sitzung ist abgelaufen, bitte laden Sie die Seite neu.");
    }
}
