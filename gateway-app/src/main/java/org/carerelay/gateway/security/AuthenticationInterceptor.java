package org.carerelay.gateway.security;

import ca.uhn.fhir.interceptor.api.Hook;
import ca.uhn.fhir.interceptor.api.Interceptor;
import ca.uhn.fhir.interceptor.api.Pointcut;
import ca.uhn.fhir.rest.api.RestOperationTypeEnum;
import ca.uhn.fhir.rest.api.server.RequestDetails;
import java.util.Optional;
import org.carerelay.fhir.ErrorCode;
import org.carerelay.gateway.audit.AuditService;
import org.carerelay.gateway.fhir.GatewayException;
import org.carerelay.gateway.registration.ParticipantRepository;

/**
 * Resolves {@code Authorization: Bearer <token>} to a {@link Caller}. Only the CapabilityStatement
 * and {@code Organization/{id}/$register} may be called without a token; everything else without
 * a valid one is answered 401. Failed presentations are audited and rate-limited per address.
 */
@Interceptor
@org.springframework.stereotype.Component
public class AuthenticationInterceptor {

    /** Runs before HAPI's AuthorizationInterceptor, which reads the caller this sets. */
    static final int ORDER = -100;

    private final AdminToken adminToken;
    private final ParticipantRepository participants;
    private final AuthFailureLimiter limiter;
    private final AuditService audit;

    public AuthenticationInterceptor(AdminToken adminToken, ParticipantRepository participants,
            AuthFailureLimiter limiter, AuditService audit) {
        this.adminToken = adminToken;
        this.participants = participants;
        this.limiter = limiter;
        this.audit = audit;
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
        authenticate(header, Caller.clientAddress(request), request.getRequestPath()).attachTo(request);
    }

    /**
     * The caller behind an {@code Authorization} header, for requests served outside HAPI (the
     * attachment streams): the same checks, audit and rate limit as for every FHIR request.
     */
    public Caller authenticate(String header, String address, String path) {
        if (header == null || header.isBlank()) {
            throw new GatewayException(ErrorCode.UNAUTHENTICATED, "Send Authorization: Bearer <token>.");
        }
        Optional<Caller> caller = resolve(header);
        if (caller.isEmpty()) {
            // only failures are counted and limited, so a valid token costs no extra query
            if (limiter.isBlocked(address)) {
                throw new GatewayException(ErrorCode.RATE_LIMITED,
                        "Too many failed authentication attempts from this address; try again later.");
            }
            limiter.recordFailure(address);
            audit.authenticationFailed(address, path);
            throw new GatewayException(ErrorCode.UNAUTHENTICATED, "The bearer token is not valid.");
        }
        return caller.get();
    }

    private Optional<Caller> resolve(String header) {
        String[] parts = header.trim().split("\\s+", 2);
        if (parts.length != 2 || !parts[0].equalsIgnoreCase("Bearer") || parts[1].isBlank()) {
            return Optional.empty();
        }
        String token = parts[1].trim();
        if (adminToken.matches(token)) {
            return Optional.of(Caller.ADMIN);
        }
        return participants.organizationForTokenHash(Tokens.sha256(token)).map(Caller::participant);
    }

    static boolean isOpen(RequestDetails request, RestOperationTypeEnum operation) {
        if (operation == RestOperationTypeEnum.METADATA) {
            return true;
        }
        return operation == RestOperationTypeEnum.EXTENDED_OPERATION_INSTANCE
                && "Organization".equals(request.getResourceName())
                && "$register".equals(request.getOperation());
    }

}
