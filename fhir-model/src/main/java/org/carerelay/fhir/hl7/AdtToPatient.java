package org.carerelay.fhir.hl7;

import static org.carerelay.fhir.hl7.V2Support.repetitions;
import static org.carerelay.fhir.hl7.V2Support.value;

import ca.uhn.hl7v2.HL7Exception;
import ca.uhn.hl7v2.model.Message;
import ca.uhn.hl7v2.model.Segment;
import ca.uhn.hl7v2.util.Terser;
import java.net.URLEncoder;
import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.Objects;
import java.util.Optional;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import org.carerelay.fhir.ErrorCode;
import org.carerelay.fhir.Systems;
import org.hl7.fhir.r4.model.Address;
import org.hl7.fhir.r4.model.BooleanType;
import org.hl7.fhir.r4.model.CodeableConcept;
import org.hl7.fhir.r4.model.Coding;
import org.hl7.fhir.r4.model.ContactPoint;
import org.hl7.fhir.r4.model.ContactPoint.ContactPointSystem;
import org.hl7.fhir.r4.model.ContactPoint.ContactPointUse;
import org.hl7.fhir.r4.model.DateTimeType;
import org.hl7.fhir.r4.model.DateType;
import org.hl7.fhir.r4.model.Enumerations.AdministrativeGender;
import org.hl7.fhir.r4.model.HumanName;
import org.hl7.fhir.r4.model.HumanName.NameUse;
import org.hl7.fhir.r4.model.Identifier;
import org.hl7.fhir.r4.model.Patient;
import org.hl7.fhir.r4.model.StringType;

/**
 * Maps the first PID of an ADT message (any event and structure, as parsed by {@link Hl7Inbound})
 * to a FHIR R4 {@link Patient}: identifiers with their systems (KVNR recognised by authority, type
 * and format), names, birth date, gender, addresses, telecom, deceased. Pure and stateless.
 * Field-by-field mapping: docs/mappings.md, section 2 "ADT → Patient".
 */
public final class AdtToPatient {

    public static final String V2_0203 = "http://terminology.hl7.org/CodeSystem/v2-0203";
    /** Identifier type code system of the German base profiles (code {@code KVZ10} for the KVNR). */
    public static final String IDENTIFIER_TYPE_DE_BASIS = "http://fhir.de/CodeSystem/identifier-type-de-basis";
    /** System prefix for identifiers whose assigning authority has no configured system and no OID. */
    public static final String AUTHORITY_SYSTEM_PREFIX = "https://fhir.carerelay.org/sid/hl7-authority/";
    /** OID of the KVNR (used as CX-4-2 in IHE/ePA feeds: {@code X123456789^^^&1.2.276.0.76.4.8&ISO}). */
    public static final String KVNR_OID = "1.2.276.0.76.4.8";
    public static final String EXT_GENDER_AMTLICH = "http://fhir.de/StructureDefinition/gender-amtlich-de";
    public static final String GENDER_AMTLICH = "http://fhir.de/CodeSystem/gender-amtlich-de";
    static final String EXT_ADXP_STREET_NAME = "http://hl7.org/fhir/StructureDefinition/iso21090-ADXP-streetName";
    static final String EXT_ADXP_HOUSE_NUMBER = "http://hl7.org/fhir/StructureDefinition/iso21090-ADXP-houseNumber";

    private static final Pattern KVNR = Pattern.compile("[A-Z][0-9]{9}");
    private static final Pattern OID = Pattern.compile("[0-2](\\.(0|[1-9][0-9]*))+");
    private static final Pattern TS = Pattern.compile(
            "(\\d{4})(\\d{2})?(\\d{2})?(?:(\\d{2})(\\d{2})?(\\d{2})?(?:\\.(\\d{1,4}))?)?([+-]\\d{4})?");
    private static final Map<String, String> BUILT_IN_AUTHORITIES = Map.of(
            "KVNR", Systems.KVNR,
            "GKV", Systems.KVNR,
            "EGK", Systems.KVNR,
            "KVK", Systems.KVNR,
            KVNR_OID, Systems.KVNR);

    /**
     * Identifier systems by assigning authority (CX-4-1 namespace id or CX-4-2 universal id;
     * case-insensitive). Consulted before the built-in defaults, which always apply.
     */
    public record AssigningAuthorities(Map<String, String> systemByAuthority) {

        public AssigningAuthorities {
            Map<String, String> copy = new HashMap<>();
            Objects.requireNonNull(systemByAuthority, "systemByAuthority")
                    .forEach((k, v) -> copy.put(k.trim().toUpperCase(Locale.ROOT), Objects.requireNonNull(v)));
            systemByAuthority = Map.copyOf(copy);
        }

        /** Only the built-in defaults. */
        public static AssigningAuthorities defaults() {
            return new AssigningAuthorities(Map.of());
        }

        /** The system for an authority name or universal id: configured, then built-in. */
        public Optional<String> systemFor(String authority) {
            if (authority == null || authority.isBlank()) {
                return Optional.empty();
            }
            String key = authority.trim().toUpperCase(Locale.ROOT);
            return Optional.ofNullable(systemByAuthority.getOrDefault(key, BUILT_IN_AUTHORITIES.get(key)));
        }
    }

    private AdtToPatient() {
    }

    /**
     * Maps the first PID of {@code adt}.
     *
     * @throws Hl7InboundException ({@link ErrorCode#INVALID_REQUEST}, 0357 {@code 100}) when the
     *     message has no PID
     */
    public static Patient map(Message adt, AssigningAuthorities authorities) {
        Objects.requireNonNull(adt, "adt");
        Objects.requireNonNull(authorities, "authorities");
        Segment pid = segment(adt, "PID").orElseThrow(() -> new Hl7InboundException(ErrorCode.INVALID_REQUEST,
                Hl7InboundException.SEGMENT_SEQUENCE_ERROR, "The message has no PID segment.", controlId(adt)));

        Patient patient = new Patient();
        patient.setIdentifier(identifiers(pid, 3, authorities));
        for (int rep = 0; rep < repetitions(pid, 5); rep++) {
            name(pid, rep).ifPresent(patient::addName);
        }
        birthDate(value(pid, 7, 0, 1, 1)).ifPresent(patient::setBirthDateElement);
        gender(pid, patient);
        for (int rep = 0; rep < repetitions(pid, 11); rep++) {
            address(pid, rep).ifPresent(patient::addAddress);
        }
        for (int rep = 0; rep < repetitions(pid, 13); rep++) {
            telecom(pid, 13, rep, ContactPointUse.HOME).ifPresent(patient::addTelecom);
        }
        for (int rep = 0; rep < repetitions(pid, 14); rep++) {
            telecom(pid, 14, rep, ContactPointUse.WORK).ifPresent(patient::addTelecom);
        }
        deceased(pid, patient);
        return patient;
    }

    /**
     * The prior identifiers of an ADT^A40 (merge patient): MRG-1, all repetitions, mapped like PID-3.
     * Only the first MRG is read (the one belonging to the first PID, which {@link #map} maps);
     * empty when the message has no MRG.
     */
    public static List<Identifier> priorIdentifiers(Message a40, AssigningAuthorities authorities) {
        Objects.requireNonNull(a40, "a40");
        Objects.requireNonNull(authorities, "authorities");
        return segment(a40, "MRG").map(mrg -> identifiers(mrg, 1, authorities)).orElseGet(List::of);
    }

    /** The KVNR among the {@link #priorIdentifiers} of an ADT^A40, if any. */
    public static Optional<String> mergeSourceKvnr(Message a40, AssigningAuthorities authorities) {
        return priorIdentifiers(a40, authorities).stream()
                .filter(id -> Systems.KVNR.equals(id.getSystem()))
                .map(Identifier::getValue)
                .findFirst();
    }

    // ------------------------------------------------------------------------------ identifiers

    private static List<Identifier> identifiers(Segment segment, int field, AssigningAuthorities authorities) {
        List<Identifier> result = new ArrayList<>();
        for (int rep = 0; rep < repetitions(segment, field); rep++) {
            identifier(segment, field, rep, authorities).ifPresent(result::add);
        }
        return result;
    }

    private static Optional<Identifier> identifier(Segment s, int field, int rep, AssigningAuthorities authorities) {
        String value = value(s, field, rep, 1, 1);
        if (value == null) {
            return Optional.empty();
        }
        String namespace = value(s, field, rep, 4, 1);
        String universalId = value(s, field, rep, 4, 2);
        String universalIdType = value(s, field, rep, 4, 3);
        String type = value(s, field, rep, 5, 1);

        String system = authorities.systemFor(namespace)
                .or(() -> authorities.systemFor(universalId))
                .orElse("KVNR".equalsIgnoreCase(type) ? Systems.KVNR : null);
        if (Systems.KVNR.equals(system) && !KVNR.matcher(value).matches()) {
            system = null; // not a KVNR: fall through to the plain rules
        }
        if (system == null) {
            system = plainSystem(namespace, universalId, universalIdType);
        }

        Identifier identifier = new Identifier().setValue(value);
        if (system != null) {
            identifier.setSystem(system);
        }
        if (Systems.KVNR.equals(system)) {
            identifier.setType(new CodeableConcept(new Coding(IDENTIFIER_TYPE_DE_BASIS, "KVZ10", null)));
        } else if (type != null && !"KVNR".equalsIgnoreCase(type)) {
            // a code of table 0203 is coded in v2-0203; a local type code (MRN, NHSNMBR, ...) is
            // kept as text rather than claimed to be a code of a system that does not have it
            identifier.setType(V2Table0203.code(type)
                    .map(code -> new CodeableConcept(new Coding(V2_0203, code, null)))
                    .orElseGet(() -> new CodeableConcept().setText(type)));
        }
        return Optional.of(identifier);
    }

    private static String plainSystem(String namespace, String universalId, String universalIdType) {
        if (universalId != null && OID.matcher(universalId).matches()
                && (universalIdType == null || "ISO".equalsIgnoreCase(universalIdType))) {
            return "urn:oid:" + universalId;
        }
        if (namespace != null) {
            return AUTHORITY_SYSTEM_PREFIX + URLEncoder.encode(namespace, StandardCharsets.UTF_8).replace("+", "%20");
        }
        return null;
    }

    // ------------------------------------------------------------------------------------ names

    private static Optional<HumanName> name(Segment pid, int rep) {
        String family = value(pid, 5, rep, 1, 1);
        String given = value(pid, 5, rep, 2, 1);
        String middle = value(pid, 5, rep, 3, 1);
        String suffix = value(pid, 5, rep, 4, 1);
        String prefix = value(pid, 5, rep, 5, 1);
        String degree = value(pid, 5, rep, 6, 1);
        if (family == null && given == null && middle == null) {
            return Optional.empty();
        }
        HumanName name = new HumanName();
        if (family != null) {
            name.setFamily(family);
        }
        if (given != null) {
            name.addGiven(given);
        }
        if (middle != null) {
            name.addGiven(middle);
        }
        if (prefix != null) {
            name.addPrefix(prefix);
        }
        if (suffix != null) {
            name.addSuffix(suffix);
        }
        if (degree != null) {
            name.addSuffix(degree);
        }
        NameUse use = nameUse(value(pid, 5, rep, 7, 1));
        if (use != null) {
            name.setUse(use);
        }
        return Optional.of(name);
    }

    private static NameUse nameUse(String code) {
        if (code == null) {
            return null;
        }
        switch (code.toUpperCase(Locale.ROOT)) {
            case "L":
                return NameUse.OFFICIAL;
            case "M":
            case "B":
                return NameUse.MAIDEN;
            case "N":
                return NameUse.NICKNAME;
            case "D":
                return NameUse.USUAL;
            case "S":
                return NameUse.ANONYMOUS;
            default:
                return null;
        }
    }

    // ----------------------------------------------------------------------- birth date, gender

    /** {@code yyyy[MM[dd[…]]]} → FHIR date with the same precision (at most day). */
    static Optional<DateType> birthDate(String ts) {
        if (ts == null) {
            return Optional.empty();
        }
        Matcher m = TS.matcher(ts);
        if (!m.matches()) {
            return Optional.empty();
        }
        StringBuilder sb = new StringBuilder(m.group(1));
        if (m.group(2) != null) {
            sb.append('-').append(m.group(2));
            if (m.group(3) != null) {
                sb.append('-').append(m.group(3));
            }
        }
        try {
            DateType date = new DateType(sb.toString());
            return Optional.of(date);
        } catch (RuntimeException e) {
            return Optional.empty();
        }
    }

    private static void gender(Segment pid, Patient patient) {
        String code = value(pid, 8, 0, 1, 1);
        if (code == null) {
            return;
        }
        switch (code.toUpperCase(Locale.ROOT)) {
            case "M":
                patient.setGender(AdministrativeGender.MALE);
                break;
            case "F":
                patient.setGender(AdministrativeGender.FEMALE);
                break;
            case "O":
            case "A":
                patient.setGender(AdministrativeGender.OTHER);
                break;
            case "U":
            case "N":
                patient.setGender(AdministrativeGender.UNKNOWN);
                break;
            case "D":
            case "X":
                patient.setGender(AdministrativeGender.OTHER);
                patient.getGenderElement().addExtension(EXT_GENDER_AMTLICH,
                        new Coding(GENDER_AMTLICH, code.toUpperCase(Locale.ROOT),
                                "D".equalsIgnoreCase(code) ? "divers" : "unbestimmt"));
                break;
            default:
                break;
        }
    }

    // -------------------------------------------------------------------------------- addresses

    private static Optional<Address> address(Segment pid, int rep) {
        String street = value(pid, 11, rep, 1, 1);
        String streetName = value(pid, 11, rep, 1, 2);
        String houseNumber = value(pid, 11, rep, 1, 3);
        String other = value(pid, 11, rep, 2, 1);
        String city = value(pid, 11, rep, 3, 1);
        String state = value(pid, 11, rep, 4, 1);
        String zip = value(pid, 11, rep, 5, 1);
        String country = value(pid, 11, rep, 6, 1);
        String type = value(pid, 11, rep, 7, 1);
        String county = value(pid, 11, rep, 9, 1);
        if (street == null && streetName == null && houseNumber == null && other == null && city == null
                && state == null && zip == null && country == null) {
            return Optional.empty();
        }
        Address address = new Address();
        String line = addressLine(street, streetName, houseNumber);
        if (line != null) {
            StringType lineElement = address.addLineElement();
            lineElement.setValue(line);
            if (streetName != null) {
                lineElement.addExtension(EXT_ADXP_STREET_NAME, new StringType(streetName));
            }
            if (houseNumber != null) {
                lineElement.addExtension(EXT_ADXP_HOUSE_NUMBER, new StringType(houseNumber));
            }
        }
        if (other != null) {
            address.addLine(other);
        }
        address.setCity(city);
        address.setState(state);
        address.setPostalCode(zip);
        address.setDistrict(county);
        if (country != null) {
            address.setCountry(country(country));
        }
        if (type != null) {
            switch (type.toUpperCase(Locale.ROOT)) {
                case "H":
                case "P":
                    address.setUse(Address.AddressUse.HOME);
                    break;
                case "B":
                case "O":
                    address.setUse(Address.AddressUse.WORK);
                    break;
                case "C":
                    address.setUse(Address.AddressUse.TEMP);
                    break;
                case "BA":
                    address.setUse(Address.AddressUse.OLD);
                    break;
                case "M":
                    address.setType(Address.AddressType.POSTAL);
                    break;
                default:
                    break;
            }
        }
        return Optional.of(address);
    }

    /**
     * SAD-1 as the line; street name (SAD-2) and house number (SAD-3) are appended when SAD-1 does
     * not already contain them (some feeds put only the number in SAD-1: {@code 1000&Hospital Lane}).
     */
    private static String addressLine(String street, String streetName, String houseNumber) {
        if (street == null) {
            return join(" ", streetName, houseNumber);
        }
        return join(" ", street,
                streetName != null && !street.contains(streetName) ? streetName : null,
                houseNumber != null && !street.contains(houseNumber) ? houseNumber : null);
    }

    static String country(String country) {
        String c = country.trim().toUpperCase(Locale.ROOT);
        return "D".equals(c) || "DE".equals(c) || "DEU".equals(c) ? "DE" : country.trim();
    }

    // -------------------------------------------------------------------------------- telecom

    /**
     * One XTN repetition as e-mail or number, or empty without a value; see docs/mappings.md,
     * section 2, "Telecom".
     */
    static Optional<ContactPoint> telecom(Segment pid, int field, int rep, ContactPointUse defaultUse) {
        String legacy = value(pid, field, rep, 1, 1);
        String useCode = upper(value(pid, field, rep, 2, 1));
        String equipment = upper(value(pid, field, rep, 3, 1));
        String email = value(pid, field, rep, 4, 1);

        ContactPoint cp = new ContactPoint();
        boolean isEmail = "INTERNET".equals(equipment) || "X.400".equals(equipment) || "NET".equals(useCode)
                || (equipment == null && email != null);
        if (isEmail) {
            String address = email != null ? email : legacy;
            if (address == null) {
                return Optional.empty();
            }
            cp.setSystem(ContactPointSystem.EMAIL).setValue(address);
        } else {
            String number = legacy;
            String local = value(pid, field, rep, 7, 1);
            if (number == null && local != null) {
                number = join(" ", prefixed("+", value(pid, field, rep, 5, 1)), value(pid, field, rep, 6, 1),
                        local, prefixed("ext. ", value(pid, field, rep, 8, 1)));
            }
            if (number == null) {
                number = value(pid, field, rep, 12, 1);
            }
            if (number == null) {
                return Optional.empty();
            }
            cp.setValue(number);
            if ("FX".equals(equipment)) {
                cp.setSystem(ContactPointSystem.FAX);
            } else if ("BP".equals(equipment) || "BPN".equals(useCode)) {
                cp.setSystem(ContactPointSystem.PAGER);
            } else if ("MD".equals(equipment)) {
                cp.setSystem(ContactPointSystem.OTHER);
            } else {
                cp.setSystem(ContactPointSystem.PHONE);
            }
        }
        if ("CP".equals(equipment)) {
            cp.setUse(ContactPointUse.MOBILE);
        } else if ("WPN".equals(useCode)) {
            cp.setUse(ContactPointUse.WORK);
        } else if ("PRN".equals(useCode) || "ORN".equals(useCode) || "VHN".equals(useCode)) {
            cp.setUse(ContactPointUse.HOME);
        } else {
            cp.setUse(defaultUse);
        }
        return Optional.of(cp);
    }

    // ------------------------------------------------------------------------------- deceased

    /** PID-30 {@code N} wins over a (contradicting) PID-29; else PID-29, else PID-30 {@code Y}. */
    private static void deceased(Segment pid, Patient patient) {
        String indicator = upper(value(pid, 30, 0, 1, 1));
        if ("N".equals(indicator)) {
            patient.setDeceased(new BooleanType(false));
            return;
        }
        DateTimeType dateTime = V2Support.dateTime(value(pid, 29, 0, 1, 1));
        if (dateTime != null) {
            patient.setDeceased(dateTime);
        } else if ("Y".equals(indicator)) {
            patient.setDeceased(new BooleanType(true));
        }
    }

    // -------------------------------------------------------------------------------- helpers

    /** The first segment of that name anywhere in the message, if it is present and not empty. */
    private static Optional<Segment> segment(Message message, String name) {
        try {
            Segment s = new Terser(message).getSegment("/." + name);
            return s == null || s.isEmpty() ? Optional.empty() : Optional.of(s);
        } catch (HL7Exception | RuntimeException e) {
            return Optional.empty();
        }
    }

    private static String controlId(Message message) {
        try {
            return new Terser(message).get("/MSH-10");
        } catch (HL7Exception | RuntimeException e) {
            return null;
        }
    }

    private static String join(String separator, String... parts) {
        StringBuilder sb = new StringBuilder();
        for (String p : parts) {
            if (p != null && !p.isBlank()) {
                if (sb.length() > 0) {
                    sb.append(separator);
                }
                sb.append(p.trim());
            }
        }
        return sb.length() == 0 ? null : sb.toString();
    }

    private static String prefixed(String prefix, String value) {
        return value == null ? null : prefix + value;
    }

    private static String upper(String s) {
        return s == null ? null : s.toUpperCase(Locale.ROOT);
    }
}
