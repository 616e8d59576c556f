package org.carerelay.gateway.fhir;

import static org.assertj.core.api.Assertions.assertThat;

import ch.qos.logback.classic.Logger;
import ch.qos.logback.classic.LoggerContext;
import ch.qos.logback.classic.spi.ILoggingEvent;
import ch.qos.logback.classic.spi.IThrowableProxy;
import ch.qos.logback.core.read.ListAppender;
import java.net.http.HttpResponse;
import java.nio.charset.StandardCharsets;
import java.time.Duration;
import java.util.List;
import org.carerelay.fhir.ErrorCode;
import org.carerelay.fhir.OperationOutcomes;
import org.carerelay.gateway.Conversations;
import org.carerelay.gateway.GatewayIntegrationTest;
import org.carerelay.gateway.Participants;
import org.hl7.fhir.r4.model.OperationOutcome;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.slf4j.LoggerFactory;

/**
 * Input a parser or the database cannot take, and bodies shaped to cost server time: refused with
 * a 4xx OperationOutcome before anything is stored, and nothing of the request in the log.
 */
class HostileInputIT extends GatewayIntegrationTest {

    private ListAppender<ILoggingEvent> logged;

    @BeforeEach
    void captureLog() {
        logged = new ListAppender<>();
        logged.setContext((LoggerContext) LoggerFactory.getILoggerFactory());
        logged.start();
        root().addAppender(logged);
    }

    @AfterEach
    void stopCapturing() {
        root().detachAppender(logged);
    }

    private static Logger root() {
        return (Logger) LoggerFactory.getLogger(org.slf4j.Logger.ROOT_LOGGER_NAME);
    }

    /** Everything logged since the test began, messages, arguments and exception chains alike. */
    private String logText() {
        StringBuilder text = new StringBuilder();
        for (ILoggingEvent event : List.copyOf(logged.list)) {
            text.append(event.getFormattedMessage()).append('\n');
            for (IThrowableProxy t = event.getThrowableProxy(); t != null; t = t.getCause()) {
                text.append(t.getClassName()).append(": ").append(t.getMessage()).append('\n');
            }
        }
        return text.toString();
    }

    private static ErrorCode codeOf(HttpResponse<String> response) {
        return OperationOutcomes.codeOf(FHIR.newJsonParser().parseResource(OperationOutcome.class, response.body()));
    }

    private static String patientJson(String kvnr, String givenLiteral) {
        return """
                {"resourceType":"Patient",
                 "identifier":[{"system":"http://fhir.de/sid/gkv/kvid-10","value":"%s"}],
                 "name":[{"family":"Sommerfeld","given":["%s"]}],
                 "birthDate":"1941-03-05"}
                """.formatted(kvnr, givenLiteral);
    }

    @Test
    void patientWithNulOrLoneSurrogateInItsName_gets400_andTheLogHoldsNoneOfIt() throws Exception {
        Participants.Registered practice = Participants.registerNew(this, "Praxis Nul");
        String kvnr = Conversations.kvnr();
        for (String given : List.of("Hilde\\u0000", "Hilde\\ud800", "Hilde\\udc00x", "\\u0000")) {
            HttpResponse<String> response = http("POST", "/fhir/Patient", practice.token(), "application/fhir+json",
                    patientJson(kvnr, given).getBytes(StandardCharsets.UTF_8));
            assertThat(response.statusCode()).as(given).isEqualTo(400);
            assertThat(codeOf(response)).as(given).isEqualTo(ErrorCode.INVALID_CHARACTER);
        }
        String xml = """
                <Patient xmlns="http://hl7.org/fhir"><identifier><system value="http://fhir.de/sid/gkv/kvid-10"/>
                <value value="%s"/></identifier><name><family value="Sommerfeld"/><given value="Hilde&#0;"/></name></Patient>
                """.formatted(kvnr);
        HttpResponse<String> response = http("POST", "/fhir/Patient", practice.token(), "application/fhir+xml",
                xml.getBytes(StandardCharsets.UTF_8));
        assertThat(response.statusCode()).isEqualTo(400);
        assertThat(response.body()).contains("OperationOutcome");

        // nothing was stored: the KVNR is unknown
        HttpResponse<String> search = http("GET", "/fhir/Patient?identifier=" + kvnr, practice.token(), null, null);
        assertThat(search.statusCode()).isEqualTo(200);
        assertThat(search.body()).contains("\"total\":0");

        Thread.sleep(300); // the embedded server's output reaches the log asynchronously
        assertThat(logText()).doesNotContain("Hilde").doesNotContain("Sommerfeld").doesNotContain(kvnr);
    }

    @Test
    void searchParameterWithNul_gets400_notA500() throws Exception {
        Participants.Registered practice = Participants.registerNew(this, "Praxis Suche");
        for (String query : List.of("Patient?name=%00", "Patient?name=Hilde%00", "Organization?name=%00",
                "Communication?_id=%00", "Consent?patient=%00", "Patient?identifier=x%7C%00", "Patient?%00=x",
                "Endpoint?name=%C0%80", "Patient?name=%ED%A0%80")) {
            // refused before any search runs: NUL, an overlong or a lone-surrogate encoding
            HttpResponse<String> response = http("GET", "/fhir/" + query, practice.token(), null, null);
            assertThat(response.statusCode()).as(query).isEqualTo(400);
            assertThat(codeOf(response)).as(query).isNotNull();
        }
        HttpResponse<String> response = http("GET", "/fhir/Patient?name=%00", practice.token(), null, null);
        assertThat(response.statusCode()).isEqualTo(400);
        assertThat(codeOf(response)).isEqualTo(ErrorCode.INVALID_CHARACTER);
    }

    @Test
    void patientSearchWithAnUnsupportedMissingModifier_isRefused_insteadOfListingEveryPatient() throws Exception {
        Participants.Registered practice = Participants.registerNew(this, "Praxis Fehlend");
        for (String query : List.of("Patient?name:missing=false", "Patient?family:missing=true", "Patient?identifier:missing=false",
                "Patient?birthdate:missing=false")) {
            HttpResponse<String> response = http("GET", "/fhir/" + query, practice.token(), null, null);
            assertThat(response.statusCode()).as(query).isEqualTo(400);
            assertThat(codeOf(response)).as(query).isNotNull();
        }
    }

    @Test
    void organizationPutWithNestedArraysInExtension_gets400_notA500() throws Exception {
        String orgId = Participants.create(admin(), Participants.newOrganization(unique("Pflegeheim Nested"), "+4930123456", null));
        String body = """
                {"resourceType":"Organization","id":"%s","active":true,"name":"Pflegeheim Nested",
                 "extension":[[{"url":"http://example.org/x","valueString":"a"}],[]]}
                """.formatted(orgId);
        HttpResponse<String> response = http("PUT", "/fhir/Organization/" + orgId, ADMIN_TOKEN, "application/fhir+json",
                body.getBytes(StandardCharsets.UTF_8));
        assertThat(response.statusCode()).isEqualTo(400);
        assertThat(codeOf(response)).isEqualTo(ErrorCode.INVALID_REQUEST);
    }

    @Test
    void headerWithNul_isRefusedWith400() throws Exception {
        Participants.Registered practice = Participants.registerNew(this, "Praxis Kopfzeile");
        // java.net.http refuses to send such a header, so the request goes over a plain socket
        try (java.net.Socket socket = new java.net.Socket("127.0.0.1", port)) {
            socket.setSoTimeout(10_000);
            String request = "GET /fhir/Patient HTTP/1.1\r\nHost: 127.0.0.1\r\nAuthorization: Bearer " + practice.token()
                    + "\r\nX-Name: Hilde\u0000\r\nConnection: close\r\n\r\n";
            socket.getOutputStream().write(request.getBytes(StandardCharsets.ISO_8859_1));
            String statusLine = new java.io.BufferedReader(new java.io.InputStreamReader(socket.getInputStream(),
                    StandardCharsets.ISO_8859_1)).readLine();
            assertThat(statusLine).startsWith("HTTP/1.1 400");
        }
        assertThat(logText()).doesNotContain("Hilde");
    }

    @Test
    void inputsThatOnceGotA500_getA4xxOperationOutcome() throws Exception {
        Participants.Registered practice = Participants.registerNew(this, "Praxis Regression");
        for (String query : List.of("Organization?address-city:missing=true", "Practitioner?name:missing=%7C%7C%7C",
                "Organization?address-postalcode:missing=x", "Endpoint?connection-type=%0D%0AX-Injected:%201",
                "Endpoint?status=a%0Ab", "Communication?_id=urn:uuid:1", "Patient?_id=Patient%2F1",
                "Endpoint?name=%C0%80a%00b", "Patient?birthdate:=%00&_format:=%FF%FE", "Task?_format=%00%ED%A0%80",
                "Patient?name=%ED%A0%80")) {
            HttpResponse<String> response = http("GET", "/fhir/" + query, practice.token(), null, null);
            assertThat(response.statusCode()).as(query).isBetween(200, 499);
            if (response.statusCode() >= 400) {
                assertThat(codeOf(response)).as(query + ": " + response.body()).isNotNull();
            }
        }
        String orgId = Participants.create(admin(), Participants.newOrganization(unique("Pflegeheim Ext"), "+4930123457", null));
        for (String extension : List.of("[\"x\"]", "[null]", "[42]", "[true]")) {
            String body = """
                    {"resourceType":"Organization","id":"%s","active":true,"name":"Pflegeheim Ext","extension":%s}
                    """.formatted(orgId, extension);
            HttpResponse<String> response = http("PUT", "/fhir/Organization/" + orgId, ADMIN_TOKEN, "application/fhir+json",
                    body.getBytes(StandardCharsets.UTF_8));
            assertThat(response.statusCode()).as(extension).isEqualTo(400);
            assertThat(codeOf(response)).as(extension).isEqualTo(ErrorCode.INVALID_REQUEST);
        }
    }

    @Test
    void halfAMillionElementArray_isRefusedWithinASecond() throws Exception {
        // as many elements as fit the test's 1 MiB body limit; production allows 20 MiB
        StringBuilder body = new StringBuilder("{\"resourceType\":\"Organization\",\"name\":\"Viele\",\"alias\":[");
        for (int i = 0; i < 500_000; i++) {
            body.append(i == 0 ? "" : ",").append('0');
        }
        body.append("]}");
        long started = System.nanoTime();
        HttpResponse<String> response = http("POST", "/fhir/Organization", ADMIN_TOKEN, "application/fhir+json",
                body.toString().getBytes(StandardCharsets.UTF_8));
        Duration took = Duration.ofNanos(System.nanoTime() - started);
        assertThat(response.statusCode()).isEqualTo(413);
        assertThat(codeOf(response)).isEqualTo(ErrorCode.RESOURCE_TOO_COMPLEX);
        assertThat(took).isLessThan(Duration.ofSeconds(1));

        StringBuilder deep = new StringBuilder("{\"resourceType\":\"Organization\",\"name\":\"Tief\",\"extension\":[");
        for (int i = 0; i < 200; i++) {
            deep.append("{\"url\":\"http://example.org/x\",\"extension\":[");
        }
        deep.append("]}".repeat(200)).append("]}");
        response = http("POST", "/fhir/Organization", ADMIN_TOKEN, "application/fhir+json",
                deep.toString().getBytes(StandardCharsets.UTF_8));
        assertThat(response.statusCode()).isEqualTo(413);
        assertThat(codeOf(response)).isEqualTo(ErrorCode.RESOURCE_TOO_COMPLEX);

        StringBuilder xml = new StringBuilder("<Organization xmlns=\"http://hl7.org/fhir\"><name value=\"Viele\"/>");
        for (int i = 0; i < 200_000; i++) {
            xml.append("<a/>");
        }
        xml.append("</Organization>");
        started = System.nanoTime();
        response = http("POST", "/fhir/Organization", ADMIN_TOKEN, "application/fhir+xml",
                xml.toString().getBytes(StandardCharsets.UTF_8));
        took = Duration.ofNanos(System.nanoTime() - started);
        assertThat(response.statusCode()).isEqualTo(413);
        assertThat(took).isLessThan(Duration.ofSeconds(1));
    }

    @Test
    void everyResponse_saysNosniff_andNamesNoServerProduct() throws Exception {
        Participants.Registered practice = Participants.registerNew(this, "Praxis Header");
        List<HttpResponse<String>> responses = List.of(
                http("GET", "/fhir/metadata", null, null, null),
                http("GET", "/fhir/Organization?_count=1", practice.token(), null, null),
                http("GET", "/fhir/Organization", null, null, null),
                http("GET", "/fhir/Patient?name=%00", practice.token(), null, null),
                http("GET", "/fhir/Binary/unknown-id", practice.token(), null, null),
                http("POST", "/fhir/Binary", practice.token(), "text/plain", "Befund".getBytes(StandardCharsets.UTF_8)),
                http("GET", "/fhir/NoSuchType", practice.token(), null, null),
                http("GET", "/actuator/health", null, null, null),
                http("GET", "/no-such-page", null, null, null));
        for (HttpResponse<String> response : responses) {
            String where = response.request().method() + " " + response.uri() + " -> " + response.statusCode();
            assertThat(response.headers().firstValue("X-Content-Type-Options")).as(where).hasValue("nosniff");
            assertThat(response.headers().firstValue("X-Powered-By")).as(where).isEmpty();
        }
    }
}
