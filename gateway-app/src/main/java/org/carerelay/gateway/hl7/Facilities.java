package org.carerelay.gateway.hl7;

import java.util.List;
import java.util.Optional;
import java.util.Set;
import org.carerelay.fhir.Systems;
import org.carerelay.gateway.store.ResourceStore;
import org.carerelay.gateway.store.SearchBuilder;
import org.hl7.fhir.r4.model.Organization;
import org.springframework.stereotype.Component;

/**
 * Finds the directory organisation an HL7v2 facility name (MSH-4, MSH-6) stands for: its HL7
 * alias ({@code https://fhir.carerelay.org/sid/hl7-facility}, the per-organisation mapping),
 * IK number, BSNR or Telematik-ID.
 */
@Component
public class Facilities {

    static final Set<String> SYSTEMS = Set.of(Systems.HL7_FACILITY, Systems.IKNR, Systems.BSNR, Systems.TELEMATIK_ID);
    private final ResourceStore store;

    public Facilities(ResourceStore store) {
        this.store = store;
    }

    public Optional<Organization> find(String facility) {
        if (facility == null || facility.isBlank()) {
            return Optional.empty();
        }
        String value = facility.trim();
        SearchBuilder sb = new SearchBuilder().identifier("identifier", new ca.uhn.fhir.rest.param.TokenParam(null, value));
        List<Organization> candidates = store.search(Organization.class, sb.sql(), sb.params(), 10, 0);
        for (String system : List.of(Systems.HL7_FACILITY, Systems.IKNR, Systems.BSNR, Systems.TELEMATIK_ID)) {
            for (Organization org : candidates) {
                boolean match = org.getIdentifier().stream()
                        .anyMatch(i -> system.equals(i.getSystem()) && value.equals(i.getValue()));
                if (match && (!org.hasActive() || org.getActive())) {
                    return Optional.of(org);
                }
            }
        }
        return Optional.empty();
    }
}
