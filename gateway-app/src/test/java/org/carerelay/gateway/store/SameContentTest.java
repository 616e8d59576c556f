package org.carerelay.gateway.store;

import static org.assertj.core.api.Assertions.assertThat;

import ca.uhn.fhir.context.FhirContext;
import java.nio.charset.StandardCharsets;
import org.hl7.fhir.r4.model.DateTimeType;
import org.hl7.fhir.r4.model.DateType;
import org.hl7.fhir.r4.model.Enumerations.AdministrativeGender;
import org.hl7.fhir.r4.model.Patient;
import org.hl7.fhir.r4.model.StringType;
import org.junit.jupiter.api.Test;

/** {@link ResourceStore#sameContent}: equal as stored JSON, decided without encoding where the values differ. */
class SameContentTest {

    private final ResourceStore store = new ResourceStore(null, FhirContext.forR4Cached(), null);

    private static Patient patient() {
        Patient p = new Patient();
        p.setId("p1");
        p.getMeta().setVersionId("3");
        p.addIdentifier().setSystem("http://fhir.de/sid/gkv/kvid-10").setValue("A123456780");
        p.addName().setFamily("Müßig").addGiven("Jürgen");
        p.setGender(AdministrativeGender.MALE);
        p.setBirthDateElement(new DateType("1950-01-02"));
        p.addPhoto().setContentType("image/png").setData("not really a picture".getBytes(StandardCharsets.UTF_8));
        return p;
    }

    @Test
    void aCopy_isTheSame_evenWithBinaryValuesInSeparateArrays() {
        Patient a = patient();
        Patient b = patient(); // built again: equal values, other array instances
        assertThat(store.sameContent(a, b)).isTrue();
        assertThat(store.sameContent(a, a.copy())).isTrue();
    }

    @Test
    void anyChangedValue_isNotTheSame() {
        Patient changedName = patient();
        changedName.getNameFirstRep().setFamily("Mueßig");
        Patient changedPhoto = patient();
        changedPhoto.getPhotoFirstRep().setData("another picture".getBytes(StandardCharsets.UTF_8));
        Patient extension = patient();
        extension.getBirthDateElement().addExtension("http://example.org/x", new StringType("y"));
        Patient elementId = patient();
        elementId.getNameFirstRep().setId("n1");
        for (Patient other : new Patient[] {changedName, changedPhoto, extension, elementId}) {
            assertThat(store.sameContent(patient(), other)).isFalse();
            assertThat(store.sameContent(other, patient())).isFalse();
        }
    }

    @Test
    void theSameInstantWrittenDifferently_isNotTheSame() {
        // equal as values (equalsDeep compares the parsed instant), not as stored: decided by the JSON
        Patient a = patient();
        a.setDeceased(new DateTimeType("2020-01-01T10:00:00+01:00"));
        Patient b = patient();
        b.setDeceased(new DateTimeType("2020-01-01T09:00:00Z"));
        assertThat(a.equalsDeep(b)).isTrue();
        assertThat(store.sameContent(a, b)).isFalse();
        Patient c = patient();
        c.setDeceased(new DateTimeType("2020-01-01T09:00:00Z"));
        assertThat(store.sameContent(b, c)).isTrue();
    }
}
