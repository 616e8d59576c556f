package org.carerelay.fhir.validation;

import static org.assertj.core.api.Assertions.assertThat;

import ca.uhn.fhir.context.FhirContext;
import ca.uhn.fhir.context.support.DefaultProfileValidationSupport;
import ca.uhn.fhir.validation.FhirValidator;
import ca.uhn.fhir.validation.SingleValidationMessage;
import java.io.IOException;
import java.io.InputStream;
import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.Future;
import org.hl7.fhir.common.hapi.validation.support.CommonCodeSystemsTerminologyService;
import org.hl7.fhir.common.hapi.validation.support.InMemoryTerminologyServerValidationSupport;
import org.hl7.fhir.common.hapi.validation.support.SnapshotGeneratingValidationSupport;
import org.hl7.fhir.common.hapi.validation.support.ValidationSupportChain;
import org.hl7.fhir.common.hapi.validation.validator.FhirInstanceValidator;
import org.hl7.fhir.r4.model.Communication;
import org.hl7.fhir.r4.model.Narrative;
import org.hl7.fhir.r4.model.Quantity;
import org.hl7.fhir.r4.model.Observation;
import org.hl7.fhir.r4.model.Reference;
import org.hl7.fhir.r4.model.StringType;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;

/**
 * The reusing validator reports exactly what HAPI's own {@link FhirInstanceValidator} (a new
 * {@code InstanceValidator} per call) reports, also when one validator instance has validated
 * other resources before, valid and invalid ones in turn, from several threads.
 */
class ReusingInstanceValidatorTest {

    private static final FhirContext CTX = FhirContext.forR4Cached();
    private static ValidationSupportChain support;
    private static FhirValidator hapi;
    private static FhirValidator reusing;
    private static ReusingInstanceValidator module;

    @BeforeAll
    static void validators() {
        support = new ValidationSupportChain(ValidationSupportChain.CacheConfiguration.defaultValues(),
                new DefaultProfileValidationSupport(CTX), new CommonCodeSystemsTerminologyService(CTX),
                new InMemoryTerminologyServerValidationSupport(CTX), new SnapshotGeneratingValidationSupport(CTX));
        FhirInstanceValidator stock = new FhirInstanceValidator(support);
        module = new ReusingInstanceValidator(support, 2);
        for (FhirInstanceValidator v : List.of(stock, module)) {
            v.setAnyExtensionsAllowed(true);
            v.setErrorForUnknownProfiles(false);
            v.setNoTerminologyChecks(false);
        }
        hapi = validator(stock);
        reusing = validator(module);
    }

    private static FhirValidator validator(FhirInstanceValidator module) {
        FhirValidator validator = CTX.newValidator();
        validator.setValidateAgainstStandardSchema(false);
        validator.setValidateAgainstStandardSchematron(false);
        validator.registerValidatorModule(module);
        return validator;
    }

    @Test
    void aReusedValidator_reportsExactlyWhatAFreshHapiValidatorReports() throws Exception {
        List<String> inputs = inputs();
        List<List<String>> expected = new ArrayList<>();
        for (String input : inputs) {
            expected.add(messages(hapi, input));
        }
        assertThat(expected).as("the inputs include invalid ones").anySatisfy(m -> assertThat(m).anyMatch(s -> s.startsWith("ERROR")));
        assertThat(expected).as("and valid ones").anySatisfy(m -> assertThat(m).noneMatch(s -> s.startsWith("ERROR")));

        long builtBefore = module.validatorsBuilt();
        int rounds = 6;
        ExecutorService pool = Executors.newFixedThreadPool(4);
        try {
            List<Future<List<String>>> futures = new ArrayList<>();
            for (int round = 0; round < rounds; round++) {
                for (String input : inputs) {
                    futures.add(pool.submit(() -> messages(reusing, input)));
                }
            }
            for (int i = 0; i < futures.size(); i++) {
                assertThat(futures.get(i).get()).as("input %d, round %d", i % inputs.size(), i / inputs.size())
                        .isEqualTo(expected.get(i % inputs.size()));
            }
        } finally {
            pool.shutdownNow();
        }
        // one after another on this thread: every input again after all the others
        for (int i = 0; i < inputs.size(); i++) {
            assertThat(messages(reusing, inputs.get(i))).isEqualTo(expected.get(i));
        }
        int validations = rounds * inputs.size() + inputs.size();
        assertThat(module.validatorsBuilt() - builtBefore).as("InstanceValidators built for %d validations", validations)
                .isLessThan(validations / 4);
    }

    @Test
    void aValidatorIsRetiredAfterItsMaximumUses() {
        ReusingInstanceValidator single = new ReusingInstanceValidator(support, 1);
        single.setAnyExtensionsAllowed(true);
        FhirValidator validator = validator(single);
        String input = CTX.newJsonParser().encodeResourceToString(communication());
        for (int i = 0; i < ReusingInstanceValidator.MAX_USES + 10; i++) {
            assertThat(messages(validator, input)).noneMatch(s -> s.startsWith("ERROR"));
        }
        assertThat(single.validatorsBuilt()).isEqualTo(2);
    }

    @Test
    void aValidatorThatFailedOnAnInput_isNotReused() {
        ReusingInstanceValidator single = new ReusingInstanceValidator(support, 1);
        single.setAnyExtensionsAllowed(true);
        FhirValidator validator = validator(single);
        String crashing = "{\"resourceType\":\"Communication\",\"status\":\"completed\",\"recipient\":[{\"reference\":\"/\"}]}";
        messages(validator, "{\"resourceType\":\"Communication\",\"status\":\"completed\"}");
        long built = single.validatorsBuilt();

        List<String> failed = messages(validator, crashing);
        assertThat(failed).anySatisfy(m -> assertThat(m).startsWith("FATAL").contains("the FHIR validator failed on it"));
        assertThat(single.validatorsBuilt()).as("the pooled validator served the failing input").isEqualTo(built);

        messages(validator, "{\"resourceType\":\"Communication\",\"status\":\"completed\"}");
        assertThat(single.validatorsBuilt()).as("a new validator after the failure").isEqualTo(built + 1);
    }

    /** Severity, location and text of every message, in order. */
    private static List<String> messages(FhirValidator validator, String input) {
        List<String> out = new ArrayList<>();
        for (SingleValidationMessage m : validator.validateWithResult(input).getMessages()) {
            out.add(m.getSeverity() + " " + m.getLocationString() + " " + m.getMessageId() + " " + m.getMessage());
        }
        return out;
    }

    private static List<String> inputs() throws IOException {
        List<String> inputs = new ArrayList<>();
        for (String name : List.of("Communication-example.json", "Communication-fm-attachment.json",
                "Consent-consent-example-basic.json", "Observation-blood-pressure.json", "Observation-vitals-panel.json")) {
            inputs.add(read(name));
        }
        var json = CTX.newJsonParser();
        var xml = CTX.newXmlParser();
        Communication valid = communication();
        inputs.add(json.encodeResourceToString(valid));
        inputs.add(xml.encodeResourceToString(valid));
        // narrative, a profile the validator does not know, a draft-status definition's binding
        Communication narrative = communication();
        narrative.getText().setStatus(Narrative.NarrativeStatus.GENERATED).setDivAsString("<div xmlns=\"http://www.w3.org/1999/xhtml\">Hallo</div>");
        narrative.getMeta().addProfile("https://fhir.carerelay.org/StructureDefinition/unknown");
        inputs.add(json.encodeResourceToString(narrative));
        inputs.add(xml.encodeResourceToString(narrative));
        inputs.add("{\"resourceType\":\"Communication\",\"status\":\"sent-ish\",\"subject\":{\"reference\":\"Patient/1\"}}");
        inputs.add("<Communication xmlns=\"http://hl7.org/fhir\"><status value=\"nope\"/></Communication>");
        inputs.add("{\"resourceType\":\"Consent\",\"patient\":{\"reference\":\"Patient/1\"}}");
        Observation ucum = new Observation();
        ucum.setStatus(Observation.ObservationStatus.FINAL);
        ucum.getCode().setText("Gewicht");
        ucum.setValue(new Quantity().setValue(70).setSystem("http://unitsofmeasure.org").setCode("kilo-gramm"));
        inputs.add(json.encodeResourceToString(ucum));
        return inputs;
    }

    private static Communication communication() {
        Communication communication = new Communication();
        communication.setStatus(Communication.CommunicationStatus.COMPLETED);
        communication.setSubject(new Reference("Patient/1"));
        communication.addRecipient(new Reference("Organization/2"));
        communication.addPayload().setContent(new StringType("Entlassbrief folgt"));
        return communication;
    }

    private static String read(String fileName) throws IOException {
        try (InputStream in = ReusingInstanceValidatorTest.class.getResourceAsStream("/r4/" + fileName)) {
            assertThat(in).as(fileName).isNotNull();
            return new String(in.readAllBytes(), StandardCharsets.UTF_8);
        }
    }
}
