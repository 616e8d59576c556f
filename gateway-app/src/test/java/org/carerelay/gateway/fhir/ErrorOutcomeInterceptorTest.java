package org.carerelay.gateway.fhir;

import static org.assertj.core.api.Assertions.assertThat;

import ca.uhn.fhir.rest.api.RequestTypeEnum;
import ca.uhn.fhir.rest.server.exceptions.BaseServerResponseException;
import ca.uhn.fhir.rest.server.exceptions.InternalErrorException;
import ca.uhn.fhir.rest.server.servlet.ServletRequestDetails;
import java.sql.SQLTransientConnectionException;
import java.util.List;
import org.carerelay.fhir.ErrorCode;
import org.hl7.fhir.r4.model.OperationOutcome;
import org.junit.jupiter.api.Test;
import org.springframework.dao.DuplicateKeyException;
import org.springframework.jdbc.CannotGetJdbcConnectionException;

class ErrorOutcomeInterceptorTest {

    private final ErrorOutcomeInterceptor interceptor = new ErrorOutcomeInterceptor();

    @Test
    void providerFailingForWantOfADatabaseConnection_is503WithRetryAfter() {
        // HAPI wraps what a provider throws in an InternalErrorException
        InternalErrorException wrapped = new InternalErrorException("failed",
                new CannotGetJdbcConnectionException("Failed to obtain JDBC Connection",
                        new SQLTransientConnectionException("carerelay - Connection is not available, request timed out after 5000ms")));

        BaseServerResponseException answer = interceptor.translate(request(), wrapped, null);

        assertThat(answer.getStatusCode()).isEqualTo(503);
        assertThat(((GatewayException) answer).errorCode()).isEqualTo(ErrorCode.SERVICE_UNAVAILABLE);
        assertThat(answer.getResponseHeaders()).containsEntry("Retry-After", List.of("10"));
        OperationOutcome outcome = (OperationOutcome) answer.getOperationOutcome();
        assertThat(outcome.getIssueFirstRep().getDetails().getCodingFirstRep().getCode()).isEqualTo("service-unavailable");
        assertThat(outcome.getIssueFirstRep().getCode()).isEqualTo(OperationOutcome.IssueType.TRANSIENT);
    }

    @Test
    void anAuthenticationLookupFailingForWantOfADatabase_is503() {
        BaseServerResponseException answer = interceptor.translate(request(),
                new CannotGetJdbcConnectionException("Failed to obtain JDBC Connection"), null);
        assertThat(answer.getStatusCode()).isEqualTo(503);
    }

    @Test
    void otherDatabaseErrors_stayInternalErrors() {
        BaseServerResponseException answer = interceptor.translate(request(),
                new InternalErrorException("failed", new DuplicateKeyException("duplicate")), null);
        assertThat(answer.getStatusCode()).isEqualTo(500);
        assertThat(answer.getResponseHeaders()).doesNotContainKey("Retry-After");
    }

    private static ServletRequestDetails request() {
        ServletRequestDetails request = new ServletRequestDetails();
        request.setRequestType(RequestTypeEnum.GET);
        request.setRequestPath("Patient/1");
        return request;
    }
}
