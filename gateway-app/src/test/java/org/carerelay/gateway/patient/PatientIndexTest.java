package org.carerelay.gateway.patient;

import static org.assertj.core.api.Assertions.assertThat;

import org.carerelay.routes.crypto.AesGcmContentCipher;
import org.junit.jupiter.api.Test;

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
}
