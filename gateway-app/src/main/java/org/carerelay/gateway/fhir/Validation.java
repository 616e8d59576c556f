package org.carerelay.gateway.fhir;

import ca.uhn.fhir.context.FhirContext;
import org.carerelay.fhir.ErrorCode;
import org.carerelay.fhir.OperationOutcomes;
import org.carerelay.fhir.validation.ResourceValidator;
import org.hl7.fhir.instance.model.api.IBaseResource;
import org.hl7.fhir.r4.model.OperationOutcome;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;
import org.springframework.boot.context.event.ApplicationReadyEvent;
import org.springframework.context.event.EventListener;
import org.springframework.stereotype.Component;

/** Validates incoming resources against the base R4 profiles; refusals list every issue. */
@Component
public class Validation {

    private static final Logger log = LoggerFactory.getLogger(Validation.class);
    private final ResourceValidator validator;

    public Validation(FhirContext fhirContext) {
        this.validator = new ResourceValidator(fhirContext);
    }

    /**
     * Loads the structure definitions of the validator's fast path (which decides most resources)
     * in the background once the gateway is up, not during startup, where it would take the cores
     * from Flyway, the broker and the web server (a validation before it is done loads them itself,
     * or waits for the warm-up). HAPI's full validator, with its R5 copies of the definitions, is
     * built by the first resource the fast path cannot decide, not here: an idle gateway does not
     * hold it.
     */
    @EventListener(ApplicationReadyEvent.class)
    public void warmUpWhenReady() {
        Thread warmUp = new Thread(() -> {
            long start = System.nanoTime();
            // the build's class-list.sh waits for one of the two lines below: keep their beginnings
            try {
                validator.warmUpFastPath();
                log.info("FHIR validator (fast path) ready after {} ms", (System.nanoTime() - start) / 1_000_000);
            } catch (RuntimeException e) {
                log.warn("FHIR validator warm-up failed", e);
            }
        }, "fhir-validator-warm-up");
        warmUp.setDaemon(true);
        warmUp.start();
    }

    /** @throws GatewayException {@code invalid-resource} (422) with one issue per validation error */
    public void require(IBaseResource resource) {
        ResourceValidator.Result result = validator.validate(resource);
        if (result.isValid()) {
            return;
        }
        OperationOutcome outcome = new OperationOutcome();
        for (ResourceValidator.Issue issue : result.errors()) {
            var added = OperationOutcomes.addIssue(outcome, ErrorCode.INVALID_RESOURCE, issue.message());
            if (issue.location() != null) {
                added.addExpression(issue.location());
            }
        }
        throw new GatewayException(ErrorCode.INVALID_RESOURCE,
                result.errors().size() + " validation error(s) against the base R4 profiles.", outcome);
    }

}
