package org.carerelay.gateway.config;

import static org.assertj.core.api.Assertions.assertThat;

import org.junit.jupiter.api.Test;
import org.springframework.mock.env.MockEnvironment;

class PublicUrlsTest {

    @Test
    void publicBaseUrl_isTheBaseOfEveryFhirLink() {
        assertThat(PublicUrls.configuredFhirBase("https://carerelay.example.org/", null, null))
                .contains("https://carerelay.example.org/fhir");
        assertThat(PublicUrls.configuredFhirBase("https://carerelay.example.org/fhir", null, null))
                .contains("https://carerelay.example.org/fhir");
    }

    @Test
    void publicBaseUrl_winsOverTheDeprecatedSettings() {
        assertThat(PublicUrls.configuredFhirBase("https://neu.example.org", "https://alt.example.org/fhir",
                "http://localhost:8080/fhir")).contains("https://neu.example.org/fhir");
    }

    @Test
    void deprecatedSettings_stillApplyWhenThePublicBaseUrlIsUnset() {
        assertThat(PublicUrls.configuredFhirBase("", "https://proxy.example.org/fhir/", null))
                .contains("https://proxy.example.org/fhir");
        assertThat(PublicUrls.configuredFhirBase(null, " ", "https://mail.example.org/fhir"))
                .contains("https://mail.example.org/fhir");
        assertThat(PublicUrls.configuredFhirBase(null, null, null)).isEmpty();
    }

    @Test
    void unset_linksNameTheHttpPortTheServerListensOn() {
        MockEnvironment env = new MockEnvironment().withProperty("server.port", "9090");
        PublicUrls urls = new PublicUrls(properties(), env);
        assertThat(urls.fhirBase()).isEqualTo("http://localhost:9090/fhir");
        assertThat(urls.configuredFhirBase()).isEmpty();
        env.setProperty("local.server.port", "40123");
        assertThat(urls.fhirBase()).isEqualTo("http://localhost:40123/fhir");
        assertThat(urls.webLink("/inbox")).isEqualTo("http://localhost:40123/inbox");
    }

    @Test
    void set_linksNameThePublicAddressWhateverThePort() {
        MockEnvironment env = new MockEnvironment().withProperty("local.server.port", "40123")
                .withProperty("carerelay.public-base-url", "https://carerelay.example.org");
        PublicUrls urls = new PublicUrls(properties(), env);
        assertThat(urls.fhirBase()).isEqualTo("https://carerelay.example.org/fhir");
        assertThat(urls.configuredFhirBase()).contains("https://carerelay.example.org/fhir");
    }

    private static CareRelayProperties properties() {
        return new CareRelayProperties(null, null, null, null, null, null, null, null,
                new CareRelayProperties.Fhir(1024, ""), null, null, null, null, null, null,
                new CareRelayProperties.Notification(""), null);
    }
}
