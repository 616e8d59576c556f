package org.carerelay.routes.crypto;

/**
 * The organisation on whose behalf the gateway signs an attachment. The signature names it in a
 * signed attribute; the signing key stays the gateway's.
 *
 * @param organizationId the organisation's directory id
 * @param organizationName its display name (may be null)
 */
public record Origin(String organizationId, String organizationName) {
}
