package org.carerelay.gateway.conversation;

import org.carerelay.gateway.security.Caller;
import org.hl7.fhir.r4.model.Parameters;

/**
 * {@code Communication/{id}/$delivery-status}, as the Communication endpoint offers it. Declared here
 * and implemented by the pipeline (which keeps the delivery ledger), so conversation stays below
 * the pipeline in the dependency order.
 */
public interface DeliveryReport {

    /** Per recipient: organisation, state, channel, attempts and times. Sender and operator only. */
    Parameters of(String messageId, Caller caller, String clientAddress);
}
