package org.carerelay.gateway.security;

import static org.assertj.core.api.Assertions.assertThat;

import ca.uhn.fhir.rest.api.EncodingEnum;
import java.net.http.HttpResponse;
import java.nio.charset.StandardCharsets;
import java.util.List;
import org.carerelay.fhir.ErrorCode;
import org.carerelay.fhir.OperationOutcomes;
import org.carerelay.gateway.Conversations;
import org.carerelay.gateway.GatewayIntegrationTest;
import org.carerelay.gateway.Participants;
import org.hl7.fhir.r4.model.OperationOutcome;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.ValueSource;

class HardeningIT extends GatewayIntegrationTest {

    private static final String XXE = """
            <?xml version="1.0" encoding="UTF-8"?>
            <!DOCTYPE Organization [ <!ENTITY xxe SYSTEM "file:///etc/passwd"> ]>
            <Organization xmlns="http://hl7.org/fhir">
              <name value="&xxe;"/>
            </Organization>
            """;

    private static final String BILLION_LAUGHS = """
            <?xml version="1.0"?>
            <!DOCTYPE lolz [
             <!ENTITY lol "lol">
             <!ENTITY lol2 "&lol;&lol;&lol;&lol;&lol;&lol;&lol;&lol;&lol;&lol;">
             <!ENTITY lol3 "&lol2;&lol2;&lol2;&lol2;&lol2;&lol2;&lol2;&lol2;&lol2;&lol2;">
            ]>
            <Organization xmlns="http://hl7.org/fhir"><name value="&lol3;"/></Organization>
            """;

    private static ErrorCode codeOf(HttpResponse<String> response) {
        return OperationOutcomes.codeOf(FHIR.newJsonParser().parseResource(OperationOutcome.class, response.body()));
    }

    @Test
    void xxeBody_isRefusedWith400_andNothingIsResolved() throws Exception {
        HttpResponse<String> response = http("POST", "/fhir/Organization", ADMIN_TOKEN, "application/fhir+xml",
                XXE.getBytes(StandardCharsets.UTF_8));
        assertThat(response.statusCode()).isEqualTo(400);
        assertThat(codeOf(response)).isEqualTo(ErrorCode.XML_FORBIDDEN_CONSTRUCT);
        assertThat(response.body()).doesNotContain("root:");
    }

    @Test
    void xxeBody_inUtf16_isRefusedToo() throws Exception {
        HttpResponse<String> response = http("POST", "/fhir/Organization", ADMIN_TOKEN, "application/fhir+xml",
                XXE.replace("UTF-8", "UTF-16").getBytes(StandardCharsets.UTF_16));
        assertThat(response.statusCode()).isEqualTo(400);
    }

    @Test
    void billionLaughs_isRefusedWith400() throws Exception {
        HttpResponse<String> response = http("POST", "/fhir/Organization", ADMIN_TOKEN, "application/fhir+xml",
                BILLION_LAUGHS.getBytes(StandardCharsets.UTF_8));
        assertThat(response.statusCode()).isEqualTo(400);
        assertThat(codeOf(response)).isEqualTo(ErrorCode.XML_FORBIDDEN_CONSTRUCT);
    }

    @Test
    void plainFhirXml_isAccepted() throws Exception {
        String xml = """
                <Organization xmlns="http://hl7.org/fhir">
                  <active value="true"/>
                  <type><coding><system value="https://fhir.carerelay.org/CodeSystem/organization-type"/><code value="care-home"/></coding></type>
                  <name value="Pflegeheim XML Test"/>
                </Organization>
                """;
        HttpResponse<String> response = http("POST", "/fhir/Organization", ADMIN_TOKEN, "application/fhir+xml",
                xml.getBytes(StandardCharsets.UTF_8));
        assertThat(response.statusCode()).isEqualTo(201);
    }

    @Test
    void oversizedBody_gets413() throws Exception {
        byte[] body = new byte[1_048_577];
        java.util.Arrays.fill(body, (byte) ' ');
        HttpResponse<String> response = http("POST", "/fhir/Organization", ADMIN_TOKEN, "application/fhir+json", body);
        assertThat(response.statusCode()).isEqualTo(413);
        assertThat(codeOf(response)).isEqualTo(ErrorCode.PAYLOAD_TOO_LARGE);
    }

    @Test
    void malformedJson_gets400OperationOutcome_withoutStackTrace() throws Exception {
        HttpResponse<String> response = http("POST", "/fhir/Organization", ADMIN_TOKEN, "application/fhir+json",
                "{\"resourceType\":\"Organization\", \"name\": ".getBytes(StandardCharsets.UTF_8));
        assertThat(response.statusCode()).isEqualTo(400);
        assertThat(codeOf(response)).isEqualTo(ErrorCode.INVALID_REQUEST);
        assertThat(response.body()).doesNotContain("at ca.uhn").doesNotContain("Exception");
    }

    @Test
    void organizationWithAnUnknownCareRelayType_gets422() throws Exception {
        // without any type an organisation is accepted as "other" (see GermanBaseProfilesIT); a CareRelay code must exist
        HttpResponse<String> response = http("POST", "/fhir/Organization", ADMIN_TOKEN, "application/fhir+json",
                ("{\"resourceType\":\"Organization\",\"name\":\"Falscher Typ\",\"type\":[{\"coding\":[{\"system\":"
                        + "\"https://fhir.carerelay.org/CodeSystem/organization-type\",\"code\":\"spaceport\"}]}]}")
                        .getBytes(StandardCharsets.UTF_8));
        assertThat(response.statusCode()).isEqualTo(422);
        assertThat(codeOf(response)).isEqualTo(ErrorCode.INVALID_RESOURCE);
    }

    @ParameterizedTest
    @ValueSource(strings = {"/", "//", "http://example.org", "a//1"})
    void referencesTheFhirValidatorStumbledOver_getAClearAnswer_notAServerError(String reference) throws Exception {
        // HAPI 8.8's validator failed on these with index errors (found as a 500 on a fuzzed Consent);
        // the fast path in front of it leaves references that are not Type/id to the full validator
        var practice = Participants.registerNew(this, "Praxis Verweis");
        var patient = Conversations.patient("Verweis", "Vera", Conversations.kvnr());
        patient.addGeneralPractitioner().setReference(reference);
        for (var parser : List.of(FHIR.newJsonParser(), FHIR.newXmlParser())) {
            String contentType = parser.getEncoding() == EncodingEnum.JSON
                    ? "application/fhir+json" : "application/fhir+xml";
            HttpResponse<String> response = http("POST", "/fhir/Patient", practice.token(), contentType,
                    parser.encodeResourceToString(patient).getBytes(StandardCharsets.UTF_8));
            assertThat(response.body()).doesNotContain("Exception");
            if (reference.startsWith("/")) { // no resource type, no id: not accepted
                assertThat(response.statusCode()).as("%s %s: %s", contentType, reference, response.body()).isEqualTo(422);
                assertThat(codeOf(response)).isEqualTo(ErrorCode.INVALID_RESOURCE);
            } else { // judged, and allowed here (the second post finds the patient of the first: 200)
                assertThat(response.statusCode()).as("%s %s: %s", contentType, reference, response.body()).isIn(200, 201);
            }
        }
    }

    @Test
    void aProfileThatNamesNoStructureDefinition_getsAClearAnswer_notAServerError() throws Exception {
        // HAPI 8.8 made "StructureDefinition/" the bare core prefix and read past its end (a 500)
        var practice = Participants.registerNew(this, "Praxis Profil");
        var patient = Conversations.patient("Profil", "Paula", Conversations.kvnr());
        patient.getMeta().addProfile("StructureDefinition/");
        HttpResponse<String> response = http("POST", "/fhir/Patient", practice.token(), "application/fhir+json",
                FHIR.newJsonParser().encodeResourceToString(patient).getBytes(StandardCharsets.UTF_8));
        assertThat(response.statusCode()).as(response.body()).isEqualTo(422); // a relative canonical URL
        assertThat(codeOf(response)).isEqualTo(ErrorCode.INVALID_RESOURCE);
        assertThat(response.body()).contains("Canonical URLs must be absolute").doesNotContain("Exception");
    }
}
