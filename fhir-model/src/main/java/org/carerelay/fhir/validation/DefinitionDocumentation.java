package org.carerelay.fhir.validation;

import java.util.Collection;
import org.hl7.fhir.instance.model.api.IBaseResource;
import org.hl7.fhir.r4.model.CodeSystem;
import org.hl7.fhir.r4.model.DomainResource;
import org.hl7.fhir.r4.model.ElementDefinition;
import org.hl7.fhir.r4.model.StructureDefinition;
import org.hl7.fhir.r4.model.ValueSet;

/**
 * Strips the documentation from the core R4 definitions HAPI loads, which validation never reads.
 *
 * <p>The ≈ 3,000 StructureDefinitions, ValueSets and CodeSystems HAPI ships stay on the heap for
 * the life of the gateway, and the full validator makes R5 copies of the StructureDefinitions it
 * uses. Much of them is prose for readers of the specification: each resource's narrative, each
 * element's definition, comment, requirements, aliases, examples and mappings to other standards,
 * and each StructureDefinition's differential (the snapshot holds every element; validation walks
 * the snapshot). About a third of the loaded definitions, ≈ 20 MB of heap after
 * {@link DefinitionStrings}.
 *
 * <p>What validation reads stays: paths, cardinalities, types, bindings, constraints with their
 * human-readable text (quoted in messages), fixed and pattern values, slicing, {@code short}, and
 * the whole of every ValueSet's compose and every CodeSystem's concepts.
 *
 * <p>Writes only what is still there, so stripping twice changes nothing.
 */
final class DefinitionDocumentation {

    private DefinitionDocumentation() {
    }

    static void strip(Collection<? extends IBaseResource> resources) {
        for (IBaseResource resource : resources) {
            strip(resource);
        }
    }

    static void strip(IBaseResource resource) {
        if (resource instanceof DomainResource domain && domain.hasText()) {
            domain.setText(null);
        }
        if (resource instanceof StructureDefinition sd) {
            strip(sd);
        } else if (resource instanceof ValueSet valueSet) {
            if (valueSet.hasDescription()) {
                valueSet.setDescription(null);
            }
            if (valueSet.hasPurpose()) {
                valueSet.setPurpose(null);
            }
            if (valueSet.hasCopyright()) {
                valueSet.setCopyright(null);
            }
        } else if (resource instanceof CodeSystem codeSystem) {
            if (codeSystem.hasDescription()) {
                codeSystem.setDescription(null);
            }
            if (codeSystem.hasPurpose()) {
                codeSystem.setPurpose(null);
            }
            if (codeSystem.hasCopyright()) {
                codeSystem.setCopyright(null);
            }
        }
    }

    private static void strip(StructureDefinition sd) {
        if (sd.hasDescription()) {
            sd.setDescription(null);
        }
        if (sd.hasPurpose()) {
            sd.setPurpose(null);
        }
        if (sd.hasCopyright()) {
            sd.setCopyright(null);
        }
        if (sd.hasMapping()) {
            sd.setMapping(null);
        }
        if (sd.hasDifferential()) {
            sd.setDifferential(null);
        }
        if (sd.hasSnapshot()) {
            for (ElementDefinition element : sd.getSnapshot().getElement()) {
                strip(element);
            }
        }
    }

    private static void strip(ElementDefinition element) {
        if (element.hasDefinition()) {
            element.setDefinition(null);
        }
        if (element.hasComment()) {
            element.setComment(null);
        }
        if (element.hasRequirements()) {
            element.setRequirements(null);
        }
        if (element.hasAlias()) {
            element.setAlias(null);
        }
        if (element.hasExample()) {
            element.setExample(null);
        }
        if (element.hasMapping()) {
            element.setMapping(null);
        }
        if (element.hasMeaningWhenMissing()) {
            element.setMeaningWhenMissing(null);
        }
    }
}
