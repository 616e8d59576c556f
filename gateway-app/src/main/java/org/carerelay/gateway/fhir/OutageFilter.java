package org.carerelay.gateway.fhir;

import ca.uhn.fhir.context.FhirContext;
import ca.uhn.fhir.parser.IParser;
import jakarta.servlet.FilterChain;
import jakarta.servlet.ServletException;
import jakarta.servlet.http.HttpServletRequest;
import jakarta.servlet.http.HttpServletResponse;
import java.io.IOException;
import java.util.Locale;
import java.util.Optional;
import org.carerelay.fhir.ErrorCode;
import org.carerelay.fhir.OperationOutcomes;
import org.carerelay.gateway.infra.Outages;
import org.carerelay.gateway.infra.SafeExceptions;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;
import org.springframework.web.filter.OncePerRequestFilter;

/**
 * The outermost filter of the FHIR endpoint: a failure because the database or the broker is
 * unreachable that escapes a filter before HAPI (the attachment streams authenticate against the
 * database) or HAPI itself becomes {@code 503 service-unavailable} with {@code Retry-After} and an
 * OperationOutcome, not the web server's error page. HAPI answers such failures inside the servlet
 * already ({@link ErrorOutcomeInterceptor}); every other failure passes on unchanged.
 */
public class OutageFilter extends OncePerRequestFilter {

    private static final Logger log = LoggerFactory.getLogger(OutageFilter.class);

    private final FhirContext fhirContext;

    public OutageFilter(FhirContext fhirContext) {
        this.fhirContext = fhirContext;
    }

    @Override
    protected void doFilterInternal(HttpServletRequest request, HttpServletResponse response, FilterChain chain)
            throws ServletException, IOException {
        try {
            chain.doFilter(request, response);
        } catch (RuntimeException | ServletException | IOException e) {
            Optional<Outages.Dependency> unreachable = Outages.unavailable(e);
            if (unreachable.isEmpty() || response.isCommitted()) {
                throw e;
            }
            log.warn("{} {} answered 503: the {} is unreachable ({})", request.getMethod(), request.getRequestURI(),
                    unreachable.get().name().toLowerCase(Locale.ROOT), SafeExceptions.describe(e));
            writeUnavailable(fhirContext, request, response);
        }
    }

    /** {@code 503 service-unavailable} with {@code Retry-After} and an OperationOutcome, in the format the client asked for. */
    public static void writeUnavailable(FhirContext fhirContext, HttpServletRequest request, HttpServletResponse response)
            throws IOException {
        boolean xml = RequestGuardFilter.wantsXml(request);
        IParser parser = xml ? fhirContext.newXmlParser() : fhirContext.newJsonParser();
        response.reset();
        response.setStatus(ErrorCode.SERVICE_UNAVAILABLE.httpStatus());
        response.setHeader("Retry-After", Integer.toString(Outages.RETRY_AFTER_SECONDS));
        if ("POST".equals(request.getMethod()) || "PUT".equals(request.getMethod())) {
            response.setHeader("Connection", "close"); // the rest of an unread upload is not worth swallowing
        }
        response.setCharacterEncoding("UTF-8");
        response.setContentType(xml ? "application/fhir+xml" : "application/fhir+json");
        response.getWriter().write(parser.encodeResourceToString(
                OperationOutcomes.of(ErrorCode.SERVICE_UNAVAILABLE, ErrorCode.SERVICE_UNAVAILABLE.defaultText())));
    }
}
