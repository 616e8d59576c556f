package org.carerelay.fhir.hl7;

import static org.assertj.core.api.Assertions.assertThat;

import ca.uhn.fhir.context.FhirContext;
import ca.uhn.fhir.context.support.DefaultProfileValidationSupport;
import java.util.ArrayList;
import java.util.List;
import org.hl7.fhir.r4.model.CodeSystem;
import org.hl7.fhir.r4.model.CodeSystem.ConceptDefinitionComponent;
import org.junit.jupiter.api.Test;

/** Holds the fixed list of table 0203 codes to the v2-0203 code system HAPI's validator ships. */
class V2Table0203Test {

    @Test
    void codes_areExactlyThoseOfTheCodeSystemTheValidatorKnows() {
        CodeSystem shipped = (CodeSystem) new DefaultProfileValidationSupport(FhirContext.forR4Cached())
                .fetchCodeSystem(AdtToPatient.V2_0203);

        assertThat(shipped).as("v2-0203 as HAPI ships it").isNotNull();
        List<String> codes = new ArrayList<>();
        collect(shipped.getConcept(), codes);
        assertThat(codes).hasSizeGreaterThan(100);
        assertThat(V2Table0203.CODE_BY_UPPER_CASE.values()).containsExactlyInAnyOrderElementsOf(codes);
        // the lookup ignores case: only right while the code system does, and no two codes differ in case only
        assertThat(shipped.getCaseSensitive()).isFalse();
        assertThat(V2Table0203.CODE_BY_UPPER_CASE).hasSameSizeAs(codes);
    }

    @Test
    void code_givesTheTablesSpellingOrNothing() {
        assertThat(V2Table0203.code("MR")).contains("MR");
        assertThat(V2Table0203.code("mr")).contains("MR");
        assertThat(V2Table0203.code("nnXXX")).contains("NNxxx");
        assertThat(V2Table0203.code("MRN")).isEmpty();
        assertThat(V2Table0203.code("NHSNMBR")).isEmpty();
        assertThat(V2Table0203.code(null)).isEmpty();
    }

    private static void collect(List<ConceptDefinitionComponent> concepts, List<String> codes) {
        for (ConceptDefinitionComponent concept : concepts) {
            codes.add(concept.getCode());
            collect(concept.getConcept(), codes);
        }
    }
}
