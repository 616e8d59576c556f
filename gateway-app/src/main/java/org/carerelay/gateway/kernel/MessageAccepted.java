package org.carerelay.gateway.kernel;

/**
 * A message was accepted: published inside the accepting transaction (FHIR {@code Communication}
 * or HL7v2 inbound), so the event publication registry stores it with the message. The pipeline
 * listens and takes over from here; the accepting side knows nothing about it.
 *
 * <p>Stored as JSON in {@code event_publication} until the pipeline has handed the message to the
 * broker: renaming or moving this record strands publications still open.
 */
public record MessageAccepted(String messageId) {
}
