package org.carerelay.gateway.fhir;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.catchThrowableOfType;

import ca.uhn.fhir.rest.client.api.IGenericClient;
import ca.uhn.fhir.rest.server.exceptions.BaseServerResponseException;
import java.io.IOException;
import java.io.InputStream;
import java.nio.charset.StandardCharsets;
import java.util.List;
import java.util.UUID;
import org.carerelay.fhir.ErrorCode;
import org.carerelay.fhir.GermanIdentifiers;
import org.carerelay.fhir.OperationOutcomes;
import org.carerelay.fhir.OrganizationType;
import org.carerelay.fhir.Systems;
import org.carerelay.gateway.Conversations;
import org.carerelay.gateway.GatewayIntegrationTest;
import org.carerelay.gateway.Mllp;
import org.carerelay.gateway.Participants;
import org.carerelay.gateway.hl7.Hl7InboundIT;
import org.hl7.fhir.instance.model.api.IBaseResource;
import org.hl7.fhir.r4.model.Identifier;
import org.hl7.fhir.r4.model.OperationOutcome;
import org.hl7.fhir.r4.model.Organization;
import org.hl7.fhir.r4.model.Patient;
import org.hl7.fhir.r4.model.Practitioner;
import org.hl7.fhir.r4.model.Reference;
import org.junit.jupiter.api.Test;

/**
 * German material as a hospital information system sends it. The fixtures in
 * {@code src/test/resources/r4/isik/} follow the examples of the ISiK Basismodul (gematik) and the
 * German base profiles (de.basisprofil): a hospital with IK number, BSNR and Telematik-ID typed
 * with HL7 {@code prov} and the IHE-D facility type {@code KHS}; one of its departments typed
 * {@code dept} with the extended department key of the German Hospital Federation; a practitioner
 * known only by the LANR; a patient with the KVNR ({@code http://fhir.de/sid/gkv/kvid-10}).
 */
class GermanBaseProfilesIT extends GatewayIntegrationTest {

    private static <T extends IBaseResource> T fixture(Class<T> type, String name) {
        try (InputStream in = GermanBaseProfilesIT.class.getResourceAsStream("/r4/isik/" + name)) {
            T resource = FHIR.newJsonParser().parseResource(type, new String(in.readAllBytes(), StandardCharsets.UTF_8));
            resource.setId((String) null);
            return resource;
        } catch (IOException e) {
            throw new IllegalStateException(e);
        }
    }

    private static ErrorCode refusal(Runnable call, int status) {
        BaseServerResponseException e = catchThrowableOfType(BaseServerResponseException.class, call::run);
        assertThat(e).as("refused").isNotNull();
        assertThat(e.getStatusCode()).isEqualTo(status);
        return OperationOutcomes.codeOf((OperationOutcome) e.getOperationOutcome());
    }

    private static List<String> codings(Organization org) {
        return org.getType().stream().flatMap(t -> t.getCoding().stream()).map(c -> c.getSystem() + "|" + c.getCode()).toList();
    }

    @Test
    void isikHospitalAndDepartment_areAccepted_keepTheirTypes_andGetACareRelayType() {
        IGenericClient admin = admin();
        Organization hospital = fixture(Organization.class, "Organization-KrankenhausOrganisationBeispiel.json");
        String hospitalId = admin.create().resource(hospital).execute().getId().getIdPart();

        Organization stored = admin.read().resource(Organization.class).withId(hospitalId).execute();
        assertThat(codings(stored)).contains("http://terminology.hl7.org/CodeSystem/organization-type|prov",
                "http://ihe-d.de/CodeSystems/PatientBezogenenGesundheitsversorgung|KHS");
        assertThat(OrganizationType.of(stored)).contains(OrganizationType.HOSPITAL);
        assertThat(stored.getIdentifier()).extracting(Identifier::getValue).contains("260120196", "345678975");

        Organization department = fixture(Organization.class, "Organization-AbteilungAllgemeinchirurgieOrganisationBeispiel.json");
        department.setPartOf(new Reference("Organization/" + hospitalId));
        String departmentId = admin.create().resource(department).execute().getId().getIdPart();
        Organization storedDepartment = admin.read().resource(Organization.class).withId(departmentId).execute();
        assertThat(codings(storedDepartment)).contains("http://terminology.hl7.org/CodeSystem/organization-type|dept",
                "http://fhir.de/CodeSystem/dkgev/Fachabteilungsschluessel-erweitert|1500");
        assertThat(OrganizationType.of(storedDepartment)).contains(OrganizationType.HOSPITAL);

        // the directory search by the CareRelay type finds both
        assertThat(admin.search().byUrl("Organization?type=hospital&name=Uniklinik%20Entenhausen")
                .returnBundle(org.hl7.fhir.r4.model.Bundle.class).execute().getEntry()).hasSize(1);
    }

    @Test
    void organizationWithoutAnyType_isAcceptedAsOther() {
        Organization plain = new Organization().setName(unique("Sanitätshaus ohne Typ"));
        String id = admin().create().resource(plain).execute().getId().getIdPart();
        assertThat(OrganizationType.of(admin().read().resource(Organization.class).withId(id).execute()))
                .contains(OrganizationType.OTHER);
    }

    @Test
    void ikNumberWithAWrongCheckDigit_isRefusedWithIdentifierInvalid() {
        Organization typo = new Organization().setName(unique("Klinik mit Zahlendreher"));
        typo.addIdentifier().setSystem(Systems.IKNR).setValue("260120169"); // 260120196 with the last two digits swapped
        assertThat(refusal(() -> admin().create().resource(typo).execute(), 422)).isEqualTo(ErrorCode.IDENTIFIER_INVALID);

        Organization valid = new Organization().setName(unique("Klinik richtig"));
        String ik = GermanIdentifiers.withIknrCheckDigit("26" + String.format("%06d", (long) (Math.random() * 1_000_000)));
        valid.addIdentifier().setSystem(Systems.IKNR).setValue(ik);
        assertThat(admin().create().resource(valid).execute().getCreated()).isTrue();
    }

    @Test
    void practitionerWithLanrAndNoName_isAccepted_butAWrongLanrOrNoIdentityAtAllIsRefused() {
        Practitioner lanrOnly = fixture(Practitioner.class, "Practitioner-PractitionerLanrOhneName.json");
        String id = admin().create().resource(lanrOnly).execute().getId().getIdPart();
        Practitioner stored = admin().read().resource(Practitioner.class).withId(id).execute();
        assertThat(stored.hasName()).isFalse();
        assertThat(stored.getIdentifierFirstRep().getValue()).isEqualTo("123456601");

        Practitioner wrongLanr = fixture(Practitioner.class, "Practitioner-PractitionerLanrOhneName.json");
        wrongLanr.getIdentifierFirstRep().setValue("123456701");
        assertThat(refusal(() -> admin().create().resource(wrongLanr).execute(), 422)).isEqualTo(ErrorCode.IDENTIFIER_INVALID);

        Practitioner nobody = new Practitioner().setActive(true);
        assertThat(refusal(() -> admin().create().resource(nobody).execute(), 422)).isEqualTo(ErrorCode.INVALID_RESOURCE);
    }

    @Test
    void isikPatientWithKvnr_isAccepted_andAKvnrWithAWrongCheckDigitIsRefused() {
        Participants.Registered clinic = Participants.registerNew(this, "Klinik ISiK");
        IGenericClient client = client(clinic.token());
        Patient erika = fixture(Patient.class, "Patient-PatientinMusterfrau.json");
        String id = client.create().resource(erika).execute().getId().getIdPart();
        Patient stored = client.read().resource(Patient.class).withId(id).execute();
        assertThat(stored.getIdentifier()).anyMatch(i -> Systems.KVNR.equals(i.getSystem()) && "A123456780".equals(i.getValue()));

        Patient typo = fixture(Patient.class, "Patient-PatientinMusterfrau.json");
        typo.getIdentifierFirstRep().setValue("A123456789");
        assertThat(refusal(() -> client.create().resource(typo).execute(), 422)).isEqualTo(ErrorCode.IDENTIFIER_INVALID);
    }

    @org.springframework.beans.factory.annotation.Autowired
    private org.springframework.jdbc.core.simple.JdbcClient jdbc;

    @org.springframework.beans.factory.annotation.Autowired
    private org.carerelay.gateway.patient.PatientIndex patientIndex;

    private static String withWrongCheckDigit(String kvnr) {
        int last = kvnr.charAt(9) - '0';
        return kvnr.substring(0, 9) + (last + 1) % 10;
    }

    @Test
    void conditionalCreateNamingAKvnrWithAWrongCheckDigit_isRefused_evenWhenTheBodyHasNoKvnr() {
        Participants.Registered clinic = Participants.registerNew(this, "Klinik Bedingt");
        IGenericClient client = client(clinic.token());
        String wrong = withWrongCheckDigit(Conversations.kvnr());
        Patient withoutKvnr = Conversations.patient("Ohnenummer", "Olga", null);
        withoutKvnr.getIdentifier().clear();

        assertThat(refusal(() -> client.create().resource(withoutKvnr)
                .conditionalByUrl("Patient?identifier=" + Systems.KVNR + "|" + wrong).execute(), 422))
                .isEqualTo(ErrorCode.IDENTIFIER_INVALID);
        assertThat(client.search().forResource(Patient.class)
                .where(Patient.IDENTIFIER.exactly().systemAndCode(Systems.KVNR, wrong))
                .returnBundle(org.hl7.fhir.r4.model.Bundle.class).execute().getEntry()).isEmpty();
    }

    @Test
    void patientStoredWithAKvnrFromBeforeTheCheckDigitRule_isStillFoundByCreate_butAStrangerGetsNothing() {
        Participants.Registered clinic = Participants.registerNew(this, "Klinik Altbestand");
        IGenericClient client = client(clinic.token());
        String valid = Conversations.kvnr();
        String id = client.create().resource(Conversations.patient("Altmann", "Anna", valid)).execute().getId().getIdPart();
        // the number the entry was stored under before check digits were checked
        String old = withWrongCheckDigit(valid);
        jdbc.sql("insert into patient_kvnr (kvnr, patient_id) values (?, ?)").params(patientIndex.kvnr(old), id).update();

        ca.uhn.fhir.rest.api.MethodOutcome found = client.create().resource(Conversations.patient("Altmann", "Anna", old))
                .conditionalByUrl("Patient?identifier=" + Systems.KVNR + "|" + old).execute();
        assertThat(found.getId().getIdPart()).isEqualTo(id);
        assertThat(found.getCreated()).isNotEqualTo(Boolean.TRUE);

        // an organisation that may not see that entry gets no record of its own with a wrong number, and learns nothing
        Participants.Registered stranger = Participants.registerNew(this, "Praxis Fremd");
        assertThat(refusal(() -> client(stranger.token()).create().resource(Conversations.patient("Altmann", "Anna", old))
                .execute(), 422)).isEqualTo(ErrorCode.IDENTIFIER_INVALID);
    }

    @Test
    void adtWithAKvnrWithAWrongCheckDigit_getsAEWithIdentifierInvalid_andNoPatient() throws Exception {
        Participants.Registered care = Participants.registerNew(this, "Pflegedienst Prüfziffer");
        String alias = "PZ" + UUID.randomUUID().toString().substring(0, 6).toUpperCase();
        Participants.addHl7Alias(admin(), care.organizationId(), alias);
        String valid = Conversations.kvnr();
        String wrong = valid.substring(0, 9) + (char) ('0' + (valid.charAt(9) - '0' + 1) % 10);
        String controlId = "K" + UUID.randomUUID().toString().substring(0, 8);

        String ack = Hl7InboundIT.send(Hl7InboundIT.adt(alias, controlId, wrong), Hl7InboundIT.LATIN1);

        assertThat(Mllp.field(ack, "MSA", 1)).as(ack).isEqualTo("AE");
        assertThat(Mllp.field(ack, "ERR", 5)).startsWith("identifier-invalid^");
        assertThat(client(care.token()).search().forResource(Patient.class)
                .where(Patient.IDENTIFIER.exactly().systemAndCode(Systems.KVNR, wrong))
                .returnBundle(org.hl7.fhir.r4.model.Bundle.class).execute().getEntry()).isEmpty();

        String accepted = Hl7InboundIT.send(Hl7InboundIT.adt(alias, controlId + "V", valid), Hl7InboundIT.LATIN1);
        assertThat(Mllp.field(accepted, "MSA", 1)).as(accepted).isEqualTo("AA");
    }
}
