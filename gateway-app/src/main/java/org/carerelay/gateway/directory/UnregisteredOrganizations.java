package org.carerelay.gateway.directory;

import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.Optional;
import org.carerelay.fhir.Systems;
import org.carerelay.gateway.store.ResourceStore;
import org.hl7.fhir.r4.model.Organization;
import org.springframework.stereotype.Component;

/**
 * The directory entries a person may pick on the public registration page: active organisations
 * that are not registered yet, found by a part of the name, the start of the city or the exact IK
 * number. Only name, city and IK number are shown (no fax, no e-mail, nothing of registered ones).
 */
@Component
public class UnregisteredOrganizations {

    /** The shortest search text: a page open to everyone must not list the whole directory. */
    public static final int MIN_QUERY = 3;
    public static final int MAX_RESULTS = 20;

    /** What the registration page shows of an entry. */
    public record Candidate(String id, String name, String city, String ik) {
    }

    private final ResourceStore store;

    public UnregisteredOrganizations(ResourceStore store) {
        this.store = store;
    }

    /** Up to {@value #MAX_RESULTS} candidates for {@code text}; none for a text shorter than {@value #MIN_QUERY}. */
    public List<Candidate> search(String text) {
        String q = text == null ? "" : text.strip();
        if (q.length() < MIN_QUERY) {
            return List.of();
        }
        String lower = q.toLowerCase(Locale.ROOT).replace("\\", "\\\\").replace("%", "\\%").replace("_", "\\_");
        String where = "coalesce((content->>'active')::boolean, true)"
                + " and not exists (select 1 from participant p where p.organization_id = fhir_resource.id and p.status = 'registered')"
                + " and (lower(content->>'name') like :contains"
                + " or exists (select 1 from jsonb_array_elements(coalesce(content->'address', '[]'::jsonb)) a"
                + " where lower(a->>'city') like :starts)"
                + " or exists (select 1 from jsonb_array_elements(coalesce(content->'identifier', '[]'::jsonb)) i"
                + " where i->>'system' = :ik and i->>'value' = :exact))";
        return store.search(Organization.class, where,
                Map.of("contains", "%" + lower + "%", "starts", lower + "%", "ik", Systems.IKNR, "exact", q),
                MAX_RESULTS, 0).stream().map(UnregisteredOrganizations::candidate).toList();
    }

    /** {@code organizationId} as a candidate, if it is one (active, not registered). */
    public Optional<Candidate> candidate(String organizationId) {
        if (organizationId == null || !organizationId.matches("[A-Za-z0-9\\-.]{1,64}")) {
            return Optional.empty();
        }
        return store.search(Organization.class, "id = :oid and coalesce((content->>'active')::boolean, true) and not exists "
                + "(select 1 from participant p where p.organization_id = fhir_resource.id and p.status = 'registered')",
                Map.of("oid", organizationId), 1, 0).stream().findFirst().map(UnregisteredOrganizations::candidate);
    }

    private static Candidate candidate(Organization org) {
        String city = org.getAddress().stream().filter(a -> a.hasCity()).map(a -> a.getCity()).findFirst().orElse("");
        String ik = org.getIdentifier().stream().filter(i -> Systems.IKNR.equals(i.getSystem())).map(i -> i.getValue())
                .findFirst().orElse("");
        return new Candidate(org.getIdElement().getIdPart(), org.getName(), city, ik);
    }
}
