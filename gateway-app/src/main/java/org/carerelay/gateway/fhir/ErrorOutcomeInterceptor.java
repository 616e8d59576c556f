package org.carerelay.gateway.fhir;

import ca.uhn.fhir.interceptor.api.Hook;
import ca.uhn.fhir.interceptor.api.Interceptor;
import ca.uhn.fhir.interceptor.api.Pointcut;
import ca.uhn.fhir.parser.DataFormatException;
import ca.uhn.fhir.rest.api.server.RequestDetails;
import ca.uhn.fhir.rest.server.exceptions.AuthenticationException;
import ca.uhn.fhir.rest.server.exceptions.BaseServerResponseException;
import ca.uhn.fhir.rest.server.exceptions.ForbiddenOperationException;
import ca.uhn.fhir.rest.server.exceptions.MethodNotAllowedException;
import ca.uhn.fhir.rest.server.exceptions.NotImplementedOperationException;
import ca.uhn.fhir.rest.server.exceptions.PayloadTooLargeException;
import ca.uhn.fhir.rest.server.exceptions.ResourceNotFoundException;
import ca.uhn.fhir.rest.server.exceptions.ResourceVersionConflictException;
import ca.uhn.fhir.rest.server.exceptions.UnclassifiedServerFailureException;
import ca.uhn.fhir.rest.server.exceptions.UnprocessableEntityException;
import jakarta.servlet.http.HttpServletRequest;
import jakarta.servlet.http.HttpServletResponse;
import java.util.Locale;
import org.carerelay.fhir.ErrorCode;
import java.util.Optional;
import org.carerelay.gateway.infra.Outages;
import org.carerelay.gateway.infra.SafeExceptions;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * Every error leaves the FHIR server as an OperationOutcome carrying a code from the one
 * catalogue; HAPI's own exceptions are translated, anything unexpected becomes
 * {@code internal-error} without a stack trace or internal message, except a failure because the
 * database or the broker is unreachable ({@link Outages}): {@code 503 service-unavailable} with
 * {@code Retry-After}. Unexpected errors are logged
 * by class, SQLState and throw site only ({@link SafeExceptions}): messages may quote the request.
 */
@Interceptor
public class ErrorOutcomeInterceptor {

    private static final Logger log = LoggerFactory.getLogger(ErrorOutcomeInterceptor.class);

    @Hook(Pointcut.SERVER_PRE_PROCESS_OUTGOING_EXCEPTION)
    public BaseServerResponseException translate(RequestDetails request, Throwable exception,
            HttpServletRequest servletRequest) {
        if (exception instanceof GatewayException ge) {
            return ge;
        }
        Optional<Outages.Dependency> unreachable = Outages.unavailable(exception);
        if (unreachable.isPresent()) {
            // one line per refused request, no trace: the outage itself is what the operator has to see
            log.warn("{} {} answered 503: the {} is unreachable ({})", request.getRequestType(), request.getRequestPath(),
                    unreachable.get().name().toLowerCase(Locale.ROOT), SafeExceptions.describe(exception));
            return GatewayException.serviceUnavailable();
        }
        if (exception instanceof BaseServerResponseException bse) {
            ErrorCode code = codeFor(bse);
            String message = bse.getMessage();
            if (code == ErrorCode.INTERNAL_ERROR) {
                log.error("Unexpected server error on {} {}: {}", request.getRequestType(), request.getRequestPath(),
                        SafeExceptions.describe(bse));
                message = null;
            }
            GatewayException translated = new GatewayException(code, message == null ? null : stripHapiCode(message));
            bse.getResponseHeaders().forEach((k, v) -> v.forEach(value -> translated.addResponseHeader(k, value)));
            return translated;
        }
        if (exception instanceof DataFormatException dfe) {
            return new GatewayException(ErrorCode.INVALID_REQUEST, stripHapiCode(dfe.getMessage()));
        }
        if (thrownWhileParsingTheBody(exception)) {
            // HAPI's parser fails on some malformed bodies with e.g. a NullPointerException: the client's input, not ours
            log.warn("HAPI's parser failed on a request body of {} {}: {}", request.getRequestType(), request.getRequestPath(),
                    SafeExceptions.describe(exception));
            return new GatewayException(ErrorCode.INVALID_REQUEST, "The body could not be parsed as a FHIR resource.");
        }
        log.error("Unexpected server error on {} {}: {}", request.getRequestType(), request.getRequestPath(),
                SafeExceptions.describe(exception));
        return new GatewayException(ErrorCode.INTERNAL_ERROR, null);
    }

    @Hook(Pointcut.SERVER_HANDLE_EXCEPTION)
    public boolean addChallenge(RequestDetails request, BaseServerResponseException exception,
            HttpServletRequest servletRequest, HttpServletResponse servletResponse) {
        if (exception.getStatusCode() == 401) {
            servletResponse.setHeader("WWW-Authenticate", "Bearer realm=\"carerelay\"");
        }
        return true;
    }

    private static ErrorCode codeFor(BaseServerResponseException e) {
        if (e instanceof AuthenticationException) {
            return ErrorCode.UNAUTHENTICATED;
        }
        if (e instanceof ForbiddenOperationException) {
            return ErrorCode.FORBIDDEN;
        }
        if (e instanceof ResourceNotFoundException) {
            return ErrorCode.NOT_FOUND;
        }
        if (e instanceof MethodNotAllowedException || e instanceof NotImplementedOperationException) {
            return ErrorCode.NOT_SUPPORTED;
        }
        if (e instanceof PayloadTooLargeException) {
            return ErrorCode.PAYLOAD_TOO_LARGE;
        }
        if (e instanceof ResourceVersionConflictException) {
            return ErrorCode.CONFLICT;
        }
        if (e instanceof UnprocessableEntityException) {
            return ErrorCode.INVALID_RESOURCE;
        }
        if (e instanceof UnclassifiedServerFailureException || e.getStatusCode() >= 500) {
            return ErrorCode.INTERNAL_ERROR;
        }
        return switch (e.getStatusCode()) {
            case 401 -> ErrorCode.UNAUTHENTICATED;
            case 403 -> ErrorCode.FORBIDDEN;
            case 404 -> ErrorCode.NOT_FOUND;
            case 405 -> ErrorCode.NOT_SUPPORTED;
            case 409, 412 -> ErrorCode.CONFLICT;
            case 413 -> ErrorCode.PAYLOAD_TOO_LARGE;
            case 415 -> ErrorCode.UNSUPPORTED_MEDIA_TYPE;
            case 422 -> ErrorCode.INVALID_RESOURCE;
            case 429 -> ErrorCode.RATE_LIMITED;
            default -> ErrorCode.INVALID_REQUEST;
        };
    }

    /** Whether {@code e} came out of HAPI's parser while it read the request body into a resource. */
    static boolean thrownWhileParsingTheBody(Throwable e) {
        StackTraceElement[] frames = e.getStackTrace();
        if (frames.length == 0 || !frames[0].getClassName().startsWith("ca.uhn.fhir.parser.")) {
            return false;
        }
        for (StackTraceElement frame : frames) {
            if (frame.getClassName().equals("ca.uhn.fhir.rest.server.method.ResourceParameter")
                    && frame.getMethodName().endsWith("ResourceFromRequest")) {
                return true;
            }
        }
        return false;
    }

    /** HAPI prefixes its messages with {@code HAPI-1234: }; the code belongs in the log, not to clients. */
    static String stripHapiCode(String message) {
        return message == null ? null : message.replaceFirst("^HAPI-\\d+:\\s*", "");
    }
}
