package org.carerelay.gateway.fhir;

import java.util.Locale;
import org.hl7.fhir.r4.model.OperationOutcome;

/**
 * What a client asked for with {@code Prefer: return=minimal|representation|OperationOutcome}
 * after a create or update (FHIR R4 http.html#ops): the resource (the default), no body, or an
 * OperationOutcome about the outcome. Used by the FHIR server (through HAPI) and by the raw
 * attachment upload, which answers before HAPI.
 */
public enum PreferReturn {
    REPRESENTATION, MINIMAL, OPERATION_OUTCOME;

    /** The {@code return} preference of a {@code Prefer} header; {@link #REPRESENTATION} when absent or unknown. */
    public static PreferReturn of(String preferHeader) {
        if (preferHeader == null) {
            return REPRESENTATION;
        }
        for (String token : preferHeader.split("[,;]")) {
            String[] pair = token.trim().split("=", 2);
            if (pair.length == 2 && pair[0].trim().equalsIgnoreCase("return")) {
                String value = pair[1].trim().replace("\"", "").toLowerCase(Locale.ROOT);
                switch (value) {
                    case "minimal":
                        return MINIMAL;
                    case "operationoutcome":
                        return OPERATION_OUTCOME;
                    default:
                        return REPRESENTATION;
                }
            }
        }
        return REPRESENTATION;
    }

    /** The informational outcome of a successful create or update, e.g. "Created Binary/abc/_history/1.". */
    public static OperationOutcome outcome(String text) {
        OperationOutcome outcome = new OperationOutcome();
        outcome.addIssue()
                .setSeverity(OperationOutcome.IssueSeverity.INFORMATION)
                .setCode(OperationOutcome.IssueType.INFORMATIONAL)
                .setDiagnostics(text);
        return outcome;
    }
}
