package org.carerelay.fhir;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import java.util.ArrayList;
import java.util.List;
import org.hl7.fhir.r4.model.CodeableConcept;
import org.hl7.fhir.r4.model.Coding;
import org.hl7.fhir.r4.model.Organization;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.CsvSource;

class OrganizationTypeMappingTest {

    /** Codings separated by {@code ;}, each {@code system#code}; the expected CareRelay code. */
    @ParameterizedTest(name = "{0} -> {1}")
    @CsvSource(delimiter = '>', value = {
            "http://ihe-d.de/CodeSystems/PatientBezogenenGesundheitsversorgung#KHS > hospital",
            "http://ihe-d.de/CodeSystems/PatientBezogenenGesundheitsversorgung#REH > rehab-clinic",
            "http://ihe-d.de/CodeSystems/PatientBezogenenGesundheitsversorgung#PRA > physician-practice",
            "http://ihe-d.de/CodeSystems/PatientBezogenenGesundheitsversorgung#MVZ > physician-practice",
            "http://ihe-d.de/CodeSystems/PatientBezogenenGesundheitsversorgung#APD > ambulatory-care",
            "http://ihe-d.de/CodeSystems/PatientBezogenenGesundheitsversorgung#PFL > care-home",
            "http://ihe-d.de/CodeSystems/PatientBezogenenGesundheitsversorgung#APO > other",
            "http://terminology.hl7.org/CodeSystem/organization-type#ins > health-insurer",
            "http://terminology.hl7.org/CodeSystem/organization-type#pay > health-insurer",
            "http://terminology.hl7.org/CodeSystem/organization-type#dept > hospital",
            "http://terminology.hl7.org/CodeSystem/organization-type#prov > other",
            "http://terminology.hl7.org/CodeSystem/organization-type#govt > other",
            // ISiK Fachabteilung: dept plus the extended department key of the German Hospital Federation
            "http://terminology.hl7.org/CodeSystem/organization-type#dept;http://fhir.de/CodeSystem/dkgev/Fachabteilungsschluessel-erweitert#1500 > hospital",
            "http://fhir.de/CodeSystem/dkgev/Fachabteilungsschluessel#0100 > hospital",
            // the facility type decides over the generic provider code and the specialty
            "http://terminology.hl7.org/CodeSystem/organization-type#prov;http://ihe-d.de/CodeSystems/PatientBezogenenGesundheitsversorgung#PRA;http://ihe-d.de/CodeSystems/AerztlicheFachrichtungen#ALLG > physician-practice",
            "http://ihe-d.de/CodeSystems/AerztlicheFachrichtungen#INNE > other",
            "http://example.org/local-types#station > other",
            // an explicit CareRelay code wins
            "https://fhir.carerelay.org/CodeSystem/organization-type#care-home;http://terminology.hl7.org/CodeSystem/organization-type#dept > care-home",
    })
    void normalize_addsTheMappedCareRelayType_andKeepsTheOriginalCodings(String codings, String expected) {
        Organization org = new Organization().setName("Test");
        List<String> sent = new ArrayList<>();
        for (String coding : codings.split(";")) {
            String[] parts = coding.trim().split("#");
            org.addType().addCoding().setSystem(parts[0]).setCode(parts[1]);
            sent.add(parts[0] + "#" + parts[1]);
        }
        int typesBefore = org.getType().size();
        boolean hadOwn = codings.contains(Systems.ORGANIZATION_TYPE);

        assertThat(OrganizationTypeMapping.normalize(org).code()).isEqualTo(expected);

        assertThat(OrganizationType.of(org)).get().extracting(OrganizationType::code).isEqualTo(expected);
        assertThat(org.getType()).hasSize(hadOwn ? typesBefore : typesBefore + 1);
        List<String> kept = org.getType().stream().flatMap(t -> t.getCoding().stream())
                .map(c -> c.getSystem() + "#" + c.getCode()).toList();
        assertThat(kept).containsAll(sent);
    }

    @Test
    void noType_defaultsToOther() {
        Organization org = new Organization().setName("Ohne Typ");
        assertThat(OrganizationTypeMapping.normalize(org)).isEqualTo(OrganizationType.OTHER);
        assertThat(OrganizationType.of(org)).contains(OrganizationType.OTHER);
    }

    @Test
    void unknownCareRelayCode_isRefused() {
        Organization org = new Organization().setName("Falsch");
        org.addType(new CodeableConcept(new Coding(Systems.ORGANIZATION_TYPE, "spaceport", null)));
        assertThatThrownBy(() -> OrganizationTypeMapping.normalize(org))
                .isInstanceOf(OrganizationTypeMapping.UnknownTypeException.class).hasMessageContaining("spaceport");
    }
}
