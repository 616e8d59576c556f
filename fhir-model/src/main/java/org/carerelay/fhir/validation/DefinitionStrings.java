package org.carerelay.fhir.validation;

import ca.uhn.fhir.context.FhirContext;
import ca.uhn.fhir.util.FhirTerser;
import java.util.Collection;
import java.util.HashMap;
import java.util.Map;
import java.util.function.Consumer;
import org.hl7.fhir.instance.model.api.IBaseResource;
import org.hl7.fhir.r4.model.IdType;
import org.hl7.fhir.r4.model.PrimitiveType;
import org.hl7.fhir.r4.model.StringType;
import org.hl7.fhir.r4.model.UriType;

/**
 * Lets equal text values of the loaded R4 definitions share one {@link String}.
 *
 * <p>HAPI parses the core StructureDefinitions, ValueSets and CodeSystems (about 3,000 resources)
 * into about 475,000 text values, of which only about 105,000 differ: element paths, type codes,
 * canonical URLs, cardinalities and the same definitions repeated in snapshot and differential.
 * Every one is a string of its own, about 30 MB of the idle heap. The JDK's string deduplication
 * does not run with the serial collector of JDK 17, so this does it once, after loading.
 *
 * <p>Only values of {@link StringType} (string, code, markdown) and {@link UriType} (uri, url,
 * canonical, oid, uuid, but not {@link IdType}, which parses its value into parts) are replaced,
 * by an equal string: for these types the value is its own text ({@code getValueAsString()}
 * returns the very string), so nothing that reads a definition can tell the difference. A reader
 * on another thread sees the old or the new string, both equal and both immutable.
 */
final class DefinitionStrings {

    private DefinitionStrings() {
    }

    /** Shares equal text values among {@code resources}; returns how many were replaced. */
    static int share(FhirContext ctx, Collection<? extends IBaseResource> resources) {
        FhirTerser terser = ctx.newTerser();
        Map<String, String> canonical = new HashMap<>();
        int replaced = 0;
        for (IBaseResource resource : resources) {
            for (PrimitiveType<?> value : terser.getAllPopulatedChildElementsOfType(resource, PrimitiveType.class)) {
                if (value instanceof StringType text) {
                    replaced += share(canonical, text.getValue(), text::setValue);
                } else if (value instanceof UriType uri && !(value instanceof IdType)) {
                    replaced += share(canonical, uri.getValue(), uri::setValue);
                }
            }
        }
        return replaced;
    }

    private static int share(Map<String, String> canonical, String value, Consumer<String> set) {
        if (value == null) {
            return 0;
        }
        String shared = canonical.putIfAbsent(value, value);
        if (shared == null || shared == value) {
            return 0;
        }
        set.accept(shared);
        return 1;
    }
}
