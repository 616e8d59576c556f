package org.carerelay.gateway.fhir;

import ca.uhn.fhir.rest.server.exceptions.BaseServerResponseException;
import org.carerelay.fhir.ErrorCode;
import org.carerelay.fhir.OperationOutcomes;
import org.carerelay.gateway.infra.Outages;
import org.hl7.fhir.r4.model.OperationOutcome;

/** A refusal with a stable {@link ErrorCode}, answered as an OperationOutcome with its HTTP status. */
public class GatewayException extends BaseServerResponseException {

    private final ErrorCode errorCode;

    public GatewayException(ErrorCode errorCode, String diagnostics) {
        super(errorCode.httpStatus(), diagnostics == null ? errorCode.defaultText() : diagnostics,
                OperationOutcomes.of(errorCode, diagnostics == null ? errorCode.defaultText() : diagnostics));
        this.errorCode = errorCode;
    }

    /** A refusal whose outcome lists several issues (e.g. every bad row of a CSV file). */
    public GatewayException(ErrorCode errorCode, String summary, OperationOutcome outcome) {
        super(errorCode.httpStatus(), summary, outcome);
        this.errorCode = errorCode;
    }

    /**
     * {@code 503 service-unavailable} with {@code Retry-After}: the database or the broker could not
     * be reached and nothing was stored ({@link org.carerelay.gateway.infra.Outages}).
     */
    public static GatewayException serviceUnavailable() {
        GatewayException e = new GatewayException(ErrorCode.SERVICE_UNAVAILABLE, null);
        e.addResponseHeader("Retry-After", Integer.toString(Outages.RETRY_AFTER_SECONDS));
        return e;
    }

    public ErrorCode errorCode() {
        return errorCode;
    }
}
