package org.carerelay.fhir;

import java.util.Arrays;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import org.hl7.fhir.r4.model.CodeableConcept;
import org.hl7.fhir.r4.model.Coding;
import org.hl7.fhir.r4.model.Organization;

/**
 * Gives every Organization a CareRelay type ({@link Systems#ORGANIZATION_TYPE}) while keeping the
 * codings a hospital information system sends (ISiK, German base profiles): a CareRelay coding
 * decides and must be known; otherwise the type is derived from IHE-D facility type, HL7
 * organization type or department codings, else {@link OrganizationType#OTHER}. Pure and stateless.
 * Field-by-field mapping: docs/mappings.md, section 6 "Organisation types".
 */
public final class OrganizationTypeMapping {

    public static final String HL7_ORGANIZATION_TYPE = "http://terminology.hl7.org/CodeSystem/organization-type";
    public static final String IHE_D_FACILITY_TYPE = "http://ihe-d.de/CodeSystems/PatientBezogenenGesundheitsversorgung";
    public static final String IHE_D_PRACTICE_SETTING = "http://ihe-d.de/CodeSystems/AerztlicheFachrichtungen";
    public static final String DKGEV_FACHABTEILUNG = "http://fhir.de/CodeSystem/dkgev/Fachabteilungsschluessel";
    public static final String DKGEV_FACHABTEILUNG_ERWEITERT = "http://fhir.de/CodeSystem/dkgev/Fachabteilungsschluessel-erweitert";

    private static final Map<String, OrganizationType> IHE_D_FACILITY = Map.ofEntries(
            Map.entry("KHS", OrganizationType.HOSPITAL),
            Map.entry("REH", OrganizationType.REHAB_CLINIC),
            Map.entry("PRA", OrganizationType.PHYSICIAN_PRACTICE),
            Map.entry("MVZ", OrganizationType.PHYSICIAN_PRACTICE),
            Map.entry("APD", OrganizationType.AMBULATORY_CARE),
            Map.entry("PFL", OrganizationType.CARE_HOME),
            Map.entry("APO", OrganizationType.OTHER), Map.entry("BER", OrganizationType.OTHER),
            Map.entry("BAA", OrganizationType.OTHER), Map.entry("BHR", OrganizationType.OTHER),
            Map.entry("HEB", OrganizationType.OTHER), Map.entry("HOS", OrganizationType.OTHER),
            Map.entry("HAN", OrganizationType.OTHER), Map.entry("HEI", OrganizationType.OTHER),
            Map.entry("RTN", OrganizationType.OTHER), Map.entry("SEL", OrganizationType.OTHER),
            Map.entry("TMZ", OrganizationType.OTHER));

    private OrganizationTypeMapping() {
    }

    /** Thrown when a CareRelay type coding carries an unknown code. */
    public static final class UnknownTypeException extends IllegalArgumentException {
        public UnknownTypeException(String message) {
            super(message);
        }
    }

    /**
     * The CareRelay type of {@code types}: the CareRelay coding if there is one, else the first
     * mapping rule that applies (docs/mappings.md, section 6), else empty.
     *
     * @throws UnknownTypeException if a CareRelay coding has an unknown code
     */
    public static Optional<OrganizationType> derive(List<CodeableConcept> types) {
        Optional<OrganizationType> facility = Optional.empty();
        Optional<OrganizationType> insurer = Optional.empty();
        Optional<OrganizationType> department = Optional.empty();
        for (CodeableConcept type : types) {
            for (Coding coding : type.getCoding()) {
                String system = coding.getSystem();
                String code = coding.getCode() == null ? "" : coding.getCode().trim();
                if (system == null) {
                    continue;
                }
                switch (system) {
                    case Systems.ORGANIZATION_TYPE -> {
                        return Optional.of(OrganizationType.fromCode(code).orElseThrow(() -> new UnknownTypeException(
                                "Organization.type: '" + code + "' is not a code of " + Systems.ORGANIZATION_TYPE + " (one of "
                                        + String.join(", ", Arrays.stream(OrganizationType.values())
                                                .map(OrganizationType::code).toList()) + ").")));
                    }
                    case IHE_D_FACILITY_TYPE -> {
                        if (facility.isEmpty()) {
                            facility = Optional.ofNullable(IHE_D_FACILITY.get(code));
                        }
                    }
                    case HL7_ORGANIZATION_TYPE -> {
                        if (("ins".equals(code) || "pay".equals(code)) && insurer.isEmpty()) {
                            insurer = Optional.of(OrganizationType.HEALTH_INSURER);
                        } else if ("dept".equals(code)) {
                            department = Optional.of(OrganizationType.HOSPITAL);
                        }
                    }
                    case DKGEV_FACHABTEILUNG, DKGEV_FACHABTEILUNG_ERWEITERT -> department = Optional.of(OrganizationType.HOSPITAL);
                    default -> {
                    }
                }
            }
        }
        if (facility.isPresent()) {
            return facility;
        }
        return insurer.isPresent() ? insurer : department;
    }

    /**
     * Makes sure {@code org} carries a CareRelay type coding: adds the derived type (or
     * {@link OrganizationType#OTHER}) as a further {@code type} entry when it has none.
     *
     * @return the organisation's CareRelay type
     * @throws UnknownTypeException if a CareRelay coding has an unknown code
     */
    public static OrganizationType normalize(Organization org) {
        boolean hasOwn = org.getType().stream().flatMap(t -> t.getCoding().stream())
                .anyMatch(c -> Systems.ORGANIZATION_TYPE.equals(c.getSystem()));
        OrganizationType type = derive(org.getType()).orElse(OrganizationType.OTHER);
        if (!hasOwn) {
            org.addType(type.toCodeableConcept());
        }
        return type;
    }
}
