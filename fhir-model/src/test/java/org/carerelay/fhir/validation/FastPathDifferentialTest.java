package org.carerelay.fhir.validation;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import ca.uhn.fhir.context.FhirContext;
import ca.uhn.fhir.context.support.DefaultProfileValidationSupport;
import ca.uhn.fhir.parser.DataFormatException;
import ca.uhn.fhir.parser.IParser;
import ca.uhn.fhir.parser.LenientErrorHandler;
import ca.uhn.hl7v2.model.Message;
import java.io.IOException;
import java.io.InputStream;
import java.lang.reflect.Constructor;
import java.lang.reflect.Field;
import java.nio.charset.StandardCharsets;
import java.security.MessageDigest;
import java.util.ArrayList;
import java.util.Date;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.Future;
import java.util.function.Consumer;
import java.util.stream.Stream;
import org.carerelay.fhir.Systems;
import org.carerelay.fhir.hl7.AdtToPatient;
import org.carerelay.fhir.hl7.Hl7Inbound;
import org.carerelay.fhir.hl7.MdmToCommunication;
import org.carerelay.fhir.validation.ResourceValidator.Result;
import org.hl7.fhir.instance.model.api.IBaseResource;
import org.hl7.fhir.r4.model.Attachment;
import org.hl7.fhir.r4.model.BooleanType;
import org.hl7.fhir.r4.model.CodeableConcept;
import org.hl7.fhir.r4.model.Coding;
import org.hl7.fhir.r4.model.Communication;
import org.hl7.fhir.r4.model.Encounter;
import org.hl7.fhir.r4.model.ContactPoint;
import org.hl7.fhir.r4.model.DateTimeType;
import org.hl7.fhir.r4.model.DateType;
import org.hl7.fhir.r4.model.DomainResource;
import org.hl7.fhir.r4.model.Enumerations.AdministrativeGender;
import org.hl7.fhir.r4.model.Extension;
import org.hl7.fhir.r4.model.HumanName;
import org.hl7.fhir.r4.model.Identifier;
import org.hl7.fhir.r4.model.IntegerType;
import org.hl7.fhir.r4.model.Narrative;
import org.hl7.fhir.r4.model.ObservationDefinition;
import org.hl7.fhir.r4.model.Organization;
import org.hl7.fhir.r4.model.Patient;
import org.hl7.fhir.r4.model.Period;
import org.hl7.fhir.r4.model.Reference;
import org.hl7.fhir.r4.model.StringType;
import org.hl7.fhir.r4.model.StructureDefinition;
import org.hl7.fhir.r4.model.UnsignedIntType;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.MethodSource;

/**
 * Holds the fast path to its promise over a corpus of Communications and Patients: realistic
 * shapes (what the FHIR API, the benchmark and the HL7 mappers produce) and systematic mutations
 * of them. For every variant: if the fast path says "valid", HAPI's full validator reports no
 * error, and {@link ResourceValidator#validate(IBaseResource)} gives the full validator's errors.
 * The realistic valid shapes must take the fast path (otherwise it gains nothing).
 */
class FastPathDifferentialTest {

    private static final FhirContext CTX = FhirContext.forR4Cached();
    private static final ResourceValidator VALIDATOR = new ResourceValidator(CTX);
    private static final IParser LENIENT = CTX.newJsonParser()
            .setParserErrorHandler(new LenientErrorHandler(false).setErrorOnInvalidValue(false));
    private static final String OWN_CATEGORY = Systems.COMMUNICATION_CATEGORY;
    private static final String TRANSPORT = "https://fhir.carerelay.org/CodeSystem/transport";
    private static final String UNKNOWN_EXT = "https://fhir.carerelay.org/StructureDefinition/test-extension";
    private static final String STREET_NAME = "http://hl7.org/fhir/StructureDefinition/iso21090-ADXP-streetName";
    private static final String HOUSE_NUMBER = "http://hl7.org/fhir/StructureDefinition/iso21090-ADXP-houseNumber";

    /** Shapes the gateway sees every day: the fast path must prove them valid. */
    private static final Map<String, IBaseResource> REALISTIC = new LinkedHashMap<>();
    /** Everything, realistic shapes included. */
    private static final Map<String, IBaseResource> CORPUS = new LinkedHashMap<>();
    private static final List<String> UNSURE = new ArrayList<>();
    /** Variants the fast path left to the full validator although it found no error (what a finer fast path could still gain). */
    private static final List<String> UNSURE_BUT_VALID = new ArrayList<>();

    @BeforeAll
    static void warmUp() {
        VALIDATOR.warmUp();
    }

    @AfterAll
    static void share() {
        System.out.printf("fast path: %d of %d variants UNSURE (%.0f%%), %d proven valid%n", UNSURE.size(), CORPUS.size(),
                100.0 * UNSURE.size() / CORPUS.size(), CORPUS.size() - UNSURE.size());
        System.out.printf("UNSURE although the full validator found no error (%d): %s%n", UNSURE_BUT_VALID.size(), UNSURE_BUT_VALID);
    }

    static {
        realistic("benchmark text message", text());
        realistic("text with Binary attachment (contentType, size, hash, title)", with(text(), c -> c.addPayload()
                .setContent(binaryAttachment())));
        realistic("attachment only, pdf", with(text(), c -> c.getPayload().set(0, new Communication
                .CommunicationPayloadComponent(binaryAttachment()))));
        realistic("reply with partOf and inResponseTo", with(text(), c -> {
            c.addPartOf(new Reference("Communication/0f4a8c1e-7c2b-4d0e-9a51-2b7c0c7c1f10"));
            c.addInResponseTo(new Reference("Communication/5d3e1b2a-1111-4c2d-8e3f-aaaaaaaaaaaa"));
        }));
        realistic("own category, medium, identifier with assigner", with(text(), c -> {
            c.addCategory(new CodeableConcept(new Coding(OWN_CATEGORY, "discharge-letter", "Entlassbrief")));
            c.addMedium(new CodeableConcept(new Coding(TRANSPORT, "kim", null)));
            c.addIdentifier().setSystem(MdmToCommunication.DOCUMENT_NUMBER_SYSTEM).setValue("DOC-42")
                    .getAssigner().setDisplay("KIS");
        }));
        realistic("topic text, priority urgent, note, payload reference", with(text(), c -> {
            c.setTopic(new CodeableConcept().setText("Befund Labor"));
            c.setPriority(Communication.CommunicationPriority.URGENT);
            c.addNote().setText("Bitte **dringend** ansehen").setTime(new Date());
            c.addPayload().setContent(new Reference("DocumentReference/doc-1"));
        }));
        realistic("several recipients, group subject, encounter, basedOn, about", with(text(), c -> {
            c.addRecipient(new Reference("Organization/other-org"));
            c.addRecipient(new Reference("Practitioner/pr-1").setDisplay("Dr. Weiß"));
            c.setSubject(new Reference("Group/g-1"));
            c.setEncounter(new Reference("Encounter/e-1"));
            c.addBasedOn(new Reference("ServiceRequest/sr-1"));
            c.addAbout(new Reference("Condition/c-1"));
        }));
        realistic("unknown extension with a string value", with(text(),
                c -> c.addExtension(UNKNOWN_EXT, new StringType("anything"))));
        realistic("received and attachment creation", with(text(), c -> {
            c.setReceivedElement(new DateTimeType("2024-05-02T10:15:30+02:00"));
            c.addPayload().setContent(binaryAttachment().setCreationElement(new DateTimeType("2024-05-02")));
        }));
        realistic("inline attachment with size and hash", with(text(), c -> {
            byte[] data = "%PDF-1.4 test".getBytes(StandardCharsets.US_ASCII);
            c.addPayload().setContent(new Attachment().setContentType("application/pdf").setData(data)
                    .setSize(data.length).setHash(sha1(data)).setTitle("Brief.pdf"));
        }));
        for (String sample : List.of("msft_MDM-T02-01.hl7", "msft_MDM-T02-02.hl7", "msft_MDM-T02-03.hl7", "msft_MDM-T01-01.hl7")) {
            Communication mapped = mdm(sample);
            variant("MDM " + sample, mapped);
            Communication withoutCategory = mapped.copy();
            withoutCategory.getCategory().clear(); // v2-0270 is a code system the validator knows: full path
            if (withoutCategory.hasPayload()) {
                realistic("MDM " + sample + " without document type", withoutCategory);
            } else {
                variant("MDM " + sample + " without document type (no payload)", withoutCategory);
            }
        }
        for (String sample : List.of("ipf_ADT-A01.hl7", "ipf_ADT-A08.hl7", "msft_ADT-A01-01.hl7", "msft_ADT-A01-02.hl7",
                "msft_ADT-A04-01.hl7", "msft_ADT-A08-01.hl7", "msft_ADT-A28-01.hl7", "msft_ADT-A31-01.hl7", "msft_ADT04-251.hl7",
                "msft_MDM-T02-01.hl7", "msft_MDM-T02-02.hl7", "msft_MDM-T02-03.hl7", "msft_MDM-T01-01.hl7")) {
            // identifier types of v2-0203 in the bound value set (MR), outside it (PI, SS), local types kept
            // as text (MRN, NHSNMBR in MDM-T02-03) or none: proven valid; urn:oid identifier systems (ipf)
            // are left to the full validator
            if (Set.of("ipf_ADT-A01.hl7", "ipf_ADT-A08.hl7").contains(sample)) {
                variant("ADT patient " + sample, adtPatient(hl7(sample)));
            } else {
                realistic("ADT patient " + sample, adtPatient(hl7(sample)));
            }
        }
        realistic("ADT patient of the benchmark PID", benchPatient());
        realistic("ADT patient of the benchmark PID with street name and house number", streetPatient());
        realistic("ADT patient v2-0203 SS", withIdentifierType(new Coding(AdtToPatient.V2_0203, "SS", null)));
        // an ADT^A08 updates the stored patient: it is validated as read, with its version and meta
        realistic("stored patient updated by the benchmark PID", stored(benchPatient(), "3"));
        realistic("stored patient as the FHIR API updates it", stored(patient(), "1"));
        realistic("stored text message", stored(text(), "12"));
        variant("ADT patient gender D (gender-amtlich-de)", adtPatient(adt("D", "Straße der Einheit 5")));
        variant("ADT patient v2-0203 MR", with(benchPatient(), p -> p.getIdentifier().get(1).setType(
                new CodeableConcept(new Coding(AdtToPatient.V2_0203, "MR", null)))));
        variant("ADT patient v2-0203 MR with its display", with(benchPatient(), p -> p.getIdentifier().get(1).setType(
                new CodeableConcept(new Coding(AdtToPatient.V2_0203, "MR", "Medical record number")))));
        variant("ADT patient v2-0203 MR with a wrong display", with(benchPatient(), p -> p.getIdentifier().get(1).setType(
                new CodeableConcept(new Coding(AdtToPatient.V2_0203, "MR", "Krankenversichertennummer")))));
        variant("ADT patient v2-0203 code that does not exist", with(benchPatient(), p -> p.getIdentifier().get(1).setType(
                new CodeableConcept(new Coding(AdtToPatient.V2_0203, "XYZ", null)))));
        variant("ADT patient v2-0203 code in lower case", with(benchPatient(), p -> p.getIdentifier().get(1).setType(
                new CodeableConcept(new Coding(AdtToPatient.V2_0203, "mr", null)))));
        variant("ADT patient MR in the wrong known system", with(benchPatient(), p -> p.getIdentifier().get(1).setType(
                new CodeableConcept(new Coding("http://terminology.hl7.org/CodeSystem/v2-0270", "MR", null)))));
        variant("ADT patient MR in a value set url as system", with(benchPatient(), p -> p.getIdentifier().get(1).setType(
                new CodeableConcept(new Coding("http://hl7.org/fhir/ValueSet/identifier-type", "MR", null)))));
        variant("ADT patient v2-0203 PI and MR", with(benchPatient(), p -> p.getIdentifier().get(1).getType()
                .addCoding(new Coding(AdtToPatient.V2_0203, "MR", null))));
        // codings under the extensible binding of Identifier.type (identifier-type) that are not in its value set
        variant("ADT patient v2-0203 PI with its display", withIdentifierType(
                new Coding(AdtToPatient.V2_0203, "PI", "Patient internal identifier")));
        variant("ADT patient v2-0203 PI with a wrong display", withIdentifierType(new Coding(AdtToPatient.V2_0203, "PI", "Krankenhausnummer")));
        variant("ADT patient v2-0203 PI with the code system's version", withIdentifierType(
                new Coding(AdtToPatient.V2_0203, "PI", null).setVersion("2.9")));
        variant("ADT patient v2-0203 PI with an unknown version", withIdentifierType(
                new Coding(AdtToPatient.V2_0203, "PI", null).setVersion("9.9")));
        variant("ADT patient v2-0203 PI in the https form", withIdentifierType(
                new Coding("https://terminology.hl7.org/CodeSystem/v2-0203", "PI", null)));
        variant("ADT patient v2-0203 PI and SS", withIdentifierType(new Coding(AdtToPatient.V2_0203, "PI", null),
                new Coding(AdtToPatient.V2_0203, "SS", null)));
        variant("ADT patient v2-0203 PI and a code that does not exist", withIdentifierType(
                new Coding(AdtToPatient.V2_0203, "PI", null), new Coding(AdtToPatient.V2_0203, "XYZ", null)));
        variant("ADT patient v2-0203 code that does not exist and PI", withIdentifierType(
                new Coding(AdtToPatient.V2_0203, "XYZ", null), new Coding(AdtToPatient.V2_0203, "PI", null)));
        variant("ADT patient v2-0203 PI and a wrong display on MR", withIdentifierType(new Coding(AdtToPatient.V2_0203, "PI", null),
                new Coding(AdtToPatient.V2_0203, "MR", "Krankenversichertennummer")));
        variant("ADT patient v2-0203 PI and an unknown system", withIdentifierType(new Coding(AdtToPatient.V2_0203, "PI", null),
                new Coding("https://fhir.carerelay.org/CodeSystem/identifier-type", "X", null)));
        variant("ADT patient PI in an unknown system", withIdentifierType(
                new Coding("https://fhir.carerelay.org/CodeSystem/identifier-type", "PI", null)));
        variant("ADT patient v2-0270 code (another known code system)", withIdentifierType(
                new Coding("http://terminology.hl7.org/CodeSystem/v2-0270", "DS", null)));
        variant("ADT patient v2-0270 code that does not exist", withIdentifierType(
                new Coding("http://terminology.hl7.org/CodeSystem/v2-0270", "XYZ", null)));
        variant("ADT patient code of a fragment code system that is not in it", withIdentifierType(
                new Coding("http://terminology.hl7.org/CodeSystem/insurance-plan-type", "zzz", null)));
        variant("ADT patient code of a supplement code system", withIdentifierType(
                new Coding("http://hl7.org/fhir/CodeSystem/example-supplement", "chol-mmol", null)));
        variant("ADT patient code of a code system without content", withIdentifierType(
                new Coding("http://hl7.org/fhir/CodeSystem/summary", "true", null)));
        variant("ADT patient SNOMED code", withIdentifierType(new Coding("http://snomed.info/sct", "123456", null)));
        variant("ADT patient type text only", with(benchPatient(), p -> p.getIdentifier().get(1).setType(
                new CodeableConcept().setText("Patientennummer"))));
        variant("ADT patient v2-0203 PI with a text", with(benchPatient(), p -> p.getIdentifier().get(1).getType()
                .setText("Patientennummer")));
        variant("ADT patient maritalStatus v2-0203 PI (extensible, not in the value set)", with(benchPatient(), p -> p
                .setMaritalStatus(new CodeableConcept(new Coding(AdtToPatient.V2_0203, "PI", null)))));
        variant("ADT patient maritalStatus v2-0203 code that does not exist", with(benchPatient(), p -> p
                .setMaritalStatus(new CodeableConcept(new Coding(AdtToPatient.V2_0203, "XYZ", null)))));
        // a Coding (not in a CodeableConcept) under an extensible binding: Encounter.class (v3-ActEncounterCode)
        variant("encounter class AMB", encounter(new Coding("http://terminology.hl7.org/CodeSystem/v3-ActCode", "AMB", null)));
        variant("encounter class v3-ActCode not in the value set", encounter(
                new Coding("http://terminology.hl7.org/CodeSystem/v3-ActCode", "_ActAccountCode", null)));
        variant("encounter class v2-0203 PI", encounter(new Coding(AdtToPatient.V2_0203, "PI", null)));
        variant("encounter class v2-0203 PI with a wrong display", encounter(new Coding(AdtToPatient.V2_0203, "PI", "Quatsch")));
        variant("encounter class v2-0203 code that does not exist", encounter(new Coding(AdtToPatient.V2_0203, "XYZ", null)));
        // an extensible binding whose value set the support checks with its own rules (UCUM): a
        // known code of another code system is an error there, not a "not in the value set"
        variant("observation definition unit UCUM", observationDefinition(new Coding("http://unitsofmeasure.org", "mg", null)));
        variant("observation definition unit v2-0203 PI", observationDefinition(new Coding(AdtToPatient.V2_0203, "PI", null)));
        variant("ADT patient streetName on the city", with(benchPatient(), p -> p.getAddressFirstRep().getCityElement()
                .addExtension(STREET_NAME, new StringType("Straße der Einheit"))));
        variant("ADT patient streetName on the gender", with(benchPatient(), p -> p.getGenderElement()
                .addExtension(STREET_NAME, new StringType("Straße der Einheit"))));
        variant("ADT patient streetName on the family name", with(benchPatient(), p -> p.getNameFirstRep().getFamilyElement()
                .addExtension(STREET_NAME, new StringType("Müßig"))));
        variant("ADT patient streetName on the patient", with(benchPatient(), p -> p
                .addExtension(STREET_NAME, new StringType("Straße der Einheit"))));
        variant("ADT patient streetName as an integer", with(streetPatient(), p -> p.getAddressFirstRep().getLine().get(0)
                .getExtensionByUrl(STREET_NAME).setValue(new IntegerType(5))));
        variant("ADT patient streetName as a coding", with(streetPatient(), p -> p.getAddressFirstRep().getLine().get(0)
                .getExtensionByUrl(STREET_NAME).setValue(new Coding(AdtToPatient.V2_0203, "MR", null))));
        variant("ADT patient streetName blank", with(streetPatient(), p -> p.getAddressFirstRep().getLine().get(0)
                .getExtensionByUrl(STREET_NAME).setValue(new StringType("  "))));
        variant("ADT patient streetName with value and nested extension", with(streetPatient(), p -> p.getAddressFirstRep()
                .getLine().get(0).getExtensionByUrl(STREET_NAME).addExtension(UNKNOWN_EXT, new StringType("x"))));
        variant("ADT patient streetName with only a nested extension", with(streetPatient(), p -> {
            Extension e = p.getAddressFirstRep().getLine().get(0).getExtensionByUrl(STREET_NAME);
            e.setValue(null);
            e.addExtension(UNKNOWN_EXT, new StringType("x"));
        }));
        variant("ADT patient houseNumber twice", with(streetPatient(), p -> p.getAddressFirstRep().getLine().get(0)
                .addExtension(HOUSE_NUMBER, new StringType("6"))));
        variant("ADT patient line with a complex ADXP extension (additionalLocator as Coding)", with(benchPatient(),
                p -> p.getAddressFirstRep().getLine().get(0).addExtension(
                        "http://hl7.org/fhir/StructureDefinition/iso21090-ADXP-additionalLocator", new Coding(AdtToPatient.V2_0203, "MR", null))));
        for (String sample : List.of("msft_MDM-T02-01.hl7", "msft_MDM-T02-02.hl7", "msft_MDM-T02-03.hl7", "msft_MDM-T01-01.hl7")) {
            Communication mapped = mdm(sample);
            if (mapped.hasCategory()) {
                variant("MDM " + sample + " TXA-2 with a wrong display", with(mapped.copy(), c -> c.getCategoryFirstRep()
                        .getCodingFirstRep().setDisplay("Quatsch")));
                variant("MDM " + sample + " TXA-2 code that does not exist", with(mapped.copy(), c -> c.getCategoryFirstRep()
                        .getCodingFirstRep().setCode("ZZZ")));
            }
        }
        realistic("patient as the FHIR API receives it", patient());
        realistic("patient with telecom, address, unknown extension on a line", with(patient(), p -> {
            p.addTelecom().setSystem(ContactPoint.ContactPointSystem.PHONE).setValue("+49 5432 12345")
                    .setUse(ContactPoint.ContactPointUse.HOME);
            p.addAddress().setCity("Löningen").setPostalCode("49624").setCountry("D").addLine("Straßburger Straße 12")
                    .getLine().get(0).addExtension(UNKNOWN_EXT, new StringType("12"));
        }));
        for (String sample : List.of("ipf_ADT-A01.hl7", "ipf_ADT-A08.hl7", "msft_ADT-A01-01.hl7", "msft_ADT-A01-02.hl7",
                "msft_ADT-A04-01.hl7", "msft_ADT-A08-01.hl7", "msft_ADT-A28-01.hl7", "msft_ADT-A31-01.hl7",
                "msft_ADT04-251.hl7")) {
            variant("ADT " + sample, AdtToPatient.map(hl7(sample), AdtToPatient.AssigningAuthorities.defaults()));
        }

        // ---------------------------------------------------------------- mutations: Communication
        variant("no status", with(text(), c -> c.setStatus(null)));
        variant("payload without content", with(text(), c -> c.addPayload()));
        variant("payload with only an unknown extension", with(text(), c -> c.addPayload()
                .addExtension(UNKNOWN_EXT, new StringType("x"))));
        variant("payload with empty string", with(text(), c -> c.getPayloadFirstRep().setContent(new StringType(""))));
        variant("payload whitespace only", with(text(), c -> c.getPayloadFirstRep().setContent(new StringType("   "))));
        variant("payload with leading and trailing whitespace", with(text(), c -> c.getPayloadFirstRep()
                .setContent(new StringType("  Guten Tag\n"))));
        variant("payload with control character", with(text(), c -> c.getPayloadFirstRep().setContent(new StringType("a\u0001b"))));
        variant("payload with bidi override", with(text(), c -> c.getPayloadFirstRep().setContent(new StringType("a\u202Eb"))));
        variant("payload longer than 1 MiB", with(text(), c -> c.getPayloadFirstRep().setContent(new StringType("x".repeat(1_048_577)))));
        variant("payload exactly 1 MiB", with(text(), c -> c.getPayloadFirstRep().setContent(new StringType("x".repeat(1_048_576)))));
        variant("payload html", with(text(), c -> c.getPayloadFirstRep().setContent(new StringType("<b>fett</b> <script>x</script>"))));
        variant("subject Organization", with(text(), c -> c.setSubject(new Reference("Organization/1"))));
        variant("subject malformed (type only)", with(text(), c -> c.setSubject(new Reference("Patient"))));
        variant("subject malformed (trailing slash)", with(text(), c -> c.setSubject(new Reference("Patient/"))));
        variant("subject lower case type", with(text(), c -> c.setSubject(new Reference("patient/1"))));
        variant("subject unknown type", with(text(), c -> c.setSubject(new Reference("Foo/1"))));
        variant("subject with space", with(text(), c -> c.setSubject(new Reference("Patient/a b"))));
        variant("subject contained fragment", with(text(), c -> c.setSubject(new Reference("#p1"))));
        variant("subject absolute URL", with(text(), c -> c.setSubject(new Reference("http://example.org/fhir/Patient/1"))));
        variant("subject absolute URL of wrong type", with(text(), c -> c.setSubject(new Reference("http://example.org/fhir/Organization/1"))));
        variant("subject urn:uuid", with(text(), c -> c.setSubject(new Reference("urn:uuid:0f4a8c1e-7c2b-4d0e-9a51-2b7c0c7c1f10"))));
        variant("subject with type Organization", with(text(), c -> c.getSubject().setType("Organization")));
        variant("subject identifier only", with(text(), c -> c.setSubject(new Reference().setIdentifier(
                new Identifier().setSystem(Systems.KVNR).setValue("X110411319")))));
        variant("subject display only", with(text(), c -> c.setSubject(new Reference().setDisplay("Frau Müller"))));
        variant("subject history version", with(text(), c -> c.setSubject(new Reference("Patient/1/_history/2"))));
        variant("subject id 65 characters", with(text(), c -> c.setSubject(new Reference("Patient/" + "a".repeat(65)))));
        variant("recipient Location", with(text(), c -> c.addRecipient(new Reference("Location/1"))));
        variant("recipient Group", with(text(), c -> c.addRecipient(new Reference("Group/1"))));
        variant("encounter Patient", with(text(), c -> c.setEncounter(new Reference("Patient/1"))));
        variant("inResponseTo Patient", with(text(), c -> c.addInResponseTo(new Reference("Patient/1"))));
        variant("partOf anything", with(text(), c -> c.addPartOf(new Reference("Binary/1"))));
        variant("attachment data without contentType", with(text(), c -> c.addPayload().setContent(
                new Attachment().setData(new byte[] {1, 2, 3}))));
        variant("attachment with wrong size", with(text(), c -> c.addPayload().setContent(
                new Attachment().setContentType("application/pdf").setData(new byte[] {1, 2, 3}).setSize(4))));
        variant("attachment with wrong hash", with(text(), c -> c.addPayload().setContent(
                new Attachment().setContentType("application/pdf").setData(new byte[] {1, 2, 3}).setHash(sha1(new byte[] {1})))));
        variant("attachment url with size and hash", with(text(), c -> c.addPayload().setContent(
                new Attachment().setContentType("application/pdf").setUrl("http://example.org/x.pdf").setSize(3)
                        .setHash(sha1(new byte[] {1})))));
        variant("attachment negative size", with(text(), c -> c.addPayload().setContent(
                binaryAttachment().setSizeElement(new UnsignedIntType(-1)))));
        for (String type : List.of("foo", "application/x-carerelay-unknown", "text/plain; charset=utf-8", "TEXT/PLAIN",
                "text/plain", "image/png", "image/jpeg", "application/hl7-v2", "text/xml", "application/dicom",
                "application/zip", "application/postscript", "text/rtf", "application/rtf", "image/tiff", "text/html",
                "application/octet-stream", "application/pdf ", "application/fhir+json", "x/y")) {
            variant("attachment contentType '" + type + "'", with(text(), c -> c.addPayload().setContent(
                    new Attachment().setContentType(type).setUrl("Binary/b1"))));
        }
        variant("attachment language", with(text(), c -> c.addPayload().setContent(binaryAttachment().setLanguage("de"))));
        variant("attachment bad language", with(text(), c -> c.addPayload().setContent(binaryAttachment().setLanguage("xx-notalanguage"))));
        variant("attachment url urn:oid bad", with(text(), c -> c.addPayload().setContent(
                new Attachment().setContentType("application/pdf").setUrl("urn:oid:1.2"))));
        variant("attachment url with space", with(text(), c -> c.addPayload().setContent(
                new Attachment().setContentType("application/pdf").setUrl("Binary/a b"))));
        variant("attachment title only", with(text(), c -> c.addPayload().setContent(new Attachment().setTitle("x"))));
        variant("attachment creation without time zone", with(text(), c -> c.addPayload().setContent(
                binaryAttachment().setCreationElement(lenientDateTime("2024-05-02T10:00:00")))));
        for (String sent : List.of("2024-13-01", "2024-02-30", "2024-02-30T10:00:00Z", "2024-05-02T10:00:00",
                "2024-05-02T25:00:00Z", "0000-01-01", "1799-01-01", "3000-01-01T00:00:00Z", "2024", "2024-05",
                "2024-05-02T10:00:00.123456789Z", "2024-05-02T10:00Z", "2024-05-02T10:00:60Z", "2024-05-02T10:00:00+15:00",
                "24-05-02", "2024-5-2")) {
            variant("sent '" + sent + "'", with(text(), c -> c.setSentElement(lenientDateTime(sent))));
        }
        variant("identifier period end before start", with(text(), c -> c.addIdentifier().setSystem(MdmToCommunication
                .DOCUMENT_NUMBER_SYSTEM).setValue("1").setPeriod(new Period().setStartElement(new DateTimeType(
                        "2024-05-02T10:00:00Z")).setEndElement(new DateTimeType("2024-05-01T10:00:00Z")))));
        variant("identifier period in order", with(text(), c -> c.addIdentifier().setSystem(MdmToCommunication
                .DOCUMENT_NUMBER_SYSTEM).setValue("1").setPeriod(new Period().setStartElement(new DateTimeType(
                        "2024-05-01T10:00:00Z")).setEndElement(new DateTimeType("2024-05-02T10:00:00Z")))));
        variant("identifier period of dates reversed", with(text(), c -> c.addIdentifier().setValue("1").setPeriod(
                new Period().setStartElement(new DateTimeType("2024-05-02")).setEndElement(new DateTimeType("2024-05-01")))));
        variant("identifier system urn:ietf:rfc:3986 with relative value", with(text(), c -> c.addIdentifier()
                .setSystem("urn:ietf:rfc:3986").setValue("abc")));
        variant("identifier system rfc4122 bad", with(text(), c -> c.addIdentifier()
                .setSystem("https://tools.ietf.org/html/rfc4122").setValue("abc")));
        variant("identifier system not a URI", with(text(), c -> c.addIdentifier().setSystem("my system").setValue("1")));
        variant("identifier system relative", with(text(), c -> c.addIdentifier().setSystem("sid/doc").setValue("1")));
        variant("identifier with v2-0203 type", with(text(), c -> c.addIdentifier().setValue("1").setType(
                new CodeableConcept(new Coding("http://terminology.hl7.org/CodeSystem/v2-0203", "MR", null)))));
        variant("identifier with bad v2-0203 type", with(text(), c -> c.addIdentifier().setValue("1").setType(
                new CodeableConcept(new Coding("http://terminology.hl7.org/CodeSystem/v2-0203", "NOPE", null)))));
        variant("identifier with own type coding", with(text(), c -> c.addIdentifier().setValue("1").setType(
                new CodeableConcept(new Coding(OWN_CATEGORY, "x", null)))));
        variant("identifier use bad", with(text(), c -> c.addIdentifier().setValue("1").setUseElement(
                lenientEnum(c, "identifier", "use", "nope").getUseElement())));
        variant("known-system category with bad code", with(text(), c -> c.addCategory(new CodeableConcept(
                new Coding("http://terminology.hl7.org/CodeSystem/communication-category", "not-a-code", null)))));
        variant("known-system category with good code", with(text(), c -> c.addCategory(new CodeableConcept(
                new Coding("http://terminology.hl7.org/CodeSystem/communication-category", "notification", null)))));
        variant("category LOINC", with(text(), c -> c.addCategory(new CodeableConcept(new Coding(Systems.LOINC, "11488-4", null)))));
        variant("category SNOMED with bad code", with(text(), c -> c.addCategory(new CodeableConcept(
                new Coding("http://snomed.info/sct", "not-a-snomed-code", null)))));
        variant("category without system", with(text(), c -> c.addCategory(new CodeableConcept(new Coding(null, "x", null)))));
        variant("category system without code", with(text(), c -> c.addCategory(new CodeableConcept(new Coding(OWN_CATEGORY, null, "d")))));
        variant("category with relative system", with(text(), c -> c.addCategory(new CodeableConcept(new Coding("cs/category", "x", null)))));
        variant("category with urn:oid system", with(text(), c -> c.addCategory(new CodeableConcept(new Coding("urn:oid:1.2.276.0.76.5.1", "x", null)))));
        variant("category system is a value set", with(text(), c -> c.addCategory(new CodeableConcept(
                new Coding("http://hl7.org/fhir/ValueSet/communication-category", "x", null)))));
        variant("category code with double space", with(text(), c -> c.addCategory(new CodeableConcept(new Coding(OWN_CATEGORY, "a  b", null)))));
        variant("category code with trailing space", with(text(), c -> c.addCategory(new CodeableConcept(new Coding(OWN_CATEGORY, "a ", null)))));
        variant("category coding version", with(text(), c -> c.addCategory(new CodeableConcept(new Coding(OWN_CATEGORY, "a", null).setVersion("1")))));
        variant("category text only", with(text(), c -> c.addCategory(new CodeableConcept().setText("Brief"))));
        variant("medium text only", with(text(), c -> c.addMedium(new CodeableConcept().setText("KIM"))));
        variant("medium v3 ParticipationMode bad code", with(text(), c -> c.addMedium(new CodeableConcept(
                new Coding("http://terminology.hl7.org/CodeSystem/v3-ParticipationMode", "NOPE", null)))));
        variant("reasonCode own system", with(text(), c -> c.addReasonCode(new CodeableConcept(new Coding(OWN_CATEGORY, "r", null)))));
        variant("statusReason own system", with(text(), c -> c.setStatusReason(new CodeableConcept(new Coding(OWN_CATEGORY, "r", null)))));
        variant("status bad (lenient parse)", lenient("{\"resourceType\":\"Communication\",\"status\":\"sent-ish\","
                + "\"subject\":{\"reference\":\"Patient/1\"},\"payload\":[{\"contentString\":\"x\"}]}"));
        variant("priority bad (lenient parse)", lenient("{\"resourceType\":\"Communication\",\"status\":\"completed\","
                + "\"priority\":\"very-urgent\",\"payload\":[{\"contentString\":\"x\"}]}"));
        variant("status upper case (lenient parse)", lenient("{\"resourceType\":\"Communication\",\"status\":\"COMPLETED\"}"));
        variant("sent bad (lenient parse)", lenient("{\"resourceType\":\"Communication\",\"status\":\"completed\",\"sent\":\"yesterday\"}"));
        variant("two subjects (lenient parse)", lenient("{\"resourceType\":\"Communication\",\"status\":\"completed\","
                + "\"subject\":[{\"reference\":\"Patient/1\"},{\"reference\":\"Patient/2\"}]}"));
        variant("unknown element (lenient parse)", lenient("{\"resourceType\":\"Communication\",\"status\":\"completed\",\"colour\":\"red\"}"));
        variant("unknown extension with value and extension", with(text(), c -> c.addExtension().setUrl(UNKNOWN_EXT)
                .setValue(new StringType("v")).addExtension(UNKNOWN_EXT + "-child", new StringType("w"))));
        variant("unknown extension without value", with(text(), c -> c.addExtension().setUrl(UNKNOWN_EXT)
                .addExtension(new Extension(UNKNOWN_EXT + "-a"))));
        variant("unknown extension nested", with(text(), c -> c.addExtension().setUrl(UNKNOWN_EXT)
                .addExtension(UNKNOWN_EXT + "-a", new StringType("a"))));
        variant("unknown extension with relative url", with(text(), c -> c.addExtension("test-extension", new StringType("v"))));
        variant("unknown extension with urn url", with(text(), c -> c.addExtension("urn:x:y", new StringType("v"))));
        variant("unknown hl7.org extension", with(text(), c -> c.addExtension(
                "http://hl7.org/fhir/StructureDefinition/no-such-extension", new StringType("v"))));
        variant("known extension in the wrong place", with(text(), c -> c.addExtension(
                "http://hl7.org/fhir/StructureDefinition/iso21090-ADXP-streetName", new StringType("v"))));
        variant("unknown extension with a coding of an own system", with(text(), c -> c.addExtension(UNKNOWN_EXT,
                new Coding(OWN_CATEGORY, "x", null))));
        variant("unknown extension with a coding of a known system and bad code", with(text(), c -> c.addExtension(UNKNOWN_EXT,
                new Coding("http://terminology.hl7.org/CodeSystem/communication-category", "nope", null))));
        variant("unknown extension with a reference", with(text(), c -> c.addExtension(UNKNOWN_EXT, new Reference("Organization/1"))));
        variant("unknown extension with a bad date", with(text(), c -> c.addExtension(UNKNOWN_EXT, lenientDateTime("2024-02-30"))));
        variant("unknown extension with an integer", with(text(), c -> c.addExtension(UNKNOWN_EXT, new IntegerType(5))));
        variant("unknown extension with a boolean", with(text(), c -> c.addExtension(UNKNOWN_EXT, new BooleanType(true))));
        variant("unknown extension on status", with(text(), c -> c.getStatusElement().addExtension(UNKNOWN_EXT, new StringType("v"))));
        variant("unknown extension on the subject reference", with(text(), c -> c.getSubject().addExtension(UNKNOWN_EXT, new StringType("v"))));
        variant("modifierExtension", with(text(), c -> c.addModifierExtension(new Extension(UNKNOWN_EXT, new StringType("v")))));
        variant("payload modifierExtension", with(text(), c -> c.getPayloadFirstRep().addModifierExtension(new Extension(UNKNOWN_EXT, new StringType("v")))));
        variant("meta.profile unknown", with(text(), c -> c.getMeta().addProfile("https://fhir.carerelay.org/StructureDefinition/communication")));
        variant("meta.profile core", with(text(), c -> c.getMeta().addProfile("http://hl7.org/fhir/StructureDefinition/Communication")));
        variant("meta.lastUpdated", with(text(), c -> c.getMeta().setLastUpdated(new Date())));
        variant("meta.versionId only", with(text(), c -> c.getMeta().setVersionId("1")));
        variant("stored: meta.versionId with a space", with(text(), c -> c.getMeta().setVersionId("1 2").setLastUpdated(new Date())));
        variant("stored: meta.versionId of 65 characters", with(text(), c -> c.getMeta().setVersionId("1".repeat(65))));
        variant("stored: meta.versionId with a slash", with(text(), c -> c.getMeta().setVersionId("1/2")));
        variant("stored: meta.versionId empty with an extension", with(text(), c -> c.getMeta().getVersionIdElement()
                .addExtension(UNKNOWN_EXT, new StringType("v"))));
        variant("stored: id version other than meta.versionId", with(stored(text(), "2"), c -> c.getMeta().setVersionId("3")));
        variant("stored: id version without meta", with(text(), c -> c.setId("Communication/" + c.getIdElement().getIdPart()
                + "/_history/4")));
        variant("stored: meta.tag", with(stored(text(), "1"), c -> c.getMeta().addTag(OWN_CATEGORY, "x", null)));
        variant("stored: meta.security", with(stored(text(), "1"), c -> c.getMeta().addSecurity(
                "http://terminology.hl7.org/CodeSystem/v3-ActCode", "REDACT", null)));
        variant("stored: meta.security unknown code", with(stored(text(), "1"), c -> c.getMeta().addSecurity(
                "http://terminology.hl7.org/CodeSystem/v3-ActCode", "NO-SUCH-CODE", null)));
        variant("stored: meta.source", with(stored(text(), "1"), c -> c.getMeta().setSource("urn:uuid:123")));
        variant("stored: meta extension", with(stored(text(), "1"), c -> c.getMeta().addExtension(UNKNOWN_EXT, new StringType("v"))));
        variant("stored: meta element id", with(stored(text(), "1"), c -> c.getMeta().setId("m1")));
        variant("contained organization", with(text(), c -> c.addContained(new Organization().setName("x").setId("o1"))));
        variant("narrative", with(text(), c -> {
            Narrative narrative = new Narrative().setStatus(Narrative.NarrativeStatus.GENERATED);
            narrative.setDivAsString("<div xmlns=\"http://www.w3.org/1999/xhtml\">x</div>");
            c.setText(narrative);
        }));
        variant("implicitRules", with(text(), c -> c.setImplicitRules("http://example.org/rules")));
        variant("language de", with(text(), c -> c.setLanguage("de")));
        variant("bad resource id", with(text(), c -> c.setId("a b")));
        variant("resource id 65 characters", with(text(), c -> c.setId("a".repeat(65))));
        variant("element id on payload", with(text(), c -> c.getPayloadFirstRep().setId("p1")));
        variant("note without text", with(text(), c -> c.addNote().setTime(new Date())));
        variant("note with author reference Patient", with(text(), c -> c.addNote().setText("x").setAuthor(new Reference("Patient/1"))));
        variant("note with author reference Location", with(text(), c -> c.addNote().setText("x").setAuthor(new Reference("Location/1"))));
        variant("instantiatesUri", with(text(), c -> c.addInstantiatesUri("http://example.org/protocol")));
        variant("instantiatesCanonical", with(text(), c -> c.addInstantiatesCanonical("http://example.org/PlanDefinition/x")));
        variant("empty resource", new Communication());
        variant("status only", new Communication().setStatus(Communication.CommunicationStatus.COMPLETED));

        // ---------------------------------------------------------------- mutations: Patient
        variant("patient birthDate Feb 30", with(patient(), p -> p.setBirthDateElement(lenientDate("1941-02-30"))));
        variant("patient birthDate with time", with(patient(), p -> p.setBirthDateElement(lenientDate("1941-02-03T10:00:00Z"))));
        variant("patient gender bad (lenient parse)", lenient("{\"resourceType\":\"Patient\",\"gender\":\"weiblich\"}"));
        variant("patient gender with fhir.de extension", with(patient(), p -> p.getGenderElement().addExtension(
                AdtToPatient.EXT_GENDER_AMTLICH, new Coding(AdtToPatient.GENDER_AMTLICH, "D", null))));
        variant("patient gender other with fhir.de extension", with(patient(), p -> {
            p.setGender(AdministrativeGender.OTHER);
            p.getGenderElement().addExtension(AdtToPatient.EXT_GENDER_AMTLICH, new Coding(AdtToPatient.GENDER_AMTLICH, "X", null));
        }));
        variant("patient telecom value without system", with(patient(), p -> p.addTelecom().setValue("12345")));
        variant("patient contact without details", with(patient(), p -> p.addContact().setGender(AdministrativeGender.MALE)));
        variant("patient name period reversed", with(patient(), p -> p.getNameFirstRep().setPeriod(new Period()
                .setStartElement(new DateTimeType("2024-05-02T10:00:00Z")).setEndElement(new DateTimeType("2024-05-01T10:00:00Z")))));
        variant("patient name empty given", with(patient(), p -> p.getNameFirstRep().addGiven("")));
        variant("patient multipleBirth 0", with(patient(), p -> p.setMultipleBirth(new IntegerType(0))));
        variant("patient managingOrganization Patient", with(patient(), p -> p.setManagingOrganization(new Reference("Patient/1"))));
        variant("patient generalPractitioner Organization", with(patient(), p -> p.addGeneralPractitioner(new Reference("Organization/1"))));
        variant("patient link without other", with(patient(), p -> p.addLink().setType(Patient.LinkType.SEEALSO)));
        variant("patient address line with ADXP extension", with(patient(), p -> p.addAddress().addLine("Straße 1")
                .getLine().get(0).addExtension("http://hl7.org/fhir/StructureDefinition/iso21090-ADXP-streetName", new StringType("Straße"))));
        variant("patient deceased date without zone", with(patient(), p -> p.setDeceased(lenientDateTime("2024-05-02T10:00:00"))));
        variant("patient photo with data", with(patient(), p -> p.addPhoto().setContentType("image/png").setData(new byte[] {1})));
        variant("patient KVNR identifier with own type", with(patient(), p -> p.getIdentifierFirstRep().setType(
                new CodeableConcept(new Coding(AdtToPatient.IDENTIFIER_TYPE_DE_BASIS, "GKV", null)))));
    }

    static Stream<String> corpus() {
        return CORPUS.keySet().stream();
    }

    @ParameterizedTest(name = "{0}")
    @MethodSource("corpus")
    void fastPathValid_impliesNoErrorInTheFullValidator(String name) {
        IBaseResource resource = CORPUS.get(name);
        boolean fast = VALIDATOR.fastPathProvesValid(resource);
        Result full;
        try {
            full = VALIDATOR.validateFully(resource);
        } catch (DataFormatException e) {
            // HAPI cannot even encode it (e.g. an extension with a value and extensions): the
            // fast path must not pass it, and validate(...) fails the same way as before
            assertThat(fast).as(name).isFalse();
            assertThatThrownBy(() -> VALIDATOR.validate(resource)).isInstanceOf(DataFormatException.class);
            UNSURE.add(name);
            return;
        }

        if (fast) {
            assertThat(full.errors()).as(name + ": the fast path said valid").isEmpty();
        } else {
            UNSURE.add(name);
            if (full.isValid()) {
                UNSURE_BUT_VALID.add(name);
            }
        }
        // what the gateway calls: the full validator's errors, with their locations, whenever there are any
        assertThat(VALIDATOR.validate(resource).errors()).as(name).isEqualTo(full.errors());
    }

    @Test
    void realisticShapes_takeTheFastPath() {
        assertThat(REALISTIC).hasSizeGreaterThanOrEqualTo(12);
        List<String> missed = REALISTIC.entrySet().stream()
                .filter(e -> !VALIDATOR.fastPathProvesValid(e.getValue()))
                .map(Map.Entry::getKey)
                .toList();
        assertThat(missed).as("realistic shapes the fast path could not prove valid").isEmpty();
        REALISTIC.forEach((name, resource) -> assertThat(VALIDATOR.validateFully(resource).errors()).as(name).isEmpty());
    }

    /**
     * The definitions lose their prose before the validators see them ({@link DefinitionDocumentation}):
     * over the whole corpus, the fast path and the full validator answer as they do with the
     * definitions as HAPI ships them, every message (warnings too) word for word.
     */
    @Test
    void strippedDefinitions_giveTheSameAnswersAsTheShippedOnes() throws Exception {
        ResourceValidator shipped = new ResourceValidator(CTX, shippedDefinitions());
        int compared = 0;
        for (Map.Entry<String, IBaseResource> variant : CORPUS.entrySet()) {
            String name = variant.getKey();
            IBaseResource resource = variant.getValue();
            assertThat(VALIDATOR.fastPathProvesValid(resource)).as(name).isEqualTo(shipped.fastPathProvesValid(resource));
            Result stripped;
            try {
                stripped = VALIDATOR.validateFully(resource);
            } catch (DataFormatException e) {
                assertThatThrownBy(() -> shipped.validateFully(resource)).as(name).isInstanceOf(DataFormatException.class);
                continue;
            }
            Result original = shipped.validateFully(resource);
            assertThat(stripped.errors()).as(name).isEqualTo(original.errors());
            assertThat(stripped.warnings()).as(name).isEqualTo(original.warnings());
            compared++;
        }
        assertThat(compared).isGreaterThan(100);
        StructureDefinition communication = (StructureDefinition) shippedDefinitions()
                .fetchStructureDefinition("http://hl7.org/fhir/StructureDefinition/Communication");
        assertThat(communication.hasDifferential()).as("the comparison had the prose").isTrue();
    }

    private static DefaultProfileValidationSupport shippedDefinitions;

    /**
     * HAPI's core definitions with their prose: HAPI's own support, but with a loader of its own
     * (HAPI shares one per JVM, and the gateway's definitions strip that one), made by reflection
     * because HAPI's loader class is package-private.
     */
    private static synchronized DefaultProfileValidationSupport shippedDefinitions() throws ReflectiveOperationException {
        if (shippedDefinitions == null) {
            DefaultProfileValidationSupport support = new DefaultProfileValidationSupport(CTX);
            Constructor<?> loader = Class.forName("ca.uhn.fhir.context.support.DefaultProfileValidationSupportBundleStrategy")
                    .getDeclaredConstructor(FhirContext.class);
            loader.setAccessible(true);
            Field delegate = DefaultProfileValidationSupport.class.getDeclaredField("myDelegate");
            delegate.setAccessible(true);
            delegate.set(support, loader.newInstance(CTX));
            shippedDefinitions = support;
        }
        return shippedDefinitions;
    }

    @Test
    void manyThreadsOnColdCaches_getTheSameAnswersAsOneThread() throws Exception {
        ResourceValidator cold = new ResourceValidator(CTX); // nothing cached yet
        List<IBaseResource> resources = List.copyOf(CORPUS.values());
        ExecutorService pool = Executors.newFixedThreadPool(4);
        try {
            List<Future<List<Boolean>>> answers = new ArrayList<>();
            for (int t = 0; t < 4; t++) {
                answers.add(pool.submit(() -> resources.stream().map(cold::fastPathProvesValid).toList()));
            }
            List<Boolean> expected = resources.stream().map(VALIDATOR::fastPathProvesValid).toList();
            for (Future<List<Boolean>> answer : answers) {
                assertThat(answer.get()).isEqualTo(expected);
            }
            assertThat(expected).contains(true, false);
        } finally {
            pool.shutdownNow();
        }
    }

    @Test
    void unknownCodeSystemsInExampleAndExtensibleBindings_areOnlyWarningsInTheFullValidator() {
        Communication communication = with(text(), c -> {
            c.addCategory(new CodeableConcept(new Coding(OWN_CATEGORY, "discharge-letter", null))); // example binding
            c.addMedium(new CodeableConcept(new Coding(TRANSPORT, "kim", null))); // extensible binding
        });

        Result full = VALIDATOR.validateFully(communication);

        assertThat(full.errors()).isEmpty();
        assertThat(full.warnings()).extracting(ResourceValidator.Issue::location)
                .contains("Communication.category[0]", "Communication.medium[0]");
        assertThat(VALIDATOR.fastPathProvesValid(communication)).isTrue();
    }

    @Test
    void knownCodesOutsideAnExtensibleValueSet_areOnlyWarningsInTheFullValidator() {
        Patient patient = benchPatient(); // PID-3 with type PI: in v2-0203, not in identifier-type

        Result full = VALIDATOR.validateFully(patient);

        assertThat(patient.getIdentifier().get(1).getType().getCodingFirstRep().getCode()).isEqualTo("PI");
        assertThat(full.errors()).isEmpty();
        assertThat(full.warnings()).filteredOn(i -> "Patient.identifier[1].type".equals(i.location()))
                .extracting(ResourceValidator.Issue::message)
                .anySatisfy(m -> assertThat(m).contains("None of the codings provided are in the value set"));
        assertThat(VALIDATOR.fastPathProvesValid(patient)).isTrue();

        Patient unknownCode = withIdentifierType(new Coding(AdtToPatient.V2_0203, "XYZ", null));
        assertThat(VALIDATOR.validateFully(unknownCode).errors()).extracting(ResourceValidator.Issue::location)
                .containsExactly("Patient.identifier[1].type");
        assertThat(VALIDATOR.fastPathProvesValid(unknownCode)).isFalse();
    }

    // ------------------------------------------------------------------------------ corpus helpers

    private static void realistic(String name, IBaseResource resource) {
        REALISTIC.put(name, resource);
        variant(name, resource);
    }

    private static void variant(String name, IBaseResource resource) {
        if (CORPUS.put(name, resource) != null) {
            throw new IllegalStateException("duplicate variant " + name);
        }
    }

    /** What the benchmark posts, as MessageService completes it before validation. */
    private static Communication text() {
        Communication c = new Communication();
        c.setId("0b8c3a3e-6f55-4b5e-8d1f-6d0d3f2b9a71");
        c.setStatus(Communication.CommunicationStatus.COMPLETED);
        c.setSubject(new Reference("Patient/7f1d2c3b-aaaa-4bbb-8ccc-0123456789ab"));
        c.addRecipient(new Reference("Organization/3d5e7f90-1234-4abc-9def-0123456789ab"));
        c.setSender(new Reference("Organization/9a8b7c6d-1234-4abc-9def-0123456789ab"));
        c.setSent(new Date());
        c.addPayload().setContent(new StringType("Guten Tag, Befund anbei. Blutdruck 140/90 – Grüße"));
        return c;
    }

    private static Attachment binaryAttachment() {
        byte[] content = "%PDF-1.7 ...".getBytes(StandardCharsets.US_ASCII);
        return new Attachment().setContentType("application/pdf").setUrl("Binary/5e0c2b7a-9d1f-4e3a-8b6c-7d8e9f0a1b2c")
                .setSize(content.length).setHash(sha1(content)).setTitle("Befund.pdf");
    }

    private static Patient patient() {
        Patient p = new Patient();
        p.setId("7f1d2c3b-aaaa-4bbb-8ccc-0123456789ab");
        p.addIdentifier().setSystem(Systems.KVNR).setValue("X110411319");
        p.addName(new HumanName().setFamily("Müßig").addGiven("Jürgen").setUse(HumanName.NameUse.OFFICIAL));
        p.setBirthDateElement(new DateType("1963-02-17"));
        p.setGender(AdministrativeGender.MALE);
        return p;
    }

    /** What the HL7 inbound route validates: the PID's Patient, with the id the service gives it. */
    private static Patient adtPatient(Message message) {
        Patient p = AdtToPatient.map(message, AdtToPatient.AssigningAuthorities.defaults());
        p.setId("7f1d2c3b-aaaa-4bbb-8ccc-0123456789ab");
        return p;
    }

    /** The benchmark PID's Patient with the second identifier (PI) typed by {@code codings} instead. */
    private static Patient withIdentifierType(Coding... codings) {
        Patient p = benchPatient();
        CodeableConcept type = new CodeableConcept();
        for (Coding coding : codings) {
            type.addCoding(coding);
        }
        p.getIdentifier().get(1).setType(type);
        return p;
    }

    private static Encounter encounter(Coding encounterClass) {
        Encounter e = new Encounter();
        e.setId("3c1e5a7b-2222-4ddd-9eee-0123456789ab");
        e.setStatus(Encounter.EncounterStatus.FINISHED);
        e.setClass_(encounterClass);
        e.setSubject(new Reference("Patient/7f1d2c3b-aaaa-4bbb-8ccc-0123456789ab"));
        return e;
    }

    private static ObservationDefinition observationDefinition(Coding unit) {
        ObservationDefinition d = new ObservationDefinition();
        d.setId("5a7b9c1d-3333-4eee-8fff-0123456789ab");
        d.setCode(new CodeableConcept(new Coding("https://fhir.carerelay.org/CodeSystem/measurement", "weight", null)));
        d.getQuantitativeDetails().setUnit(new CodeableConcept(unit));
        return d;
    }

    /** {@code resource} as the store hands it out: its id with the version, which is also its meta.versionId, and lastUpdated. */
    private static <T extends DomainResource> T stored(T resource, String version) {
        resource.setId(resource.fhirType() + "/" + resource.getIdElement().getIdPart() + "/_history/" + version);
        resource.getMeta().setVersionId(version).setLastUpdated(new Date());
        return resource;
    }

    private static Patient benchPatient() {
        return adtPatient(adt("M", "Straße der Einheit 5"));
    }

    /** The benchmark PID with the street address split into street name and house number (iso21090-ADXP extensions). */
    private static Patient streetPatient() {
        Patient p = adtPatient(adt("M", "Straße der Einheit 5&Straße der Einheit&5"));
        if (!p.getAddressFirstRep().getLine().get(0).hasExtension(STREET_NAME)) {
            throw new IllegalStateException("no street name extension");
        }
        return p;
    }

    /** An ADT^A08 with the benchmark's PID (gender and house number as given). */
    private static Message adt(String gender, String street) {
        String hl7 = "MSH|^~\\&|PFLEGE_SW|PFLEGE|CARERELAY|CARERELAY|20241204120000||ADT^A08^ADT_A01|42|P|2.5|||||DEU|8859/1\r"
                + "EVN|A08|20241204120000\r"
                + "PID|1||X110411319^^^KVNR^KVNR~BPX110411319^^^PFL^PI||Müßig^Jürgen||19380412|" + gender
                + "|||" + street + "^^Görlitz^^02826^DEU\r"
                + "PV1|1|N\r";
        return Hl7Inbound.decodeAndParse(hl7.getBytes(StandardCharsets.ISO_8859_1), null).message();
    }

    private static Communication mdm(String sample) {
        Communication c = MdmToCommunication.toCommunication(MdmToCommunication.map(hl7(sample)));
        c.setId("0b8c3a3e-6f55-4b5e-8d1f-6d0d3f2b9a71");
        c.setSubject(new Reference("Patient/7f1d2c3b-aaaa-4bbb-8ccc-0123456789ab"));
        c.setSender(new Reference("Organization/9a8b7c6d-1234-4abc-9def-0123456789ab"));
        c.addRecipient(new Reference("Organization/3d5e7f90-1234-4abc-9def-0123456789ab"));
        return c;
    }

    private static Message hl7(String sample) {
        try (InputStream in = FastPathDifferentialTest.class.getResourceAsStream("/hl7v2/" + sample)) {
            return Hl7Inbound.decodeAndParse(in.readAllBytes(), null).message();
        } catch (IOException e) {
            throw new IllegalStateException(e);
        }
    }

    private static <T extends IBaseResource> T with(T resource, Consumer<T> change) {
        change.accept(resource);
        return resource;
    }

    private static IBaseResource lenient(String json) {
        return LENIENT.parseResource(json);
    }

    private static DateTimeType lenientDateTime(String value) {
        Communication c = (Communication) lenient("{\"resourceType\":\"Communication\",\"sent\":\"" + value + "\"}");
        return c.getSentElement();
    }

    private static DateType lenientDate(String value) {
        Patient p = (Patient) lenient("{\"resourceType\":\"Patient\",\"birthDate\":\"" + value + "\"}");
        return p.getBirthDateElement();
    }

    private static Identifier lenientEnum(Communication ignored, String element, String child, String value) {
        Communication c = (Communication) lenient("{\"resourceType\":\"Communication\",\"" + element + "\":[{\"" + child
                + "\":\"" + value + "\",\"value\":\"1\"}]}");
        return c.getIdentifierFirstRep();
    }

    private static byte[] sha1(byte[] data) {
        try {
            return MessageDigest.getInstance("SHA-1").digest(data);
        } catch (Exception e) {
            throw new IllegalStateException(e);
        }
    }
}
