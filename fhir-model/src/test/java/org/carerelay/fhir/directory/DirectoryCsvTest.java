package org.carerelay.fhir.directory;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;
import static org.assertj.core.api.Assertions.catchThrowableOfType;
import static org.assertj.core.api.Assertions.tuple;

import java.io.IOException;
import java.io.Reader;
import java.io.StringReader;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.EnumSet;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.stream.Collectors;
import java.util.stream.Stream;
import org.carerelay.fhir.OrganizationType;
import org.carerelay.fhir.Systems;
import org.carerelay.fhir.directory.DirectoryCsv.Entry;
import org.carerelay.fhir.directory.DirectoryCsvException.RowError;
import org.hl7.fhir.r4.model.Address;
import org.hl7.fhir.r4.model.ContactPoint;
import org.hl7.fhir.r4.model.Endpoint;
import org.hl7.fhir.r4.model.Identifier;
import org.hl7.fhir.r4.model.Organization;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.Arguments;
import org.junit.jupiter.params.provider.MethodSource;

class DirectoryCsvTest {

    // ------------------------------------------------------------------------------ helpers

    private static List<Entry> parse(String csv) {
        return DirectoryCsv.parse(new StringReader(csv));
    }

    private static DirectoryCsvException parseFailing(String csv) {
        DirectoryCsvException e = catchThrowableOfType(DirectoryCsvException.class, () -> parse(csv));
        assertThat(e).as("expected the CSV to be rejected").isNotNull();
        return e;
    }

    /** A full-width data row (canonical column order) with name=Test, type=hospital plus overrides. */
    private static String row(String... columnValuePairs) {
        Map<String, String> values = new LinkedHashMap<>();
        values.put(DirectoryCsv.NAME, "Test");
        values.put(DirectoryCsv.TYPE, "hospital");
        for (int i = 0; i < columnValuePairs.length; i += 2) {
            values.put(columnValuePairs[i], columnValuePairs[i + 1]);
        }
        assertThat(DirectoryCsv.columns()).containsAll(values.keySet());
        return DirectoryCsv.columns().stream()
                .map(c -> quote(values.getOrDefault(c, "")))
                .collect(Collectors.joining(","));
    }

    private static String quote(String value) {
        if (value.contains(",") || value.contains("\"") || value.contains("\n") || value.contains("\r")) {
            return '"' + value.replace("\"", "\"\"") + '"';
        }
        return value;
    }

    /** Header plus the given rows, one per line, {@code \n} separated. */
    private static String file(String... rows) {
        return DirectoryCsv.header() + "\n" + String.join("\n", rows) + "\n";
    }

    private static String identifier(Organization org, String system) {
        return org.getIdentifier().stream()
                .filter(i -> system.equals(i.getSystem()))
                .map(Identifier::getValue)
                .findFirst().orElse(null);
    }

    private static String telecom(Organization org, ContactPoint.ContactPointSystem system) {
        return org.getTelecom().stream()
                .filter(t -> t.getSystem() == system)
                .map(ContactPoint::getValue)
                .findFirst().orElse(null);
    }

    // ------------------------------------------------------------------------------ happy path

    @Test
    void header_listsAllColumnsInCanonicalOrder() {
        assertThat(DirectoryCsv.header()).isEqualTo("id,name,type,iknr,bsnr,telematik_id,street,postal_code,city,"
                + "phone,fax,email,endpoint_type,endpoint_address,hl7_alias,hl7_allowed_addresses,active");
        assertThat(DirectoryCsv.columns()).hasSize(17);
    }

    @Test
    void validFileWithBomCrlfAndQuotedCommasQuotesAndNewlines_parsesEveryRecord() {
        String csv = "\uFEFF" + DirectoryCsv.header() + "\r\n"
                + "klinik-a,\"Klinikum A, Haus \"\"Nord\"\"\",hospital,260100012,,,\"Haus B\r\nKlinikstraße 1\","
                + "12345,Beispielstadt,+49 30 1234567,+49 30 1234568,info@klinik-a.example.org,,,,,true\r\n"
                + "praxis-b,Praxis Dr. Müller,physician-practice,,721234500,,Lindenweg 2,54321,Musterhausen,,"
                + "+49 221 7654321,,,,,,\r\n";

        List<Entry> entries = parse(csv);

        assertThat(entries).hasSize(2);
        Entry first = entries.get(0);
        assertThat(first.line()).isEqualTo(2);
        assertThat(first.organization().getName()).isEqualTo("Klinikum A, Haus \"Nord\"");
        assertThat(first.organization().getAddressFirstRep().getLine())
                .extracting(l -> l.getValue())
                .containsExactly("Haus B", "Klinikstraße 1");
        assertThat(first.endpoint()).isNull();
        Entry second = entries.get(1);
        assertThat(second.line()).as("the quoted street spans lines 2 and 3").isEqualTo(4);
        assertThat(second.organization().getName()).isEqualTo("Praxis Dr. Müller");
        assertThat(identifier(second.organization(), Systems.BSNR)).isEqualTo("721234500");
        assertThat(second.organization().getActive()).as("empty active means true").isTrue();
    }

    @Test
    void completeRow_mapsToOrganizationAndFhirRestEndpoint() {
        String csv = file(row(DirectoryCsv.ID, "klinikum-beispielstadt",
                DirectoryCsv.NAME, "Klinikum Beispielstadt",
                DirectoryCsv.TYPE, "hospital",
                DirectoryCsv.IKNR, "260100012",
                DirectoryCsv.BSNR, "721234500",
                DirectoryCsv.TELEMATIK_ID, "5-2-260100012",
                DirectoryCsv.STREET, "Klinikstraße 1",
                DirectoryCsv.POSTAL_CODE, "34567",
                DirectoryCsv.CITY, "Beispielstadt",
                DirectoryCsv.PHONE, "+49 30 1234567",
                DirectoryCsv.FAX, "+49 30 1234568",
                DirectoryCsv.EMAIL, "info@klinikum-beispielstadt.example.org",
                DirectoryCsv.ENDPOINT_TYPE, "hl7-fhir-rest",
                DirectoryCsv.ENDPOINT_ADDRESS, "https://fhir.klinikum-beispielstadt.example.org/fhir",
                DirectoryCsv.HL7_ALIAS, "KLINIKUM_BSP",
                DirectoryCsv.ACTIVE, "true"));

        Entry entry = parse(csv).get(0);

        Organization org = entry.organization();
        assertThat(org.getIdElement().getIdPart()).isEqualTo("klinikum-beispielstadt");
        assertThat(org.getActive()).isTrue();
        assertThat(org.getName()).isEqualTo("Klinikum Beispielstadt");
        assertThat(OrganizationType.of(org)).contains(OrganizationType.HOSPITAL);
        assertThat(identifier(org, Systems.IKNR)).isEqualTo("260100012");
        assertThat(identifier(org, Systems.BSNR)).isEqualTo("721234500");
        assertThat(identifier(org, Systems.TELEMATIK_ID)).isEqualTo("5-2-260100012");
        assertThat(identifier(org, Systems.HL7_FACILITY)).isEqualTo("KLINIKUM_BSP");
        assertThat(Systems.HL7_FACILITY).isEqualTo("https://fhir.carerelay.org/sid/hl7-facility");
        assertThat(org.getAddress()).hasSize(1);
        Address address = org.getAddressFirstRep();
        assertThat(address.getLine()).extracting(l -> l.getValue()).containsExactly("Klinikstraße 1");
        assertThat(address.getPostalCode()).isEqualTo("34567");
        assertThat(address.getCity()).isEqualTo("Beispielstadt");
        assertThat(address.getCountry()).isEqualTo("DE");
        assertThat(address.getUse()).isEqualTo(Address.AddressUse.WORK);
        assertThat(telecom(org, ContactPoint.ContactPointSystem.PHONE)).isEqualTo("+49 30 1234567");
        assertThat(telecom(org, ContactPoint.ContactPointSystem.FAX)).isEqualTo("+49 30 1234568");
        assertThat(telecom(org, ContactPoint.ContactPointSystem.EMAIL))
                .isEqualTo("info@klinikum-beispielstadt.example.org");
        assertThat(org.getTelecom()).allSatisfy(t -> assertThat(t.getUse()).isEqualTo(ContactPoint.ContactPointUse.WORK));
        assertThat(org.getEndpoint()).as("the importer links the endpoint").isEmpty();

        Endpoint endpoint = entry.endpoint();
        assertThat(endpoint).isNotNull();
        assertThat(endpoint.getStatus()).isEqualTo(Endpoint.EndpointStatus.ACTIVE);
        assertThat(endpoint.getConnectionType().getSystem()).isEqualTo(Systems.ENDPOINT_CONNECTION_TYPE);
        assertThat(endpoint.getConnectionType().getCode()).isEqualTo("hl7-fhir-rest");
        assertThat(endpoint.getAddress()).isEqualTo("https://fhir.klinikum-beispielstadt.example.org/fhir");
        assertThat(endpoint.getName()).isEqualTo("Klinikum Beispielstadt (hl7-fhir-rest)");
        assertThat(endpoint.getPayloadType()).hasSize(1);
        assertThat(endpoint.getPayloadTypeFirstRep().getCoding()).singleElement().satisfies(c -> {
            assertThat(c.getSystem()).isEqualTo("http://terminology.hl7.org/CodeSystem/endpoint-payload-type");
            assertThat(c.getCode()).isEqualTo("any");
        });
        assertThat(endpoint.getPayloadMimeType()).extracting(m -> m.getValue()).containsExactly("application/fhir+json");
    }

    @Test
    void mllpEndpoint_getsHl7v2MimeType() {
        Entry entry = parse(file(row(DirectoryCsv.NAME, "Pflegedienst Sonnenschein", DirectoryCsv.TYPE, "ambulatory-care",
                DirectoryCsv.ENDPOINT_TYPE, "hl7v2-mllp",
                DirectoryCsv.ENDPOINT_ADDRESS, "mllp://pflege-sonnenschein.example.net:2575"))).get(0);

        assertThat(entry.endpoint().getConnectionType().getCode()).isEqualTo("hl7v2-mllp");
        assertThat(entry.endpoint().getAddress()).isEqualTo("mllp://pflege-sonnenschein.example.net:2575");
        assertThat(entry.endpoint().getName()).isEqualTo("Pflegedienst Sonnenschein (hl7v2-mllp)");
        assertThat(entry.endpoint().getPayloadMimeType()).extracting(m -> m.getValue())
                .containsExactly("x-application/hl7-v2+er7");
    }

    @Test
    void minimalRow_hasNoIdNoAddressNoTelecomNoEndpoint() {
        Entry entry = parse("name,type\nSozialdienst,other\n").get(0);

        Organization org = entry.organization();
        assertThat(org.hasId()).isFalse();
        assertThat(org.getActive()).isTrue();
        assertThat(org.getIdentifier()).isEmpty();
        assertThat(org.getAddress()).isEmpty();
        assertThat(org.getTelecom()).isEmpty();
        assertThat(entry.endpoint()).isNull();
    }

    @Test
    void columnsInAnyOrderAndCase_areMatchedByName() {
        List<Entry> entries = parse(" TYPE ,Email,Name,IKNR\ncare-home,heim@example.org,Haus Abendrot,450500018\n");

        Organization org = entries.get(0).organization();
        assertThat(org.getName()).isEqualTo("Haus Abendrot");
        assertThat(OrganizationType.of(org)).contains(OrganizationType.CARE_HOME);
        assertThat(identifier(org, Systems.IKNR)).isEqualTo("450500018");
        assertThat(telecom(org, ContactPoint.ContactPointSystem.EMAIL)).isEqualTo("heim@example.org");
    }

    @Test
    void commentsAndBlankLines_areSkippedButCountedForLineNumbers() {
        String csv = "# directory export\n"
                + "\n"
                + "name,type\n"
                + "# first block\n"
                + "A,hospital\n"
                + "   \n"
                + "B,care-home\n";

        List<Entry> entries = parse(csv);

        assertThat(entries).extracting(Entry::line).containsExactly(5, 7);
    }

    @Test
    void activeFalse_makesOrganizationInactive() {
        Entry entry = parse(file(row(DirectoryCsv.ACTIVE, "FALSE"))).get(0);

        assertThat(entry.organization().getActive()).isFalse();
    }

    @Test
    void valuesAreTrimmed_andSpacesAroundQuotedFieldsAreTolerated() {
        Entry entry = parse("name, type ,iknr\n  \"Klinik, Nord\"  ,  hospital , 260100012 \n").get(0);

        assertThat(entry.organization().getName()).isEqualTo("Klinik, Nord");
        assertThat(identifier(entry.organization(), Systems.IKNR)).isEqualTo("260100012");
    }

    @Test
    void sameDigitsAsIknrAndAsBsnrInDifferentRows_areNotDuplicates() {
        assertThat(parse(file(row(DirectoryCsv.IKNR, "123456789"), row(DirectoryCsv.BSNR, "123456789")))).hasSize(2);
    }

    @Test
    void mllpPortBoundaries_1And65535_areAccepted() {
        assertThat(parse(file(
                row(DirectoryCsv.ENDPOINT_TYPE, "hl7v2-mllp", DirectoryCsv.ENDPOINT_ADDRESS, "mllp://10.0.0.1:1"),
                row(DirectoryCsv.ENDPOINT_TYPE, "hl7v2-mllp", DirectoryCsv.ENDPOINT_ADDRESS, "mllp://hl7.example.org:65535"),
                row(DirectoryCsv.ENDPOINT_TYPE, "hl7-fhir-rest", DirectoryCsv.ENDPOINT_ADDRESS, "http://localhost:8080/fhir"))))
                .hasSize(3);
    }

    @Test
    void headerOnlyFile_yieldsNoEntries() {
        assertThat(parse(DirectoryCsv.header() + "\r\n")).isEmpty();
        assertThat(parse("name,type")).isEmpty();
    }

    @Test
    void readerIsNotClosed() throws IOException {
        Reader reader = new StringReader("name,type\nA,other\n");
        DirectoryCsv.parse(reader);
        assertThat(reader.ready()).isTrue(); // a closed StringReader throws here
    }

    // ------------------------------------------------------------------------------ file-level errors

    @Test
    void emptyFile_isRejectedForMissingHeader() {
        DirectoryCsvException e = parseFailing("");

        assertThat(e.errors()).singleElement().satisfies(err -> {
            assertThat(err.line()).isEqualTo(1);
            assertThat(err.message()).contains("empty");
        });
    }

    @Test
    void fileWithOnlyBomCommentsAndBlankLines_isRejectedForMissingHeader() {
        assertThat(parseFailing("\uFEFF# nothing here\n\n").errors()).hasSize(1);
    }

    @Test
    void unknownColumn_isReportedOnTheHeaderLine() {
        DirectoryCsvException e = parseFailing("# exported\nname,type,kvnr\nA,hospital,X\n");

        assertThat(e.errors()).containsExactly(new RowError(2, "kvnr", e.errors().get(0).message()));
        assertThat(e.errors().get(0).message()).contains("unknown column");
        assertThat(e.getMessage()).contains("line 2, column kvnr: unknown column");
    }

    @Test
    void missingRequiredColumns_areReported() {
        DirectoryCsvException e = parseFailing("id,iknr\nx,260100012\n");

        assertThat(e.errors()).extracting(RowError::line, RowError::column)
                .containsExactly(tuple(1, "name"),
                        tuple(1, "type"));
    }

    @Test
    void repeatedOrUnnamedColumn_isRejected() {
        DirectoryCsvException e = parseFailing("name,type,Name,\nA,hospital,B,\n");

        assertThat(e.errors()).extracting(RowError::column).containsExactly("name", null);
    }

    @Test
    void semicolonSeparatedHeader_isRejectedWithAHint() {
        DirectoryCsvException e = parseFailing("name;type\nA;hospital\n");

        assertThat(e.errors()).singleElement().satisfies(err -> assertThat(err.message()).contains("semicolon"));
    }

    // ------------------------------------------------------------------------------ row validation

    static Stream<Arguments> invalidValues() {
        return Stream.of(
                Arguments.of(DirectoryCsv.ID, "has space"),
                Arguments.of(DirectoryCsv.ID, "umlaut-ä"),
                Arguments.of(DirectoryCsv.ID, "x".repeat(65)),
                Arguments.of(DirectoryCsv.NAME, ""),
                Arguments.of(DirectoryCsv.NAME, "   "),
                Arguments.of(DirectoryCsv.NAME, "Zwei\nZeilen"),
                Arguments.of(DirectoryCsv.TYPE, ""),
                Arguments.of(DirectoryCsv.TYPE, "pharmacy"),
                Arguments.of(DirectoryCsv.IKNR, "12345678"),
                Arguments.of(DirectoryCsv.IKNR, "1234567890"),
                Arguments.of(DirectoryCsv.IKNR, "12345678X"),
                Arguments.of(DirectoryCsv.BSNR, "72 1234500"),
                Arguments.of(DirectoryCsv.TELEMATIK_ID, "5-2 123"),
                Arguments.of(DirectoryCsv.POSTAL_CODE, "1234"),
                Arguments.of(DirectoryCsv.POSTAL_CODE, "D-12345"),
                Arguments.of(DirectoryCsv.CITY, "Beispiel\nstadt"),
                Arguments.of(DirectoryCsv.PHONE, "030 CALL-ME"),
                Arguments.of(DirectoryCsv.PHONE, "12345"),
                Arguments.of(DirectoryCsv.FAX, "+49 30 12 34 56 78 90 12 34 56 78"),
                Arguments.of(DirectoryCsv.EMAIL, "info.example.org"),
                Arguments.of(DirectoryCsv.EMAIL, "a@b@example.org"),
                Arguments.of(DirectoryCsv.EMAIL, "info@localhost"),
                Arguments.of(DirectoryCsv.EMAIL, "@example.org"),
                Arguments.of(DirectoryCsv.EMAIL, "info@example."),
                Arguments.of(DirectoryCsv.EMAIL, "in fo@example.org"),
                Arguments.of(DirectoryCsv.HL7_ALIAS, "KLINIKUM BSP"),
                Arguments.of(DirectoryCsv.HL7_ALIAS, "KLINIKUM^BSP"),
                Arguments.of(DirectoryCsv.ACTIVE, "yes"));
    }

    @ParameterizedTest(name = "{0} = \"{1}\"")
    @MethodSource("invalidValues")
    void invalidValue_isReportedOnItsColumn(String column, String value) {
        DirectoryCsvException e = parseFailing(file(row(column, value)));

        assertThat(e.errors()).singleElement().satisfies(err -> {
            assertThat(err.line()).isEqualTo(2);
            assertThat(err.column()).isEqualTo(column);
        });
    }

    static Stream<Arguments> invalidEndpoints() {
        return Stream.of(
                Arguments.of("", "https://fhir.example.org/fhir", DirectoryCsv.ENDPOINT_ADDRESS),
                Arguments.of("hl7-fhir-rest", "", DirectoryCsv.ENDPOINT_ADDRESS),
                Arguments.of("hl7v2-mllp", "", DirectoryCsv.ENDPOINT_ADDRESS),
                Arguments.of("soap", "https://fhir.example.org/fhir", DirectoryCsv.ENDPOINT_TYPE),
                Arguments.of("hl7-fhir-rest", "ftp://fhir.example.org/fhir", DirectoryCsv.ENDPOINT_ADDRESS),
                Arguments.of("hl7-fhir-rest", "fhir.example.org/fhir", DirectoryCsv.ENDPOINT_ADDRESS),
                Arguments.of("hl7-fhir-rest", "https://", DirectoryCsv.ENDPOINT_ADDRESS),
                Arguments.of("hl7-fhir-rest", "https://user:secret@fhir.example.org/fhir", DirectoryCsv.ENDPOINT_ADDRESS),
                Arguments.of("hl7-fhir-rest", "mllp://hl7.example.org:2575", DirectoryCsv.ENDPOINT_ADDRESS),
                Arguments.of("hl7v2-mllp", "https://fhir.example.org/fhir", DirectoryCsv.ENDPOINT_ADDRESS),
                Arguments.of("hl7v2-mllp", "mllp://hl7.example.org", DirectoryCsv.ENDPOINT_ADDRESS),
                Arguments.of("hl7v2-mllp", "mllp://hl7.example.org:0", DirectoryCsv.ENDPOINT_ADDRESS),
                Arguments.of("hl7v2-mllp", "mllp://hl7.example.org:65536", DirectoryCsv.ENDPOINT_ADDRESS),
                Arguments.of("hl7v2-mllp", "mllp://hl7.example.org:2575/path", DirectoryCsv.ENDPOINT_ADDRESS),
                Arguments.of("hl7v2-mllp", "mllp://:2575", DirectoryCsv.ENDPOINT_ADDRESS));
    }

    @ParameterizedTest(name = "{0} \"{1}\"")
    @MethodSource("invalidEndpoints")
    void invalidEndpoint_isReportedOnTheOffendingColumn(String type, String address, String column) {
        DirectoryCsvException e = parseFailing(file(row(
                DirectoryCsv.ENDPOINT_TYPE, type, DirectoryCsv.ENDPOINT_ADDRESS, address)));

        assertThat(e.errors()).singleElement().satisfies(err -> {
            assertThat(err.line()).isEqualTo(2);
            assertThat(err.column()).isEqualTo(column);
        });
    }

    @Test
    void tooFewOrTooManyFields_areReportedForTheRecord() {
        DirectoryCsvException e = parseFailing("name,type,iknr\nA,hospital\nB,hospital,260100012,extra\n");

        assertThat(e.errors()).extracting(RowError::line, RowError::column)
                .containsExactly(tuple(2, null),
                        tuple(3, null));
        assertThat(e.errors().get(0).message()).contains("expected 3 fields").contains("found 2");
        assertThat(e.getMessage()).contains("line 2: expected 3 fields");
    }

    @Test
    void malformedFax_isReportedWithItsLineNumber() {
        String csv = file(
                row(DirectoryCsv.NAME, "Klinik", DirectoryCsv.STREET, "Haus A\nEbene 2\nKlinikstraße 1"),
                row(DirectoryCsv.NAME, "Praxis", DirectoryCsv.FAX, "kein Fax"));

        DirectoryCsvException e = parseFailing(csv);

        assertThat(e.errors()).singleElement().satisfies(err -> {
            assertThat(err.line()).as("row 1 spans lines 2-4").isEqualTo(5);
            assertThat(err.column()).isEqualTo("fax");
        });
        assertThat(e.getMessage()).contains("line 5, column fax: ");
    }

    @Test
    void lineNumbersAfterMultiLineQuotedFieldsWithCrlf_countPhysicalLines() {
        String csv = "name,type,street\r\n"
                + "A,hospital,\"one\r\ntwo\r\nthree\"\r\n"
                + "\r\n"
                + "B,hospital,x\r\n"
                + "C,pharmacy,y\r\n";

        DirectoryCsvException e = parseFailing(csv);

        assertThat(e.errors()).extracting(RowError::line, RowError::column)
                .containsExactly(tuple(7, "type"));
    }

    @Test
    void errorsInSeveralRowsAndColumns_areAllCollectedInFileOrder() {
        String csv = file(
                row(DirectoryCsv.IKNR, "1"),
                row(DirectoryCsv.NAME, "Fine"),
                row(DirectoryCsv.TYPE, "unknown", DirectoryCsv.POSTAL_CODE, "ABCDE", DirectoryCsv.EMAIL, "nope"),
                row(DirectoryCsv.ACTIVE, "maybe"));

        DirectoryCsvException e = parseFailing(csv);

        assertThat(e.errors()).extracting(RowError::line, RowError::column).containsExactly(
                tuple(2, "iknr"),
                tuple(4, "type"),
                tuple(4, "postal_code"),
                tuple(4, "email"),
                tuple(5, "active"));
        assertThat(e.getMessage()).contains("5 errors")
                .contains("line 2, column iknr: ")
                .contains("line 5, column active: ");
    }

    @Test
    void duplicateIdsAndIdentifiers_areReportedOnTheLaterRow() {
        String csv = file(
                row(DirectoryCsv.ID, "a", DirectoryCsv.IKNR, "260100012", DirectoryCsv.BSNR, "721234500",
                        DirectoryCsv.TELEMATIK_ID, "5-2-1", DirectoryCsv.HL7_ALIAS, "KLINIK_A"),
                row(DirectoryCsv.ID, "b"),
                row(DirectoryCsv.ID, "a", DirectoryCsv.IKNR, "260100012"),
                row(DirectoryCsv.BSNR, "721234500", DirectoryCsv.TELEMATIK_ID, "5-2-1"),
                row(DirectoryCsv.HL7_ALIAS, "KLINIK_A"));

        DirectoryCsvException e = parseFailing(csv);

        assertThat(e.errors()).extracting(RowError::line, RowError::column).containsExactly(
                tuple(4, "id"),
                tuple(4, "iknr"),
                tuple(5, "bsnr"),
                tuple(5, "telematik_id"),
                tuple(6, "hl7_alias"));
        assertThat(e.errors().get(0).message()).contains("duplicate id 'a'").contains("line 2");
    }

    @Test
    void duplicateIdentifierInAnOtherwiseInvalidRow_isStillReported() {
        DirectoryCsvException e = parseFailing(file(
                row(DirectoryCsv.IKNR, "260100012", DirectoryCsv.FAX, "x"),
                row(DirectoryCsv.IKNR, "260100012")));

        assertThat(e.errors()).extracting(RowError::line, RowError::column).containsExactly(
                tuple(2, "fax"),
                tuple(3, "iknr"));
    }

    // ------------------------------------------------------------------------------ CSV syntax

    @Test
    void unterminatedQuote_isReportedOnTheLineWhereTheRecordStarts() {
        DirectoryCsvException e = parseFailing("name,type\nA,hospital\n\"B,hospital\nC,hospital\n");

        assertThat(e.errors()).singleElement().satisfies(err -> {
            assertThat(err.line()).isEqualTo(3);
            assertThat(err.message()).contains("not terminated");
        });
    }

    @Test
    void textAfterClosingQuoteOrStrayQuote_isASyntaxErrorOfThatRecord() {
        DirectoryCsvException e = parseFailing("name,type\n\"A\"x,hospital\nB,hospital\nC \"D\",hospital\n");

        assertThat(e.errors()).extracting(RowError::line).containsExactly(2, 4);
        assertThat(e.errors()).extracting(RowError::column).containsOnlyNulls();
    }

    @Test
    void invalidFile_importsNothing() {
        assertThatThrownBy(() -> parse(file(row(DirectoryCsv.NAME, "Gut"), row(DirectoryCsv.TYPE, "schlecht"))))
                .isInstanceOf(DirectoryCsvException.class)
                .hasMessageStartingWith("Directory CSV is invalid, nothing was imported (1 error):")
                .hasMessageContaining("line 3, column type: unknown type 'schlecht'");
    }

    // ------------------------------------------------------------------------------ demo file

    @Test
    void demoDirectory_parsesCoversEveryTypeButOtherAndPointsAtNoUnresolvableHost() throws IOException {
        Path demo = Path.of("..", "config", "demo-directory.csv");

        List<Entry> entries;
        try (Reader reader = Files.newBufferedReader(demo, StandardCharsets.UTF_8)) {
            entries = DirectoryCsv.parse(reader);
        }

        assertThat(entries).hasSizeGreaterThanOrEqualTo(10);
        Set<OrganizationType> types = entries.stream()
                .map(e -> OrganizationType.of(e.organization()).orElseThrow())
                .collect(Collectors.toCollection(() -> EnumSet.noneOf(OrganizationType.class)));
        assertThat(types).containsAll(EnumSet.complementOf(EnumSet.of(OrganizationType.OTHER)));
        assertThat(entries).allSatisfy(e -> assertThat(e.organization().hasId()).isTrue());
        assertThat(entries).allSatisfy(e -> assertThat(e.organization().getTelecom())
                .as("every demo organisation is reachable by fax or e-mail")
                .anyMatch(t -> t.getSystem() == ContactPoint.ContactPointSystem.FAX
                        || t.getSystem() == ContactPoint.ContactPointSystem.EMAIL));
        // fictitious hosts never resolve: an endpoint there would be retried for a day after the tour
        assertThat(entries).allSatisfy(e -> assertThat(e.endpoint())
                .as("demo organisation %s has no system endpoint", e.organization().getIdElement().getIdPart()).isNull());
        assertThat(Files.readAllLines(demo, StandardCharsets.UTF_8).get(0)).isEqualTo(DirectoryCsv.header());
    }

    @Test
    void hl7AllowedAddresses_becomeCanonicalAllowListExtensions() {
        Entry entry = parse(file(row(DirectoryCsv.HL7_ALLOWED_ADDRESSES, " 192.0.2.10 ; 198.51.100.0/24;2001:DB8:0::/32;"))).get(0);

        assertThat(entry.organization().getExtensionsByUrl(org.carerelay.fhir.Systems.EXT_HL7_ALLOWED_ADDRESS))
                .extracting(x -> x.getValue().primitiveValue())
                .containsExactly("192.0.2.10", "198.51.100.0/24", "2001:db8:0:0:0:0:0:0/32");
    }

    @Test
    void hl7AllowedAddresses_garbageAndHostNames_areReportedWithTheirLine() {
        DirectoryCsvException e = parseFailing(file(
                row(DirectoryCsv.HL7_ALLOWED_ADDRESSES, "10.0.0.1;hl7.example.org"),
                row(DirectoryCsv.HL7_ALLOWED_ADDRESSES, "10.0.0.1/33"),
                row(DirectoryCsv.HL7_ALLOWED_ADDRESSES, "10.0.0.1/8")));

        assertThat(e.errors()).extracting(RowError::line, RowError::column).containsExactly(
                tuple(2, "hl7_allowed_addresses"),
                tuple(3, "hl7_allowed_addresses"),
                tuple(4, "hl7_allowed_addresses"));
        assertThat(e.errors().get(0).message()).contains("hl7.example.org");
        assertThat(e.errors().get(2).message()).contains("10.0.0.0/8");
    }
}
