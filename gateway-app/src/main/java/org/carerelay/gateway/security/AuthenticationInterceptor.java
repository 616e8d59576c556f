package org.carerelay.gateway.security;

import ca.uhn.fhir.interceptor.api.Hook;
import ca.uhn.fhir.interceptor.api.Interceptor;
import ca.uhn.fhir.interceptor.api.Pointcut;
import ca.uhn.fhir.rest.api.RestOperationTypeEnum;
import ca.uhn.fhir.rest.api.server.RequestDetails;
import ca.uhn.fhir.rest.server.servlet.ServletRequestDetails;
import jakarta.servlet.http.HttpServletResponse;
import java.time.Duration;
import java.time.Instant;
import java.time.format.DateTimeFormatter;
import java.util.Optional;
import org.carerelay.fhir.ErrorCode;
import org.carerelay.gateway.config.CareRelayProperties;
import org.carerelay.gateway.fhir.GatewayException;
import org.carerelay.gateway.security.TokenHolders.TokenHolder;
import org.springframework.stereotype.Component;

/**
 * Resolves {@code Authorization: Bearer <token>} to a {@link Caller}. Only the CapabilityStatement
 * and {@code Organization/{id}/$register} may be called without a token; everything else without
 * a valid one is answered 401: an unknown token ({@code unauthenticated}, audited and rate-limited
 * per address), the token of a deactivated organisation ({@code organization-deactivated}) or a
 * token older than {@code carerelay.security.max-token-age} ({@code token-expired}). While a token
 * has an expiry, responses carry {@code X-Token-Expires}, and in its last
 * {@code token-expiry-warning} also a {@code Warning} that rotation is due.
 */
@Interceptor
@Component
public class AuthenticationInterceptor {

    /** Runs before HAPI's AuthorizationInterceptor, which reads the caller this sets. */
    static final int ORDER = -100;
    public static final String TOKEN_EXPIRES_HEADER = "X-Token-Expires";

    private final AdminToken adminToken;
    private final TokenHolders participants;
    private final AuthFailureLimiter limiter;
    private final AuthenticationAudit audit;
    private final TokenAge tokenAge;

    public AuthenticationInterceptor(AdminToken adminToken, TokenHolders participants,
            AuthFailureLimiter limiter, AuthenticationAudit audit, CareRelayProperties props) {
        this.adminToken = adminToken;
        this.participants = participants;
        this.limiter = limiter;
        this.audit = audit;
        this.tokenAge = new TokenAge(props.security().maxTokenAge(), props.security().tokenExpiryWarning());
    }

    @Hook(value = Pointcut.SERVER_INCOMING_REQUEST_PRE_HANDLED, order = ORDER)
    public void authenticate(RequestDetails request, RestOperationTypeEnum operation) {
        String header = request.getHeader("Authorization");
        if (header == null || header.isBlank()) {
            if (isOpen(request, operation)) {
                Caller.ANONYMOUS.attachTo(request);
                return;
            }
            throw new GatewayException(ErrorCode.UNAUTHENTICATED, "Send Authorization: Bearer <token>.");
        }
        HttpServletResponse response = request instanceof ServletRequestDetails srd ? srd.getServletResponse() : null;
        authenticate(header, Caller.clientAddress(request), request.getRequestPath(), response).attachTo(request);
    }

    /**
     * The caller behind an {@code Authorization} header, for requests served outside HAPI (the
     * attachment streams): the same checks, audit and rate limit as for every FHIR request; the
     * token's expiry is announced on {@code response}.
     */
    public Caller authenticate(String header, String address, String path, HttpServletResponse response) {
        if (header == null || header.isBlank()) {
            throw new GatewayException(ErrorCode.UNAUTHENTICATED, "Send Authorization: Bearer <token>.");
        }
        Optional<String> token = bearer(header);
        if (token.isPresent() && adminToken.matches(token.get())) {
            return Caller.ADMIN;
        }
        Optional<TokenHolder> holder = token.flatMap(t -> participants.tokenHolder(Tokens.sha256(t)));
        if (holder.isEmpty()) {
            // only unknown tokens are counted and limited, so a valid token costs no extra query
            RateLimit.Verdict verdict = limiter.recordFailure(address);
            if (!verdict.allowed()) {
                GatewayException limited = new GatewayException(ErrorCode.RATE_LIMITED,
                        "Too many failed authentication attempts from this address; try again later.");
                limited.addResponseHeader("Retry-After", Long.toString(RateLimit.seconds(verdict.retryAfter())));
                throw limited;
            }
            audit.authenticationFailed(address, path);
            throw new GatewayException(ErrorCode.UNAUTHENTICATED, "The bearer token is not valid.");
        }
        TokenHolder h = holder.get();
        Caller caller = Caller.participant(h.organizationId());
        if (!h.active()) {
            audit.authenticationRefused(caller, address, "organization deactivated");
            throw new GatewayException(ErrorCode.ORGANIZATION_DEACTIVATED, null);
        }
        Instant now = Instant.now();
        Optional<Instant> expires = tokenAge.expiresAt(h.tokenIssuedAt());
        if (expires.isPresent() && !now.isBefore(expires.get())) {
            audit.authenticationRefused(caller, address, "token expired");
            throw new GatewayException(ErrorCode.TOKEN_EXPIRED, "The token expired on "
                    + DateTimeFormatter.ISO_INSTANT.format(expires.get())
                    + "; the operator can rotate it ($rotate-token), or register again ($register).");
        }
        if (response != null && expires.isPresent()) {
            response.setHeader(TOKEN_EXPIRES_HEADER, DateTimeFormatter.ISO_INSTANT.format(expires.get()));
            if (tokenAge.rotationDue(expires.get(), now)) {
                response.setHeader("Warning", "299 carerelay \"The token expires on "
                        + DateTimeFormatter.ISO_INSTANT.format(expires.get()) + "; rotate it with $rotate-token.\"");
            }
        }
        return caller;
    }

    private static Optional<String> bearer(String header) {
        String[] parts = header.trim().split("\\s+", 2);
        if (parts.length != 2 || !parts[0].equalsIgnoreCase("Bearer") || parts[1].isBlank()) {
            return Optional.empty();
        }
        return Optional.of(parts[1].trim());
    }

    static boolean isOpen(RequestDetails request, RestOperationTypeEnum operation) {
        if (operation == RestOperationTypeEnum.METADATA) {
            return true;
        }
        return operation == RestOperationTypeEnum.EXTENDED_OPERATION_INSTANCE
                && "Organization".equals(request.getResourceName())
                && "$register".equals(request.getOperation());
    }

    /**
     * Token lifetime: {@code maxAge} zero or absent = tokens never expire; otherwise a token expires
     * {@code maxAge} after it was issued, and rotation is due in the last {@code warning} before.
     */
    record TokenAge(Duration maxAge, Duration warning) {

        boolean enabled() {
            return maxAge != null && !maxAge.isZero() && !maxAge.isNegative();
        }

        Optional<Instant> expiresAt(Instant issuedAt) {
            return enabled() && issuedAt != null ? Optional.of(issuedAt.plus(maxAge)) : Optional.empty();
        }

        boolean rotationDue(Instant expiresAt, Instant now) {
            return warning != null && !now.isBefore(expiresAt.minus(warning));
        }
    }
}
