package org.carerelay.gateway;

import ca.uhn.fhir.rest.client.api.IGenericClient;
import java.util.Date;
import java.util.List;
import org.carerelay.fhir.Systems;
import org.carerelay.routes.letter.LetterPdf;
import org.hl7.fhir.r4.model.Communication;
import org.hl7.fhir.r4.model.Consent;
import org.hl7.fhir.r4.model.Enumerations.AdministrativeGender;
import org.hl7.fhir.r4.model.Patient;
import org.hl7.fhir.r4.model.Reference;
import org.hl7.fhir.r4.model.StringType;

/** Fixtures for conversations: patients, signed consents, messages — through the public API. */
final class Conversations {

    private Conversations() {
    }

    static String kvnr() {
        return "A" + String.format("%09d", (long) (Math.random() * 1_000_000_000L));
    }

    static Patient patient(String family, String given, String kvnr) {
        Patient p = new Patient();
        p.addName().setFamily(family).addGiven(given);
        p.setBirthDateElement(new org.hl7.fhir.r4.model.DateType("1941-03-17"));
        p.setGender(AdministrativeGender.FEMALE);
        if (kvnr != null) {
            p.addIdentifier().setSystem(Systems.KVNR).setValue(kvnr);
        }
        return p;
    }

    static String createPatient(IGenericClient client, Patient patient) {
        return client.create().resource(patient).execute().getId().getIdPart();
    }

    /** A scanned, signed consent: here a real PDF. */
    static byte[] signedScan() {
        return LetterPdf.render(new LetterPdf.Letter("Patientin", "CareRelay", "Einwilligung (unterschrieben)",
                List.of("Ich willige ein."), null, "Unterschrift"));
    }

    static Consent consent(String patientId, byte[] document, String contentType, String... partnerOrgIds) {
        Consent consent = new Consent();
        consent.setStatus(Consent.ConsentState.ACTIVE);
        consent.getScope().addCoding().setSystem(Systems.CONSENT_SCOPE).setCode("patient-privacy");
        consent.addCategory().addCoding().setSystem(Systems.LOINC).setCode(Systems.LOINC_PATIENT_CONSENT);
        consent.setPatient(new Reference("Patient/" + patientId));
        consent.setDateTime(new Date());
        if (document != null) {
            consent.getSourceAttachment().setContentType(contentType).setData(document).setTitle("Einwilligung.pdf");
        }
        consent.getPolicyRule().addCoding().setSystem("http://terminology.hl7.org/CodeSystem/v3-ActCode").setCode("OPTIN");
        Consent.ProvisionComponent provision = consent.getProvision().setType(Consent.ConsentProvisionType.PERMIT);
        for (String org : partnerOrgIds) {
            provision.addActor().setReference(new Reference("Organization/" + org)).getRole()
                    .addCoding().setSystem("http://terminology.hl7.org/CodeSystem/v3-ParticipationType").setCode("IRCP");
        }
        return consent;
    }

    static String uploadConsent(IGenericClient client, String patientId, String... partnerOrgIds) {
        return client.create().resource(consent(patientId, signedScan(), "application/pdf", partnerOrgIds)).execute()
                .getId().getIdPart();
    }

    static Communication message(String patientId, String text, String... recipientOrgIds) {
        Communication c = new Communication();
        c.setStatus(Communication.CommunicationStatus.COMPLETED);
        if (patientId != null) {
            c.setSubject(new Reference("Patient/" + patientId));
        }
        for (String r : recipientOrgIds) {
            c.addRecipient(new Reference("Organization/" + r));
        }
        c.addPayload().setContent(new StringType(text));
        return c;
    }

    static String send(IGenericClient client, Communication message) {
        return client.create().resource(message).execute().getId().getIdPart();
    }
}
