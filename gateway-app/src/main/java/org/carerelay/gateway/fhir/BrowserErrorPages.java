package org.carerelay.gateway.fhir;

import jakarta.servlet.http.HttpServletRequest;
import java.util.Optional;

/**
 * Error pages for people in a browser, outside the FHIR API: {@link ContainerErrors} asks it first
 * and answers with an OperationOutcome when it declines (always for {@code /fhir} and the actuator).
 */
public interface BrowserErrorPages {

    /** The HTML page for {@code status} of this error dispatch, or empty when the request is not a browser's page request. */
    Optional<String> page(HttpServletRequest request, int status);
}
