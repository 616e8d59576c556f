package org.carerelay.gateway.web.chat;

import java.util.Locale;
import org.carerelay.fhir.Systems;
import org.hl7.fhir.r4.model.Extension;
import org.hl7.fhir.r4.model.Patient;

/**
 * A patient as the pages show it. {@code consentStatus} is the service's marker: "active",
 * "revoked" or "none".
 */
public record PatientView(String id, String name, String birthDate, String kvnr, String gender, String consentStatus) {

    public static PatientView of(Patient p) {
        String name = p.getName().stream().findFirst()
                .map(n -> (n.getGivenAsSingleString() + " " + (n.getFamily() == null ? "" : n.getFamily())).trim()).orElse("");
        String kvnr = p.getIdentifier().stream().filter(i -> Systems.KVNR.equals(i.getSystem())).map(i -> i.getValue())
                .findFirst().orElse("");
        String birth = p.hasBirthDate() ? p.getBirthDateElement().getValueAsString() : "";
        String gender = p.getGender() == null ? "" : switch (p.getGender()) {
            case FEMALE -> "weiblich";
            case MALE -> "männlich";
            case OTHER -> "divers";
            default -> "unbekannt";
        };
        String status = "none";
        Extension marker = p.getExtensionByUrl(Systems.EXT_CONSENT_STATUS);
        if (marker != null && marker.getExtensionByUrl("status") != null) {
            status = marker.getExtensionByUrl("status").getValue().primitiveValue().toLowerCase(Locale.ROOT);
        }
        return new PatientView(p.getIdElement().getIdPart(), name, birth, kvnr, gender, status);
    }

    public boolean revoked() {
        return "revoked".equals(consentStatus);
    }
}
