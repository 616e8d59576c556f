package org.carerelay.gateway.fhir;

import static org.assertj.core.api.Assertions.assertThat;

import org.junit.jupiter.api.Test;

class PreferReturnTest {

    @Test
    void preferHeader_returnValues_areReadCaseInsensitivelyAmongOtherPreferences() {
        assertThat(PreferReturn.of(null)).isEqualTo(PreferReturn.REPRESENTATION);
        assertThat(PreferReturn.of("return=minimal")).isEqualTo(PreferReturn.MINIMAL);
        assertThat(PreferReturn.of("respond-async, return=OperationOutcome")).isEqualTo(PreferReturn.OPERATION_OUTCOME);
        assertThat(PreferReturn.of("handling=strict; return=\"representation\"")).isEqualTo(PreferReturn.REPRESENTATION);
        assertThat(PreferReturn.of("RETURN=MINIMAL")).isEqualTo(PreferReturn.MINIMAL);
        assertThat(PreferReturn.of("return=everything")).isEqualTo(PreferReturn.REPRESENTATION);
    }

    @Test
    void operationOutcome_isInformational() {
        var issue = PreferReturn.outcome("Created Binary/x/_history/1.").getIssueFirstRep();
        assertThat(issue.getSeverity()).isEqualTo(org.hl7.fhir.r4.model.OperationOutcome.IssueSeverity.INFORMATION);
        assertThat(issue.getDiagnostics()).isEqualTo("Created Binary/x/_history/1.");
    }
}
