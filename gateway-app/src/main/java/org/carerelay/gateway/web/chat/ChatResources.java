package org.carerelay.gateway.web.chat;

import java.time.LocalDate;
import java.time.format.DateTimeParseException;
import java.util.ArrayList;
import java.util.Date;
import java.util.List;
import java.util.Locale;
import java.util.Optional;
import org.carerelay.fhir.Systems;
import org.carerelay.gateway.conversation.MessageService;
import org.hl7.fhir.r4.model.Communication;
import org.hl7.fhir.r4.model.Consent;
import org.hl7.fhir.r4.model.DateType;
import org.hl7.fhir.r4.model.Enumerations.AdministrativeGender;
import org.hl7.fhir.r4.model.Patient;
import org.hl7.fhir.r4.model.Reference;
import org.hl7.fhir.r4.model.StringType;

/**
 * Turns the forms of the chat and patient pages into the FHIR resources the API accepts (the same
 * shapes a connected system posts), and checks the fields a person fills in, in German.
 */
public final class ChatResources {

    /** The value of the patient choice for a general chat without patient (category networking). */
    public static final String GENERAL = "allgemein";

    private ChatResources() {
    }

    /** A stored attachment, named in a message by its Binary id. */
    public record StoredFile(String binaryId, String contentType, String title) {
    }

    /** The German problems of a new-patient form; empty when it may be submitted. */
    public static List<String> patientProblems(String kvnr, String given, String family, String birthDate, String gender) {
        List<String> problems = new ArrayList<>();
        if (blank(kvnr)) {
            problems.add("Bitte geben Sie die Krankenversichertennummer (KVNR) an.");
        }
        if (blank(given)) {
            problems.add("Bitte geben Sie den Vornamen an.");
        }
        if (blank(family)) {
            problems.add("Bitte geben Sie den Nachnamen an.");
        }
        if (blank(birthDate)) {
            problems.add("Bitte geben Sie das Geburtsdatum an.");
        } else if (birthDate(birthDate).isEmpty()) {
            problems.add("Das Geburtsdatum hat nicht die Form JJJJ-MM-TT oder liegt in der Zukunft.");
        }
        if (gender(gender).isEmpty()) {
            problems.add("Bitte wählen Sie das Geschlecht.");
        }
        return problems;
    }

    public static Optional<LocalDate> birthDate(String value) {
        if (blank(value)) {
            return Optional.empty();
        }
        try {
            LocalDate date = LocalDate.parse(value.trim());
            return date.isAfter(LocalDate.now()) || date.getYear() < 1870 ? Optional.empty() : Optional.of(date);
        } catch (DateTimeParseException e) {
            return Optional.empty();
        }
    }

    public static Optional<AdministrativeGender> gender(String value) {
        if (blank(value)) {
            return Optional.empty();
        }
        return switch (value.trim().toLowerCase(Locale.ROOT)) {
            case "female" -> Optional.of(AdministrativeGender.FEMALE);
            case "male" -> Optional.of(AdministrativeGender.MALE);
            case "other" -> Optional.of(AdministrativeGender.OTHER);
            case "unknown" -> Optional.of(AdministrativeGender.UNKNOWN);
            default -> Optional.empty();
        };
    }

    /** The patient of a checked form ({@link #patientProblems} empty). */
    public static Patient patient(String kvnr, String given, String family, String birthDate, String gender) {
        Patient patient = new Patient();
        patient.addIdentifier().setSystem(Systems.KVNR).setValue(kvnr.trim().toUpperCase(Locale.ROOT));
        patient.addName().setFamily(family.trim()).addGiven(given.trim());
        patient.setBirthDateElement(new DateType(birthDate(birthDate).orElseThrow().toString()));
        patient.setGender(gender(gender).orElseThrow());
        return patient;
    }

    /**
     * The consent as the API's upload expects it: active, privacy scope, LOINC patient consent,
     * the signed scan named by its Binary, and the covered partners as permitted actors.
     */
    public static Consent consent(String patientId, StoredFile document, List<String> partnerIds) {
        Consent consent = new Consent();
        consent.setStatus(Consent.ConsentState.ACTIVE);
        consent.getScope().addCoding().setSystem(Systems.CONSENT_SCOPE).setCode("patient-privacy");
        consent.addCategory().addCoding().setSystem(Systems.LOINC).setCode(Systems.LOINC_PATIENT_CONSENT);
        consent.setPatient(new Reference("Patient/" + patientId));
        consent.setDateTime(new Date());
        consent.getSourceAttachment().setUrl("Binary/" + document.binaryId()).setContentType(document.contentType())
                .setTitle(document.title());
        consent.getPolicyRule().addCoding().setSystem("http://terminology.hl7.org/CodeSystem/v3-ActCode").setCode("OPTIN");
        Consent.ProvisionComponent provision = consent.getProvision().setType(Consent.ConsentProvisionType.PERMIT);
        for (String partner : partnerIds) {
            provision.addActor().setReference(new Reference("Organization/" + partner)).getRole().addCoding()
                    .setSystem("http://terminology.hl7.org/CodeSystem/v3-ParticipationType").setCode("IRCP");
        }
        return consent;
    }

    /**
     * The first message of a new conversation: about {@code patientId} (category patient-bound) or,
     * with {@code patientId} null, a general networking message.
     */
    public static Communication firstMessage(String patientId, List<String> partnerIds, String text, List<StoredFile> files) {
        Communication message = new Communication();
        message.setStatus(Communication.CommunicationStatus.COMPLETED);
        if (patientId != null) {
            message.setSubject(new Reference("Patient/" + patientId));
        }
        message.addCategory().addCoding().setSystem(Systems.COMMUNICATION_CATEGORY)
                .setCode(patientId == null ? MessageService.NETWORKING : MessageService.PATIENT_BOUND);
        for (String partner : partnerIds) {
            message.addRecipient(new Reference("Organization/" + partner));
        }
        if (!blank(text)) {
            message.addPayload().setContent(new StringType(text.strip()));
        }
        for (StoredFile file : files) {
            message.addPayload().getContentAttachment().setUrl("Binary/" + file.binaryId())
                    .setContentType(file.contentType()).setTitle(file.title());
        }
        return message;
    }

    public static boolean blank(String s) {
        return s == null || s.isBlank();
    }
}
