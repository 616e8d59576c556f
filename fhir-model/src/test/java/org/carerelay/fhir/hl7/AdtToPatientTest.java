package org.carerelay.fhir.hl7;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;
import static org.assertj.core.groups.Tuple.tuple;

import ca.uhn.fhir.context.FhirContext;
import ca.uhn.fhir.parser.IParser;
import ca.uhn.hl7v2.model.Message;
import java.nio.charset.StandardCharsets;
import java.util.List;
import java.util.Map;
import org.carerelay.fhir.ErrorCode;
import org.carerelay.fhir.Systems;
import org.carerelay.fhir.hl7.AdtToPatient.AssigningAuthorities;
import org.hl7.fhir.r4.model.Address;
import org.hl7.fhir.r4.model.Coding;
import org.hl7.fhir.r4.model.ContactPoint;
import org.hl7.fhir.r4.model.ContactPoint.ContactPointSystem;
import org.hl7.fhir.r4.model.ContactPoint.ContactPointUse;
import org.hl7.fhir.r4.model.Enumerations.AdministrativeGender;
import org.hl7.fhir.r4.model.HumanName;
import org.hl7.fhir.r4.model.HumanName.NameUse;
import org.hl7.fhir.r4.model.Identifier;
import org.hl7.fhir.r4.model.Patient;
import org.hl7.fhir.r4.model.StringType;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.CsvSource;
import org.junit.jupiter.params.provider.ValueSource;

class AdtToPatientTest {

    private static final AssigningAuthorities DEFAULTS = AssigningAuthorities.defaults();

    /** A German ADT^A01 in v2.5, as a KIS sends it: ISO-8859-1 bytes, KVNR and a hospital id in PID-3. */
    private static final String GERMAN_A01 = String.join("\r",
            "MSH|^~\\&|KIS|KH_BSP|CARERELAY|CR|20240502102000||ADT^A01^ADT_A01|KIS-0815|P|2.5|||AL|NE|DEU|8859/1",
            "EVN|A01|20240502102000",
            "PID|1||X110411319^^^KVNR^KVNR~4711^^^KH_BSP^PI||Müßig^Jürgen^Karl-Heinz^^Dr.^^L~Großmann^^^^^^B"
                    + "||19630217|M|||Straßburger Straße 12^c/o Weiß^Löningen^NI^49624^D^H"
                    + "||^PRN^PH^^49^5432^12345~^NET^Internet^juergen.muessig@example.de|^WPN^FX^^49^5432^999",
            "PV1|1|I|STA1^201^1",
            "");

    private static Message parse(String file) {
        return Hl7Inbound.decodeAndParse(V2TestMessages.sampleBytes(file), null).message();
    }

    private static Message parseGerman(String er7) {
        return Hl7Inbound.decodeAndParse(er7.getBytes(StandardCharsets.ISO_8859_1), StandardCharsets.UTF_8).message();
    }

    private static Message pid(String pidFields) {
        return Hl7Inbound.parse("MSH|^~\\&|KIS|KH|CR|CR|20240502||ADT^A08|1|P|2.5\rPID|1|" + pidFields + "\r")
                .message();
    }

    private static Identifier identifier(Patient patient, String value) {
        return patient.getIdentifier().stream().filter(i -> value.equals(i.getValue())).findFirst().orElseThrow();
    }

    /**
     * What the mapping builds reads back from its JSON equal as values: the gateway takes a patient
     * that differs as values ({@code equalsDeep}) from the stored one as changed without comparing the
     * JSON, so a mapped value that JSON cannot tell apart from the stored one (an empty list member, a
     * date holding more than its precision, another primitive class) would write a new version for an
     * unchanged message.
     */
    @ParameterizedTest(name = "{0}")
    @ValueSource(strings = {"ipf_ADT-A01.hl7", "ipf_ADT-A08.hl7", "msft_ADT-A01-01.hl7", "msft_ADT-A01-02.hl7",
        "msft_ADT-A04-01.hl7", "msft_ADT-A08-01.hl7", "msft_ADT-A28-01.hl7", "msft_ADT-A31-01.hl7", "msft_ADT-A40-01.hl7",
        "msft_ADT04-251.hl7", "msft_MDM-T01-01.hl7", "msft_MDM-T02-01.hl7", "msft_MDM-T02-02.hl7", "msft_MDM-T02-03.hl7",
        "msft_ORU-R01-01.hl7", "msft_LAB-ORU-1.hl7", "ipf_pcd01-ORU-R01-vitals.hl7", "GERMAN_A01"})
    void mappedPatient_readBackFromItsJson_isEqualAsValues(String sample) {
        Patient mapped = AdtToPatient.map("GERMAN_A01".equals(sample) ? parseGerman(GERMAN_A01) : parse(sample), DEFAULTS);
        IParser json = FhirContext.forR4Cached().newJsonParser();
        Patient readBack = json.parseResource(Patient.class, json.encodeResourceToString(mapped));

        assertThat(readBack.equalsDeep(mapped)).as(json.encodeResourceToString(mapped)).isTrue();
        assertThat(mapped.equalsDeep(readBack)).isTrue();
        // and a value the mapping never builds, for contrast: an empty name, which JSON leaves out
        mapped.addName();
        assertThat(mapped.equalsDeep(readBack)).isFalse();
    }

    // -------------------------------------------------------------------------- real samples

    @ParameterizedTest(name = "{0}")
    @CsvSource({
        "ipf_ADT-A01.hl7,     Bob,      Barker, 1929-04-05, MALE",
        "ipf_ADT-A08.hl7,     BEST,     XML,    1947-01-01, MALE",
        "msft_ADT-A01-01.hl7, EVERYMAN, ADAM,   1988-08-18, MALE",
        "msft_ADT-A01-02.hl7, EVERYMAN, ADAM,   1988-08-18, MALE",
        "msft_ADT-A04-01.hl7, EVERYMAN, ADAM,   1988-08-18, MALE",
        "msft_ADT-A08-01.hl7, EVERYMAN, ADAM,   1988-08-18, MALE",
        "msft_ADT-A28-01.hl7, EVERYMAN, ADAM,   1988-08-18, MALE",
        "msft_ADT-A31-01.hl7, EVERYMAN, ADAM,   1988-08-18, MALE",
        "msft_ADT-A40-01.hl7, Test,     Test,   2018-02-05, FEMALE",
        "msft_ADT04-251.hl7,  Doe,      Jane,   1978-01-01, FEMALE",
    })
    void adtSample_mapsNameBirthDateAndGender(String file, String family, String given, String birthDate,
            AdministrativeGender gender) {
        Patient patient = AdtToPatient.map(parse(file), DEFAULTS);

        assertThat(patient.getNameFirstRep().getFamily()).isEqualTo(family);
        assertThat(patient.getNameFirstRep().getGiven().get(0).getValue()).isEqualTo(given);
        assertThat(patient.getBirthDateElement().getValueAsString()).isEqualTo(birthDate);
        assertThat(patient.getGender()).isEqualTo(gender);
        assertThat(patient.getIdentifier()).isNotEmpty();
    }

    @Test
    void v28AdtA01Sample_mapsAllNameRepetitionsWithTheirUse() {
        Patient patient = AdtToPatient.map(parse("msft_ADT-A01-01.hl7"), DEFAULTS);

        assertThat(patient.getName()).hasSize(2);
        HumanName display = patient.getName().get(0);
        assertThat(display.getUse()).isEqualTo(NameUse.USUAL); // XPN-7 D
        assertThat(display.getGiven()).extracting(StringType::getValue).containsExactly("ADAM", "A");
        assertThat(display.getPrefix()).extracting(StringType::getValue).containsExactly("Dr.");
        assertThat(display.getSuffix()).extracting(StringType::getValue).containsExactly("III", "MD");
        HumanName legal = patient.getName().get(1);
        assertThat(legal.getUse()).isEqualTo(NameUse.OFFICIAL); // XPN-7 L
        assertThat(legal.getFamily()).isEqualTo("Josh");
        assertThat(legal.getGiven()).extracting(StringType::getValue).containsExactly("stanley");
    }

    @Test
    void v28AdtA01Sample_mapsIdentifiersAddressTelecomAndDeath() {
        Patient patient = AdtToPatient.map(parse("msft_ADT-A01-01.hl7"), DEFAULTS);

        // test1&2.16.1&HCD: universal id type is not ISO, so the namespace names the system
        Identifier mrn = identifier(patient, "PATID1234");
        assertThat(mrn.getSystem()).isEqualTo(AdtToPatient.AUTHORITY_SYSTEM_PREFIX + "test1");
        assertThat(mrn.getType().getCodingFirstRep().getSystem()).isEqualTo(AdtToPatient.V2_0203);
        assertThat(mrn.getType().getCodingFirstRep().getCode()).isEqualTo("MR");
        assertThat(identifier(patient, "123456789").getSystem()).isEqualTo(AdtToPatient.AUTHORITY_SYSTEM_PREFIX + "USSSA");

        Address address = patient.getAddressFirstRep();
        assertThat(address.getLine()).extracting(StringType::getValue).containsExactly("1000 Hospital Lane", "Ste. 123");
        assertThat(address.getCity()).isEqualTo("Ann Arbor");
        assertThat(address.getState()).isEqualTo("MI");
        assertThat(address.getPostalCode()).isEqualTo("99999");
        assertThat(address.getCountry()).isEqualTo("USA");
        assertThat(address.getType()).isEqualTo(Address.AddressType.POSTAL); // XAD-7 M

        assertThat(patient.getTelecom()).extracting(ContactPoint::getValue, ContactPoint::getUse)
                .containsExactly(
                        tuple("78788788", ContactPointUse.MOBILE),
                        tuple("12121212", ContactPointUse.MOBILE),
                        tuple("7777", ContactPointUse.MOBILE),
                        tuple("1111", ContactPointUse.WORK));
        assertThat(patient.getDeceasedDateTimeType().getValueAsString()).isEqualTo("2008-08-25T11:16:30+01:15");
    }

    @Test
    void ipfPixFeed_mapsOidAuthoritiesSkipsHl7NullAndReadsEmail() {
        Patient patient = AdtToPatient.map(parse("ipf_ADT-A01.hl7"), DEFAULTS);

        // first repetition is ""^^^&2.71&ISO (HL7 null): not an identifier
        assertThat(patient.getIdentifier()).extracting(Identifier::getSystem, Identifier::getValue).containsExactly(
                tuple("urn:oid:2.16.840.1.113883.3.37.4.1.1.2.1.1", "306563"),
                tuple("urn:oid:2.16.840.1.113883.3.37.4.1.1.2.611.1", "30753"));
        assertThat(patient.getName()).singleElement().satisfies(n -> {
            assertThat(n.getUse()).isEqualTo(NameUse.OFFICIAL);
            assertThat(n.getGiven()).extracting(StringType::getValue).containsExactly("Barker", "R.");
        });
        assertThat(patient.getAddress()).isEmpty(); // ^^^^^^H carries only a type
        assertThat(patient.getTelecom()).singleElement().satisfies(t -> {
            assertThat(t.getSystem()).isEqualTo(ContactPointSystem.EMAIL);
            assertThat(t.getValue()).isEqualTo("bankrobber@aol.com");
            assertThat(t.getUse()).isEqualTo(ContactPointUse.HOME);
        });
    }

    @Test
    void v231AdtA08_mapsAddressAndLegacyPhone() {
        Patient patient = AdtToPatient.map(parse("ipf_ADT-A08.hl7"), DEFAULTS);

        Address address = patient.getAddressFirstRep();
        assertThat(address.getLine()).extracting(StringType::getValue).containsExactly("2 TITUS PLACE");
        assertThat(address.getCity()).isEqualTo("WALTON");
        assertThat(address.getPostalCode()).isEqualTo("13856");
        assertThat(address.getUse()).isEqualTo(Address.AddressUse.HOME);
        assertThat(patient.getTelecom()).singleElement().satisfies(t -> {
            assertThat(t.getSystem()).isEqualTo(ContactPointSystem.PHONE);
            assertThat(t.getValue()).isEqualTo("6078652191");
        });
    }

    @Test
    void v23AdtA04WithoutAssigningAuthority_givesIdentifierWithoutSystem() {
        Patient patient = AdtToPatient.map(parse("msft_ADT04-251.hl7"), DEFAULTS);

        Identifier mrn = identifier(patient, "MRN12345");
        assertThat(mrn.hasSystem()).isFalse();
        assertThat(mrn.getType().getCodingFirstRep().getCode()).isEqualTo("MR");
    }

    @Test
    void oruWithGermanAddress_countryDeAndOidSystem() {
        Patient patient = AdtToPatient.map(parse("ipf_pcd01-ORU-R01-vitals-8859-1.hl7"), DEFAULTS);

        assertThat(patient.getAddressFirstRep().getCity()).isEqualTo("Bremen");
        assertThat(patient.getAddressFirstRep().getCountry()).isEqualTo("DE");
        assertThat(identifier(patient, "111222333444").getSystem()).isEqualTo("urn:oid:1.3.4.565");
        assertThat(patient.getTelecomFirstRep().getValue()).isEqualTo("123456"); // XTN-7 only
        // PID-29 has a date, but PID-30 says N: the explicit indicator wins
        assertThat(patient.getDeceasedBooleanType().getValue()).isFalse();
    }

    @Test
    void a40Sample_givesMrgPriorIdentifiers() {
        Message a40 = parse("msft_ADT-A40-01.hl7");

        List<Identifier> prior = AdtToPatient.priorIdentifiers(a40, DEFAULTS);

        assertThat(prior).extracting(Identifier::getSystem, Identifier::getValue).containsExactly(
                tuple(AdtToPatient.AUTHORITY_SYSTEM_PREFIX + "BCBS", "56789"));
        assertThat(AdtToPatient.map(a40, DEFAULTS).getIdentifierFirstRep().getValue()).isEqualTo("12345");
        assertThat(AdtToPatient.mergeSourceKvnr(a40, DEFAULTS)).isEmpty();
    }

    @Test
    void messageWithoutMrg_hasNoPriorIdentifiers() {
        assertThat(AdtToPatient.priorIdentifiers(parse("msft_ADT-A01-01.hl7"), DEFAULTS)).isEmpty();
    }

    @Test
    void germanA40WithKvnrInMrg_givesMergeSourceKvnr() {
        Message a40 = Hl7Inbound.parse("MSH|^~\\&|KIS|KH|CR|CR|20240502||ADT^A40^ADT_A39|7|P|2.5\r"
                + "EVN|A40|20240502\rPID|1||A123456780^^^KVNR^KVNR||Muster^Max\rMRG|B987654321^^^GKV~0815^^^KH^PI\r")
                .message();

        assertThat(AdtToPatient.mergeSourceKvnr(a40, DEFAULTS)).contains("B987654321");
        assertThat(AdtToPatient.priorIdentifiers(a40, DEFAULTS)).hasSize(2);
    }

    // ----------------------------------------------------------------------- German ADT^A01

    @Test
    void germanLatin1A01_mapsKvnrHospitalIdAndUmlauts() {
        Patient patient = AdtToPatient.map(parseGerman(GERMAN_A01), DEFAULTS);

        Identifier kvnr = identifier(patient, "X110411319");
        assertThat(kvnr.getSystem()).isEqualTo(Systems.KVNR);
        assertThat(kvnr.getType().getCodingFirstRep().getSystem()).isEqualTo(AdtToPatient.IDENTIFIER_TYPE_DE_BASIS);
        assertThat(kvnr.getType().getCodingFirstRep().getCode()).isEqualTo("KVZ10");
        Identifier local = identifier(patient, "4711");
        assertThat(local.getSystem()).isEqualTo(AdtToPatient.AUTHORITY_SYSTEM_PREFIX + "KH_BSP");
        assertThat(local.getType().getCodingFirstRep().getCode()).isEqualTo("PI");

        HumanName official = patient.getName().get(0);
        assertThat(official.getUse()).isEqualTo(NameUse.OFFICIAL);
        assertThat(official.getFamily()).isEqualTo("Müßig");
        assertThat(official.getGiven()).extracting(StringType::getValue).containsExactly("Jürgen", "Karl-Heinz");
        assertThat(official.getPrefix()).extracting(StringType::getValue).containsExactly("Dr.");
        HumanName birthName = patient.getName().get(1);
        assertThat(birthName.getUse()).isEqualTo(NameUse.MAIDEN);
        assertThat(birthName.getFamily()).isEqualTo("Großmann");

        assertThat(patient.getBirthDateElement().getValueAsString()).isEqualTo("1963-02-17");
        assertThat(patient.getGender()).isEqualTo(AdministrativeGender.MALE);

        Address address = patient.getAddressFirstRep();
        assertThat(address.getLine()).extracting(StringType::getValue)
                .containsExactly("Straßburger Straße 12", "c/o Weiß");
        assertThat(address.getCity()).isEqualTo("Löningen");
        assertThat(address.getState()).isEqualTo("NI");
        assertThat(address.getPostalCode()).isEqualTo("49624");
        assertThat(address.getCountry()).isEqualTo("DE");
        assertThat(address.getUse()).isEqualTo(Address.AddressUse.HOME);

        assertThat(patient.getTelecom()).extracting(ContactPoint::getSystem, ContactPoint::getValue, ContactPoint::getUse)
                .containsExactly(
                        tuple(ContactPointSystem.PHONE, "+49 5432 12345", ContactPointUse.HOME),
                        tuple(ContactPointSystem.EMAIL, "juergen.muessig@example.de",
                                ContactPointUse.HOME),
                        tuple(ContactPointSystem.FAX, "+49 5432 999", ContactPointUse.WORK));
        assertThat(patient.hasDeceased()).isFalse();
    }

    @Test
    void germanA01WithoutMsh18_latin1BytesAreDetected() {
        String withoutMsh18 = GERMAN_A01.replace("|DEU|8859/1", "|DEU|");
        Message message = Hl7Inbound.decodeAndParse(withoutMsh18.getBytes(StandardCharsets.ISO_8859_1), null).message();

        assertThat(AdtToPatient.map(message, DEFAULTS).getNameFirstRep().getFamily()).isEqualTo("Müßig");
    }

    @Test
    void kvnrAuthorityWithMalformedValue_becomesPlainIdentifier() {
        Patient patient = AdtToPatient.map(pid("|X11041131^^^KVNR^KVNR~x110411319^^^GKV~1234567890^^^^KVNR"), DEFAULTS);

        assertThat(patient.getIdentifier()).noneMatch(i -> Systems.KVNR.equals(i.getSystem()));
        assertThat(identifier(patient, "X11041131").getSystem()).isEqualTo(AdtToPatient.AUTHORITY_SYSTEM_PREFIX + "KVNR");
        assertThat(identifier(patient, "X11041131").hasType()).isFalse();
        assertThat(identifier(patient, "x110411319").getSystem()).isEqualTo(AdtToPatient.AUTHORITY_SYSTEM_PREFIX + "GKV");
        assertThat(identifier(patient, "1234567890").hasSystem()).isFalse();
    }

    @Test
    void kvnrBuiltInAuthorities_allGiveKvnrSystem() {
        Patient patient = AdtToPatient.map(pid("|A000000001^^^KVNR~B000000002^^^gkv~C000000003^^^EGK"
                + "~D000000004^^^KVK~E000000005^^^&1.2.276.0.76.4.8&ISO~F000000006^^^KH_BSP^KVNR"), DEFAULTS);

        assertThat(patient.getIdentifier()).hasSize(6).allSatisfy(i -> assertThat(i.getSystem()).isEqualTo(Systems.KVNR));
    }

    @Test
    void configuredAuthority_winsOverGenericRules() {
        AssigningAuthorities authorities = new AssigningAuthorities(Map.of(
                "kh_bsp", "https://kh-beispiel.example/sid/patient",
                "1.2.3.4.5", "https://other.example/sid/pid"));

        Patient patient = AdtToPatient.map(pid("|4711^^^KH_BSP^PI~0815^^^LAB&1.2.3.4.5&ISO^PI~X110411319^^^KVNR"),
                authorities);

        assertThat(identifier(patient, "4711").getSystem()).isEqualTo("https://kh-beispiel.example/sid/patient");
        assertThat(identifier(patient, "0815").getSystem()).isEqualTo("https://other.example/sid/pid");
        assertThat(identifier(patient, "X110411319").getSystem()).isEqualTo(Systems.KVNR); // built-ins still apply
    }

    @ParameterizedTest(name = "{0}")
    @CsvSource({"MR, MR", "PI, PI", "SS, SS", "mr, MR", "pI, PI"})
    void typeOfTable0203_isCodedInV20203AsTheTableSpellsIt(String cx5, String code) {
        Identifier id = AdtToPatient.map(pid("|4711^^^KH_BSP^" + cx5), DEFAULTS).getIdentifierFirstRep();

        assertThat(id.getType().getCoding()).extracting(Coding::getSystem, Coding::getCode)
                .containsExactly(tuple(AdtToPatient.V2_0203, code));
        assertThat(id.getType().hasText()).isFalse();
    }

    @ParameterizedTest(name = "{0}")
    @CsvSource({"MRN", "NHSNMBR", "mrn", "XYZ"})
    void localTypeNotInTable0203_isKeptAsTextWithoutCoding(String cx5) {
        Identifier id = AdtToPatient.map(pid("|4711^^^KH_BSP^" + cx5), DEFAULTS).getIdentifierFirstRep();

        assertThat(id.getValue()).isEqualTo("4711");
        assertThat(id.getType().hasCoding()).isFalse();
        assertThat(id.getType().getText()).isEqualTo(cx5);
    }

    @Test
    void mdmSampleWithLocalTypes_keepsThemAsTextAndItsPatientValidates() {
        Patient patient = AdtToPatient.map(parse("msft_MDM-T02-03.hl7"), DEFAULTS);
        patient.setId("7f1d2c3b-aaaa-4bbb-8ccc-0123456789ab"); // as the inbound route validates it

        assertThat(patient.getIdentifier()).extracting(Identifier::getValue, i -> i.getType().getText(),
                i -> i.getType().hasCoding()).containsExactly(
                        tuple("3196695816", "MRN", false),
                        tuple("6597923189", "NHSNMBR", false));
        assertThat(SharedValidator.VALIDATOR.validate(patient).errors()).isEmpty();
        assertThat(SharedValidator.VALIDATOR.validateFully(patient).errors()).isEmpty();
    }

    @Test
    void mrgPriorIdentifiers_mapTheirTypeLikePid3() {
        Message a40 = Hl7Inbound.parse("MSH|^~\\&|KIS|KH|CR|CR|20240502||ADT^A40^ADT_A39|1|P|2.5\r"
                + "EVN|A40|20240502\rPID|1||4711^^^KH_BSP^PI\rMRG|0815^^^KH_BSP^MRN~0816^^^KH_BSP^mr\r").message();

        assertThat(AdtToPatient.priorIdentifiers(a40, DEFAULTS)).extracting(Identifier::getValue,
                i -> i.getType().getText(), i -> i.getType().getCodingFirstRep().getCode()).containsExactly(
                        tuple("0815", "MRN", null),
                        tuple("0816", null, "MR"));
    }

    @Test
    void authorityWithBlanks_isPercentEncodedInSystem() {
        Patient patient = AdtToPatient.map(pid("|3196695816^^^SIMULATOR MRN^MRN"), DEFAULTS);

        assertThat(patient.getIdentifierFirstRep().getSystem())
                .isEqualTo(AdtToPatient.AUTHORITY_SYSTEM_PREFIX + "SIMULATOR%20MRN");
    }

    // ----------------------------------------------------------------------- single elements

    @ParameterizedTest(name = "{0} -> {1}")
    @CsvSource({"1963, 1963", "196302, 1963-02", "19630217, 1963-02-17", "196302171230+0100, 1963-02-17"})
    void birthDate_keepsItsPrecision(String ts, String expected) {
        Patient patient = AdtToPatient.map(pid("|4711||Muster^Max||" + ts), DEFAULTS);

        assertThat(patient.getBirthDateElement().getValueAsString()).isEqualTo(expected);
    }

    @Test
    void invalidBirthDate_isLeftOut() {
        assertThat(AdtToPatient.map(pid("|4711||Muster^Max||19631302"), DEFAULTS).hasBirthDate()).isFalse();
        assertThat(AdtToPatient.map(pid("|4711||Muster^Max||unbekannt"), DEFAULTS).hasBirthDate()).isFalse();
    }

    @ParameterizedTest(name = "{0} -> {1}")
    @CsvSource({"M, MALE", "F, FEMALE", "O, OTHER", "A, OTHER", "U, UNKNOWN", "N, UNKNOWN", "f, FEMALE"})
    void gender_mapsTable0001(String code, AdministrativeGender expected) {
        assertThat(AdtToPatient.map(pid("|4711||Muster^Max|||" + code), DEFAULTS).getGender()).isEqualTo(expected);
    }

    @Test
    void germanGenderDivers_isOtherWithAmtlichExtension() {
        Patient patient = AdtToPatient.map(pid("|4711||Muster^Max|||D"), DEFAULTS);

        assertThat(patient.getGender()).isEqualTo(AdministrativeGender.OTHER);
        Coding amtlich = (Coding) patient.getGenderElement().getExtensionByUrl(AdtToPatient.EXT_GENDER_AMTLICH).getValue();
        assertThat(amtlich.getSystem()).isEqualTo(AdtToPatient.GENDER_AMTLICH);
        assertThat(amtlich.getCode()).isEqualTo("D");
    }

    @Test
    void unknownGenderCode_leavesGenderEmpty() {
        assertThat(AdtToPatient.map(pid("|4711||Muster^Max|||Q"), DEFAULTS).hasGender()).isFalse();
    }

    @Test
    void streetNameAndHouseNumber_giveLineAndAdxpExtensions() {
        Patient patient = AdtToPatient.map(pid("|4711||Muster^Max||||||&Hauptstraße&5^^Berlin^^10115^DEU"), DEFAULTS);

        Address address = patient.getAddressFirstRep();
        assertThat(address.getLine().get(0).getValue()).isEqualTo("Hauptstraße 5");
        assertThat(address.getLine().get(0).getExtensionString(AdtToPatient.EXT_ADXP_STREET_NAME)).isEqualTo("Hauptstraße");
        assertThat(address.getLine().get(0).getExtensionString(AdtToPatient.EXT_ADXP_HOUSE_NUMBER)).isEqualTo("5");
        assertThat(address.getCountry()).isEqualTo("DE");
    }

    @Test
    void deceasedIndicatorWithoutDate_isDeceasedBoolean() {
        String fields = "|4711||Muster^Max" + "|".repeat(24) + "|Y"; // PID-30

        assertThat(AdtToPatient.map(pid(fields), DEFAULTS).getDeceasedBooleanType().getValue()).isTrue();
    }

    @Test
    void deathDateWithoutOffset_isBerlinLocalTime() {
        String fields = "|4711||Muster^Max" + "|".repeat(23) + "|202407011430|Y"; // PID-29, PID-30

        assertThat(AdtToPatient.map(pid(fields), DEFAULTS).getDeceasedDateTimeType().getValueAsString())
                .isEqualTo("2024-07-01T14:30:00+02:00");
    }

    @Test
    void messageWithoutPid_isRejectedAsSegmentSequenceError() {
        Message ack = Hl7Inbound.parse("MSH|^~\\&|A|B|C|D|2024||ACK|9|P|2.5\rMSA|AA|1\r").message();

        assertThatThrownBy(() -> AdtToPatient.map(ack, DEFAULTS))
                .isInstanceOfSatisfying(Hl7InboundException.class, e -> {
                    assertThat(e.errorCode()).isEqualTo(ErrorCode.INVALID_REQUEST);
                    assertThat(e.hl7ErrorCode()).isEqualTo("100");
                    assertThat(e.controlId()).contains("9");
                });
    }

    @Test
    void mapping_doesNotChangeTheMessage() throws Exception {
        Message message = parse("msft_ADT-A40-01.hl7");
        String before = message.encode();

        AdtToPatient.map(message, DEFAULTS);
        AdtToPatient.priorIdentifiers(message, DEFAULTS);

        assertThat(message.encode()).isEqualTo(before);
    }
}
