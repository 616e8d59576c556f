package org.carerelay.gateway.patient;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.catchThrowableOfType;
import static org.awaitility.Awaitility.await;

import ca.uhn.fhir.rest.server.exceptions.BaseServerResponseException;
import jakarta.mail.internet.MimeMessage;
import java.net.http.HttpResponse;
import java.nio.charset.StandardCharsets;
import java.time.Duration;
import java.util.List;
import java.util.UUID;
import org.carerelay.fhir.ErrorCode;
import org.carerelay.fhir.Systems;
import org.carerelay.fhir.hl7.AdtToPatient;
import org.carerelay.gateway.Conversations;
import org.carerelay.gateway.GatewayIntegrationTest;
import org.carerelay.gateway.Mllp;
import org.carerelay.gateway.Participants;
import org.carerelay.gateway.hl7.Hl7InboundIT;
import org.hl7.fhir.r4.model.AuditEvent;
import org.hl7.fhir.r4.model.Bundle;
import org.hl7.fhir.r4.model.Consent;
import org.hl7.fhir.r4.model.Parameters;
import org.hl7.fhir.r4.model.Patient;
import org.hl7.fhir.r4.model.Reference;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;

/**
 * Knowing a patient's identifier (KVNR, MRN) grants nothing and reveals nothing: over FHIR and
 * over HL7. Only the author of a consent changes it; any partner named in it records a revocation.
 */
class PatientClaimIT extends GatewayIntegrationTest {

    static Participants.Registered clinic;
    static Participants.Registered partner;
    static Participants.Registered third;
    static Participants.Registered outsider;
    static Participants.Registered hospital;
    static String clinicAlias;
    static String outsiderAlias;
    static String hospitalAlias;

    @BeforeEach
    void participants() {
        if (clinic == null) {
            clinic = Participants.registerNew(this, "Klinik Anspruch");
            partner = Participants.registerNew(this, "Pflegedienst Anspruch");
            third = Participants.registerNew(this, "Praxis Anspruch");
            outsider = Participants.registerNew(this, "Fremd Anspruch");
            clinicAlias = "KLA" + UUID.randomUUID().toString().substring(0, 6).toUpperCase();
            outsiderAlias = "FRA" + UUID.randomUUID().toString().substring(0, 6).toUpperCase();
            Participants.addHl7Alias(admin(), clinic.organizationId(), clinicAlias);
            Participants.addHl7Alias(admin(), outsider.organizationId(), outsiderAlias);
            hospital = Participants.registerNew(this, "Krankenhaus Anspruch");
            hospitalAlias = "KHA" + UUID.randomUUID().toString().substring(0, 6).toUpperCase();
            Participants.addHl7Alias(admin(), hospital.organizationId(), hospitalAlias);
        }
    }

    private static String email(Participants.Registered org) {
        return "kontakt@" + org.organizationId() + ".example.org";
    }

    private HttpResponse<String> postPatient(Participants.Registered org, Patient patient) throws Exception {
        return http("POST", "/fhir/Patient", org.token(), "application/fhir+json",
                FHIR.newJsonParser().encodeResourceToString(patient).getBytes(StandardCharsets.UTF_8));
    }

    private static Patient body(HttpResponse<String> response) {
        return FHIR.newJsonParser().parseResource(Patient.class, response.body());
    }

    /** The answer with what differs between any two patients (id, time, KVNR) blanked: its shape. */
    private static String shape(HttpResponse<String> response, String kvnr) {
        Patient patient = body(response);
        return response.statusCode() + " " + response.body()
                .replace(patient.getIdElement().getIdPart(), "<id>")
                .replace(kvnr, "<kvnr>")
                .replaceAll("\"lastUpdated\"\\s*:\\s*\"[^\"]+\"", "\"lastUpdated\":\"<t>\"");
    }

    private Consent consentOf(String token, String patientId) {
        return (Consent) client(token).search().forResource(Consent.class).where(Consent.PATIENT.hasId("Patient/" + patientId))
                .returnBundle(Bundle.class).execute().getEntryFirstRep().getResource();
    }

    private List<String> patientIdsByKvnr(Participants.Registered org, String kvnr) {
        return client(org.token()).search().forResource(Patient.class)
                .where(Patient.IDENTIFIER.exactly().systemAndCode(Systems.KVNR, kvnr)).returnBundle(Bundle.class).execute()
                .getEntry().stream().map(e -> e.getResource().getIdElement().getIdPart()).toList();
    }

    private List<AuditEvent> audit(String subtype, String entity) {
        return admin().search().forResource(AuditEvent.class).where(AuditEvent.ENTITY.hasId(entity))
                .returnBundle(Bundle.class).execute().getEntry().stream().map(e -> (AuditEvent) e.getResource())
                .filter(e -> subtype.equals(e.getSubtypeFirstRep().getCode())).toList();
    }

    @Test
    void strangerPostingAKnownKvnr_getsNoAccessAndLearnsNothing() throws Exception {
        String kvnr = Conversations.kvnr();
        Patient real = Conversations.patient("Hofmann", "Hilde", kvnr);
        real.addAddress().addLine("Lindenweg 1").setPostalCode("01067").setCity("Dresden");
        String patientId = Conversations.createPatient(client(clinic.token()), real);
        String consentId = Conversations.uploadConsent(client(clinic.token()), patientId,
                clinic.organizationId(), partner.organizationId());
        String scan = consentOf(clinic.token(), patientId).getSourceAttachment().getUrl();

        // the same request with a known and with an unknown KVNR: same status, same body shape
        String unknownKvnr = Conversations.kvnr();
        HttpResponse<String> known = postPatient(outsider, Conversations.patient("Fremd", "Franz", kvnr));
        HttpResponse<String> unknown = postPatient(outsider, Conversations.patient("Fremd", "Franz", unknownKvnr));
        assertThat(known.statusCode()).isEqualTo(201);
        assertThat(shape(known, kvnr)).isEqualTo(shape(unknown, unknownKvnr));
        assertThat(known.headers().firstValue("Location")).isPresent();
        String ownId = body(known).getIdElement().getIdPart();
        assertThat(ownId).isNotEqualTo(patientId);
        assertThat(body(known).getNameFirstRep().getFamily()).isEqualTo("Fremd");
        assertThat(body(known).hasAddress()).isFalse();

        // a repeat returns the caller's own record, as a repeat by a first creator does
        HttpResponse<String> knownAgain = postPatient(outsider, Conversations.patient("Fremd", "Franz", kvnr));
        HttpResponse<String> unknownAgain = postPatient(outsider, Conversations.patient("Fremd", "Franz", unknownKvnr));
        assertThat(knownAgain.statusCode()).isEqualTo(200);
        assertThat(body(knownAgain).getIdElement().getIdPart()).isEqualTo(ownId);
        assertThat(shape(knownAgain, kvnr)).isEqualTo(shape(unknownAgain, unknownKvnr));
        assertThat(patientIdsByKvnr(outsider, kvnr)).containsExactly(ownId);

        // nothing about the real patient is reachable
        String t = outsider.token();
        assertThat(http("GET", "/fhir/Patient/" + patientId, t, null, null).statusCode()).isEqualTo(404);
        assertThat(http("GET", "/fhir/Patient/" + patientId + "/$consent-template", t, null, null).statusCode()).isEqualTo(404);
        assertThat(http("GET", "/fhir/Consent/" + consentId, t, null, null).statusCode()).isEqualTo(404);
        assertThat(http("GET", "/fhir/" + scan, t, null, null).statusCode()).isEqualTo(404);
        assertThat(http("POST", "/fhir/Consent/" + consentId + "/$revoke", t, "application/fhir+json",
                "{\"resourceType\":\"Parameters\"}".getBytes(StandardCharsets.UTF_8)).statusCode()).isEqualTo(404);
        Consent widened = Conversations.consent(patientId, Conversations.signedScan(), "application/pdf",
                clinic.organizationId(), partner.organizationId(), outsider.organizationId());
        widened.setId(consentId);
        assertThat(http("PUT", "/fhir/Consent/" + consentId, t, "application/fhir+json",
                FHIR.newJsonParser().encodeResourceToString(widened).getBytes(StandardCharsets.UTF_8)).statusCode()).isEqualTo(404);
        BaseServerResponseException send = catchThrowableOfType(BaseServerResponseException.class,
                () -> Conversations.send(client(t), Conversations.message(patientId, "Übernahme", clinic.organizationId())));
        assertThat(send.getStatusCode()).isEqualTo(422);
        assertThat(consentOf(clinic.token(), patientId).getProvision().getActor()).hasSize(2);

        Patient unchanged = client(clinic.token()).read().resource(Patient.class).withId(patientId).execute();
        assertThat(unchanged.getNameFirstRep().getFamily()).isEqualTo("Hofmann");
        assertThat(audit("patient-kvnr-collision", "Patient/" + patientId)).hasSize(1);
    }

    @Test
    void partnerNamedInTheActiveConsent_findsThePatientByKvnr_andJoins() {
        String kvnr = Conversations.kvnr();
        String patientId = Conversations.createPatient(client(clinic.token()), Conversations.patient("Berger", "Anna", kvnr));
        assertThat(patientIdsByKvnr(partner, kvnr)).as("before any consent").isEmpty();
        Conversations.uploadConsent(client(clinic.token()), patientId, clinic.organizationId(), partner.organizationId());

        assertThat(patientIdsByKvnr(partner, kvnr)).containsExactly(patientId);
        assertThat(patientIdsByKvnr(third, kvnr)).isEmpty();
        assertThat(client(partner.token()).read().resource(Patient.class).withId(patientId).execute()
                .getNameFirstRep().getFamily()).isEqualTo("Berger");
        Conversations.send(client(partner.token()), Conversations.message(patientId, "Übernahme der Pflege", clinic.organizationId()));
        assertThat(audit("patient-join-by-consent", "Patient/" + patientId)).hasSize(1);
    }

    @Test
    void consentChange_byAPartnerWhoIsNotTheAuthor_isRefused_andWideningNeedsANewlySignedDocument() {
        String kvnr = Conversations.kvnr();
        String patientId = Conversations.createPatient(client(clinic.token()), Conversations.patient("Krause", "Erna", kvnr));
        String consentId = Conversations.uploadConsent(client(clinic.token()), patientId, clinic.organizationId(), partner.organizationId());
        assertThat(patientIdsByKvnr(partner, kvnr)).containsExactly(patientId);

        // a partner (not the author) may neither widen nor upload a replacing version
        Consent byPartner = Conversations.consent(patientId, Conversations.signedScan(), "application/pdf",
                clinic.organizationId(), partner.organizationId(), outsider.organizationId());
        byPartner.setId(consentId);
        BaseServerResponseException put = catchThrowableOfType(BaseServerResponseException.class,
                () -> client(partner.token()).update().resource(byPartner).execute());
        assertThat(errorCodeOf(put)).isEqualTo(ErrorCode.CONSENT_NOT_AUTHOR);
        byPartner.setId((String) null);
        BaseServerResponseException post = catchThrowableOfType(BaseServerResponseException.class,
                () -> client(partner.token()).create().resource(byPartner).execute());
        assertThat(errorCodeOf(post)).isEqualTo(ErrorCode.CONSENT_NOT_AUTHOR);

        // the author widening with the old document: refused
        Consent current = consentOf(clinic.token(), patientId);
        current.getProvision().addActor().setReference(new Reference("Organization/" + third.organizationId())).getRole()
                .addCoding().setSystem("http://terminology.hl7.org/CodeSystem/v3-ParticipationType").setCode("IRCP");
        BaseServerResponseException oldDocument = catchThrowableOfType(BaseServerResponseException.class,
                () -> client(clinic.token()).update().resource(current).execute());
        assertThat(errorCodeOf(oldDocument)).isEqualTo(ErrorCode.CONSENT_NEW_DOCUMENT_REQUIRED);
        assertThat(patientIdsByKvnr(third, kvnr)).isEmpty();

        // with a newly signed document: accepted, and every partner is told (without patient data)
        Consent resigned = Conversations.consent(patientId, Conversations.signedScan(), "application/pdf",
                clinic.organizationId(), partner.organizationId(), third.organizationId());
        resigned.setId(consentId);
        client(clinic.token()).update().resource(resigned).execute();
        assertThat(patientIdsByKvnr(third, kvnr)).containsExactly(patientId);
        for (Participants.Registered org : List.of(partner, third)) {
            MimeMessage mail = awaitMail(org, "geändert", consentId);
            assertThat(Participants.allText(mail)).contains("Consent/" + consentId)
                    .doesNotContain("Krause").doesNotContain("Erna").doesNotContain(kvnr).doesNotContain("1941");
        }
        assertThat(audit("consent-change-refused", "Consent/" + consentId)).hasSizeGreaterThanOrEqualTo(3);
    }

    @Test
    void revocationByAnOrganisationOutsideTheConsent_isRefused_butAnyPartnerRecordsIt_andEveryPartnerIsMailed() throws Exception {
        String kvnr = Conversations.kvnr();
        String patientId = Conversations.createPatient(client(clinic.token()), Conversations.patient("Wagner", "Helga", kvnr));
        String consentId = Conversations.uploadConsent(client(clinic.token()), patientId,
                clinic.organizationId(), partner.organizationId(), third.organizationId());
        assertThat(patientIdsByKvnr(partner, kvnr)).containsExactly(patientId);
        assertThat(patientIdsByKvnr(third, kvnr)).containsExactly(patientId);

        // the partner writes about the patient: as a conversation participant it keeps seeing it
        Conversations.send(client(partner.token()), Conversations.message(patientId, "Pflegebericht", clinic.organizationId()));

        // the author narrows the partners, keeping the signed document: allowed
        Consent narrowed = consentOf(clinic.token(), patientId);
        narrowed.getProvision().getActor().removeIf(a -> a.getReference().getReference().endsWith(partner.organizationId()));
        client(clinic.token()).update().resource(narrowed).execute();

        // the former partner still sees the patient (its conversation), but may not revoke
        BaseServerResponseException refused = catchThrowableOfType(BaseServerResponseException.class,
                () -> client(partner.token()).operation().onInstance("Consent/" + consentId).named("$revoke")
                        .withNoParameters(Parameters.class).returnResourceType(Consent.class).execute());
        assertThat(errorCodeOf(refused)).isEqualTo(ErrorCode.CONSENT_NOT_AUTHOR);
        assertThat(consentOf(clinic.token(), patientId).getStatus()).isEqualTo(Consent.ConsentState.ACTIVE);

        Consent revoked = client(third.token()).operation().onInstance("Consent/" + consentId).named("$revoke")
                .withNoParameters(Parameters.class).returnResourceType(Consent.class).execute();
        assertThat(revoked.getStatus()).isEqualTo(Consent.ConsentState.INACTIVE);
        for (Participants.Registered org : List.of(clinic, third)) {
            MimeMessage mail = awaitMail(org, "widerrufen", consentId);
            assertThat(Participants.allText(mail)).contains("Consent/" + consentId)
                    .doesNotContain("Wagner").doesNotContain("Helga").doesNotContain(kvnr).doesNotContain("1941");
        }
        assertThat(audit("consent-revoke-refused", "Consent/" + consentId)).hasSize(1);
        assertThat(audit("consent-revoked", "Consent/" + consentId)).hasSize(1);
    }

    private static MimeMessage awaitMail(Participants.Registered org, String subjectWord, String consentId) {
        return await().atMost(Duration.ofSeconds(30)).until(() -> mailsTo(email(org)).stream().filter(m -> {
            try {
                return m.getSubject().contains(subjectWord) && Participants.allText(m).contains("Consent/" + consentId);
            } catch (Exception e) {
                return false;
            }
        }).findFirst().orElse(null), java.util.Objects::nonNull);
    }

    // --- HL7: identifiers other than the KVNR belong to the organisation that assigned them

    private static String adt(String sender, String event, String controlId, String pid) {
        return Hl7InboundIT.msh(sender, "CARERELAY", "ADT^" + event + "^ADT_A01", controlId, "2.5", "8859/1")
                + "EVN|" + event + "|20261128120000\r" + pid + "PV1|1|O\r";
    }

    @Test
    void hl7SenderRepeatingAnotherOrganisationsMrnAndKvnr_getsNoAccess_andThePatientStaysUnchanged() throws Exception {
        String kvnr = Conversations.kvnr();
        String mrn = "M" + UUID.randomUUID().toString().substring(0, 8);
        String ackK = Hl7InboundIT.send(adt(clinicAlias, "A01", "K" + mrn,
                "PID|1||" + kvnr + "^^^KVNR^KVNR~" + mrn + "^^^KLINIKUM^PI||Hofmann^Hilde||19410317|F|||Lindenweg 1^^Dresden^^01067^DEU\r"),
                Hl7InboundIT.LATIN1);
        assertThat(Mllp.field(ackK, "MSA", 1)).isEqualTo("AA");
        String patientId = Conversations.patientIdByKvnr(client(clinic.token()), kvnr);

        String ackR = Hl7InboundIT.send(adt(outsiderAlias, "A08", "R" + mrn,
                "PID|1||" + kvnr + "^^^KVNR^KVNR~" + mrn + "^^^KLINIKUM^PI||Angreifer^Anton||19410317|F|||Fremdweg 9^^Berlin^^10115^DEU\r"),
                Hl7InboundIT.LATIN1);
        assertThat(Mllp.field(ackR, "MSA", 1)).isEqualTo("AA");
        String ackMrnOnly = Hl7InboundIT.send(adt(outsiderAlias, "A08", "RM" + mrn,
                "PID|1||" + mrn + "^^^KLINIKUM^PI||Angreifer^Anton||19410317|F|||Fremdweg 9^^Berlin^^10115^DEU\r"),
                Hl7InboundIT.LATIN1);
        assertThat(Mllp.field(ackMrnOnly, "MSA", 1)).isEqualTo("AA");

        assertThat(http("GET", "/fhir/Patient/" + patientId, outsider.token(), null, null).statusCode()).isEqualTo(404);
        assertThat(patientIdsByKvnr(outsider, kvnr)).hasSize(1).doesNotContain(patientId);
        assertThat(client(outsider.token()).search().byUrl("Patient?identifier=" + mrn).returnBundle(Bundle.class).execute()
                .getEntry()).noneMatch(e -> e.getResource().getIdElement().getIdPart().equals(patientId));
        Patient unchanged = client(clinic.token()).read().resource(Patient.class).withId(patientId).execute();
        assertThat(unchanged.getNameFirstRep().getFamily()).isEqualTo("Hofmann");
        assertThat(unchanged.getAddressFirstRep().getCity()).isEqualTo("Dresden");
        assertThat(unchanged.getIdentifier()).hasSize(2);

        // the organisation that assigned the MRN still reaches its patient by it alone
        String ackOwn = Hl7InboundIT.send(adt(clinicAlias, "A08", "K2" + mrn,
                "PID|1||" + mrn + "^^^KLINIKUM^PI||Hofmann^Hildegard||19410317|F\r"), Hl7InboundIT.LATIN1);
        assertThat(Mllp.field(ackOwn, "MSA", 1)).isEqualTo("AA");
        assertThat(client(clinic.token()).read().resource(Patient.class).withId(patientId).execute()
                .getNameFirstRep().getGivenAsSingleString()).isEqualTo("Hildegard");
    }

    private Patient byIdentifierValue(Participants.Registered org, String value, String family) {
        return client(org.token()).search().byUrl("Patient?identifier=" + value).returnBundle(Bundle.class).execute()
                .getEntry().stream().map(e -> (Patient) e.getResource())
                .filter(p -> family.equals(p.getNameFirstRep().getFamily())).findFirst().orElseThrow();
    }

    @Test
    void squatterWithAFakeConsentNamingTheHospital_getsNoDemographicsFromTheHospitalsAdt() throws Exception {
        // the squatter registers an unknown KVNR first and names the hospital in a consent it signed itself
        String kvnr = Conversations.kvnr();
        String squatId = Conversations.createPatient(client(outsider.token()), Conversations.patient("Platzhalter", "Paul", kvnr));
        Conversations.uploadConsent(client(outsider.token()), squatId, outsider.organizationId(), hospital.organizationId());

        String mrn = "H" + UUID.randomUUID().toString().substring(0, 8);
        String ack = Hl7InboundIT.send(adt(hospitalAlias, "A08", "S" + mrn, "PID|1||" + kvnr + "^^^KVNR^KVNR~" + mrn
                + "^^^HAUS^PI||Echtwein^Erika||19400101|F|||Rosenweg 3^^Leipzig^^04109^DEU||0341123456\r"), Hl7InboundIT.LATIN1);
        assertThat(Mllp.field(ack, "MSA", 1)).isEqualTo("AA");

        Patient squatted = client(outsider.token()).read().resource(Patient.class).withId(squatId).execute();
        assertThat(squatted.getNameFirstRep().getFamily()).isEqualTo("Platzhalter");
        assertThat(squatted.hasBirthDate() && squatted.getBirthDateElement().getValueAsString().equals("1940-01-01")).isFalse();
        assertThat(squatted.hasAddress()).isFalse();
        assertThat(squatted.hasTelecom()).isFalse();
        assertThat(patientIdsByKvnr(outsider, kvnr)).containsExactly(squatId);
        String hospitalId = byIdentifierValue(hospital, mrn, "Echtwein").getIdElement().getIdPart();
        assertThat(hospitalId).isNotEqualTo(squatId);

        // the hospital's real partner joins the hospital's record by KVNR, not the squatter's
        Conversations.uploadConsent(client(hospital.token()), hospitalId, hospital.organizationId(), partner.organizationId());
        assertThat(patientIdsByKvnr(partner, kvnr)).containsExactly(hospitalId);

        // even after the hospital itself searched the KVNR (and so joined the squatter's record),
        // its ADT keeps updating its own record
        assertThat(patientIdsByKvnr(hospital, kvnr)).containsExactlyInAnyOrder(hospitalId, squatId);
        ack = Hl7InboundIT.send(adt(hospitalAlias, "A08", "T" + mrn, "PID|1||" + kvnr + "^^^KVNR^KVNR~" + mrn
                + "^^^HAUS^PI||Echtwein^Erika||19400101|F|||Birkenweg 7^^Leipzig^^04109^DEU\r"), Hl7InboundIT.LATIN1);
        assertThat(Mllp.field(ack, "MSA", 1)).isEqualTo("AA");
        assertThat(client(outsider.token()).read().resource(Patient.class).withId(squatId).execute().hasAddress()).isFalse();
        assertThat(client(hospital.token()).read().resource(Patient.class).withId(hospitalId).execute()
                .getAddressFirstRep().getLine().get(0).getValue()).isEqualTo("Birkenweg 7");
    }

    @Test
    void mrnPlantedByAPartner_neverBecomesTheHospitalsOwnLookup() throws Exception {
        String kvnr = Conversations.kvnr();
        String patientId = Conversations.createPatient(client(clinic.token()), Conversations.patient("Richter", "Rita", kvnr));
        Conversations.uploadConsent(client(clinic.token()), patientId, clinic.organizationId(), hospital.organizationId());
        assertThat(patientIdsByKvnr(hospital, kvnr)).containsExactly(patientId);

        // the clinic adds what looks like the hospital's MRN; the hospital then updates the patient
        String mrn = "P" + UUID.randomUUID().toString().substring(0, 8);
        Patient planted = client(clinic.token()).read().resource(Patient.class).withId(patientId).execute();
        planted.addIdentifier().setSystem(AdtToPatient.AUTHORITY_SYSTEM_PREFIX + "KLINIKUM").setValue(mrn);
        client(clinic.token()).update().resource(planted).execute();
        Patient echoed = client(hospital.token()).read().resource(Patient.class).withId(patientId).execute();
        assertThat(echoed.getIdentifier()).hasSize(2);
        echoed.addTelecom().setSystem(org.hl7.fhir.r4.model.ContactPoint.ContactPointSystem.PHONE).setValue("0351 4711");
        client(hospital.token()).update().resource(echoed).execute();

        // the hospital's ADT for another patient with that MRN (no KVNR) is that other patient
        String ack = Hl7InboundIT.send(adt(hospitalAlias, "A08", "Q" + mrn,
                "PID|1||" + mrn + "^^^KLINIKUM^PI||Quelle^Quentin||19500505|M|||Fremdweg 9^^Berlin^^10115^DEU\r"), Hl7InboundIT.LATIN1);
        assertThat(Mllp.field(ack, "MSA", 1)).isEqualTo("AA");
        Patient unchanged = client(clinic.token()).read().resource(Patient.class).withId(patientId).execute();
        assertThat(unchanged.getNameFirstRep().getFamily()).isEqualTo("Richter");
        assertThat(unchanged.hasAddress()).isFalse();
        String otherId = byIdentifierValue(hospital, mrn, "Quelle").getIdElement().getIdPart();
        assertThat(otherId).isNotEqualTo(patientId);

        // from now on that MRN is the hospital's own lookup for the other patient
        ack = Hl7InboundIT.send(adt(hospitalAlias, "A08", "Q2" + mrn,
                "PID|1||" + mrn + "^^^KLINIKUM^PI||Quelle^Quirin||19500505|M\r"), Hl7InboundIT.LATIN1);
        assertThat(Mllp.field(ack, "MSA", 1)).isEqualTo("AA");
        assertThat(client(hospital.token()).read().resource(Patient.class).withId(otherId).execute()
                .getNameFirstRep().getGivenAsSingleString()).isEqualTo("Quirin");
        assertThat(client(clinic.token()).read().resource(Patient.class).withId(patientId).execute()
                .getNameFirstRep().getGivenAsSingleString()).isEqualTo("Rita");
    }
}
