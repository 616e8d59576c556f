package org.carerelay.gateway.fhir;

import ca.uhn.fhir.context.FhirContext;
import ca.uhn.fhir.parser.IParser;
import jakarta.servlet.RequestDispatcher;
import jakarta.servlet.http.HttpServletRequest;
import java.io.IOException;
import java.io.PrintWriter;
import java.nio.charset.StandardCharsets;
import java.util.Optional;
import java.util.concurrent.atomic.AtomicBoolean;
import org.apache.catalina.Lifecycle;
import org.apache.catalina.Valve;
import org.apache.catalina.connector.Request;
import org.apache.catalina.connector.Response;
import org.apache.catalina.core.StandardHost;
import org.apache.catalina.valves.ErrorReportValve;
import org.apache.coyote.ActionCode;
import org.carerelay.fhir.ErrorCode;
import org.carerelay.fhir.OperationOutcomes;
import org.carerelay.gateway.infra.SafeExceptions;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;
import org.springframework.beans.factory.annotation.Autowired;
import org.springframework.boot.tomcat.TomcatContextCustomizer;
import org.springframework.boot.webmvc.error.ErrorController;
import org.springframework.context.annotation.Bean;
import org.springframework.context.annotation.Configuration;
import org.springframework.http.HttpHeaders;
import org.springframework.http.ResponseEntity;
import org.springframework.stereotype.Controller;
import org.springframework.web.bind.annotation.RequestMapping;

/**
 * Errors the web container produces itself, outside HAPI (a request line or URI the connector
 * refuses, an unknown path, a method or media type Spring MVC does not take, an exception in a
 * filter), are OperationOutcomes with a code of the catalogue too, never an HTML page: Spring's
 * error dispatch ({@code /error}) is answered by {@link OutcomeErrorController}, and Tomcat's own
 * error report (what answers when no application code runs, e.g. a refused request line) by
 * {@link OutcomeErrorReportValve}. A browser's request for a page of the web inbox gets the HTML page
 * of {@link BrowserErrorPages} instead, where one is configured; {@code /fhir} never does.
 */
@Configuration(proxyBeanMethods = false)
public class ContainerErrors {

    private static final Logger log = LoggerFactory.getLogger(ContainerErrors.class);
    private static final FhirContext FHIR = FhirContext.forR4Cached();

    /** The code of the catalogue for an HTTP status the container chose. */
    static ErrorCode codeFor(int status) {
        return switch (status) {
            case 401 -> ErrorCode.UNAUTHENTICATED;
            case 403 -> ErrorCode.FORBIDDEN;
            case 404 -> ErrorCode.NOT_FOUND;
            case 405, 501 -> ErrorCode.NOT_SUPPORTED;
            case 409, 412 -> ErrorCode.CONFLICT;
            case 413 -> ErrorCode.PAYLOAD_TOO_LARGE;
            case 415 -> ErrorCode.UNSUPPORTED_MEDIA_TYPE;
            case 422 -> ErrorCode.INVALID_RESOURCE;
            case 429 -> ErrorCode.RATE_LIMITED;
            case 503 -> ErrorCode.SERVICE_UNAVAILABLE;
            default -> status >= 500 ? ErrorCode.INTERNAL_ERROR : ErrorCode.INVALID_REQUEST;
        };
    }

    /** The OperationOutcome for {@code status}, JSON unless the client asked for XML; no client input is quoted. */
    static String body(int status, boolean xml) {
        ErrorCode code = codeFor(status);
        IParser parser = xml ? FHIR.newXmlParser() : FHIR.newJsonParser();
        return parser.encodeResourceToString(OperationOutcomes.of(code, code.defaultText()));
    }

    static String contentType(boolean xml) {
        return (xml ? "application/fhir+xml" : "application/fhir+json") + ";charset=UTF-8";
    }

    /** Tomcat's error report valve of the host replaced by {@link OutcomeErrorReportValve}. */
    @Bean
    TomcatContextCustomizer outcomeErrorReports() {
        return context -> {
            if (context.getParent() instanceof StandardHost host) {
                host.setErrorReportValveClass(OutcomeErrorReportValve.class.getName());
                // Spring Boot adds a plain ErrorReportValve to the host; it goes before the host starts
                host.addLifecycleListener(event -> {
                    if (Lifecycle.BEFORE_START_EVENT.equals(event.getType())) {
                        for (Valve valve : host.getPipeline().getValves()) {
                            if (valve instanceof ErrorReportValve && !(valve instanceof OutcomeErrorReportValve)) {
                                host.getPipeline().removeValve(valve);
                            }
                        }
                    }
                });
            }
        };
    }

    /**
     * Answers what reaches Tomcat's error report: requests the connector refused before any
     * application code ran, and errors no error page took over.
     */
    public static class OutcomeErrorReportValve extends ErrorReportValve {

        @Override
        protected void report(Request request, Response response, Throwable throwable) {
            int status = response.getStatus();
            if (status < 400 || response.getContentWritten() > 0 || !response.setErrorReported()) {
                return;
            }
            AtomicBoolean ioAllowed = new AtomicBoolean(false);
            response.getCoyoteResponse().action(ActionCode.IS_IO_ALLOWED, ioAllowed);
            if (!ioAllowed.get()) {
                return;
            }
            if (throwable != null) {
                log.error("Unexpected error outside the FHIR server: {}", SafeExceptions.describe(throwable));
            }
            boolean xml = wantsXml(request);
            try {
                response.setContentType(contentType(xml));
                PrintWriter writer = response.getReporter();
                if (writer != null) {
                    writer.write(body(status, xml));
                    response.finishResponse();
                }
            } catch (IOException | IllegalStateException e) {
                // the connection is gone; nothing more to tell the client
            }
        }

        private static boolean wantsXml(Request request) {
            try {
                return RequestGuardFilter.wantsXml(request);
            } catch (RuntimeException e) {
                return false; // a request the connector could not parse
            }
        }
    }

    /** Spring's error dispatch: every status a servlet, filter or Spring MVC sent as an error. */
    @Controller
    public static class OutcomeErrorController implements ErrorController {

        private BrowserErrorPages browserPages;

        /** The web inbox's pages, when there are any. */
        @Autowired(required = false)
        public void setBrowserErrorPages(BrowserErrorPages browserPages) {
            this.browserPages = browserPages;
        }

        @RequestMapping("${server.error.path:/error}")
        public ResponseEntity<byte[]> error(HttpServletRequest request) {
            Object attribute = request.getAttribute(RequestDispatcher.ERROR_STATUS_CODE);
            int status = attribute instanceof Integer code && code >= 400 ? code : 500;
            Object exception = request.getAttribute(RequestDispatcher.ERROR_EXCEPTION);
            if (exception instanceof Throwable t) {
                log.error("Unexpected error outside the FHIR server: {}", SafeExceptions.describe(t));
            }
            Optional<String> page = browserPages == null ? Optional.empty() : browserPages.page(request, status);
            if (page.isPresent()) {
                return ResponseEntity.status(status)
                        .header(HttpHeaders.CONTENT_TYPE, "text/html;charset=UTF-8")
                        .header("Content-Security-Policy", "default-src 'self'; script-src 'self'; style-src 'self'; "
                                + "object-src 'none'; base-uri 'none'; form-action 'self'; frame-ancestors 'none'")
                        .header("X-Content-Type-Options", "nosniff")
                        .header("X-Frame-Options", "DENY")
                        .header(HttpHeaders.CACHE_CONTROL, "no-store")
                        .body(page.get().getBytes(StandardCharsets.UTF_8));
            }
            boolean xml = RequestGuardFilter.wantsXml(request);
            return ResponseEntity.status(status)
                    .header(HttpHeaders.CONTENT_TYPE, contentType(xml))
                    .body(body(status, xml).getBytes(StandardCharsets.UTF_8));
        }
    }
}
