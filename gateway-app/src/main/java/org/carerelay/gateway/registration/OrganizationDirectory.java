package org.carerelay.gateway.registration;

import org.hl7.fhir.r4.model.Organization;

/**
 * The organisation directory, as registration needs it. Declared here and implemented by the
 * directory service, so registration stays below directory (which shows the computed registration
 * flag and offers the registration operations) in the dependency order.
 */
public interface OrganizationDirectory {

    /** The directory entry {@code Organization/id}; {@code not-found} (404) when there is none. */
    Organization requireOrganization(String id);

    /** Removes the organisation's encryption certificate; the entry as it is afterwards. */
    Organization removeEncryptionCertificate(String organizationId);
}
