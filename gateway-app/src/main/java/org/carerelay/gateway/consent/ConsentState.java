package org.carerelay.gateway.consent;

import java.time.Instant;
import java.util.List;
import java.util.Optional;

/**
 * The consent situation of one patient, as the gate sees it.
 *
 * @param consentId   the current Consent (null when none was ever uploaded)
 * @param active      whether that consent is active
 * @param actors      permitted partner organisation ids of the active consent
 * @param lastRevoked the latest revocation, if any
 */
public record ConsentState(String consentId, boolean active, List<String> actors, Optional<Instant> lastRevoked) {

    public boolean revoked() {
        return consentId != null && !active && lastRevoked.isPresent();
    }
}
