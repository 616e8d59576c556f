package org.carerelay.fhir.hl7;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;
import static org.carerelay.fhir.hl7.V2TestMessages.parse;
import static org.carerelay.fhir.hl7.V2TestMessages.sample;

import ca.uhn.hl7v2.model.Message;
import java.math.BigDecimal;
import java.nio.charset.StandardCharsets;
import java.util.List;
import java.util.stream.Collectors;
import org.carerelay.fhir.Systems;
import org.carerelay.fhir.hl7.OruToObservations.VitalSign;
import org.carerelay.fhir.validation.ResourceValidator;
import org.hl7.fhir.r4.model.CodeableConcept;
import org.hl7.fhir.r4.model.Coding;
import org.hl7.fhir.r4.model.Observation;
import org.hl7.fhir.r4.model.Observation.ObservationStatus;
import org.hl7.fhir.r4.model.Quantity;
import org.hl7.fhir.r4.model.Reference;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.CsvSource;

class OruToObservationsTest {

    private static final String LOINC = Systems.LOINC;
    private static final String MDC = OruToObservations.MDC_SYSTEM;
    private static final String UCUM = OruToObservations.UCUM_SYSTEM;

    /** Vital signs from a German care home's documentation system, v2.5, plus one lab value. */
    private static final String GERMAN_ORU = String.join("\r",
            "MSH|^~\\&|PDMS|Pflegeheim Sonnenhof|CareRelay|CR|20240502101500||ORU^R01^ORU_R01|MSG-4711|P|2.5"
                    + "|||AL|NE|DEU|8859/1|DEU^Deutsch^ISO639",
            "PID|1||P-4711^^^Sonnenhof^PI||Müller^Erika||19500312|F",
            "PV1|1|O",
            "OBR|1|ORD-1||85353-1^Vitalparameter^LN|||20240502100000+0200",
            "OBX|1|NM|8867-4^Herzfrequenz^LN||72|/min^Schläge pro Minute^UCUM|60-100|N|||F|||20240502100500+0200",
            "OBX|2|NM|8480-6^Systolischer Blutdruck^LN||135|mm[Hg]^mmHg^UCUM|100-140|N|||F|||20240502100500+0200",
            "OBX|3|NM|8462-4^Diastolischer Blutdruck^LN||85|mm[Hg]^mmHg^UCUM|60-90|N|||F|||20240502100500+0200",
            "NTE|1||Im Sitzen gemessen, linker Arm",
            "OBX|4|NM|8310-5^Körpertemperatur^LN||37.2|Cel^°C^UCUM|36,0-37,5|N|||F|||20240502100500+0200",
            "OBX|5|NM|29463-7^Körpergewicht^LN||71.5|kg^Kilogramm^UCUM|||||F|||20240502100500+0200",
            "OBR|2|ORD-2||2345-7^Glukose^LN|||20240502093000+0200",
            "OBX|1|NM|2345-7^Glukose [Masse/Volumen] in Serum oder Plasma^LN||98|mg/dL^mg/dl^UCUM|70-110|N|||F"
                    + "|||20240502093000+0200",
            "");

    // ------------------------------------------------------------------ constructed German ORU

    @Test
    void germanVitalSigns_giveFiveVitalObservationsPlusBloodPressurePanel() throws Exception {
        List<Observation> observations = OruToObservations.map(parse(GERMAN_ORU));

        assertThat(observations).hasSize(7);
        List<Observation> vitals = observations.subList(0, 6);
        assertThat(vitals).allSatisfy(o -> {
            assertThat(o.getMeta().getProfile()).extracting(p -> p.getValue())
                    .containsExactly(OruToObservations.VITAL_SIGNS_PROFILE);
            assertThat(o.getCategory()).hasSize(1);
            assertThat(o.getCategoryFirstRep().getCodingFirstRep().getSystem())
                    .isEqualTo(OruToObservations.OBSERVATION_CATEGORY_SYSTEM);
            assertThat(o.getCategoryFirstRep().getCodingFirstRep().getCode()).isEqualTo("vital-signs");
            assertThat(o.getStatus()).isEqualTo(ObservationStatus.FINAL);
            assertThat(o.getEffectiveDateTimeType().getValueAsString()).isEqualTo("2024-05-02T10:05:00+02:00");
        });
        assertThat(vitals.subList(0, 5)).extracting(o -> loinc(o.getCode()))
                .containsExactly("8867-4", "8480-6", "8462-4", "8310-5", "29463-7");
        assertQuantity(vitals.get(0), "72", "/min");
        assertQuantity(vitals.get(1), "135", "mm[Hg]");
        assertQuantity(vitals.get(2), "85", "mm[Hg]");
        assertQuantity(vitals.get(3), "37.2", "Cel");
        assertQuantity(vitals.get(4), "71.5", "kg");
        // the codes as sent, German displays kept; LOINC already the profile's code: no extra coding
        assertThat(vitals.get(0).getCode().getCoding()).extracting(Coding::getSystem, Coding::getCode, Coding::getDisplay)
                .containsExactly(org.assertj.core.groups.Tuple.tuple(LOINC, "8867-4", "Herzfrequenz"));
        assertThat(vitals.get(0).getValueQuantity().getUnit()).isEqualTo("/min");
        assertThat(vitals.get(0).getReferenceRangeFirstRep().getText()).isEqualTo("60-100");
        assertThat(vitals.get(3).getReferenceRangeFirstRep().getText()).isEqualTo("36,0-37,5");
        assertThat(vitals.get(0).getInterpretationFirstRep().getCodingFirstRep().getSystem())
                .isEqualTo(OruToObservations.INTERPRETATION_SYSTEM);
        assertThat(vitals.get(0).getInterpretationFirstRep().getCodingFirstRep().getCode()).isEqualTo("N");
        assertThat(vitals.get(2).getNoteFirstRep().getText()).isEqualTo("Im Sitzen gemessen, linker Arm");

        Observation panel = vitals.get(5);
        assertThat(loinc(panel.getCode())).isEqualTo(OruToObservations.BLOOD_PRESSURE_PANEL);
        assertThat(panel.hasValue()).isFalse();
        assertThat(panel.getComponent()).hasSize(2);
        assertThat(loinc(panel.getComponent().get(0).getCode())).isEqualTo("8480-6");
        assertThat(panel.getComponent().get(0).getValueQuantity().getValue()).isEqualByComparingTo("135");
        assertThat(loinc(panel.getComponent().get(1).getCode())).isEqualTo("8462-4");
        assertThat(panel.getComponent().get(1).getValueQuantity().getValue()).isEqualByComparingTo("85");
        assertThat(panel.getComponent().get(1).getValueQuantity().getCode()).isEqualTo("mm[Hg]");
    }

    @Test
    void labValueInGermanOru_staysNonVitalWithItsOwnUnit() throws Exception {
        Observation glucose = OruToObservations.map(parse(GERMAN_ORU)).get(6);

        assertThat(loinc(glucose.getCode())).isEqualTo("2345-7");
        assertThat(glucose.getCategory()).isEmpty();
        assertThat(glucose.getMeta().hasProfile()).isFalse();
        assertQuantity(glucose, "98", "mg/dL");
        assertThat(glucose.getValueQuantity().getUnit()).isEqualTo("mg/dL");
        assertThat(glucose.getEffectiveDateTimeType().getValueAsString()).isEqualTo("2024-05-02T09:30:00+02:00");
        assertThat(VitalSign.of(glucose.getCode())).isEmpty();
    }

    @Test
    void germanOruObservationsWithSubject_validateWithoutErrors() throws Exception {
        List<Observation> observations = OruToObservations.map(parse(GERMAN_ORU));

        for (Observation observation : observations) {
            observation.setSubject(new Reference("Patient/x"));
            ResourceValidator.Result result = SharedValidator.VALIDATOR.validate(observation);
            assertThat(result.errors()).as(SharedValidator.CTX.newJsonParser().encodeResourceToString(observation))
                    .isEmpty();
        }
    }

    @Test
    void pcd01ObservationsWithMdcCodesAndSubject_validateWithoutErrors() throws Exception {
        List<Observation> observations = OruToObservations.map(
                sample("ipf_pcd01-ORU-R01-vitals.hl7", StandardCharsets.UTF_8));

        assertThat(observations).isNotEmpty();
        for (Observation observation : observations) {
            observation.setSubject(new Reference("Patient/x"));
            assertThat(SharedValidator.VALIDATOR.validate(observation).errors())
                    .as(SharedValidator.CTX.newJsonParser().encodeResourceToString(observation))
                    .isEmpty();
        }
    }

    // ------------------------------------------------------------------ real samples

    @Test
    void pcd01Vitals_mdcBloodPressureGetsLoincCodingsAndPanel() throws Exception {
        List<Observation> observations = OruToObservations.map(
                sample("ipf_pcd01-ORU-R01-vitals.hl7", StandardCharsets.UTF_8));

        // OBX 1 and 2 (device and blood pressure rows) have no value type: skipped
        assertThat(observations).hasSize(4);
        Observation systolic = observations.get(0);
        assertThat(systolic.getCode().getCoding()).extracting(Coding::getSystem, Coding::getCode)
                .containsExactly(org.assertj.core.groups.Tuple.tuple(MDC, "150021"),
                        org.assertj.core.groups.Tuple.tuple(LOINC, "8480-6"));
        assertQuantity(systolic, "120", "mm[Hg]");
        assertThat(systolic.getValueQuantity().getUnit()).isEqualTo("mm[Hg]");
        assertThat(systolic.getStatus()).isEqualTo(ObservationStatus.PRELIMINARY); // OBX-11 R
        // no OBX-14: OBR-7
        assertThat(systolic.getEffectiveDateTimeType().getValueAsString()).isEqualTo("2009-08-13T09:57:15+05:00");
        assertThat(observations.subList(0, 3)).extracting(o -> loinc(o.getCode()))
                .containsExactly("8480-6", "8462-4", "8478-0");
        assertThat(observations).allSatisfy(o ->
                assertThat(o.getCategoryFirstRep().getCodingFirstRep().getCode()).isEqualTo("vital-signs"));
        assertQuantity(observations.get(1), "80", "mm[Hg]");
        assertQuantity(observations.get(2), "100", "mm[Hg]");

        Observation panel = observations.get(3);
        assertThat(loinc(panel.getCode())).isEqualTo("85354-9");
        assertThat(panel.getStatus()).isEqualTo(ObservationStatus.PRELIMINARY);
        assertThat(panel.getComponent()).extracting(c -> c.getValueQuantity().getValue().intValue())
                .containsExactly(120, 80);
    }

    @Test
    void pcd01Iso88591Sample_mapsStatusesNotesAndReferenceIdsWithoutPanels() throws Exception {
        List<Observation> observations = OruToObservations.map(
                sample("ipf_pcd01-ORU-R01-vitals-8859-1.hl7", StandardCharsets.ISO_8859_1));

        assertThat(observations).hasSize(7);
        assertThat(observations).extracting(Observation::getStatus).containsExactly(
                ObservationStatus.PRELIMINARY, // R
                ObservationStatus.CORRECTED, // C
                ObservationStatus.ENTEREDINERROR, // D
                ObservationStatus.FINAL, // F
                ObservationStatus.PRELIMINARY, // S
                ObservationStatus.FINAL, // U
                ObservationStatus.CANCELLED); // X

        Observation device = observations.get(0);
        assertThat(VitalSign.of(device.getCode())).isEmpty();
        assertThat(device.getCategory()).isEmpty();
        assertQuantity(device, "80", "mm[Hg]");
        assertThat(device.getValueQuantity().getUnit()).isEqualTo("mmHg");
        assertThat(device.getNoteFirstRep().getText()).isEqualTo("This is a third test message3");
        assertThat(device.getEffectiveDateTimeType().getValueAsString()).isEqualTo("2009-08-13T09:57:25+05:00");

        Observation systolic = observations.get(1);
        assertThat(loinc(systolic.getCode())).isEqualTo("8480-6");
        assertThat(systolic.getReferenceRangeFirstRep().getText()).isEqualTo("<120");
        // QUES is not in table 0078: text only
        assertThat(systolic.getInterpretationFirstRep().hasCoding()).isFalse();
        assertThat(systolic.getInterpretationFirstRep().getText()).isEqualTo("QUES");
        assertThat(observations.get(2).getInterpretation()).extracting(CodeableConcept::getText)
                .containsExactly("EARLY", "QUES");

        // group 2: wrong numeric codes (1500212, 1500232), recognised by their reference ids
        assertThat(observations.subList(4, 7)).extracting(o -> loinc(o.getCode()))
                .containsExactly("8480-6", "8480-6", "8478-0");
        assertThat(observations.get(4).getCode().getCodingFirstRep().getCode()).isEqualTo("1500212");
        // group 1: the diastolic value is entered-in-error; group 2: two systolic, no diastolic
        assertThat(observations).noneMatch(o -> "85354-9".equals(loinc(o.getCode())));
    }

    @Test
    void msftOruWithObxRightAfterPid_stillFindsAllObxOutsideTheStructure() throws Exception {
        // HAPI cannot place the OBX after PID in ORU_R01: it and everything after it become
        // non-standard segments at message level, the ORU_R01 groups stay empty
        List<Observation> observations = OruToObservations.map(
                sample("msft_ORU-R01-01.hl7", StandardCharsets.UTF_8));

        // RP and ED values are skipped: one CWE and one NM remain
        assertThat(observations).hasSize(2);
        Observation culture = observations.get(0);
        assertThat(culture.getCode().getCodingFirstRep().getSystem())
                .isEqualTo(OruToObservations.LOCAL_CODE_SYSTEM_PREFIX + "XYZ");
        assertThat(culture.getCode().getCodingFirstRep().getCode()).isEqualTo("625-4");
        assertThat(culture.getValueCodeableConcept().getCodingFirstRep().getSystem())
                .isEqualTo(OruToObservations.SNOMED_SYSTEM);
        assertThat(culture.getValueCodeableConcept().getCodingFirstRep().getCode()).isEqualTo("27268008");
        assertThat(culture.getValueCodeableConcept().getText()).isEqualTo("Salmonella species");
        assertThat(culture.getStatus()).isEqualTo(ObservationStatus.PRELIMINARY);
        assertThat(culture.getEffectiveDateTimeType().getValueAsString()).isEqualTo("2012-03-01");
        assertThat(culture.getReferenceRangeFirstRep().getText()).isEqualTo("70-80");
        assertThat(culture.getInterpretationFirstRep().getCodingFirstRep().getCode()).isEqualTo("A");
        assertThat(culture.getNote()).extracting(n -> n.getText())
                .containsExactly("Submission of serum", "No Antibodies Detected");
        assertThat(culture.getCategory()).isEmpty();

        // LOINC 8867-4 is heart rate, whatever the sample's display says; first of 27~25, no unit
        Observation heartRate = observations.get(1);
        assertThat(VitalSign.of(heartRate.getCode())).contains(VitalSign.HEART_RATE);
        assertThat(heartRate.getCode().getCoding()).hasSize(1);
        assertThat(heartRate.getValueQuantity().getValue()).isEqualByComparingTo("27");
        assertThat(heartRate.getValueQuantity().hasUnit()).isFalse();
        assertThat(heartRate.getStatus()).isEqualTo(ObservationStatus.REGISTERED); // I
        // no OBX-14: OBR-7 of the (non-standard) OBR before it
        assertThat(heartRate.getEffectiveDateTimeType().getValueAsString()).isEqualTo("2002-02-15T07:30:00+02:15");
    }

    @Test
    void labOru_mapsTenResultsWithUnitsStatusesAndMissingValues() throws Exception {
        List<Observation> observations = OruToObservations.map(sample("msft_LAB-ORU-1.hl7", StandardCharsets.UTF_8));

        assertThat(observations).hasSize(10);
        assertThat(observations).allSatisfy(o -> {
            assertThat(o.getCategory()).isEmpty();
            assertThat(VitalSign.of(o.getCode())).isEmpty();
            assertThat(o.getCode().getCodingFirstRep().getSystem()).isEqualTo(LOINC);
        });
        assertThat(observations).extracting(o -> o.getCode().getCodingFirstRep().getCode()).containsExactly(
                "11156-7", "11273-0", "20509-6", "20570-8", "11125-2",
                "23761-0", "26450-7", "26478-8", "26485-3", "30180-4");
        // pending (I) without value: registered, data absent; effective from MSH-7 (OBR-7 empty)
        Observation leukocytes = observations.get(0);
        assertThat(leukocytes.getStatus()).isEqualTo(ObservationStatus.REGISTERED);
        assertThat(leukocytes.hasValue()).isFalse();
        assertThat(leukocytes.getDataAbsentReason().getCodingFirstRep().getCode()).isEqualTo("unknown");
        assertThat(leukocytes.getEffectiveDateTimeType().getValueAsString()).isEqualTo("2014-10-06T06:45:00+07:00");

        Observation erythrocytes = observations.get(1);
        assertQuantity(erythrocytes, "4.06", "10*12/L");
        assertThat(erythrocytes.getValueQuantity().getUnit()).isEqualTo("tera.l-1");
        assertThat(erythrocytes.getStatus()).isEqualTo(ObservationStatus.PRELIMINARY);
        assertThat(erythrocytes.getEffectiveDateTimeType().getValueAsString()).isEqualTo("2014-10-06T06:27:00+07:00");
        assertQuantity(observations.get(3), "40.1", "%");
        assertQuantity(observations.get(4), "221", "10*9/L");
        assertThat(observations.get(4).getStatus()).isEqualTo(ObservationStatus.FINAL);
        assertQuantity(observations.get(9), "0", "%");
    }

    // ------------------------------------------------------------------ constructed messages

    @Test
    void pcd01MdcVitalSigns_areRecognisedWithMdcUnits() throws Exception {
        Message oru = parse(String.join("\r",
                "MSH|^~\\&|GW^0123456789ABCDEF^EUI-64||||20240502100000+0200||ORU^R01^ORU_R01|M1|P|2.6",
                "PID|||4711^^^Pflege^PI||Muster^Max",
                "OBR|1|A1||182777000^monitoring of patient^SCT|||20240502095900+0200",
                "OBX|1|NM|147842^MDC_ECG_HEART_RATE^MDC|1.1.1.1|64|264864^MDC_DIM_BEAT_PER_MIN^MDC|||||R",
                "OBX|2|NM|150456^MDC_PULS_OXIM_SAT_O2^MDC|1.1.1.2|97|262688^MDC_DIM_PERCENT^MDC|||||R",
                "OBX|3|NM|150344^MDC_TEMP^MDC|1.1.1.3|36.8|268192^MDC_DIM_DEGC^MDC|||||R",
                "OBX|4|NM|188736^MDC_MASS_BODY_ACTUAL^MDC|1.1.1.4|80.2|263875^MDC_DIM_KILO_G^MDC|||||R",
                "OBX|5|NM|151562^MDC_RESP_RATE^MDC|1.1.1.5|16|264928^MDC_DIM_RESP_PER_MIN^MDC|||||R",
                "OBX|6|NM|188740^MDC_LEN_BODY_ACTUAL^MDC|1.1.1.6|178|263441^MDC_DIM_CENTI_M^MDC|||||R",
                "OBX|7|NM|188752^MDC_RATIO_MASS_BODY_LEN_SQ^MDC|1.1.1.7|25.3|264096^MDC_DIM_KG_PER_M_SQ^MDC|||||R",
                "OBX|8|NM|150456^MDC_PULS_OXIM_SAT_O2^MDC|1.1.1.8|8388607|262688^MDC_DIM_PERCENT^MDC|||||R",
                ""));

        List<Observation> observations = OruToObservations.map(oru);

        assertThat(observations).hasSize(8);
        assertThat(observations).extracting(o -> VitalSign.of(o.getCode()).orElseThrow()).containsExactly(
                VitalSign.HEART_RATE, VitalSign.OXYGEN_SATURATION, VitalSign.BODY_TEMPERATURE,
                VitalSign.BODY_WEIGHT, VitalSign.RESPIRATORY_RATE, VitalSign.BODY_HEIGHT, VitalSign.BMI,
                VitalSign.OXYGEN_SATURATION);
        assertThat(observations).extracting(o -> loinc(o.getCode())).containsExactly(
                "8867-4", "2708-6", "8310-5", "29463-7", "9279-1", "8302-2", "39156-5", "2708-6");
        assertQuantity(observations.get(0), "64", "/min");
        assertQuantity(observations.get(1), "97", "%");
        assertQuantity(observations.get(2), "36.8", "Cel");
        assertQuantity(observations.get(3), "80.2", "kg");
        assertQuantity(observations.get(4), "16", "/min");
        assertQuantity(observations.get(5), "178", "cm");
        assertQuantity(observations.get(6), "25.3", "kg/m2");
        // ISO/IEEE 11073 NaN
        assertThat(observations.get(7).hasValue()).isFalse();
        assertThat(observations.get(7).getDataAbsentReason().getCodingFirstRep().getCode()).isEqualTo("not-a-number");
        assertThat(observations.get(0).getEffectiveDateTimeType().getValueAsString())
                .isEqualTo("2024-05-02T09:59:00+02:00");
    }

    @Test
    void loincVariants_getTheProfileCodeAdded() throws Exception {
        Message oru = parse(String.join("\r",
                "MSH|^~\\&|A|B|C|D|20240502100000||ORU^R01|M1|P|2.5.1",
                "PID|1||1",
                "OBR|1|A1||x",
                "OBX|1|NM|59408-5^SpO2 Pulsoxymetrie^LN||96|%|||||F",
                "OBX|2|NM|8331-1^Temperatur oral^LN||37.9|°C|||||F",
                "OBX|3|NM|8287-5^Kopfumfang^LN||35.5|cm|||||F",
                "OBX|4|NM|8889-8^Puls Pulsoxymetrie^LN||88|{beats}/min|||||F",
                ""));

        List<Observation> observations = OruToObservations.map(oru);

        assertThat(observations).extracting(o -> o.getCode().getCoding().stream()
                        .map(Coding::getCode).collect(Collectors.joining(",")))
                .containsExactly("59408-5,2708-6", "8331-1,8310-5", "8287-5,9843-4", "8889-8,8867-4");
        assertQuantity(observations.get(1), "37.9", "Cel");
        assertThat(observations.get(1).getValueQuantity().getUnit()).isEqualTo("°C");
        assertQuantity(observations.get(3), "88", "/min");
        // MSH-7 without offset: Berlin time (summer time)
        assertThat(observations.get(0).getEffectiveDateTimeType().getValueAsString())
                .isEqualTo("2024-05-02T10:00:00+02:00");
    }

    @Test
    void otherValueTypes_mapToMatchingFhirTypes() throws Exception {
        Message oru = parse(String.join("\r",
                "MSH|^~\\&|A|B|C|D|20240102100000||ORU^R01|M1|P|2.5.1",
                "PID|1||1",
                "OBR|1|A1||x|||20240102093000",
                "OBX|1|SN|1||>^5|mg/dL^^UCUM|||||F",
                "OBX|2|SN|2||^10^-^20|mg/dL|||||F",
                "OBX|3|SN|3||^1^:^128||||||F",
                "OBX|4|SN|4||^2^+||||||F",
                "OBX|5|ST|5||Befund \\T\\ Bemerkung\\.br\\zweite Zeile||||||F",
                "OBX|6|FT|6||Zeile 1\\.br\\\\H\\fett\\N\\ \\XC3A4\\~Zeile 3||||||F",
                "OBX|7|CWE|7^Urin-Streifentest^99LAB||NEG^negativ^HL70078^N^normal^L^^^negativ (unauffällig)||||||F",
                "OBX|8|TS|8||20240101123000+0100||||||F",
                "OBX|9|DT|9||20231224||||||F",
                "OBX|10|NM|10^Keine Zahl^L||n.b.|mg/dL|||||F",
                "OBX|11|NM|11^Dezimalkomma^L||3,5|mmol/l|||||F",
                "OBX|12|NM|12^Unbekannte Einheit^L||7|Tassen/Tag|||||F",
                "OBX|13|RP|13||http://example.org/x^^AP^PDF||||||F",
                "OBX|14|NM|^Ohne Code||1||||||F",
                ""));

        List<Observation> observations = OruToObservations.map(oru);

        assertThat(observations).hasSize(13); // RP skipped
        Quantity greater = observations.get(0).getValueQuantity();
        assertThat(greater.getComparator()).isEqualTo(Quantity.QuantityComparator.GREATER_THAN);
        assertThat(greater.getValue()).isEqualByComparingTo("5");
        assertThat(greater.getCode()).isEqualTo("mg/dL");
        assertThat(observations.get(0).getCode().getCodingFirstRep().getSystem()).isNull(); // no OBX-3-3
        assertThat(observations.get(1).getValueRange().getLow().getValue()).isEqualByComparingTo("10");
        assertThat(observations.get(1).getValueRange().getHigh().getValue()).isEqualByComparingTo("20");
        assertThat(observations.get(1).getValueRange().getHigh().getCode()).isEqualTo("mg/dL");
        assertThat(observations.get(2).getValueRatio().getNumerator().getValue()).isEqualByComparingTo("1");
        assertThat(observations.get(2).getValueRatio().getDenominator().getValue()).isEqualByComparingTo("128");
        assertThat(observations.get(3).getValueStringType().getValue()).isEqualTo("2+");
        assertThat(observations.get(4).getValueStringType().getValue()).isEqualTo("Befund & Bemerkung\nzweite Zeile");
        assertThat(observations.get(5).getValueStringType().getValue()).isEqualTo("Zeile 1\nfett ä\nZeile 3");

        CodeableConcept coded = observations.get(6).getValueCodeableConcept();
        assertThat(coded.getCoding()).extracting(Coding::getSystem, Coding::getCode).containsExactly(
                org.assertj.core.groups.Tuple.tuple("http://terminology.hl7.org/CodeSystem/v2-0078", "NEG"),
                org.assertj.core.groups.Tuple.tuple(OruToObservations.LOCAL_CODE_SYSTEM_PREFIX + "L", "N"));
        assertThat(coded.getText()).isEqualTo("negativ (unauffällig)");
        assertThat(observations.get(6).getCode().getCodingFirstRep().getSystem())
                .isEqualTo(OruToObservations.LOCAL_CODE_SYSTEM_PREFIX + "99LAB");

        assertThat(observations.get(7).getValueDateTimeType().getValueAsString()).isEqualTo("2024-01-01T12:30:00+01:00");
        assertThat(observations.get(8).getValueDateTimeType().getValueAsString()).isEqualTo("2023-12-24");
        assertThat(observations.get(9).getValueStringType().getValue()).isEqualTo("n.b.");
        assertQuantity(observations.get(10), "3.5", "mmol/L");
        Quantity unknownUnit = observations.get(11).getValueQuantity();
        assertThat(unknownUnit.getUnit()).isEqualTo("Tassen/Tag");
        assertThat(unknownUnit.hasSystem()).isFalse();
        assertThat(unknownUnit.hasCode()).isFalse();
        // OBX-3 with text only
        assertThat(observations.get(12).getCode().hasCoding()).isFalse();
        assertThat(observations.get(12).getCode().getText()).isEqualTo("Ohne Code");
        // OBR-7 without offset, winter time
        assertThat(observations.get(0).getEffectiveDateTimeType().getValueAsString())
                .isEqualTo("2024-01-02T09:30:00+01:00");
    }

    @Test
    void bloodPressureInDifferentOrderGroups_givesNoPanel() throws Exception {
        Message oru = parse(String.join("\r",
                "MSH|^~\\&|A|B|C|D|20240502100000||ORU^R01|M1|P|2.5.1",
                "PID|1||1",
                "OBR|1|A1||x",
                "OBX|1|NM|8480-6^RR sys^LN||120|mm[Hg]|||||F",
                "OBR|2|A2||x",
                "OBX|1|NM|8462-4^RR dia^LN||80|mm[Hg]|||||F",
                ""));

        List<Observation> observations = OruToObservations.map(oru);

        assertThat(observations).hasSize(2);
        assertThat(observations).extracting(o -> loinc(o.getCode())).containsExactly("8480-6", "8462-4");
    }

    @Test
    void oruWithTwoPatients_isRejected() throws Exception {
        Message oru = parse(String.join("\r",
                "MSH|^~\\&|A|B|C|D|20240502100000||ORU^R01|M1|P|2.5.1",
                "PID|1||1",
                "OBR|1|A1||x",
                "OBX|1|NM|8867-4^HF^LN||70|/min|||||F",
                "PID|2||2",
                "OBR|1|A2||x",
                "OBX|1|NM|8867-4^HF^LN||90|/min|||||F",
                ""));

        assertThatThrownBy(() -> OruToObservations.map(oru))
                .isInstanceOf(IllegalArgumentException.class)
                .hasMessageContaining("2 patients");
    }

    @Test
    void nonOruMessage_isRejected() throws Exception {
        Message adt = parse("MSH|^~\\&|A|B|C|D|20240502100000||ADT^A01|M1|P|2.5.1\rEVN|A01\rPID|1||1\rPV1|1|I\r");

        assertThatThrownBy(() -> OruToObservations.map(adt))
                .isInstanceOf(IllegalArgumentException.class)
                .hasMessageContaining("ADT");
    }

    // ------------------------------------------------------------------ tables

    @ParameterizedTest(name = "{0}^{1}^{2} -> {3} / {4}")
    @CsvSource(delimiter = ';', nullValues = "null", value = {
        "bpm;null;null;/min;bpm",
        "{beats}/min;null;null;/min;{beats}/min",
        "/min;null;null;/min;/min",
        "264864;MDC_DIM_BEAT_PER_MIN;MDC;/min;/min",
        "%;null;null;%;%",
        "262688;MDC_DIM_PERCENT;MDC;%;%",
        "mmHg;null;null;mm[Hg];mmHg",
        "mm[Hg];null;null;mm[Hg];mm[Hg]",
        "266016;MDC_DIM_MMHG;MDC;mm[Hg];mm[Hg]",
        "Cel;null;null;Cel;Cel",
        "°C;null;null;Cel;°C",
        "C;null;null;Cel;C",
        "268192;MDC_DIM_DEGC;MDC;Cel;Cel",
        "kg;null;null;kg;kg",
        "263875;MDC_DIM_KILO_G;MDC;kg;kg",
        "g;null;null;g;g",
        "cm;null;null;cm;cm",
        "m;null;null;m;m",
        "kg/m2;null;null;kg/m2;kg/m2",
        "999999;MDC_DIM_MMHG;MDC;mm[Hg];mm[Hg]",
        "ng/mL;Nanogramm/ml;UCUM;ng/mL;Nanogramm/ml",
    })
    void knownUnits_mapToUcum(String unit, String text, String system, String ucum, String display) {
        Quantity quantity = OruToObservations.quantity(BigDecimal.TEN, unit, text, system);

        assertThat(quantity.getSystem()).isEqualTo(UCUM);
        assertThat(quantity.getCode()).isEqualTo(ucum);
        assertThat(quantity.getUnit()).isEqualTo(display);
    }

    @ParameterizedTest(name = "{0}^{1} -> unit {2}")
    @CsvSource(delimiter = ';', nullValues = "null", value = {
        "Tassen;null;Tassen",
        "262999;MDC_DIM_UNKNOWN;MDC_DIM_UNKNOWN",
        "null;Stück;Stück",
    })
    void unknownUnits_areKeptAsTextWithoutSystem(String unit, String text, String display) {
        Quantity quantity = OruToObservations.quantity(BigDecimal.TEN, unit, text, null);

        assertThat(quantity.hasSystem()).isFalse();
        assertThat(quantity.hasCode()).isFalse();
        assertThat(quantity.getUnit()).isEqualTo(display);
    }

    @ParameterizedTest(name = "{0} -> {1}")
    @CsvSource(delimiter = ';', nullValues = "null", value = {
        "LN;http://loinc.org",
        "MDC;urn:iso:std:iso:11073:10101",
        "SCT;http://snomed.info/sct",
        "HL70078;http://terminology.hl7.org/CodeSystem/v2-0078",
        "99ZZZ;https://fhir.carerelay.org/sid/hl7-local/99ZZZ",
        "L;https://fhir.carerelay.org/sid/hl7-local/L",
        "Labor Nord;https://fhir.carerelay.org/sid/hl7-local/Labor%20Nord",
        "null;null",
    })
    void v2CodingSystems_mapToFhirSystems(String v2, String fhir) {
        assertThat(OruToObservations.codeSystem(v2)).isEqualTo(fhir);
    }

    @ParameterizedTest(name = "{0} -> {1}")
    @CsvSource(delimiter = ';', nullValues = "null", value = {
        "F;FINAL", "U;FINAL", "C;CORRECTED", "A;AMENDED", "P;PRELIMINARY", "R;PRELIMINARY", "S;PRELIMINARY",
        "I;REGISTERED", "O;REGISTERED", "X;CANCELLED", "N;CANCELLED", "D;ENTEREDINERROR", "W;ENTEREDINERROR",
        "null;FINAL", "Q;FINAL",
    })
    void resultStatus_mapsToObservationStatus(String v2, ObservationStatus expected) {
        assertThat(OruToObservations.status(v2)).isEqualTo(expected);
    }

    // ------------------------------------------------------------------ helpers

    /** The LOINC code among the codings (the profile's, if several). */
    private static String loinc(CodeableConcept code) {
        List<String> codes = code.getCoding().stream()
                .filter(c -> LOINC.equals(c.getSystem()))
                .map(Coding::getCode)
                .toList();
        return codes.isEmpty() ? null : codes.get(codes.size() - 1);
    }

    private static void assertQuantity(Observation observation, String value, String ucum) {
        Quantity quantity = observation.getValueQuantity();
        assertThat(quantity.getValue()).isEqualByComparingTo(value);
        assertThat(quantity.getSystem()).isEqualTo(UCUM);
        assertThat(quantity.getCode()).isEqualTo(ucum);
    }
}
