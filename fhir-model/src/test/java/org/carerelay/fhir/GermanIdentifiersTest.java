package org.carerelay.fhir;

import static org.assertj.core.api.Assertions.assertThat;

import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.CsvSource;

class GermanIdentifiersTest {

    @ParameterizedTest(name = "{0} {1} valid={2}")
    @CsvSource({
            // IK numbers of real statutory health insurers (published on their letters and web sites)
            "http://fhir.de/sid/arge-ik/iknr, 108018007, true",   // AOK Baden-Württemberg
            "http://fhir.de/sid/arge-ik/iknr, 101575519, true",   // Techniker Krankenkasse
            "http://fhir.de/sid/arge-ik/iknr, 104940005, true",   // BARMER
            "http://fhir.de/sid/arge-ik/iknr, 105830016, true",   // DAK-Gesundheit
            "http://fhir.de/sid/arge-ik/iknr, 260120196, true",   // ISiK Basismodul example hospital
            "http://fhir.de/sid/arge-ik/iknr, 260100012, true",   // the README's tour
            "http://fhir.de/sid/arge-ik/iknr, 108018008, false",  // wrong check digit
            "http://fhir.de/sid/arge-ik/iknr, 108081007, false",  // two digits swapped
            "http://fhir.de/sid/arge-ik/iknr, 10801800, false",   // 8 digits
            "http://fhir.de/sid/arge-ik/iknr, 1080180070, false", // 10 digits
            "http://fhir.de/sid/arge-ik/iknr, 10801800X, false",
            // KVNR: letter as two digits (A = 01), weights 1,2,1,2,..., cross sums, mod 10
            "http://fhir.de/sid/gkv/kvid-10, A123456780, true",
            "http://fhir.de/sid/gkv/kvid-10, A000000001, false",
            "http://fhir.de/sid/gkv/kvid-10, A123456789, false",
            "http://fhir.de/sid/gkv/kvid-10, Z987654321, true",
            "http://fhir.de/sid/gkv/kvid-10, Z987654324, false",
            "http://fhir.de/sid/gkv/kvid-10, a123456780, false",  // lower-case letter
            "http://fhir.de/sid/gkv/kvid-10, A12345678, false",   // too short
            // LANR: digits 1-6 weighted 4,9,..., check = 10 - sum mod 10 (0 for 10), then the Fachgruppe
            "https://fhir.kbv.de/NamingSystem/KBV_NS_Base_ANR, 123456601, true",
            "https://fhir.kbv.de/NamingSystem/KBV_NS_Base_ANR, 123456699, true",  // other Fachgruppe, same check digit
            "https://fhir.kbv.de/NamingSystem/KBV_NS_Base_ANR, 123456701, false",
            "https://fhir.kbv.de/NamingSystem/KBV_NS_Base_ANR, 999999900, true",  // the pseudo number on prescriptions
            "https://fhir.kbv.de/NamingSystem/KBV_NS_Base_ANR, 000000000, true",  // check 10 -> 0
            "https://fhir.kbv.de/NamingSystem/KBV_NS_Base_ANR, 12345660, false",
            // BSNR: 9 digits, no check digit
            "https://fhir.kbv.de/NamingSystem/KBV_NS_Base_BSNR, 721234500, true",
            "https://fhir.kbv.de/NamingSystem/KBV_NS_Base_BSNR, 72123450, false",
            // other systems are not checked here
            "https://gematik.de/fhir/sid/telematik-id, 1-2-3, true",
    })
    void checkDigitRules(String system, String value, boolean valid) {
        assertThat(GermanIdentifiers.isValid(system, value)).isEqualTo(valid);
        if (!valid) {
            assertThat(GermanIdentifiers.problem(system, value)).get().asString().contains(system).doesNotContain(value);
        }
    }

    @ParameterizedTest(name = "{0} -> {1}")
    @CsvSource({"10801800, 7", "10157551, 9", "10494000, 5", "10583001, 6", "26012019, 6"})
    void iknrCheckDigit_isComputedFromDigitsThreeToEight(String first8, int check) {
        assertThat(GermanIdentifiers.iknrCheckDigit(first8)).isEqualTo(check);
        assertThat(GermanIdentifiers.withIknrCheckDigit(first8)).isEqualTo(first8 + check);
    }

    @ParameterizedTest(name = "{0} -> {1}")
    @CsvSource({"A12345678, 0", "Z98765432, 1", "B00000000, 4"})
    void kvnrCheckDigit_usesTheLettersAlphabetPosition(String first9, int check) {
        assertThat(GermanIdentifiers.kvnrCheckDigit(first9)).isEqualTo(check);
    }

    @ParameterizedTest(name = "{0} -> {1}")
    @CsvSource({"123456, 6", "999999, 9", "000000, 0", "555555, 5"})
    void lanrCheckDigit_isTenMinusTheWeightedSum(String first6, int check) {
        assertThat(GermanIdentifiers.lanrCheckDigit(first6)).isEqualTo(check);
        assertThat(GermanIdentifiers.lanr(first6, "01")).isEqualTo(first6 + check + "01");
    }

    @org.junit.jupiter.api.Test
    void firstProblem_skipsIdentifiersAlreadyStored_soOldEntriesStayEditable() {
        var legacy = new org.hl7.fhir.r4.model.Identifier().setSystem(Systems.IKNR).setValue("260200019");
        var typo = new org.hl7.fhir.r4.model.Identifier().setSystem(Systems.IKNR).setValue("260200019");
        var other = new org.hl7.fhir.r4.model.Identifier().setSystem(Systems.LANR).setValue("123456701");

        assertThat(GermanIdentifiers.firstProblem(java.util.List.of(typo), java.util.List.of())).isPresent();
        assertThat(GermanIdentifiers.firstProblem(java.util.List.of(typo), java.util.List.of(legacy))).isEmpty();
        assertThat(GermanIdentifiers.firstProblem(java.util.List.of(typo, other), java.util.List.of(legacy)))
                .get().asString().contains(Systems.LANR);
    }
}
