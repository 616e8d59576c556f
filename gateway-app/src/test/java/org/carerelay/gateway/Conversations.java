package org.carerelay.gateway;

import static org.assertj.core.api.Assertions.assertThat;

import ca.uhn.fhir.rest.client.api.IGenericClient;
import java.util.Date;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import org.carerelay.fhir.Systems;
import org.carerelay.routes.letter.LetterPdf;
import org.hl7.fhir.r4.model.Bundle;
import org.hl7.fhir.r4.model.Communication;
import org.hl7.fhir.r4.model.Consent;
import org.hl7.fhir.r4.model.Enumerations.AdministrativeGender;
import org.hl7.fhir.r4.model.Parameters;
import org.hl7.fhir.r4.model.Patient;
import org.hl7.fhir.r4.model.Reference;
import org.hl7.fhir.r4.model.StringType;

/** Fixtures for conversations: patients, signed consents, messages — through the public API. */
public final class Conversations {

    private Conversations() {
    }

    /** A random KVNR with a valid check digit. */
    public static String kvnr() {
        return org.carerelay.fhir.GermanIdentifiers.withKvnrCheckDigit(
                "A" + String.format("%08d", (long) (Math.random() * 100_000_000L)));
    }

    public static Patient patient(String family, String given, String kvnr) {
        Patient p = new Patient();
        p.addName().setFamily(family).addGiven(given);
        p.setBirthDateElement(new org.hl7.fhir.r4.model.DateType("1941-03-17"));
        p.setGender(AdministrativeGender.FEMALE);
        if (kvnr != null) {
            p.addIdentifier().setSystem(Systems.KVNR).setValue(kvnr);
        }
        return p;
    }

    public static String createPatient(IGenericClient client, Patient patient) {
        return client.create().resource(patient).execute().getId().getIdPart();
    }

    /** The id of the one patient with this KVNR that {@code client} can see (fails unless there is exactly one). */
    public static String patientIdByKvnr(IGenericClient client, String kvnr) {
        Bundle found = client.search().forResource(Patient.class)
                .where(Patient.IDENTIFIER.exactly().systemAndCode(Systems.KVNR, kvnr)).returnBundle(Bundle.class).execute();
        assertThat(found.getEntry()).as("patients with KVNR %s", kvnr).hasSize(1);
        return found.getEntryFirstRep().getResource().getIdElement().getIdPart();
    }

    /** A scanned, signed consent: here a real PDF; every call is another signed sheet (other bytes). */
    public static byte[] signedScan() {
        return LetterPdf.render(new LetterPdf.Letter("Patientin", "CareRelay", "Einwilligung (unterschrieben)",
                List.of("Ich willige ein.", "Bogen " + java.util.UUID.randomUUID()), null, "Unterschrift"));
    }

    public static Consent consent(String patientId, byte[] document, String contentType, String... partnerOrgIds) {
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

    public static String uploadConsent(IGenericClient client, String patientId, String... partnerOrgIds) {
        return client.create().resource(consent(patientId, signedScan(), "application/pdf", partnerOrgIds)).execute()
                .getId().getIdPart();
    }

    public static Communication message(String patientId, String text, String... recipientOrgIds) {
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

    public static String send(IGenericClient client, Communication message) {
        return client.create().resource(message).execute().getId().getIdPart();
    }

    /** {@code $delivery-status} of a message: the state per recipient organisation id. */
    public static Map<String, String> deliveryStates(IGenericClient client, String messageId) {
        Map<String, String> states = new HashMap<>();
        for (var recipient : deliveryStatus(client, messageId).getParameter()) {
            String org = recipient.getPart().stream().filter(p -> p.getName().equals("organization")).findFirst()
                    .map(p -> ((Reference) p.getValue()).getReference().replace("Organization/", "")).orElseThrow();
            String state = recipient.getPart().stream().filter(p -> p.getName().equals("state")).findFirst()
                    .map(p -> p.getValue().primitiveValue()).orElseThrow();
            states.put(org, state);
        }
        return states;
    }

    /** A part ({@code state}, {@code detail}, ...) of the first recipient's {@code $delivery-status}; "" when absent. */
    public static String deliveryPart(IGenericClient client, String messageId, String name) {
        return part(deliveryStatus(client, messageId).getParameterFirstRep(), name);
    }

    private static Parameters deliveryStatus(IGenericClient client, String messageId) {
        return client.operation().onInstance("Communication/" + messageId).named("$delivery-status")
                .withNoParameters(Parameters.class).execute();
    }

    private static String part(Parameters.ParametersParameterComponent recipient, String name) {
        return recipient.getPart().stream().filter(p -> p.getName().equals(name)).findFirst()
                .map(p -> p.getValue().primitiveValue()).orElse("");
    }
}
