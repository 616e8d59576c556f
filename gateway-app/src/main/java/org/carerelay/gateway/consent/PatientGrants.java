package org.carerelay.gateway.consent;

import java.util.Collection;

/**
 * Who may see a patient, as consent needs it. Declared here and implemented by the patient access
 * repository, so consent stays below patient (which reads the consent state) in the dependency order.
 */
public interface PatientGrants {

    boolean canSee(String organizationId, String patientId);

    /**
     * After a consent is narrowed or revoked: the organisations that joined by consent and are no
     * longer named lose the patient; the number of grants removed.
     */
    int removeConsentGrants(String patientId, Collection<String> stillNamed);
}
