package org.carerelay.fhir;

import org.hl7.fhir.r4.model.CodeableConcept;
import org.hl7.fhir.r4.model.OperationOutcome;
import org.hl7.fhir.r4.model.OperationOutcome.IssueSeverity;
import org.hl7.fhir.r4.model.OperationOutcome.IssueType;

/** Builds the {@link OperationOutcome}s that carry an {@link ErrorCode}. */
public final class OperationOutcomes {

    private OperationOutcomes() {
    }

    /** An outcome with one error issue carrying {@code code} and a human-readable diagnostic. */
    public static OperationOutcome of(ErrorCode code, String diagnostics) {
        OperationOutcome outcome = new OperationOutcome();
        addIssue(outcome, code, diagnostics);
        return outcome;
    }

    public static OperationOutcome.OperationOutcomeIssueComponent addIssue(
            OperationOutcome outcome, ErrorCode code, String diagnostics) {
        OperationOutcome.OperationOutcomeIssueComponent issue = outcome.addIssue()
                .setSeverity(code.httpStatus() >= 500 ? IssueSeverity.FATAL : IssueSeverity.ERROR)
                .setCode(IssueType.fromCode(code.fhirIssueType()))
                .setDetails(new CodeableConcept().setText(code.defaultText()));
        issue.getDetails().addCoding().setSystem(ErrorCode.SYSTEM).setCode(code.code()).setDisplay(code.defaultText());
        if (diagnostics != null && !diagnostics.isBlank()) {
            issue.setDiagnostics(diagnostics);
        }
        return issue;
    }

    /** The first CareRelay error code found in {@code outcome}, or {@code null}. */
    public static ErrorCode codeOf(OperationOutcome outcome) {
        for (OperationOutcome.OperationOutcomeIssueComponent issue : outcome.getIssue()) {
            for (var coding : issue.getDetails().getCoding()) {
                if (ErrorCode.SYSTEM.equals(coding.getSystem())) {
                    return ErrorCode.fromCode(coding.getCode());
                }
            }
        }
        return null;
    }
}
