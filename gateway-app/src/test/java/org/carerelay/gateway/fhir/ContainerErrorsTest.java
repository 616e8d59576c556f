package org.carerelay.gateway.fhir;

import static org.assertj.core.api.Assertions.assertThat;

import ca.uhn.fhir.context.FhirContext;
import jakarta.servlet.RequestDispatcher;
import java.nio.charset.StandardCharsets;
import org.carerelay.fhir.ErrorCode;
import org.carerelay.fhir.OperationOutcomes;
import org.hl7.fhir.r4.model.OperationOutcome;
import org.junit.jupiter.api.Test;
import org.springframework.http.ResponseEntity;
import org.springframework.mock.web.MockHttpServletRequest;

class ContainerErrorsTest {

    private static final FhirContext FHIR = FhirContext.forR4Cached();

    @Test
    void anExceptionInAFilter_isA500InternalErrorOutcome_withoutTheExceptionsMessage() {
        MockHttpServletRequest request = new MockHttpServletRequest("GET", "/error");
        request.setAttribute(RequestDispatcher.ERROR_STATUS_CODE, 500);
        request.setAttribute(RequestDispatcher.ERROR_EXCEPTION, new IllegalStateException("secret detail KVNR A123456789"));

        ResponseEntity<byte[]> response = new ContainerErrors.OutcomeErrorController().error(request);

        assertThat(response.getStatusCode().value()).isEqualTo(500);
        assertThat(response.getHeaders().getContentType().toString()).startsWith("application/fhir+json");
        String body = new String(response.getBody(), StandardCharsets.UTF_8);
        assertThat(body).doesNotContain("secret").doesNotContain("A123456789");
        assertThat(OperationOutcomes.codeOf(FHIR.newJsonParser().parseResource(OperationOutcome.class, body)))
                .isEqualTo(ErrorCode.INTERNAL_ERROR);
    }

    @Test
    void everyContainerStatus_hasACatalogueCode() {
        assertThat(ContainerErrors.codeFor(400)).isEqualTo(ErrorCode.INVALID_REQUEST);
        assertThat(ContainerErrors.codeFor(404)).isEqualTo(ErrorCode.NOT_FOUND);
        assertThat(ContainerErrors.codeFor(405)).isEqualTo(ErrorCode.NOT_SUPPORTED);
        assertThat(ContainerErrors.codeFor(413)).isEqualTo(ErrorCode.PAYLOAD_TOO_LARGE);
        assertThat(ContainerErrors.codeFor(415)).isEqualTo(ErrorCode.UNSUPPORTED_MEDIA_TYPE);
        assertThat(ContainerErrors.codeFor(431)).isEqualTo(ErrorCode.INVALID_REQUEST);
        assertThat(ContainerErrors.codeFor(500)).isEqualTo(ErrorCode.INTERNAL_ERROR);
        assertThat(ContainerErrors.codeFor(503)).isEqualTo(ErrorCode.SERVICE_UNAVAILABLE);
    }
}
