package org.carerelay.fhir.validation;

import static org.assertj.core.api.Assertions.assertThat;

import ca.uhn.fhir.context.FhirContext;
import ca.uhn.fhir.context.support.DefaultProfileValidationSupport;
import java.util.List;
import org.hl7.fhir.r4.model.CodeSystem;
import org.hl7.fhir.r4.model.ElementDefinition;
import org.hl7.fhir.r4.model.Narrative;
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
        StructureDefinition before = consent.copy();

        DefinitionDocumentation.strip(consent);

        assertThat(consent.equalsDeep(before)).isTrue();
    }

    @Test
    void aDefinitionWithProse_losesItWhenStripped() {
        StructureDefinition sd = new StructureDefinition();
        sd.setText(new Narrative().setStatus(Narrative.NarrativeStatus.GENERATED));
        sd.setDescription("about").setPurpose("why").setCopyright("whose");
        sd.addMapping().setIdentity("rim");
        sd.getDifferential().addElement().setPath("X");
        ElementDefinition element = sd.getSnapshot().addElement().setPath("X").setDefinition("what X is").setComment("more")
                .setRequirements("why").setMeaningWhenMissing("nothing").setShort("X").setMin(1).setMax("1");
        element.addAlias("Y");
        element.addMapping().setIdentity("rim").setMap("X");
        element.addExample().setLabel("e");
        element.addConstraint().setKey("x-1").setHuman("X is there").setExpression("exists()");
        element.addType().setCode("string");
        element.getBinding().setValueSet("http://example.org/ValueSet/x");

        DefinitionDocumentation.strip(sd);

        assertThat(sd.hasText() || sd.hasDescription() || sd.hasPurpose() || sd.hasCopyright() || sd.hasMapping()
                || sd.hasDifferential()).isFalse();
        assertThat(element.hasDefinition() || element.hasComment() || element.hasRequirements() || element.hasAlias()
                || element.hasMapping() || element.hasExample() || element.hasMeaningWhenMissing()).isFalse();
        assertThat(element.getPath()).isEqualTo("X");
        assertThat(element.getShort()).isEqualTo("X");
        assertThat(element.getMin()).isEqualTo(1);
        assertThat(element.getMax()).isEqualTo("1");
        assertThat(element.getConstraintFirstRep().getHuman()).isEqualTo("X is there");
        assertThat(element.getTypeFirstRep().getCode()).isEqualTo("string");
        assertThat(element.getBinding().getValueSet()).isEqualTo("http://example.org/ValueSet/x");
    }

    @Test
    void valueSetsAndCodeSystems_loseTheirProse_notTheirCodes() {
        ValueSet valueSet = new ValueSet();
        valueSet.setText(new Narrative().setStatus(Narrative.NarrativeStatus.GENERATED));
        valueSet.setDescription("about").setPurpose("why").setCopyright("whose");
        valueSet.getCompose().addInclude().setSystem("http://example.org/cs");
        CodeSystem codeSystem = new CodeSystem();
        codeSystem.setText(new Narrative().setStatus(Narrative.NarrativeStatus.GENERATED));
        codeSystem.setDescription("about").setPurpose("why").setCopyright("whose");
        codeSystem.addConcept().setCode("a").setDisplay("A").setDefinition("the letter a");

        DefinitionDocumentation.strip(List.of(valueSet, codeSystem));

        assertThat(valueSet.hasText() || valueSet.hasDescription() || valueSet.hasPurpose() || valueSet.hasCopyright()).isFalse();
        assertThat(valueSet.getCompose().getIncludeFirstRep().getSystem()).isEqualTo("http://example.org/cs");
        assertThat(codeSystem.hasText() || codeSystem.hasDescription() || codeSystem.hasPurpose() || codeSystem.hasCopyright()).isFalse();
        assertThat(codeSystem.getConceptFirstRep().getCode()).isEqualTo("a");
        assertThat(codeSystem.getConceptFirstRep().getDisplay()).isEqualTo("A");
    }

    private static ElementDefinition element(StructureDefinition sd, String path) {
        return sd.getSnapshot().getElement().stream().filter(e -> e.getPath().equals(path)).findFirst().orElseThrow();
    }
}
