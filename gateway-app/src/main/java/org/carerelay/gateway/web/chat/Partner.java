package org.carerelay.gateway.web.chat;

import java.util.List;
import org.carerelay.fhir.OrganizationType;
import org.carerelay.fhir.Systems;
import org.hl7.fhir.r4.model.BooleanType;
import org.hl7.fhir.r4.model.Organization;

/** A directory entry as the pages show it: name, city, type and whether it is registered. */
public record Partner(String id, String name, String city, String type, boolean registered) {

    public static Partner of(Organization org) {
        String city = org.getAddress().stream().map(a -> a.getCity()).filter(c -> c != null && !c.isBlank())
                .findFirst().orElse("");
        String type = OrganizationType.of(org).map(OrganizationType::display).orElse("");
        boolean registered = org.getExtensionByUrl(Systems.EXT_REGISTERED) != null
                && org.getExtensionByUrl(Systems.EXT_REGISTERED).getValue() instanceof BooleanType b && b.booleanValue();
        return new Partner(org.getIdElement().getIdPart(), org.getName(), city, type, registered);
    }

    /** "registriert", or "wird eingeladen" for an entry that gets the invitation with the first message. */
    public String state() {
        return registered ? "registriert" : "wird eingeladen";
    }

    public static List<OrganizationType> types() {
        return List.of(OrganizationType.values());
    }
}
