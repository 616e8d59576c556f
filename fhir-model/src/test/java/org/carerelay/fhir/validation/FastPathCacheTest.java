package org.carerelay.fhir.validation;

import static org.assertj.core.api.Assertions.assertThat;

import ca.uhn.fhir.context.FhirContext;
import org.hl7.fhir.r4.model.CodeableConcept;
import org.hl7.fhir.r4.model.Coding;
import org.hl7.fhir.r4.model.Communication;
import org.hl7.fhir.r4.model.Reference;
import org.hl7.fhir.r4.model.StringType;
import org.junit.jupiter.api.Test;

class FastPathCacheTest {

    @Test
    void aStreamOfMadeUpCodeSystems_doesNotGrowTheFastPathsCachesWithoutBound() {
        ResourceValidator validator = new ResourceValidator(FhirContext.forR4Cached());
        int sent = FastPath.MAX_CACHED_INPUTS + 500;
        for (int i = 0; i < sent; i++) {
            Communication message = new Communication();
            message.setStatus(Communication.CommunicationStatus.COMPLETED);
            message.addRecipient(new Reference("Organization/r"));
            message.addCategory(new CodeableConcept(new Coding("https://example.org/made-up/" + i, "x", null)));
            message.addPayload().setContent(new StringType("text"));
            // every one is still answered (a made-up system in an example binding is fine)
            assertThat(validator.fastPathProvesValid(message)).as("message %d", i).isTrue();
        }
        assertThat(validator.fastPathCachedInputs()).isLessThanOrEqualTo(FastPath.MAX_CACHED_INPUTS + 10);
    }

    @Test
    void aHugeMadeUpCodeSystem_isAnsweredButNotKept() {
        ResourceValidator validator = new ResourceValidator(FhirContext.forR4Cached());
        int before = validator.fastPathCachedInputs();
        Communication message = new Communication();
        message.setStatus(Communication.CommunicationStatus.COMPLETED);
        message.addRecipient(new Reference("Organization/r"));
        message.addCategory(new CodeableConcept(new Coding("https://example.org/" + "x".repeat(FastPath.MAX_CACHED_KEY_LENGTH), "x", null)));
        message.addPayload().setContent(new StringType("text"));
        validator.fastPathProvesValid(message);
        assertThat(validator.fastPathCachedInputs()).isEqualTo(before);
    }

    @Test
    void theHttpsFormOfACodeSystemTheValidatorKnows_isLeftToTheFullValidator() {
        ResourceValidator validator = new ResourceValidator(FhirContext.forR4Cached());
        Communication message = new Communication();
        message.setStatus(Communication.CommunicationStatus.COMPLETED);
        message.addRecipient(new Reference("Organization/r"));
        message.addCategory(new CodeableConcept(new Coding("https://healthit.gov/nhin/purposeofuse", "x", null)));
        message.addPayload().setContent(new StringType("text"));
        assertThat(validator.fastPathProvesValid(message)).isFalse();
        assertThat(validator.validate(message).errors()).isEqualTo(validator.validateFully(message).errors());
    }
}
