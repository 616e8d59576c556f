package org.carerelay.fhir.validation;

import static org.assertj.core.api.Assertions.assertThat;

import ca.uhn.fhir.context.FhirContext;
import ca.uhn.fhir.parser.IParser;
import ca.uhn.fhir.parser.LenientErrorHandler;
import java.io.IOException;
import java.net.URISyntaxException;
import java.net.URL;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.Future;
import java.util.stream.Stream;
import org.carerelay.fhir.Systems;
import org.carerelay.fhir.validation.ResourceValidator.Issue;
import org.carerelay.fhir.validation.ResourceValidator.Result;
import org.hl7.fhir.instance.model.api.IBaseResource;
import org.hl7.fhir.r4.model.CodeableConcept;
import org.hl7.fhir.r4.model.Coding;
import org.hl7.fhir.r4.model.Communication;
import org.hl7.fhir.r4.model.Consent;
import org.hl7.fhir.r4.model.ElementDefinition;
import org.hl7.fhir.r4.model.Identifier;
import org.hl7.fhir.r4.model.Reference;
import org.hl7.fhir.r4.model.StringType;
import org.hl7.fhir.r4.model.StructureDefinition;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.MethodSource;
import org.junit.jupiter.params.provider.ValueSource;

class ResourceValidatorTest {

    private static final String EXAMPLES = "/r4/";
    private static final FhirContext CTX = FhirContext.forR4Cached();
    /** Expensive to create and to warm up: shared by all tests. */
    private static final ResourceValidator VALIDATOR = new ResourceValidator(CTX);
    private static final String CORE = "http://hl7.org/fhir/StructureDefinition/";

    @BeforeAll
    static void warmUp() {
        VALIDATOR.warmUp();
    }

    static Stream<String> officialExamples() throws IOException, URISyntaxException {
        URL dir = ResourceValidatorTest.class.getResource(EXAMPLES);
        assertThat(dir).as("test resources " + EXAMPLES).isNotNull();
        List<String> names;
        try (Stream<Path> files = Files.list(Path.of(dir.toURI()))) {
            names = files.map(file -> file.getFileName().toString())
                    .filter(name -> name.matches("(Communication|Consent|Observation)-.*\\.json"))
                    .sorted()
                    .toList();
        }
        assertThat(names).as("official examples").hasSizeGreaterThanOrEqualTo(10);
        return names.stream();
    }

    @ParameterizedTest(name = "{0}")
    @MethodSource("officialExamples")
    void officialExample_parsesAndValidatesWithoutErrors(String fileName) throws IOException {
        String json = read(fileName);
        IBaseResource resource = CTX.newJsonParser().parseResource(json);

        Result result = VALIDATOR.validate(resource);

        assertThat(result.errors()).as(fileName).isEmpty();
        assertThat(result.isValid()).isTrue();
        // the raw text gives the same verdict as the parsed resource
        assertThat(VALIDATOR.validate(json).errors()).as(fileName + " as text").isEmpty();
    }

    @Test
    void invalidStatusCode_isAnErrorWithItsLocation() {
        String json = """
                {"resourceType":"Communication","status":"sent-ish","subject":{"reference":"Patient/123"}}""";

        Result result = VALIDATOR.validate(json);

        assertThat(result.isValid()).isFalse();
        assertThat(result.errors())
                .isNotEmpty()
                .allSatisfy(issue -> {
                    assertThat(issue.severity()).isEqualTo("error");
                    assertThat(issue.location()).isEqualTo("Communication.status");
                })
                .anySatisfy(issue -> assertThat(issue.message())
                        .contains("'sent-ish'")
                        .contains("http://hl7.org/fhir/ValueSet/event-status"));
    }

    @Test
    void invalidStatusCode_isAlsoFoundOnALenientlyParsedResource() {
        // HAPI's default parser rejects the unknown code; a lenient one keeps it for validation
        IParser lenient = CTX.newJsonParser()
                .setParserErrorHandler(new LenientErrorHandler(false).setErrorOnInvalidValue(false));
        Communication communication = lenient.parseResource(Communication.class,
                "{\"resourceType\":\"Communication\",\"status\":\"sent-ish\"}");

        Result result = VALIDATOR.validate(communication);

        assertThat(result.isValid()).isFalse();
        assertThat(result.errors()).extracting(Issue::location).contains("Communication.status");
    }

    @Test
    void onceLoaded_equalTextsOfTheCoreDefinitionsAreOneString() {
        var definitions = new ResourceValidator.CoreDefinitions(CTX); // loads, strips and shares them once per JVM
        StructureDefinition communication = (StructureDefinition) definitions.fetchStructureDefinition(CORE + "Communication");
        StructureDefinition consent = (StructureDefinition) definitions.fetchStructureDefinition(CORE + "Consent");
        ElementDefinition communicationId = communication.getSnapshot().getElement().get(1);
        ElementDefinition consentId = consent.getSnapshot().getElement().get(1);
        assertThat(communicationId.getPath()).isEqualTo("Communication.id");
        assertThat(consentId.getPath()).isEqualTo("Consent.id");

        // parsed from two places of HAPI's bundle, shared when loaded
        assertThat(consentId.getTypeFirstRep().getCode()).isSameAs(communicationId.getTypeFirstRep().getCode());
        assertThat(consentId.getShort()).isSameAs(communicationId.getShort()).isNotNull();
        assertThat(consentId.getBase().getPath()).isSameAs(communicationId.getBase().getPath()).isEqualTo("Resource.id");
        // nothing left to share, and the texts are what they were
        assertThat(VALIDATOR.shareDefinitionStrings()).isZero();
        assertThat(consentId.getTypeFirstRep().getCode()).isEqualTo("http://hl7.org/fhirpath/System.String");
    }

    @Test
    void afterTheFastPathWarmUpAlone_aResourceItCannotDecideIsStillValidatedFully() {
        ResourceValidator validator = new ResourceValidator(CTX);
        validator.warmUpFastPath();
        Consent consent = consent();
        consent.setStatus(null);

        Result result = validator.validate(consent);

        assertThat(result.errors()).singleElement()
                .satisfies(issue -> assertThat(issue.message()).contains("Consent.status").contains("minimum required = 1"));
        assertThat(validator.validate(consent().setStatus(Consent.ConsentState.ACTIVE)).isValid()).isTrue();
    }

    @ParameterizedTest
    @ValueSource(strings = {"http://example.org", "https://example.org/", "a//1", "//1"})
    void aReferenceWithAnEmptyTypeSegment_isJudged_notACrashOfTheValidator(String reference) {
        // HAPI's definitions read the first character of an empty type name for these (HAPI 8.8)
        Consent consent = consent();
        consent.getProvision().addActor().setReference(new Reference(reference)).getRole().addCoding()
                .setSystem("http://terminology.hl7.org/CodeSystem/v3-ParticipationType").setCode("IRCP");
        String json = CTX.newJsonParser().encodeResourceToString(consent);

        Result result = VALIDATOR.validate(json);

        assertThat(result.isValid()).as("%s", result).isTrue();
        consent.setStatus(null);
        assertThat(VALIDATOR.validate(CTX.newJsonParser().encodeResourceToString(consent)).errors())
                .singleElement().satisfies(issue -> assertThat(issue.message()).contains("Consent.status"));
    }

    @ParameterizedTest
    @ValueSource(strings = {"StructureDefinition/", "http://hl7.org/fhir/StructureDefinition/", "Consent/"})
    void aProfileThatNamesNoStructureDefinition_isUnknown_notACrashOfTheValidator(String profile) {
        // HAPI 8.8 makes the first the bare core prefix, then reads past its end
        Consent consent = consent();
        consent.getMeta().addProfile(profile);

        for (Result result : List.of(VALIDATOR.validate(consent),
                VALIDATOR.validate(CTX.newJsonParser().encodeResourceToString(consent)))) {
            // an unknown profile is a warning here; a relative one is an error about that element only
            assertThat(result.errors()).as("%s", result).allSatisfy(issue -> {
                assertThat(issue.location()).isEqualTo("Consent.meta.profile[0]");
                assertThat(issue.message()).startsWith("Canonical URLs must be absolute URLs");
            });
            assertThat(result.warnings()).anySatisfy(issue -> assertThat(issue.message()).contains("could not be found"));
        }
    }

    @ParameterizedTest
    @ValueSource(strings = {"/", "//", "///"})
    void aReferenceTheValidatorFailsOn_isNotAccepted_andTheValidatorsGoOn(String reference) {
        // HAPI 8.8's instance validator indexes past the end of such a reference
        Consent consent = consent();
        consent.getProvision().addActor().setReference(new Reference(reference)).getRole().addCoding()
                .setSystem("http://terminology.hl7.org/CodeSystem/v3-ParticipationType").setCode("IRCP");

        for (String text : List.of(CTX.newJsonParser().encodeResourceToString(consent),
                CTX.newXmlParser().encodeResourceToString(consent))) {
            Result result = VALIDATOR.validate(text);

            assertThat(result.errors()).anySatisfy(issue -> {
                assertThat(issue.severity()).isEqualTo("fatal");
                assertThat(issue.message()).isEqualTo("The resource cannot be checked: the FHIR validator failed on it, so it is not accepted");
            });
        }
        assertThat(VALIDATOR.validate(CTX.newJsonParser().encodeResourceToString(consent())).isValid()).isTrue();
    }

    @Test
    void consentWithoutStatus_isAnError() {
        Consent consent = consent();
        consent.setStatus(null);

        Result result = VALIDATOR.validate(consent);

        assertThat(result.isValid()).isFalse();
        assertThat(result.errors()).singleElement().satisfies(issue -> {
            assertThat(issue.severity()).isEqualTo("error");
            assertThat(issue.location()).isEqualTo("Consent");
            assertThat(issue.message()).contains("Consent.status").contains("minimum required = 1");
        });
        assertThat(VALIDATOR.validate(consent().setStatus(Consent.ConsentState.ACTIVE)).isValid()).isTrue();
    }

    @Test
    void careRelayCodeSystemsGermanIdentifiersUnknownExtensionsAndUnresolvableReferences_areValid() {
        Communication communication = new Communication();
        communication.getMeta().addProfile("https://fhir.carerelay.org/StructureDefinition/communication");
        communication.addExtension("https://fhir.carerelay.org/StructureDefinition/unknown-extension",
                new StringType("anything"));
        communication.addIdentifier(new Identifier().setSystem(Systems.IKNR).setValue("260326822"));
        communication.setStatus(Communication.CommunicationStatus.COMPLETED);
        communication.addCategory(new CodeableConcept(
                new Coding("https://fhir.carerelay.org/CodeSystem/message-category", "discharge-letter", null)));
        communication.addMedium(new CodeableConcept(
                new Coding("https://fhir.carerelay.org/CodeSystem/transport", "kim", null)));
        communication.setSubject(new Reference("Patient/123"));
        communication.addRecipient(new Reference("Organization/abc")
                .setIdentifier(new Identifier().setSystem(Systems.TELEMATIK_ID).setValue("5-2-123456789")));
        communication.addPayload().setContent(new StringType("Entlassbrief folgt"));

        Result result = VALIDATOR.validate(communication);

        assertThat(result.errors()).isEmpty();
        assertThat(result.isValid()).isTrue();
        assertThat(result.warnings())
                .anySatisfy(issue -> {
                    assertThat(issue.location()).isEqualTo("Communication.category[0]");
                    assertThat(issue.message()).contains("CodeSystem is unknown");
                });
    }

    @Test
    void unknownCodeInACodeSystemTheValidatorKnows_staysAnError() {
        Communication communication = new Communication();
        communication.setStatus(Communication.CommunicationStatus.COMPLETED);
        communication.addCategory(new CodeableConcept(
                new Coding("http://terminology.hl7.org/CodeSystem/communication-category", "not-a-code", null)));

        Result result = VALIDATOR.validate(communication);

        assertThat(result.errors()).singleElement().satisfies(issue -> {
            assertThat(issue.location()).isEqualTo("Communication.category[0]");
            assertThat(issue.message()).contains("Unknown code").contains("not-a-code");
        });
    }

    @ParameterizedTest
    @ValueSource(strings = {
        "{\"resourceType\":\"Communication\",",
        "<Communication xmlns=\"http://hl7.org/fhir\"><status value=\"completed\"/>",
        "{\"status\":\"completed\"}",
        "{\"resourceType\":\"NoSuchResource\"}",
        "hello",
        " "
    })
    void unreadableText_isAFatalError(String text) {
        Result result = VALIDATOR.validate(text);

        assertThat(result.isValid()).isFalse();
        assertThat(result.errors()).extracting(Issue::severity).containsOnly("fatal");
    }

    @Test
    void concurrentValidations_giveTheSameResults() throws Exception {
        List<String> examples = officialExamples().toList();
        List<IBaseResource> resources = new ArrayList<>();
        for (String name : examples) {
            resources.add(CTX.newJsonParser().parseResource(read(name)));
        }
        ExecutorService pool = Executors.newFixedThreadPool(4);
        try {
            List<Future<Result>> futures = new ArrayList<>();
            for (int round = 0; round < 2; round++) {
                for (IBaseResource resource : resources) {
                    futures.add(pool.submit(() -> VALIDATOR.validate(resource)));
                }
            }
            for (int i = 0; i < futures.size(); i++) {
                Result result = futures.get(i).get();
                String name = examples.get(i % examples.size());
                assertThat(result.errors()).as(name).isEmpty();
                assertThat(result).as(name).isEqualTo(VALIDATOR.validate(resources.get(i % resources.size())));
            }
        } finally {
            pool.shutdownNow();
        }
    }

    private static Consent consent() {
        Consent consent = new Consent();
        consent.setStatus(Consent.ConsentState.ACTIVE);
        consent.setScope(new CodeableConcept(
                new Coding("http://terminology.hl7.org/CodeSystem/consentscope", "patient-privacy", null)));
        consent.addCategory(new CodeableConcept(
                new Coding("https://fhir.carerelay.org/CodeSystem/consent-category", "relay", null)));
        consent.setPatient(new Reference("Patient/123"));
        consent.setPolicyRule(new CodeableConcept(
                new Coding("http://terminology.hl7.org/CodeSystem/v3-ActCode", "OPTIN", null)));
        return consent;
    }

    private static String read(String fileName) throws IOException {
        try (var in = ResourceValidatorTest.class.getResourceAsStream(EXAMPLES + fileName)) {
            assertThat(in).as(fileName).isNotNull();
            return new String(in.readAllBytes(), StandardCharsets.UTF_8);
        }
    }
}
