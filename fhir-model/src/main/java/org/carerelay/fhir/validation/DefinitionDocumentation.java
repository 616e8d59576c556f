package org.carerelay.fhir.validation;

import java.util.Collection;
import org.hl7.fhir.instance.model.api.IBaseResource;
import org.hl7.fhir.r4.model.CodeSystem;
import org.hl7.fhir.r4.model.DomainResource;
import org.hl7.fhir.r4.model.ElementDefinition;
import org.hl7.fhir.r4.model.MetadataResource;
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
 * the snapshot). Dropping it saves ≈ 15 MB of heap (after {@link DefinitionStrings}), ≈ 35 MB once
 * the full validator is built.
 *
 * <p>What validation reads stays: paths, cardinalities, types, bindings, constraints with their
 * human-readable text (quoted in messages), fixed and pattern values, slicing, {@code short}, and
 * the whole of every ValueSet's compose and every CodeSystem's concepts.
 *
 * <p>Runs once, before anything reads them (see {@code ResourceValidator.CoreDefinitions}); stripping
 * twice changes nothing.
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
        if (resource instanceof DomainResource domain) {
            domain.setText(null);
        }
        if (resource instanceof MetadataResource metadata) {
            metadata.setDescription(null);
        }
        if (resource instanceof StructureDefinition sd) {
            sd.setPurpose(null).setCopyright(null).setMapping(null).setDifferential(null);
            for (ElementDefinition element : sd.getSnapshot().getElement()) {
                element.setDefinition(null).setComment(null).setRequirements(null).setAlias(null).setExample(null)
                        .setMapping(null).setMeaningWhenMissing(null);
            }
        } else if (resource instanceof ValueSet valueSet) {
            valueSet.setPurpose(null).setCopyright(null);
        } else if (resource instanceof CodeSystem codeSystem) {
            codeSystem.setPurpose(null).setCopyright(null);
        }
    }
}
