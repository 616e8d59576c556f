package org.carerelay.gateway.patient;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;
import static org.mockito.ArgumentMatchers.anyString;
import static org.mockito.ArgumentMatchers.contains;
import static org.mockito.Mockito.mock;
import static org.mockito.Mockito.never;
import static org.mockito.Mockito.verify;
import static org.mockito.Mockito.when;

import org.carerelay.gateway.store.ResourceStore;
import org.carerelay.routes.crypto.AesGcmContentCipher;
import org.hl7.fhir.r4.model.DateType;
import org.hl7.fhir.r4.model.Enumerations.AdministrativeGender;
import org.hl7.fhir.r4.model.Patient;
import org.junit.jupiter.api.Test;
import org.springframework.jdbc.core.simple.JdbcClient;

class PatientIndexTest {

    @Test
    void nameParts_areWholeWordsAndHyphenPieces_normalisedToLowerCase() {
        assertThat(PatientIndex.tokens("  Müller-Lüdenscheidt ")).containsExactly("müller-lüdenscheidt", "müller", "lüdenscheidt");
        assertThat(PatientIndex.tokens("van der  Berg")).containsExactly("van der berg", "van", "der", "berg");
        assertThat(PatientIndex.tokens(null)).isEmpty();
        // NFC: a decomposed umlaut matches the composed one
        assertThat(PatientIndex.normalize("Mu\u0308ller")).isEqualTo("müller");
    }

    @Test
    void hashes_dependOnTheDataKeyAndTheKind_soAKnownKvnrCannotBeLookedUpWithoutTheKey() {
        byte[] key = new byte[32];
        byte[] other = new byte[32];
        other[0] = 1;
        PatientIndex index = new PatientIndex(null, new AesGcmContentCipher(key));
        PatientIndex otherIndex = new PatientIndex(null, new AesGcmContentCipher(other));
        assertThat(index.kvnr("A123456789")).isEqualTo(index.kvnr("A123456789")).hasSize(64)
                .isNotEqualTo(otherIndex.kvnr("A123456789"))
                .isNotEqualTo(index.hash(PatientIndex.IDENTIFIER_VALUE, "A123456789"));
    }

    private static final String ASKED = "the database was asked";

    /** A database that refuses every statement: the first one ends the call. */
    private static JdbcClient asked() {
        JdbcClient jdbc = mock(JdbcClient.class);
        when(jdbc.sql(anyString())).thenThrow(new IllegalStateException(ASKED));
        return jdbc;
    }

    private static Patient patient() {
        Patient patient = new Patient();
        patient.setId("p1");
        patient.addName().setFamily("Müller-Lüdenscheidt").addGiven("Anna");
        patient.setBirthDateElement(new DateType("1937-05-29"));
        patient.setGender(AdministrativeGender.FEMALE);
        patient.addIdentifier().setSystem("urn:oid:1.2.276.0.76.4.8").setValue("A123456789");
        patient.addAddress().setCity("Görlitz");
        return patient;
    }

    @Test
    void aNewVersionWithTheSameIndexedValues_asksTheDatabaseNothing() {
        JdbcClient jdbc = asked();
        PatientIndex index = new PatientIndex(jdbc, new AesGcmContentCipher(new byte[32]));
        Patient replaced = patient();
        Patient moved = patient();
        moved.getAddressFirstRep().setCity("Bautzen");
        moved.addTelecom().setValue("0351 1234");

        index.reindex(moved, replaced);

        verify(jdbc, never()).sql(anyString());
    }

    @Test
    void aNewVersionWithAnotherIndexedValue_isIndexedAgain() {
        Patient replaced = patient();
        Patient renamed = patient();
        renamed.getNameFirstRep().setFamily("Müller");
        Patient born = patient();
        born.setBirthDateElement(new DateType("1937-05-30"));
        Patient gender = patient();
        gender.setGender(AdministrativeGender.OTHER);
        Patient identified = patient();
        identified.addIdentifier().setSystem("https://example.org/mrn").setValue("4711");
        Patient given = patient();
        given.getNameFirstRep().addGiven("Luise");
        Patient text = patient();
        text.getNameFirstRep().setText("Anna Müller");
        Patient otherSystem = patient();
        otherSystem.getIdentifierFirstRep().setSystem("https://example.org/mrn");
        for (Patient changed : new Patient[] {renamed, born, gender, identified, given, text, otherSystem}) {
            JdbcClient jdbc = asked();
            PatientIndex index = new PatientIndex(jdbc, new AesGcmContentCipher(new byte[32]));
            assertThatThrownBy(() -> index.reindex(changed, replaced)).hasMessage(ASKED);
            verify(jdbc).sql(contains("patient_search_token"));
        }
        // a replaced version stored in plaintext by an earlier release may have no search rows: compared with what is stored
        JdbcClient plain = asked();
        Patient legacy = patient();
        legacy.setUserData(ResourceStore.STORED_IN_PLAINTEXT, Boolean.TRUE);
        assertThatThrownBy(() -> new PatientIndex(plain, new AesGcmContentCipher(new byte[32])).reindex(patient(), legacy))
                .hasMessage(ASKED);
        verify(plain).sql(contains("patient_search_token"));
        // without the replaced version: always compared with what is stored
        JdbcClient jdbc = asked();
        assertThatThrownBy(() -> new PatientIndex(jdbc, new AesGcmContentCipher(new byte[32])).reindex(patient(), null))
                .hasMessage(ASKED);
        verify(jdbc).sql(contains("patient_search_token"));
    }
}
