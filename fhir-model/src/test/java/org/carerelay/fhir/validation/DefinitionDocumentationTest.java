package org.carerelay.fhir.validation;

import static org.assertj.core.api.Assertions.assertThat;

import ca.uhn.fhir.context.FhirContext;
import ca.uhn.fhir.context.support.DefaultProfileValidationSupport;
import org.carerelay.fhir.validation.ResourceValidator.Issue;
import org.carerelay.fhir.validation.ResourceValidator.Result;
import org.hl7.fhir.r4.model.CodeSystem;
import org.hl7.fhir.r4.model.CodeableConcept;
import org.hl7.fhir.r4.model.Coding;
import org.hl7.fhir.r4.model.Consent;
import org.hl7.fhir.r4.model.ElementDefinition;
import org.hl7.fhir.r4.model.Narrative;
import org.hl7.fhir.r4.model.Reference;
import org.hl7.fhir.r4.model.StructureDefinition;
import org.hl7.fhir.r4.model.ValueSet;
import org.junit.jupiter.api.Test;

class DefinitionDocumentationTest {

    private static final FhirContext CTX = FhirContext.forR4Cached();
    private static final String CORE = "http://hl7.org/fhir/StructureDefinition/";

    @Test
    void theCoreDefinitions_comeWithoutTheirProse_butWithEverythingValidationReads() {
        var definitions = new ResourceValidator.CoreDefinitions(CTX);
        StructureDefinition communication = (StructureDefinition) definitions.fetchStructureDefinition(CORE + "Communication");

        assertThat(communication.hasText()).isFalse();
        assertThat(communication.hasDescription()).isFalse();
        assertThat(communication.hasMapping()).isFalse();
        assertThat(communication.hasDifferential()).isFalse();
        ElementDefinition status = element(communication, "Communication.status");
        assertThat(status.hasDefinition()).isFalse();
        assertThat(status.hasComment()).isFalse();
        assertThat(status.hasMapping()).isFalse();
        // what validation reads
        assertThat(status.getMin()).isEqualTo(1);
        assertThat(status.getMax()).isEqualTo("1");
        assertThat(status.getTypeFirstRep().getCode()).isEqualTo("code");
        assertThat(status.getBinding().getValueSet()).isEqualTo("http://hl7.org/fhir/ValueSet/event-status|4.0.1");
        assertThat(status.hasShort()).isTrue();
        ElementDefinition root = element(communication, "Communication");
        assertThat(root.getConstraint()).anySatisfy(constraint -> {
            assertThat(constraint.getKey()).isEqualTo("dom-2");
            assertThat(constraint.getHuman()).isNotBlank();
            assertThat(constraint.getExpression()).isNotBlank();
        });

        ValueSet eventStatus = (ValueSet) definitions.fetchValueSet("http://hl7.org/fhir/ValueSet/event-status");
        assertThat(eventStatus.hasText()).isFalse();
        assertThat(eventStatus.hasDescription()).isFalse();
        assertThat(eventStatus.getCompose().getIncludeFirstRep().getSystem()).isEqualTo("http://hl7.org/fhir/event-status");
        CodeSystem codes = (CodeSystem) definitions.fetchCodeSystem("http://hl7.org/fhir/event-status");
        assertThat(codes.hasText()).isFalse();
        assertThat(codes.getConcept()).extracting(CodeSystem.ConceptDefinitionComponent::getCode).contains("completed");

        // HAPI keeps one loaded set per JVM: its own support hands out the same, stripped instances
        assertThat(new DefaultProfileValidationSupport(CTX).fetchStructureDefinition(CORE + "Communication"))
                .isSameAs(communication);
    }

    @Test
    void strippingTwice_changesNothing() {
        var definitions = new ResourceValidator.CoreDefinitions(CTX);
        StructureDefinition consent = (StructureDefinition) definitions.fetchStructureDefinition(CORE + "Consent");
        int elements = consent.getSnapshot().getElement().size();

        DefinitionDocumentation.strip(consent);

        assertThat(consent.getSnapshot().getElement()).hasSize(elements);
        assertThat(consent.hasDifferential()).isFalse();
    }

    @Test
    void aDefinitionWithProse_losesItWhenStripped() {
        StructureDefinition sd = new StructureDefinition();
        sd.setText(new Narrative().setStatus(Narrative.NarrativeStatus.GENERATED));
        sd.setDescription("about");
        sd.getDifferential().addElement().setPath("X");
        ElementDefinition element = sd.getSnapshot().addElement().setPath("X").setDefinition("what X is").setComment("more")
                .setRequirements("why").setShort("X");
        element.addAlias("Y");
        element.addMapping().setIdentity("rim").setMap("X");
        element.addExample().setLabel("e");

        DefinitionDocumentation.strip(sd);

        assertThat(sd.hasText()).isFalse();
        assertThat(sd.hasDescription()).isFalse();
        assertThat(sd.hasDifferential()).isFalse();
        assertThat(element.hasDefinition() || element.hasComment() || element.hasRequirements() || element.hasAlias()
                || element.hasMapping() || element.hasExample()).isFalse();
        assertThat(element.getPath()).isEqualTo("X");
        assertThat(element.getShort()).isEqualTo("X");
    }

    @Test
    void theFullValidator_stillNamesAndQuotesAConstraintItFindsBroken() {
        ResourceValidator validator = new ResourceValidator(CTX);
        Consent consent = new Consent();
        consent.setStatus(Consent.ConsentState.ACTIVE);
        consent.setScope(new CodeableConcept(new Coding("http://terminology.hl7.org/CodeSystem/consentscope", "patient-privacy", null)));
        consent.addCategory(new CodeableConcept(new Coding("http://loinc.org", "59284-0", null)));
        consent.setPatient(new Reference("Patient/123"));
        // neither policy nor policyRule: ppc-1 "Either a Policy or PolicyRule"

        Result result = validator.validateFully(consent);

        assertThat(result.errors()).extracting(Issue::message)
                .anySatisfy(message -> assertThat(message).contains("ppc-1").contains("Either a Policy or PolicyRule"));
    }

    private static ElementDefinition element(StructureDefinition sd, String path) {
        return sd.getSnapshot().getElement().stream().filter(e -> e.getPath().equals(path)).findFirst().orElseThrow();
    }
}
