package org.carerelay.gateway.store;

import java.util.LinkedHashMap;
import java.util.Map;
import java.util.Set;
import java.util.function.Function;
import org.hl7.fhir.instance.model.api.IBaseResource;
import org.hl7.fhir.r4.model.Resource;

/**
 * Parsed resources of the types read far more often than written: the directory's organisations,
 * read for every delivery, notification and HL7 sender check (parsing them was 3% of the gateway's
 * CPU in the pipeline benchmark). Kept by type and id with the JSON they were parsed from. The
 * store still reads the row every time (another node may have changed it) and parses only JSON it
 * has not seen; every caller gets a copy of its own, so what one changes reaches neither the cache
 * nor another caller (binary values, such as a certificate's bytes, are shared arrays: replace
 * them, never change them in place). At most {@link #MAX} entries, the least recently used go
 * first. Thread-safe.
 */
final class ParsedResources {

    static final Set<String> TYPES = Set.of("Organization");
    static final int MAX = 1_000;

    private record Entry(String json, Resource resource) {
    }

    private final Map<String, Entry> entries = new LinkedHashMap<>(64, 0.75f, true) {
        @Override
        protected boolean removeEldestEntry(Map.Entry<String, Entry> eldest) {
            return size() > MAX;
        }
    };

    /** {@code json}, the stored form of {@code typeName/id}, as a resource of {@code type}. */
    <T extends IBaseResource> T parse(Class<T> type, String typeName, String id, String json, Function<String, T> parser) {
        if (!TYPES.contains(typeName) || id == null || json.contains("\"_")) {
            // a primitive's id or extensions ("_name": {...}): HAPI's copy of a coded value drops
            // its element id, so such an entry is parsed every time
            return parser.apply(json);
        }
        String key = typeName + "/" + id;
        Entry hit;
        synchronized (entries) {
            hit = entries.get(key);
        }
        if (hit != null && hit.json().equals(json)) {
            return type.cast(hit.resource().copy());
        }
        T parsed = parser.apply(json);
        if (parsed instanceof Resource resource) {
            Entry entry = new Entry(json, resource.copy());
            synchronized (entries) {
                entries.put(key, entry);
            }
        }
        return parsed;
    }

    int size() {
        synchronized (entries) {
            return entries.size();
        }
    }
}
