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
 * @param author      the organisation that uploaded the signed document of the current consent
 */
public record ConsentState(String consentId, boolean active, List<String> actors, Optional<Instant> lastRevoked,
        String author) {

    /** Whether {@code organizationId} is named as a partner in the patient's active consent. */
    public boolean activeActor(String organizationId) {
        return active && organizationId != null && actors.contains(organizationId);
    }

    public boolean revoked() {
        return consentId != null && !active && lastRevoked.isPresent();
    }
}
