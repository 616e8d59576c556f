package org.carerelay.gateway.security;

/**
 * What authentication leaves in the audit trail. Declared here and implemented by the audit
 * service, so security stays below audit (which records callers) in the dependency order.
 */
public interface AuthenticationAudit {

    /** A bearer token that belongs to nobody, on {@code path}. */
    void authenticationFailed(String clientAddress, String path);

    /** A known token refused for {@code why} (organisation deactivated, token expired). */
    void authenticationRefused(Caller caller, String clientAddress, String why);
}
