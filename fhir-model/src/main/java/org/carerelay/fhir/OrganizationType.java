package org.carerelay.fhir;

import java.util.Optional;
import org.hl7.fhir.r4.model.CodeableConcept;
import org.hl7.fhir.r4.model.Organization;

/** The kinds of health actor the directory knows, coded in {@link Systems#ORGANIZATION_TYPE}. */
public enum OrganizationType {
    HOSPITAL("hospital", "Krankenhaus"),
    REHAB_CLINIC("rehab-clinic", "Rehabilitationsklinik"),
    PHYSICIAN_PRACTICE("physician-practice", "Arztpraxis"),
    AMBULATORY_CARE("ambulatory-care", "Ambulanter Pflegedienst"),
    CARE_HOME("care-home", "Pflegeheim"),
    HEALTH_INSURER("health-insurer", "Kranken-/Pflegekasse"),
    OTHER("other", "Sonstige");

    private final String code;
    private final String display;

    OrganizationType(String code, String display) {
        this.code = code;
        this.display = display;
    }

    public String code() {
        return code;
    }

    public String display() {
        return display;
    }

    public CodeableConcept toCodeableConcept() {
        CodeableConcept cc = new CodeableConcept();
        cc.addCoding().setSystem(Systems.ORGANIZATION_TYPE).setCode(code).setDisplay(display);
        return cc;
    }

    public static Optional<OrganizationType> fromCode(String code) {
        if (code == null) {
            return Optional.empty();
        }
        for (OrganizationType t : values()) {
            if (t.code.equalsIgnoreCase(code.trim())) {
                return Optional.of(t);
            }
        }
        return Optional.empty();
    }

    /** The CareRelay type of an organisation, if it carries one. */
    public static Optional<OrganizationType> of(Organization organization) {
        for (CodeableConcept cc : organization.getType()) {
            for (var coding : cc.getCoding()) {
                if (Systems.ORGANIZATION_TYPE.equals(coding.getSystem())) {
                    return fromCode(coding.getCode());
                }
            }
        }
        return Optional.empty();
    }
}
