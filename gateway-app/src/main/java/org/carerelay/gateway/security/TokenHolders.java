package org.carerelay.gateway.security;

import java.time.Instant;
import java.util.Optional;

/**
 * Looks up who holds a participant token. Declared here and implemented by the participant
 * repository of registration, so security stays below registration in the dependency order.
 */
public interface TokenHolders {

    /** The holder of a token: its organisation, whether the directory entry is active, when the token was issued. */
    record TokenHolder(String organizationId, boolean active, Instant tokenIssuedAt) {
    }

    /** The registered holder of the token with this SHA-256 hash ({@link Tokens#sha256}). */
    Optional<TokenHolder> tokenHolder(String tokenHash);
}
