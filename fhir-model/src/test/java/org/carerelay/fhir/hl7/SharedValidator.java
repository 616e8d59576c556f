package org.carerelay.fhir.hl7;

import ca.uhn.fhir.context.FhirContext;
import org.carerelay.fhir.validation.ResourceValidator;

/**
 * One {@link ResourceValidator} for the mapper tests of this package: it is expensive to create
 * and its first validation takes several seconds, so the test classes share it (Surefire runs
 * them in one JVM).
 */
final class SharedValidator {

    static final FhirContext CTX = FhirContext.forR4Cached();
    static final ResourceValidator VALIDATOR = new ResourceValidator(CTX);

    private SharedValidator() {
    }
}
