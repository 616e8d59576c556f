package org.carerelay.gateway.consent;

/**
 * A consent notice to one organisation: published inside the transaction that changed or revoked
 * the consent, so the event publication registry stores it with the change, and {@link
 * ConsentNotices} sends it after the commit. Ids only (no patient data).
 *
 * <p>Stored as JSON in {@code event_publication} until the mail is on the mail queue: renaming or
 * moving this record, or its fields, strands publications still open.
 *
 * @param kind {@code CHANGED} or {@code REVOKED}
 * @param consentId the Consent's id
 * @param byOrganization the organisation that made the change
 * @param organization the organisation to notify
 */
public record ConsentNoticeDue(String kind, String consentId, String byOrganization, String organization) {
}
