package org.carerelay.gateway.hl7;

import ca.uhn.fhir.rest.param.TokenParam;
import java.util.ArrayList;
import java.util.LinkedHashSet;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.Set;
import javax.naming.NamingException;
import javax.naming.directory.Attribute;
import javax.naming.ldap.LdapName;
import javax.naming.ldap.Rdn;
import javax.security.auth.x500.X500Principal;
import org.carerelay.fhir.Systems;
import org.carerelay.gateway.store.ResourceStore;
import org.carerelay.gateway.store.SearchBuilder;
import org.hl7.fhir.r4.model.Organization;
import org.springframework.stereotype.Component;

/**
 * Finds the directory organisation an HL7v2 facility name (MSH-4, MSH-6) stands for: its HL7
 * alias ({@code https://fhir.carerelay.org/sid/hl7-facility}, the per-organisation mapping),
 * IK number, BSNR or Telematik-ID. The same lookup tells which organisation a TLS client
 * certificate belongs to ({@link #findByCertificateSubject}).
 */
@Component
public class Facilities {

    /** The identifier systems a facility name is looked up in, in order of precedence. */
    static final List<String> SYSTEMS = List.of(Systems.HL7_FACILITY, Systems.IKNR, Systems.BSNR, Systems.TELEMATIK_ID);
    private final ResourceStore store;

    public Facilities(ResourceStore store) {
        this.store = store;
    }

    public Optional<Organization> find(String facility) {
        if (facility == null || facility.isBlank()) {
            return Optional.empty();
        }
        String value = facility.trim();
        SearchBuilder sb = new SearchBuilder().identifier("identifier", new TokenParam(null, value));
        List<Organization> candidates = store.search(Organization.class, sb.sql(), sb.params(), 10, 0);
        for (String system : SYSTEMS) {
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

    /**
     * The organisation a client certificate's subject names: its CN, then every other value of the
     * subject (most specific first, e.g. OU, O, serialNumber, organizationIdentifier), each looked
     * up like a facility name; the first value that names an active directory organisation decides.
     */
    public Optional<Organization> findByCertificateSubject(String subject) {
        for (String value : subjectValues(subject)) {
            Optional<Organization> org = find(value);
            if (org.isPresent()) {
                return org;
            }
        }
        return Optional.empty();
    }

    /** OIDs without an RFC 2253 keyword whose values are still wanted as text. */
    private static final Map<String, String> SUBJECT_KEYWORDS = Map.of("2.5.4.5", "SERIALNUMBER", "2.5.4.97",
            "ORGANIZATIONIDENTIFIER");

    /**
     * The text values of a subject (as {@code X500Principal} prints it, which camel-mllp passes on):
     * CN values first, then the others, most specific RDN first. Empty for an unreadable subject.
     */
    static List<String> subjectValues(String subject) {
        if (subject == null || subject.isBlank()) {
            return List.of();
        }
        List<String> common = new ArrayList<>();
        List<String> other = new ArrayList<>();
        try {
            String rfc2253 = new X500Principal(subject).getName(X500Principal.RFC2253, SUBJECT_KEYWORDS);
            List<Rdn> rdns = new LdapName(rfc2253).getRdns(); // most significant (e.g. C) first
            for (int i = rdns.size() - 1; i >= 0; i--) {
                var attributes = rdns.get(i).toAttributes().getAll();
                while (attributes.hasMore()) {
                    Attribute attribute = attributes.next();
                    var values = attribute.getAll();
                    while (values.hasMore()) {
                        if (values.next() instanceof String value && !value.isBlank()) {
                            ("CN".equalsIgnoreCase(attribute.getID()) ? common : other).add(value.trim());
                        }
                    }
                }
            }
        } catch (IllegalArgumentException | NamingException e) {
            return List.of();
        }
        Set<String> ordered = new LinkedHashSet<>(common);
        ordered.addAll(other);
        return List.copyOf(ordered);
    }
}
