package org.carerelay.fhir.hl7;

import ca.uhn.hl7v2.model.Message;
import ca.uhn.hl7v2.model.Segment;
import java.math.BigDecimal;
import java.net.URLEncoder;
import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.Collections;
import java.util.HashMap;
import java.util.HashSet;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.Objects;
import java.util.Optional;
import java.util.Set;
import org.carerelay.fhir.Systems;
import org.hl7.fhir.r4.model.CodeableConcept;
import org.hl7.fhir.r4.model.Coding;
import org.hl7.fhir.r4.model.DateTimeType;
import org.hl7.fhir.r4.model.Observation;
import org.hl7.fhir.r4.model.Observation.ObservationStatus;
import org.hl7.fhir.r4.model.Quantity;
import org.hl7.fhir.r4.model.Range;
import org.hl7.fhir.r4.model.Ratio;
import org.hl7.fhir.r4.model.SimpleQuantity;
import org.hl7.fhir.r4.model.StringType;

/**
 * Maps an inbound HL7 v2 {@code ORU^R01} of one patient (lab results, IHE PCD-01 vital signs) to
 * FHIR R4 {@link Observation}s: one per OBX with a supported value type (found by segment name in
 * message order), vital signs with the FHIR vital-signs profile and UCUM units, plus a blood-pressure
 * panel per order group with one systolic and one diastolic value. Pure and stateless.
 * Field-by-field mapping: docs/mappings.md, section 4 "ORU^R01 → Observations".
 */
public final class OruToObservations {

    /** ISO/IEEE 11073-10101 (MDC), as FHIR names it. */
    public static final String MDC_SYSTEM = "urn:iso:std:iso:11073:10101";
    public static final String UCUM_SYSTEM = "http://unitsofmeasure.org";
    public static final String SNOMED_SYSTEM = "http://snomed.info/sct";
    /** Prefix of the systems for coding systems FHIR has no URI for (local, {@code 99zzz}). */
    public static final String LOCAL_CODE_SYSTEM_PREFIX = "https://fhir.carerelay.org/sid/hl7-local/";
    public static final String OBSERVATION_CATEGORY_SYSTEM =
            "http://terminology.hl7.org/CodeSystem/observation-category";
    public static final String VITAL_SIGNS_CATEGORY = "vital-signs";
    public static final String VITAL_SIGNS_PROFILE = "http://hl7.org/fhir/StructureDefinition/vitalsigns";
    public static final String INTERPRETATION_SYSTEM =
            "http://terminology.hl7.org/CodeSystem/v3-ObservationInterpretation";
    public static final String DATA_ABSENT_REASON_SYSTEM =
            "http://terminology.hl7.org/CodeSystem/data-absent-reason";
    /** LOINC: blood pressure panel with all children optional. */
    public static final String BLOOD_PRESSURE_PANEL = "85354-9";

    private static final Set<String> SUPPORTED_TYPES =
            Set.of("NM", "SN", "ST", "TX", "FT", "CE", "CWE", "CNE", "TS", "DT", "DTM");

    /** The concrete codes of v3 ObservationInterpretation (FHIR R4); all of v2 table 0078 but "null". */
    private static final Set<String> V3_INTERPRETATIONS = Set.of(
            "CAR", "Carrier", "B", "D", "U", "W", "<", ">", "AC", "IE", "QCF", "TOX", "A", "AA", "HH", "LL",
            "H", "H>", "HU", "L", "L<", "LU", "N", "I", "MS", "NCL", "NS", "R", "SYN-R", "S", "SDD", "SYN-S",
            "VS", "EX", "HX", "LX", "HM", "IND", "E", "NEG", "ND", "POS", "DET", "EXP", "UNE", "NR", "RR", "WR");

    /** ISO/IEEE 11073-20601 special values of a FLOAT-Type, as some gateways put them into OBX-5. */
    private static final Map<String, String> MDC_SPECIAL_VALUES = Map.of(
            "8388607", "not-a-number",
            "8388608", "error",
            "8388606", "positive-infinity",
            "8388610", "negative-infinity");

    /** v2 unit (OBX-6-1 or OBX-6-2, exact spelling) → UCUM code. */
    private static final Map<String, String> UCUM_UNITS = new HashMap<>();
    /** MDC unit codes and reference ids: their quantity.unit is the UCUM code, not the MDC text. */
    private static final Set<String> MDC_UNITS = new HashSet<>();

    static {
        units("/min", "/min", "1/min", "min-1", "/Min", "bpm", "BPM", "{beats}/min", "{beat}/min", "beats/min",
                "Beats/min", "{breaths}/min", "breaths/min", "Schläge/min", "Atemzüge/min");
        mdcUnits("/min", "264864", "MDC_DIM_BEAT_PER_MIN", "264928", "MDC_DIM_RESP_PER_MIN");
        units("%", "%", "percent");
        mdcUnits("%", "262688", "MDC_DIM_PERCENT");
        units("mm[Hg]", "mm[Hg]", "mmHg", "mm Hg", "mmhg", "MMHG");
        mdcUnits("mm[Hg]", "266016", "MDC_DIM_MMHG");
        units("Cel", "Cel", "°C", "C", "degC", "Grad C");
        mdcUnits("Cel", "268192", "MDC_DIM_DEGC");
        units("[degF]", "[degF]", "°F", "F", "degF");
        mdcUnits("[degF]", "266560", "MDC_DIM_FAHR");
        units("kg", "kg", "Kg", "KG");
        mdcUnits("kg", "263875", "MDC_DIM_KILO_G");
        units("g", "g");
        mdcUnits("g", "263872", "MDC_DIM_X_G");
        units("[lb_av]", "[lb_av]", "lb", "lbs");
        mdcUnits("[lb_av]", "263904", "MDC_DIM_LB");
        units("cm", "cm");
        mdcUnits("cm", "263441", "MDC_DIM_CENTI_M");
        units("m", "m");
        mdcUnits("m", "263424", "MDC_DIM_X_M");
        units("[in_i]", "[in_i]", "in");
        mdcUnits("[in_i]", "263520", "MDC_DIM_INCH");
        units("kg/m2", "kg/m2", "kg/m^2", "kg/m²");
        mdcUnits("kg/m2", "264096", "MDC_DIM_KG_PER_M_SQ");
        // common lab units
        units("mg/dL", "mg/dL", "mg/dl");
        units("mmol/L", "mmol/L", "mmol/l");
        units("g/dL", "g/dL", "g/dl");
        units("g/L", "g/L", "g/l");
        units("U/L", "U/L", "U/l");
        units("mL", "mL", "ml");
        units("L", "L", "l");
        units("fL", "fL", "fl");
        units("pg", "pg");
        units("10*9/L", "10*9/L", "giga.l-1", "G/l", "/nL", "/nl");
        units("10*12/L", "10*12/L", "tera.l-1", "T/l", "/pL", "/pl");
    }

    private static void units(String ucum, String... aliases) {
        for (String alias : aliases) {
            UCUM_UNITS.put(alias, ucum);
        }
    }

    private static void mdcUnits(String ucum, String... aliases) {
        units(ucum, aliases);
        Collections.addAll(MDC_UNITS, aliases);
    }

    private OruToObservations() {
    }

    /**
     * The vital signs of the FHIR R4 vital-signs profile this mapper recognises, by LOINC code
     * (the profile's code and close variants) and by ISO/IEEE 11073 MDC code or reference id
     * (OBX-3-2, as IHE PCD-01 sends it; the reference id also identifies a value whose numeric
     * code is wrong).
     */
    public enum VitalSign {
        HEART_RATE("8867-4", "Heart rate",
                Set.of("8867-4", "8889-8", "8893-0"),
                Map.of("147842", "MDC_ECG_HEART_RATE", "149530", "MDC_PULS_OXIM_PULS_RATE",
                        "149546", "MDC_PULS_RATE_NON_INV", "149514", "MDC_PULS_RATE",
                        "149522", "MDC_BLD_PULS_RATE_INV")),
        RESPIRATORY_RATE("9279-1", "Respiratory rate",
                Set.of("9279-1"),
                Map.of("151562", "MDC_RESP_RATE", "151570", "MDC_AWAY_RESP_RATE",
                        "151578", "MDC_TTHOR_RESP_RATE")),
        OXYGEN_SATURATION("2708-6", "Oxygen saturation in Arterial blood",
                Set.of("2708-6", "59408-5"),
                Map.of("150456", "MDC_PULS_OXIM_SAT_O2", "150324", "MDC_SAT_O2_ART")),
        BODY_TEMPERATURE("8310-5", "Body temperature",
                Set.of("8310-5", "8331-1", "8328-7", "8332-9", "8333-7"),
                Map.of("150344", "MDC_TEMP", "150364", "MDC_TEMP_BODY", "150368", "MDC_TEMP_CORE",
                        "150392", "MDC_TEMP_TYMP", "188420", "MDC_TEMP_RECT", "188424", "MDC_TEMP_ORAL",
                        "188428", "MDC_TEMP_EAR", "188452", "MDC_TEMP_AXILLA")),
        BODY_WEIGHT("29463-7", "Body weight",
                Set.of("29463-7", "3141-9"),
                Map.of("188736", "MDC_MASS_BODY_ACTUAL")),
        BODY_HEIGHT("8302-2", "Body height",
                Set.of("8302-2", "8306-3", "8308-9"),
                Map.of("188740", "MDC_LEN_BODY_ACTUAL")),
        BMI("39156-5", "Body mass index (BMI) [Ratio]",
                Set.of("39156-5"),
                Map.of("188752", "MDC_RATIO_MASS_BODY_LEN_SQ")),
        HEAD_CIRCUMFERENCE("9843-4", "Head Occipital-frontal circumference",
                Set.of("9843-4", "8287-5"),
                Map.of("153856", "MDC_CIRCUM_HEAD")),
        SYSTOLIC_BLOOD_PRESSURE("8480-6", "Systolic blood pressure",
                Set.of("8480-6"),
                Map.of("150021", "MDC_PRESS_BLD_NONINV_SYS")),
        DIASTOLIC_BLOOD_PRESSURE("8462-4", "Diastolic blood pressure",
                Set.of("8462-4"),
                Map.of("150022", "MDC_PRESS_BLD_NONINV_DIA")),
        MEAN_BLOOD_PRESSURE("8478-0", "Mean blood pressure",
                Set.of("8478-0"),
                Map.of("150023", "MDC_PRESS_BLD_NONINV_MEAN"));

        private static final Map<String, VitalSign> BY_LOINC = new HashMap<>();
        private static final Map<String, VitalSign> BY_MDC = new HashMap<>();

        static {
            for (VitalSign vital : values()) {
                vital.loincCodes.forEach(code -> BY_LOINC.put(code, vital));
                vital.mdcCodes.forEach((code, refId) -> {
                    BY_MDC.put(code, vital);
                    BY_MDC.put(refId, vital);
                });
            }
        }

        private final String loinc;
        private final String display;
        private final Set<String> loincCodes;
        private final Map<String, String> mdcCodes;

        VitalSign(String loinc, String display, Set<String> loincCodes, Map<String, String> mdcCodes) {
            this.loinc = loinc;
            this.display = display;
            this.loincCodes = loincCodes;
            this.mdcCodes = mdcCodes;
        }

        /** The LOINC code the FHIR vital-signs profiles use. */
        public String loinc() {
            return loinc;
        }

        public String display() {
            return display;
        }

        /** The LOINC codes recognised (the profile's code first among them). */
        public Set<String> loincCodes() {
            return loincCodes;
        }

        /** The MDC codes recognised, with their reference ids. */
        public Map<String, String> mdcCodes() {
            return mdcCodes;
        }

        /** The vital sign {@code code} stands for: the first coding recognised decides. */
        public static Optional<VitalSign> of(CodeableConcept code) {
            for (Coding coding : code.getCoding()) {
                VitalSign vital = null;
                if (Systems.LOINC.equals(coding.getSystem())) {
                    vital = BY_LOINC.get(coding.getCode());
                } else if (MDC_SYSTEM.equals(coding.getSystem())) {
                    vital = BY_MDC.get(coding.getCode());
                    if (vital == null && coding.getDisplay() != null) {
                        vital = BY_MDC.get(coding.getDisplay().strip());
                    }
                }
                if (vital != null) {
                    return Optional.of(vital);
                }
            }
            return Optional.empty();
        }
    }

    /** One mapped OBX with the vital sign it is (or {@code null}). */
    private record Mapped(Observation observation, VitalSign vital) {
    }

    /**
     * Maps all supported OBX of {@code oru}, in message order, each order group followed by its
     * blood-pressure panel if there is one.
     *
     * @throws IllegalArgumentException if the message is not an ORU message or holds more than one
     *                                  patient (PID)
     */
    public static List<Observation> map(Message oru) {
        Objects.requireNonNull(oru, "oru");
        String[] type = V2Support.messageType(oru);
        if (!"ORU".equals(type[0])) {
            throw new IllegalArgumentException("Not an ORU message: MSH-9 " + type[0] + "^" + type[1]);
        }
        char escape = V2Support.escapeCharacter(oru);
        List<Segment> segments = V2Support.segments(oru);
        long patients = segments.stream().filter(s -> "PID".equals(s.getName())).count();
        if (patients > 1) {
            throw new IllegalArgumentException("ORU message with results of " + patients
                    + " patients (PID); only one patient per message is supported");
        }
        String messageTime = V2Support.value(V2Support.first(segments, "MSH"), 7, 1);

        List<Observation> result = new ArrayList<>();
        List<Mapped> group = new ArrayList<>();
        Segment obr = null;
        Observation last = null;
        for (Segment segment : segments) {
            switch (segment.getName()) {
                case "OBR" -> {
                    flush(group, result);
                    obr = segment;
                    last = null;
                }
                case "OBX" -> {
                    Mapped mapped = observation(segment, obr, messageTime, escape);
                    last = mapped == null ? null : mapped.observation();
                    if (mapped != null) {
                        group.add(mapped);
                    }
                }
                case "NTE" -> {
                    if (last != null) {
                        note(last, segment, escape);
                    }
                }
                default -> {
                    // other segments carry nothing for the Observations
                }
            }
        }
        flush(group, result);
        return result;
    }

    private static void flush(List<Mapped> group, List<Observation> result) {
        for (Mapped mapped : group) {
            result.add(mapped.observation());
        }
        Observation panel = bloodPressurePanel(group);
        if (panel != null) {
            result.add(panel);
        }
        group.clear();
    }

    private static Mapped observation(Segment obx, Segment obr, String messageTime, char escape) {
        String valueType = upper(V2Support.value(obx, 2, 1));
        if (!SUPPORTED_TYPES.contains(valueType)) {
            return null;
        }
        CodeableConcept code = codeableConcept(obx, 3, 0);
        if (code.getCoding().isEmpty() && !code.hasText()) {
            return null;
        }
        Observation observation = new Observation();
        observation.setStatus(status(V2Support.value(obx, 11, 1)));
        observation.setCode(code);
        VitalSign vital = VitalSign.of(code).orElse(null);
        if (vital != null) {
            boolean hasLoinc = code.getCoding().stream()
                    .anyMatch(c -> Systems.LOINC.equals(c.getSystem()) && vital.loinc().equals(c.getCode()));
            if (!hasLoinc) {
                code.addCoding(new Coding(Systems.LOINC, vital.loinc(), vital.display()));
            }
            observation.getMeta().addProfile(VITAL_SIGNS_PROFILE);
            observation.addCategory(vitalSignsCategory());
        }

        setValue(observation, obx, valueType, code, escape);

        DateTimeType effective = V2Support.dateTime(V2Support.value(obx, 14, 1));
        if (effective == null && obr != null) {
            effective = V2Support.dateTime(V2Support.value(obr, 7, 1));
        }
        if (effective == null) {
            effective = V2Support.dateTime(messageTime);
        }
        if (effective != null) {
            observation.setEffective(effective);
        }

        String range = V2Support.text(obx, 7, 0, escape).strip();
        if (!range.isEmpty()) {
            observation.addReferenceRange().setText(range);
        }
        for (int rep = 0; rep < V2Support.repetitions(obx, 8); rep++) {
            String flag = V2Support.value(obx, 8, rep, 1, 1);
            if (flag == null) {
                continue;
            }
            CodeableConcept interpretation = new CodeableConcept();
            if (V3_INTERPRETATIONS.contains(flag)) {
                interpretation.addCoding(new Coding(INTERPRETATION_SYSTEM, flag, null));
            } else {
                interpretation.setText(flag);
            }
            observation.addInterpretation(interpretation);
        }
        return new Mapped(observation, vital);
    }

    private static void setValue(Observation observation, Segment obx, String valueType, CodeableConcept code,
                                 char escape) {
        if (V2Support.repetitions(obx, 5) == 0) {
            absent(observation, "unknown");
            return;
        }
        switch (valueType) {
            case "NM" -> {
                String raw = V2Support.value(obx, 5, 0, 1, 1);
                if (raw == null) {
                    absent(observation, "unknown");
                    return;
                }
                boolean mdc = code.getCoding().stream().anyMatch(c -> MDC_SYSTEM.equals(c.getSystem()));
                if (mdc && MDC_SPECIAL_VALUES.containsKey(raw)) {
                    absent(observation, MDC_SPECIAL_VALUES.get(raw));
                    return;
                }
                BigDecimal number = number(raw);
                if (number == null) {
                    observation.setValue(new StringType(raw));
                } else {
                    observation.setValue(quantity(number, V2Support.value(obx, 6, 1), V2Support.value(obx, 6, 2),
                            V2Support.value(obx, 6, 3)));
                }
            }
            case "SN" -> structuredNumeric(observation, obx);
            case "ST", "TX", "FT" -> {
                List<String> lines = new ArrayList<>();
                for (int rep = 0; rep < V2Support.repetitions(obx, 5); rep++) {
                    lines.add(V2Support.text(obx, 5, rep, escape));
                }
                String text = String.join("\n", lines);
                if (text.isBlank()) {
                    absent(observation, "unknown");
                } else {
                    observation.setValue(new StringType(text));
                }
            }
            case "CE", "CWE", "CNE" -> {
                CodeableConcept value = codeableConcept(obx, 5, 0);
                if (value.getCoding().isEmpty() && !value.hasText()) {
                    absent(observation, "unknown");
                } else {
                    observation.setValue(value);
                }
            }
            default -> { // TS, DT, DTM
                String raw = V2Support.value(obx, 5, 0, 1, 1);
                if (raw == null) {
                    absent(observation, "unknown");
                    return;
                }
                DateTimeType dateTime = V2Support.dateTime(raw);
                observation.setValue(dateTime != null ? dateTime : new StringType(raw));
            }
        }
    }

    /** SN: comparator (1), num1 (2), separator/suffix (3), num2 (4). */
    private static void structuredNumeric(Observation observation, Segment obx) {
        String comparator = V2Support.value(obx, 5, 0, 1, 1);
        String first = V2Support.value(obx, 5, 0, 2, 1);
        String separator = V2Support.value(obx, 5, 0, 3, 1);
        String second = V2Support.value(obx, 5, 0, 4, 1);
        String unit = V2Support.value(obx, 6, 1);
        String unitText = V2Support.value(obx, 6, 2);
        String unitSystem = V2Support.value(obx, 6, 3);
        BigDecimal n1 = first == null ? null : number(first);
        BigDecimal n2 = second == null ? null : number(second);
        if (n1 != null && separator == null && second == null) {
            Quantity quantity = quantity(n1, unit, unitText, unitSystem);
            if (comparator == null || comparator.equals("=")) {
                observation.setValue(quantity);
                return;
            }
            Quantity.QuantityComparator fhirComparator = switch (comparator) {
                case "<" -> Quantity.QuantityComparator.LESS_THAN;
                case "<=" -> Quantity.QuantityComparator.LESS_OR_EQUAL;
                case ">" -> Quantity.QuantityComparator.GREATER_THAN;
                case ">=" -> Quantity.QuantityComparator.GREATER_OR_EQUAL;
                default -> null;
            };
            if (fhirComparator != null) {
                observation.setValue(quantity.setComparator(fhirComparator));
                return;
            }
        } else if (n1 != null && n2 != null && comparator == null && separator != null) {
            if (separator.equals("-")) {
                Range range = new Range();
                range.setLow(simple(quantity(n1, unit, unitText, unitSystem)));
                range.setHigh(simple(quantity(n2, unit, unitText, unitSystem)));
                observation.setValue(range);
                return;
            }
            if (separator.equals(":") || separator.equals("/")) {
                observation.setValue(new Ratio().setNumerator(new Quantity().setValue(n1))
                        .setDenominator(new Quantity().setValue(n2)));
                return;
            }
        }
        StringBuilder text = new StringBuilder();
        for (String part : new String[] {comparator, first, separator, second}) {
            if (part != null) {
                text.append(part);
            }
        }
        if (text.length() == 0) {
            absent(observation, "unknown");
        } else {
            observation.setValue(new StringType(text.toString()));
        }
    }

    private static SimpleQuantity simple(Quantity quantity) {
        SimpleQuantity simple = new SimpleQuantity();
        simple.setValueElement(quantity.getValueElement().copy());
        simple.setUnit(quantity.getUnit());
        simple.setSystem(quantity.getSystem());
        simple.setCode(quantity.getCode());
        return simple;
    }

    /**
     * A quantity with the unit from OBX-6 (identifier, text, coding system): a known spelling gives
     * the UCUM code, else the unit is kept as text; docs/mappings.md, section 4, "Units".
     */
    static Quantity quantity(BigDecimal value, String unit, String unitText, String unitSystem) {
        Quantity quantity = new Quantity().setValue(value);
        String ucum = null;
        String display = null;
        if (unit != null && UCUM_UNITS.containsKey(unit)) {
            ucum = UCUM_UNITS.get(unit);
            display = MDC_UNITS.contains(unit) ? ucum : unit;
        } else if (unitText != null && UCUM_UNITS.containsKey(unitText)) {
            ucum = UCUM_UNITS.get(unitText);
            display = MDC_UNITS.contains(unitText) ? ucum : unitText;
        } else if (unit != null && "UCUM".equalsIgnoreCase(unitSystem)) {
            ucum = unit;
            display = unitText != null ? unitText : unit;
        }
        if (ucum != null) {
            quantity.setUnit(display).setSystem(UCUM_SYSTEM).setCode(ucum);
        } else if (unit != null) {
            quantity.setUnit(unit.matches("\\d+") && unitText != null ? unitText : unit);
        } else if (unitText != null) {
            quantity.setUnit(unitText);
        }
        return quantity;
    }

    /**
     * The FHIR system for a v2 coding system (HL7 table 0396): {@code LN} → LOINC, {@code MDC} →
     * {@value #MDC_SYSTEM}, {@code SCT} → SNOMED CT, {@code UCUM} → UCUM, {@code HL7nnnn} →
     * {@code http://terminology.hl7.org/CodeSystem/v2-nnnn}; every other (local {@code L},
     * {@code 99zzz}, vendor names) → {@value #LOCAL_CODE_SYSTEM_PREFIX}{@code <coding system>}
     * (URL-encoded); {@code null} or blank → {@code null} (coding without system).
     */
    static String codeSystem(String v2System) {
        if (v2System == null || v2System.isBlank()) {
            return null;
        }
        String system = v2System.strip();
        switch (system.toUpperCase(Locale.ROOT)) {
            case "LN":
            case "LOINC":
                return Systems.LOINC;
            case "MDC":
                return MDC_SYSTEM;
            case "SCT":
                return SNOMED_SYSTEM;
            case "UCUM":
                return UCUM_SYSTEM;
            default:
                break;
        }
        if (system.matches("(?i)HL7\\d{4}")) {
            return "http://terminology.hl7.org/CodeSystem/v2-" + system.substring(3);
        }
        return LOCAL_CODE_SYSTEM_PREFIX + URLEncoder.encode(system, StandardCharsets.UTF_8).replace("+", "%20");
    }

    /** OBX-11 (HL7 table 0085) → Observation.status, as in HL7's v2-to-FHIR concept map. */
    static ObservationStatus status(String resultStatus) {
        if (resultStatus == null) {
            return ObservationStatus.FINAL;
        }
        return switch (resultStatus.strip().toUpperCase(Locale.ROOT)) {
            case "C" -> ObservationStatus.CORRECTED;
            case "A" -> ObservationStatus.AMENDED;
            case "P", "R", "S" -> ObservationStatus.PRELIMINARY;
            case "I", "O" -> ObservationStatus.REGISTERED;
            case "X", "N" -> ObservationStatus.CANCELLED;
            case "D", "W" -> ObservationStatus.ENTEREDINERROR;
            default -> ObservationStatus.FINAL;
        };
    }

    /**
     * A CWE/CE/CNE field repetition as CodeableConcept: codings of the triplets 1-3 and 4-6 (a
     * triplet without code is skipped; its text becomes {@code text} when no triplet has a code),
     * CWE-9 original text as {@code text}.
     */
    private static CodeableConcept codeableConcept(Segment segment, int field, int rep) {
        CodeableConcept concept = new CodeableConcept();
        String firstText = null;
        for (int base : new int[] {1, 4}) {
            String code = V2Support.value(segment, field, rep, base, 1);
            String text = V2Support.value(segment, field, rep, base + 1, 1);
            String system = V2Support.value(segment, field, rep, base + 2, 1);
            if (code != null) {
                concept.addCoding(new Coding(codeSystem(system), code, text));
            } else if (text != null && firstText == null) {
                firstText = text;
            }
        }
        String originalText = V2Support.value(segment, field, rep, 9, 1);
        if (originalText != null) {
            concept.setText(originalText);
        } else if (concept.getCoding().isEmpty() && firstText != null) {
            concept.setText(firstText);
        }
        return concept;
    }

    private static Observation bloodPressurePanel(List<Mapped> group) {
        List<Observation> systolic = usable(group, VitalSign.SYSTOLIC_BLOOD_PRESSURE);
        List<Observation> diastolic = usable(group, VitalSign.DIASTOLIC_BLOOD_PRESSURE);
        if (systolic.size() != 1 || diastolic.size() != 1) {
            return null;
        }
        Observation sys = systolic.get(0);
        Observation dia = diastolic.get(0);
        Observation panel = new Observation();
        panel.getMeta().addProfile(VITAL_SIGNS_PROFILE);
        panel.setStatus(panelStatus(sys.getStatus(), dia.getStatus()));
        panel.addCategory(vitalSignsCategory());
        panel.setCode(new CodeableConcept(new Coding(Systems.LOINC, BLOOD_PRESSURE_PANEL,
                "Blood pressure panel with all children optional")).setText("Blood pressure"));
        if (sys.hasEffective()) {
            panel.setEffective(sys.getEffective().copy());
        }
        for (Observation part : List.of(sys, dia)) {
            VitalSign vital = part == sys ? VitalSign.SYSTOLIC_BLOOD_PRESSURE : VitalSign.DIASTOLIC_BLOOD_PRESSURE;
            panel.addComponent()
                    .setCode(new CodeableConcept(new Coding(Systems.LOINC, vital.loinc(), vital.display())))
                    .setValue(part.getValueQuantity().copy());
        }
        return panel;
    }

    private static List<Observation> usable(List<Mapped> group, VitalSign vital) {
        List<Observation> observations = new ArrayList<>();
        for (Mapped mapped : group) {
            Observation observation = mapped.observation();
            if (mapped.vital() == vital
                    && observation.getStatus() != ObservationStatus.CANCELLED
                    && observation.getStatus() != ObservationStatus.ENTEREDINERROR
                    && observation.hasValueQuantity()
                    && observation.getValueQuantity().hasValue()
                    && !observation.getValueQuantity().hasComparator()) {
                observations.add(observation);
            }
        }
        return observations;
    }

    private static ObservationStatus panelStatus(ObservationStatus a, ObservationStatus b) {
        for (ObservationStatus preliminary : List.of(ObservationStatus.PRELIMINARY, ObservationStatus.REGISTERED)) {
            if (a == preliminary || b == preliminary) {
                return ObservationStatus.PRELIMINARY;
            }
        }
        for (ObservationStatus changed : List.of(ObservationStatus.CORRECTED, ObservationStatus.AMENDED)) {
            if (a == changed || b == changed) {
                return changed;
            }
        }
        return ObservationStatus.FINAL;
    }

    private static CodeableConcept vitalSignsCategory() {
        return new CodeableConcept(new Coding(OBSERVATION_CATEGORY_SYSTEM, VITAL_SIGNS_CATEGORY, "Vital Signs"));
    }

    private static void absent(Observation observation, String reason) {
        observation.setDataAbsentReason(new CodeableConcept(new Coding(DATA_ABSENT_REASON_SYSTEM, reason, null)));
    }

    private static void note(Observation observation, Segment nte, char escape) {
        List<String> lines = new ArrayList<>();
        for (int rep = 0; rep < V2Support.repetitions(nte, 3); rep++) {
            String line = V2Support.text(nte, 3, rep, escape);
            if (!line.isBlank()) {
                lines.add(line);
            }
        }
        if (!lines.isEmpty()) {
            observation.addNote().setText(String.join("\n", lines));
        }
    }

    /** A v2 NM value as number; a decimal comma is accepted; {@code null} if it is no number. */
    private static BigDecimal number(String raw) {
        String value = raw.strip();
        if (!value.matches("[+-]?(\\d+([.,]\\d*)?|[.,]\\d+)")) {
            return null;
        }
        if (value.startsWith("+")) {
            value = value.substring(1);
        }
        return new BigDecimal(value.replace(',', '.'));
    }

    private static String upper(String value) {
        return value == null ? "" : value.strip().toUpperCase(Locale.ROOT);
    }
}
