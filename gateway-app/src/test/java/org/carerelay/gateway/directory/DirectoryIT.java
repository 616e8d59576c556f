package org.carerelay.gateway.directory;

import static org.assertj.core.api.Assertions.assertThat;

import java.net.http.HttpResponse;
import java.nio.charset.StandardCharsets;
import java.util.List;
import org.carerelay.fhir.ErrorCode;
import org.carerelay.fhir.OperationOutcomes;
import org.carerelay.fhir.Systems;
import org.carerelay.gateway.GatewayIntegrationTest;
import org.carerelay.gateway.Participants;
import org.hl7.fhir.r4.model.BooleanType;
import org.hl7.fhir.r4.model.Bundle;
import org.hl7.fhir.r4.model.Endpoint;
import org.hl7.fhir.r4.model.OperationOutcome;
import org.hl7.fhir.r4.model.Organization;
import org.hl7.fhir.r4.model.Parameters;
import org.junit.jupiter.api.Test;

class DirectoryIT extends GatewayIntegrationTest {

    private static String ik() {
        // a random IK number with a valid check digit
        return org.carerelay.fhir.GermanIdentifiers.withIknrCheckDigit(String.valueOf(10_000_000 + (long) (Math.random() * 89_999_999L)));
    }

    private HttpResponse<String> importCsv(String csv) throws Exception {
        return http("POST", "/fhir/Organization/$import", ADMIN_TOKEN, "text/csv; charset=utf-8",
                csv.getBytes(StandardCharsets.UTF_8));
    }

    private List<Organization> search(String token, String query) {
        Bundle bundle = client(token).search().byUrl("Organization?" + query).returnBundle(Bundle.class).execute();
        return bundle.getEntry().stream().map(e -> (Organization) e.getResource()).toList();
    }

    @Test
    void csvImport_thenParticipantSearchesByNameTypeCityPostalCodeIdentifierAndRegistered() throws Exception {
        String town = unique("Prüfstadt");
        String ik1 = ik();
        String ik2 = ik();
        String csv = "id,name,type,iknr,street,postal_code,city,fax,email,endpoint_type,endpoint_address\n"
                + unique("klinik") + ",\"Klinikum " + town + ", Haus A\",hospital," + ik1 + ",Hauptstraße 1,01067," + town
                + ",+49 351 5550000,info@klinikum.example.org,hl7-fhir-rest,https://fhir.klinikum.example.org/fhir\n"
                + ",Pflegedienst " + town + ",ambulatory-care," + ik2 + ",Nebenweg 2,01069," + town + ",,pflege@example.net,,\n";
        HttpResponse<String> response = importCsv(csv);
        assertThat(response.statusCode()).isEqualTo(200);
        Parameters result = FHIR.newJsonParser().parseResource(Parameters.class, response.body());
        assertThat(result.getParameter("created").getValue().primitiveValue()).isEqualTo("2");

        Participants.Registered reader = Participants.registerNew(this, "Praxis Suche");
        String token = reader.token();

        assertThat(search(token, "name=" + town)).hasSize(2);
        assertThat(search(token, "name=" + town + "&type=hospital")).singleElement()
                .satisfies(o -> assertThat(o.getName()).contains("Haus A"));
        assertThat(search(token, "address-city=" + town + "&address-postalcode=01069")).singleElement()
                .satisfies(o -> assertThat(o.getName()).startsWith("Pflegedienst"));
        assertThat(search(token, "identifier=" + Systems.IKNR + "|" + ik1)).hasSize(1);
        assertThat(search(token, "identifier=" + ik2)).hasSize(1);
        assertThat(search(token, "name=" + town + "&registered=true")).isEmpty();
        List<Organization> unregistered = search(token, "name=" + town + "&registered=false");
        assertThat(unregistered).hasSize(2).allSatisfy(o ->
                assertThat(((BooleanType) o.getExtensionByUrl(Systems.EXT_REGISTERED).getValue()).booleanValue()).isFalse());
        assertThat(search(token, "_id=" + reader.organizationId() + "&registered=true")).hasSize(1);

        Organization klinik = search(token, "name=" + town + "&type=hospital").get(0);
        assertThat(klinik.getEndpoint()).hasSize(1);
        Endpoint endpoint = client(token).read().resource(Endpoint.class)
                .withId(klinik.getEndpointFirstRep().getReferenceElement().getIdPart()).execute();
        assertThat(endpoint.getConnectionType().getCode()).isEqualTo("hl7-fhir-rest");
        assertThat(endpoint.getAddress()).isEqualTo("https://fhir.klinikum.example.org/fhir");
    }

    @Test
    void csvImportWithMalformedRow_isReportedWithLineNumber_andNothingIsImported() throws Exception {
        String town = unique("Fehlerstadt");
        String csv = "name,type,iknr,city,fax\n"
                + "Praxis Eins " + town + ",physician-practice," + ik() + "," + town + ",+49 30 5551111\n"
                + "Praxis Zwei " + town + ",physician-practice,12345," + town + ",+49 30 5552222\n"
                + "Praxis Drei " + town + ",physician-practice," + ik() + "," + town + ",+49 30 5553333\n";
        HttpResponse<String> response = importCsv(csv);
        assertThat(response.statusCode()).isEqualTo(422);
        OperationOutcome oo = FHIR.newJsonParser().parseResource(OperationOutcome.class, response.body());
        assertThat(OperationOutcomes.codeOf(oo)).isEqualTo(ErrorCode.CSV_INVALID);
        assertThat(response.body()).contains("line 3").contains("iknr");
        assertThat(search(ADMIN_TOKEN, "address-city=" + town)).isEmpty();
    }

    @Test
    void csvImportConflictingWithStoredEntry_rollsBackTheWholeFile() throws Exception {
        String ik = ik();
        String town = unique("Konfliktstadt");
        assertThat(importCsv("name,type,iknr\nBestand " + town + ",care-home," + ik + "\n").statusCode()).isEqualTo(200);
        String csv = "id,name,type,iknr,city\n"
                + unique("neu") + ",Neu " + town + ",care-home," + ik() + "," + town + "\n"
                + unique("dup") + ",Doppelt " + town + ",care-home," + ik + "," + town + "\n";
        HttpResponse<String> response = importCsv(csv);
        assertThat(response.statusCode()).isEqualTo(422);
        assertThat(response.body()).contains("line 3");
        assertThat(search(ADMIN_TOKEN, "address-city=" + town)).isEmpty();
    }

    @Test
    void csvImport_byParticipant_isForbidden() throws Exception {
        Participants.Registered p = Participants.registerNew(this, "Praxis Import");
        HttpResponse<String> response = http("POST", "/fhir/Organization/$import", p.token(), "text/csv",
                "name,type\nX,other\n".getBytes(StandardCharsets.UTF_8));
        assertThat(response.statusCode()).isEqualTo(403);
    }

    @Test
    void operatorUpdatesAndDeactivatesEntries() {
        String id = Participants.create(admin(), Participants.newOrganization(unique("Praxis Wandel"), "+49 30 5554444", null));
        Organization org = admin().read().resource(Organization.class).withId(id).execute();
        org.setName(org.getName() + " (neu)");
        admin().update().resource(org).execute();
        assertThat(admin().read().resource(Organization.class).withId(id).execute().getName()).endsWith("(neu)");

        admin().delete().resourceById("Organization", id).execute();
        Organization deactivated = admin().read().resource(Organization.class).withId(id).execute();
        assertThat(deactivated.getActive()).isFalse();
        assertThat(deactivated.getMeta().getVersionId()).isEqualTo("3");
    }

    @Test
    void registeredParticipant_managesItsOwnEndpointOnly() {
        Participants.Registered p = Participants.registerNew(this, "Pflegedienst Endpunkt");
        Participants.Registered other = Participants.registerNew(this, "Pflegedienst Andere");
        Endpoint endpoint = new Endpoint();
        endpoint.setStatus(Endpoint.EndpointStatus.ACTIVE);
        endpoint.getConnectionType().setSystem(Systems.ENDPOINT_CONNECTION_TYPE).setCode("hl7v2-mllp");
        endpoint.addPayloadType().addCoding().setSystem(Systems.ENDPOINT_PAYLOAD_TYPE).setCode("any");
        endpoint.setAddress("mllp://127.0.0.1:2576");
        endpoint.getManagingOrganization().setReference("Organization/" + p.organizationId());
        String endpointId = client(p.token()).create().resource(endpoint).execute().getId().getIdPart();

        Organization self = client(p.token()).read().resource(Organization.class).withId(p.organizationId()).execute();
        assertThat(self.getEndpoint()).extracting(r -> r.getReferenceElement().getIdPart()).contains(endpointId);

        endpoint.getManagingOrganization().setReference("Organization/" + other.organizationId());
        var e = org.assertj.core.api.Assertions.catchThrowableOfType(
                ca.uhn.fhir.rest.server.exceptions.BaseServerResponseException.class,
                () -> client(p.token()).create().resource(endpoint).execute());
        assertThat(e.getStatusCode()).isEqualTo(403);
    }
}
