package org.carerelay.gateway.hl7;

import static org.assertj.core.api.Assertions.assertThat;

import java.util.HashSet;
import java.util.Set;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.CsvSource;

class AcknowledgmentModesTest {

    @ParameterizedTest(name = "MSH-15 ''{0}'', MSH-16 ''{1}'', accepted {2} → {3}")
    @CsvSource(delimiter = ';', value = {
        // MSH-15 ; MSH-16 ; accepted ; answer on the connection
        "''       ; ''     ; true     ; ORIGINAL",
        "''       ; ''     ; false    ; ORIGINAL",
        "AL       ; NE     ; true     ; COMMIT",
        "AL       ; AL     ; false    ; COMMIT",
        "NE       ; NE     ; true     ; NONE",
        "NE       ; NE     ; false    ; APPLICATION",   // a refusal is always answered
        "NE       ; ''     ; false    ; APPLICATION",
        "NE       ; SU     ; false    ; APPLICATION",
        "NE       ; AL     ; true     ; APPLICATION",   // IHE PCD-01
        "NE       ; ER     ; true     ; NONE",
        "NE       ; ER     ; false    ; APPLICATION",
        "ER       ; NE     ; true     ; NONE",
        "ER       ; NE     ; false    ; COMMIT",
        "ER       ; SU     ; true     ; APPLICATION",
        "SU       ; NE     ; true     ; COMMIT",
        "SU       ; NE     ; false    ; COMMIT",   // a refusal is always answered
        "SU       ; ''     ; false    ; COMMIT",
        "SU       ; AL     ; false    ; APPLICATION",
        "er       ; ''     ; false    ; COMMIT",
        "''       ; AL     ; true     ; APPLICATION",   // MSH-16 alone asks: the application ACK
        "''       ; AL     ; false    ; APPLICATION",
        "''       ; ER     ; true     ; COMMIT",   // MSH-15 empty = AL for what MSH-16 does not ask
        "''       ; NE     ; true     ; COMMIT",
        "XX       ; ''     ; true     ; COMMIT",   // unknown condition: always, never silence
    })
    void answerOnTheConnection_followsMsh15ThenMsh16(String accept, String application, boolean accepted,
            AcknowledgmentModes.Answer expected) {
        assertThat(AcknowledgmentModes.answer(accept, application, accepted)).isEqualTo(expected);
    }

    @Test
    void enhancedMode_isMsh15OrMsh16Valued() {
        assertThat(AcknowledgmentModes.enhanced(null, null)).isFalse();
        assertThat(AcknowledgmentModes.enhanced(" ", "")).isFalse();
        assertThat(AcknowledgmentModes.enhanced("AL", null)).isTrue();
        assertThat(AcknowledgmentModes.enhanced(null, "ER")).isTrue();
    }

    @Test
    void ackControlIds_areTwentyCharactersAndDoNotRepeat() {
        ControlIds ids = new ControlIds();
        Set<String> seen = new HashSet<>();
        for (int i = 0; i < 10_000; i++) {
            String id = ids.getID();
            assertThat(id).matches("[0-9A-Z]{20}");
            assertThat(seen.add(id)).as("unique").isTrue();
        }
    }

    @Test
    void msa2_isTheRawControlId_withInvalidEscapesKept() {
        String ack = "MSH|^~\\&|CareRelay|CareRelay|KIS|KH|20261128120000||ACK^A01^ACK|X|P|2.5\r"
                + "MSA|AE|AB\\X\\C|text\rERR|||207\r";

        String fixed = Hl7Acks.withRawMsa2(ack, "A\\B\\X\\C");

        assertThat(fixed).contains("\rMSA|AE|A\\B\\X\\C|text\r").endsWith("ERR|||207\r");
        assertThat(Hl7Acks.withRawMsa2(ack, "Z".repeat(500))).contains("MSA|AE|" + "Z".repeat(199) + "|text");
    }
}
