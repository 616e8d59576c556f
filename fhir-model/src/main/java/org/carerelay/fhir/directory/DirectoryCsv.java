package org.carerelay.fhir.directory;

import java.io.IOException;
import java.io.Reader;
import java.io.UncheckedIOException;
import java.net.URI;
import java.net.URISyntaxException;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.Objects;
import java.util.Optional;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import java.util.stream.Collectors;
import java.util.stream.Stream;
import org.carerelay.fhir.OrganizationType;
import org.carerelay.fhir.Systems;
import org.hl7.fhir.r4.model.Address;
import org.hl7.fhir.r4.model.Coding;
import org.hl7.fhir.r4.model.ContactPoint;
import org.hl7.fhir.r4.model.Endpoint;
import org.hl7.fhir.r4.model.Organization;
import org.hl7.fhir.r4.model.StringType;

/**
 * Parses a directory CSV file into FHIR {@link Organization}s and {@link Endpoint}s, all or nothing:
 * {@link #parse(Reader)} returns one {@link Entry} per record or throws a {@link DirectoryCsvException}
 * listing the problems of <em>all</em> records, each with the physical line the record starts on. Pure;
 * linking {@code Organization.endpoint} and saving is left to the importer. Format and columns: README,
 * "Directory CSV"; the per-column checks and the Endpoint built: docs/mappings.md, section 8.
 */
public final class DirectoryCsv {

    public static final String ID = "id";
    public static final String NAME = "name";
    public static final String TYPE = "type";
    public static final String IKNR = "iknr";
    public static final String BSNR = "bsnr";
    public static final String TELEMATIK_ID = "telematik_id";
    public static final String STREET = "street";
    public static final String POSTAL_CODE = "postal_code";
    public static final String CITY = "city";
    public static final String PHONE = "phone";
    public static final String FAX = "fax";
    public static final String EMAIL = "email";
    public static final String ENDPOINT_TYPE = "endpoint_type";
    public static final String ENDPOINT_ADDRESS = "endpoint_address";
    public static final String HL7_ALIAS = "hl7_alias";
    public static final String HL7_ALLOWED_ADDRESSES = "hl7_allowed_addresses";
    public static final String ACTIVE = "active";

    /** Endpoint connection type code for FHIR REST endpoints. */
    public static final String ENDPOINT_FHIR_REST = "hl7-fhir-rest";
    /** Endpoint connection type code for HL7v2 over MLLP endpoints. */
    public static final String ENDPOINT_HL7V2_MLLP = "hl7v2-mllp";

    public static final String MIME_FHIR_JSON = "application/fhir+json";
    public static final String MIME_HL7V2_ER7 = "x-application/hl7-v2+er7";

    private static final List<String> COLUMNS = List.of(ID, NAME, TYPE, IKNR, BSNR, TELEMATIK_ID, STREET,
            POSTAL_CODE, CITY, PHONE, FAX, EMAIL, ENDPOINT_TYPE, ENDPOINT_ADDRESS, HL7_ALIAS, HL7_ALLOWED_ADDRESSES, ACTIVE);
    private static final List<String> REQUIRED_COLUMNS = List.of(NAME, TYPE);

    private static final Pattern ID_PATTERN = Pattern.compile("[A-Za-z0-9\\-.]{1,64}");
    private static final Pattern NINE_DIGITS = Pattern.compile("[0-9]{9}");
    private static final Pattern PLZ = Pattern.compile("[0-9]{5}");
    private static final Pattern PHONE_CHARS = Pattern.compile("\\+?[0-9 ()/\\-]+");
    private static final Pattern WHITESPACE = Pattern.compile("\\s");
    private static final Pattern HL7_DELIMITERS = Pattern.compile("[|^~\\\\&]");
    private static final String HOST_LABEL = "[A-Za-z0-9](?:[A-Za-z0-9-]*[A-Za-z0-9])?";
    private static final Pattern MLLP_ADDRESS = Pattern.compile(
            "mllp://(" + HOST_LABEL + "(?:\\." + HOST_LABEL + ")*|\\[[0-9A-Fa-f:.]+\\]):([0-9]{1,5})",
            Pattern.CASE_INSENSITIVE);
    private static final int MIN_PHONE_DIGITS = 6;
    private static final int MAX_PHONE_DIGITS = 20;

    /**
     * One parsed record.
     *
     * @param line         1-based physical line on which the record starts
     * @param organization the organisation (no {@code Organization.endpoint} reference is set)
     * @param endpoint     its endpoint, or {@code null} when the record has no {@code endpoint_type}
     */
    public record Entry(int line, Organization organization, Endpoint endpoint) {
    }

    private DirectoryCsv() {
    }

    /** All column names, in canonical order. */
    public static List<String> columns() {
        return COLUMNS;
    }

    /** The canonical header line (all columns, comma separated, no line break). */
    public static String header() {
        return String.join(",", COLUMNS);
    }

    /**
     * Parses a whole directory CSV file. The reader is read to its end but not closed.
     *
     * @return one entry per record, in file order; empty for a header-only file
     * @throws DirectoryCsvException if the file has no header or any record is invalid (all
     *                               problems of the file are reported together)
     * @throws UncheckedIOException  if reading fails
     */
    public static List<Entry> parse(Reader reader) {
        Objects.requireNonNull(reader, "reader");
        List<CsvTokenizer.Record> records = CsvTokenizer.tokenize(readAll(reader));
        if (records.isEmpty()) {
            throw new DirectoryCsvException(List.of(new DirectoryCsvException.RowError(1, null,
                    "the file is empty; expected a header line: " + header())));
        }
        CsvTokenizer.Record headerRecord = records.get(0);
        Map<String, Integer> index = parseHeader(headerRecord);

        List<DirectoryCsvException.RowError> errors = new ArrayList<>();
        Uniqueness seen = new Uniqueness();
        List<Entry> entries = new ArrayList<>();
        for (CsvTokenizer.Record record : records.subList(1, records.size())) {
            Row row = new Row(record, index, errors);
            Entry entry = parseRecord(row, seen);
            if (entry != null) {
                entries.add(entry);
            }
        }
        if (!errors.isEmpty()) {
            throw new DirectoryCsvException(errors);
        }
        return List.copyOf(entries);
    }

    private static String readAll(Reader reader) {
        StringBuilder sb = new StringBuilder();
        char[] buffer = new char[8192];
        try {
            int n;
            while ((n = reader.read(buffer)) != -1) {
                sb.append(buffer, 0, n);
            }
        } catch (IOException e) {
            throw new UncheckedIOException("Could not read the directory CSV", e);
        }
        return sb.toString();
    }

    // ------------------------------------------------------------------------------------ header

    private static Map<String, Integer> parseHeader(CsvTokenizer.Record header) {
        int line = header.line();
        List<DirectoryCsvException.RowError> errors = new ArrayList<>();
        if (header.syntaxError() != null) {
            throw new DirectoryCsvException(List.of(new DirectoryCsvException.RowError(line, null,
                    "header: " + header.syntaxError())));
        }
        if (header.fields().size() == 1 && header.fields().get(0).contains(";")) {
            throw new DirectoryCsvException(List.of(new DirectoryCsvException.RowError(line, null,
                    "the header looks semicolon-separated; the separator must be a comma. Expected: "
                            + header())));
        }
        Map<String, Integer> index = new LinkedHashMap<>();
        for (int i = 0; i < header.fields().size(); i++) {
            String raw = header.fields().get(i).strip();
            String name = raw.toLowerCase(Locale.ROOT);
            if (name.isEmpty()) {
                errors.add(new DirectoryCsvException.RowError(line, null,
                        "column " + (i + 1) + " of the header has no name"));
            } else if (!COLUMNS.contains(name)) {
                errors.add(new DirectoryCsvException.RowError(line, raw,
                        "unknown column; allowed columns are " + String.join(", ", COLUMNS)));
            } else if (index.containsKey(name)) {
                errors.add(new DirectoryCsvException.RowError(line, name, "column appears more than once"));
            } else {
                index.put(name, i);
            }
        }
        for (String required : REQUIRED_COLUMNS) {
            if (!index.containsKey(required)) {
                errors.add(new DirectoryCsvException.RowError(line, required,
                        "required column is missing from the header"));
            }
        }
        if (!errors.isEmpty()) {
            throw new DirectoryCsvException(errors);
        }
        return index;
    }

    // ------------------------------------------------------------------------------------ records

    /** Field access and error collection for one record. */
    private static final class Row {
        final CsvTokenizer.Record record;
        final Map<String, Integer> index;
        final List<DirectoryCsvException.RowError> errors;
        int errorCount;

        Row(CsvTokenizer.Record record, Map<String, Integer> index, List<DirectoryCsvException.RowError> errors) {
            this.record = record;
            this.index = index;
            this.errors = errors;
        }

        int line() {
            return record.line();
        }

        /** The trimmed value of {@code column}, or {@code ""} if absent from the header. */
        String get(String column) {
            Integer i = index.get(column);
            return i == null ? "" : record.fields().get(i).strip();
        }

        void error(String column, String message) {
            errors.add(new DirectoryCsvException.RowError(record.line(), column, message));
            errorCount++;
        }
    }

    /** Ids and identifier values seen so far in the file, with the line they were first seen on. */
    private static final class Uniqueness {
        final Map<String, Integer> ids = new HashMap<>();
        final Map<String, Integer> identifiers = new HashMap<>();

        void checkId(Row row, String id) {
            Integer first = ids.putIfAbsent(id, row.line());
            if (first != null) {
                row.error(ID, "duplicate id '" + id + "' (already used on line " + first + ")");
            }
        }

        void checkIdentifier(Row row, String column, String value) {
            Integer first = identifiers.putIfAbsent(column + '|' + value, row.line());
            if (first != null) {
                row.error(column, "duplicate " + column + " '" + value + "' (already used on line " + first + ")");
            }
        }
    }

    private static Entry parseRecord(Row row, Uniqueness seen) {
        CsvTokenizer.Record record = row.record;
        if (record.syntaxError() != null) {
            row.error(null, record.syntaxError());
            return null;
        }
        int expected = row.index.size(); // the header is valid, so every header field is a known column
        if (record.fields().size() != expected) {
            row.error(null, "expected " + expected + " fields (as in the header) but found "
                    + record.fields().size());
            return null;
        }

        String id = row.get(ID);
        if (!id.isEmpty()) {
            if (!ID_PATTERN.matcher(id).matches()) {
                row.error(ID, "must be 1 to 64 characters of A-Z, a-z, 0-9, '-' and '.'");
            } else {
                seen.checkId(row, id);
            }
        }

        String name = row.get(NAME);
        if (name.isEmpty()) {
            row.error(NAME, "is required");
        } else {
            checkSingleLine(row, NAME, name);
        }

        String typeCode = row.get(TYPE);
        OrganizationType type = null;
        if (typeCode.isEmpty()) {
            row.error(TYPE, "is required; expected one of " + typeCodes());
        } else {
            Optional<OrganizationType> parsed = OrganizationType.fromCode(typeCode);
            if (parsed.isEmpty()) {
                row.error(TYPE, "unknown type '" + typeCode + "'; expected one of " + typeCodes());
            } else {
                type = parsed.get();
            }
        }

        String iknr = nineDigits(row, IKNR, seen);
        String bsnr = nineDigits(row, BSNR, seen);

        String telematikId = row.get(TELEMATIK_ID);
        if (!telematikId.isEmpty()) {
            if (WHITESPACE.matcher(telematikId).find()) {
                row.error(TELEMATIK_ID, "must not contain whitespace");
            } else {
                seen.checkIdentifier(row, TELEMATIK_ID, telematikId);
            }
        }

        String street = row.get(STREET);
        String postalCode = row.get(POSTAL_CODE);
        if (!postalCode.isEmpty() && !PLZ.matcher(postalCode).matches()) {
            row.error(POSTAL_CODE, "must be 5 digits (German postal code)");
        }
        String city = row.get(CITY);
        checkSingleLine(row, CITY, city);

        String phone = phoneNumber(row, PHONE);
        String fax = phoneNumber(row, FAX);
        String email = row.get(EMAIL);
        if (!email.isEmpty()) {
            String problem = emailProblem(email);
            if (problem != null) {
                row.error(EMAIL, problem);
            }
        }

        String endpointType = row.get(ENDPOINT_TYPE).toLowerCase(Locale.ROOT);
        String endpointAddress = row.get(ENDPOINT_ADDRESS);
        checkEndpoint(row, endpointType, endpointAddress);

        String hl7Alias = row.get(HL7_ALIAS);
        if (!hl7Alias.isEmpty()) {
            if (WHITESPACE.matcher(hl7Alias).find()) {
                row.error(HL7_ALIAS, "must not contain whitespace");
            } else if (HL7_DELIMITERS.matcher(hl7Alias).find()) {
                row.error(HL7_ALIAS, "must not contain the HL7v2 delimiters | ^ ~ \\ &");
            } else {
                seen.checkIdentifier(row, HL7_ALIAS, hl7Alias);
            }
        }

        List<String> allowedAddresses = new ArrayList<>();
        for (String entry : row.get(HL7_ALLOWED_ADDRESSES).split(";")) {
            if (entry.isBlank()) {
                continue;
            }
            try {
                allowedAddresses.add(AddressAllowList.parseRange(entry).toString());
            } catch (IllegalArgumentException e) {
                row.error(HL7_ALLOWED_ADDRESSES, e.getMessage());
            }
        }

        String activeText = row.get(ACTIVE);
        boolean active = true;
        if (!activeText.isEmpty()) {
            if (activeText.equalsIgnoreCase("true")) {
                active = true;
            } else if (activeText.equalsIgnoreCase("false")) {
                active = false;
            } else {
                row.error(ACTIVE, "must be 'true' or 'false' (or empty for true)");
            }
        }

        if (row.errorCount > 0) {
            return null;
        }

        Organization organization = new Organization();
        if (!id.isEmpty()) {
            organization.setId(id);
        }
        organization.setActive(active);
        organization.setName(name);
        organization.addType(type.toCodeableConcept());
        addIdentifier(organization, Systems.IKNR, iknr);
        addIdentifier(organization, Systems.BSNR, bsnr);
        addIdentifier(organization, Systems.TELEMATIK_ID, telematikId);
        addIdentifier(organization, Systems.HL7_FACILITY, hl7Alias);
        allowedAddresses.forEach(a -> organization.addExtension(Systems.EXT_HL7_ALLOWED_ADDRESS, new StringType(a)));
        if (!street.isEmpty() || !postalCode.isEmpty() || !city.isEmpty()) {
            Address address = organization.addAddress()
                    .setUse(Address.AddressUse.WORK)
                    .setCountry("DE");
            street.lines().map(String::strip).filter(l -> !l.isEmpty()).forEach(address::addLine);
            if (!postalCode.isEmpty()) {
                address.setPostalCode(postalCode);
            }
            if (!city.isEmpty()) {
                address.setCity(city);
            }
        }
        addTelecom(organization, ContactPoint.ContactPointSystem.PHONE, phone);
        addTelecom(organization, ContactPoint.ContactPointSystem.FAX, fax);
        addTelecom(organization, ContactPoint.ContactPointSystem.EMAIL, email);

        Endpoint endpoint = endpointType.isEmpty() ? null : endpoint(name, endpointType, endpointAddress);
        return new Entry(row.line(), organization, endpoint);
    }

    private static void checkSingleLine(Row row, String column, String value) {
        if (value.indexOf('\n') >= 0) {
            row.error(column, "must not contain a line break");
        }
    }

    private static String typeCodes() {
        return Stream.of(OrganizationType.values()).map(OrganizationType::code).collect(Collectors.joining(", "));
    }

    private static String nineDigits(Row row, String column, Uniqueness seen) {
        String value = row.get(column);
        if (value.isEmpty()) {
            return value;
        }
        if (!NINE_DIGITS.matcher(value).matches()) {
            row.error(column, "must be exactly 9 digits");
        } else {
            seen.checkIdentifier(row, column, value);
        }
        return value;
    }

    private static String phoneNumber(Row row, String column) {
        String value = row.get(column);
        if (value.isEmpty()) {
            return value;
        }
        long digits = value.chars().filter(c -> c >= '0' && c <= '9').count();
        if (!PHONE_CHARS.matcher(value).matches() || digits < MIN_PHONE_DIGITS || digits > MAX_PHONE_DIGITS) {
            row.error(column, "'" + value + "' is not a phone number: use digits with an optional leading '+', "
                    + "spaces, '-', '/', '(' and ')', " + MIN_PHONE_DIGITS + " to " + MAX_PHONE_DIGITS
                    + " digits, e.g. +49 30 1234567");
        }
        return value;
    }

    /** Why {@code email} is not acceptable, or {@code null}. */
    private static String emailProblem(String email) {
        if (WHITESPACE.matcher(email).find()) {
            return "must not contain whitespace";
        }
        int at = email.indexOf('@');
        if (at < 0 || email.indexOf('@', at + 1) >= 0) {
            return "must contain exactly one '@'";
        }
        String local = email.substring(0, at);
        String domain = email.substring(at + 1);
        if (local.isEmpty()) {
            return "has nothing before the '@'";
        }
        int dot = domain.indexOf('.');
        if (dot <= 0 || domain.endsWith(".") || domain.contains("..")) {
            return "the part after the '@' must be a domain containing a dot, e.g. example.org";
        }
        return null;
    }

    private static void checkEndpoint(Row row, String type, String address) {
        if (type.isEmpty()) {
            if (!address.isEmpty()) {
                row.error(ENDPOINT_ADDRESS, "is only allowed together with endpoint_type");
            }
            return;
        }
        if (!type.equals(ENDPOINT_FHIR_REST) && !type.equals(ENDPOINT_HL7V2_MLLP)) {
            row.error(ENDPOINT_TYPE, "unknown endpoint type '" + row.get(ENDPOINT_TYPE) + "'; expected "
                    + ENDPOINT_FHIR_REST + " or " + ENDPOINT_HL7V2_MLLP);
            return;
        }
        if (address.isEmpty()) {
            row.error(ENDPOINT_ADDRESS, "is required when endpoint_type is set");
            return;
        }
        String problem = type.equals(ENDPOINT_FHIR_REST) ? fhirUrlProblem(address) : mllpProblem(address);
        if (problem != null) {
            row.error(ENDPOINT_ADDRESS, problem);
        }
    }

    private static String fhirUrlProblem(String address) {
        String expectation = "must be an http(s) URL such as https://fhir.example.org/fhir";
        URI uri;
        try {
            uri = new URI(address);
        } catch (URISyntaxException e) {
            return expectation;
        }
        String scheme = uri.getScheme();
        if (scheme == null || !(scheme.equalsIgnoreCase("https") || scheme.equalsIgnoreCase("http"))
                || uri.getHost() == null || uri.getHost().isEmpty()) {
            return expectation;
        }
        if (uri.getPort() == 0 || uri.getPort() > 65535) {
            return "port must be between 1 and 65535";
        }
        if (uri.getRawUserInfo() != null) {
            return "must not contain credentials";
        }
        if (uri.getRawQuery() != null || uri.getRawFragment() != null) {
            return "must be a base URL without query or fragment";
        }
        return null;
    }

    private static String mllpProblem(String address) {
        Matcher m = MLLP_ADDRESS.matcher(address);
        if (!m.matches()) {
            return "must be mllp://host:port, e.g. mllp://hl7.example.org:2575";
        }
        int port = Integer.parseInt(m.group(2));
        if (port < 1 || port > 65535) {
            return "port must be between 1 and 65535";
        }
        return null;
    }

    // ------------------------------------------------------------------------------------ FHIR

    private static void addIdentifier(Organization organization, String system, String value) {
        if (!value.isEmpty()) {
            organization.addIdentifier().setSystem(system).setValue(value);
        }
    }

    private static void addTelecom(Organization organization, ContactPoint.ContactPointSystem system, String value) {
        if (!value.isEmpty()) {
            organization.addTelecom().setSystem(system).setValue(value).setUse(ContactPoint.ContactPointUse.WORK);
        }
    }

    private static Endpoint endpoint(String organizationName, String type, String address) {
        boolean fhir = type.equals(ENDPOINT_FHIR_REST);
        Endpoint endpoint = new Endpoint();
        endpoint.setStatus(Endpoint.EndpointStatus.ACTIVE);
        endpoint.setConnectionType(new Coding(Systems.ENDPOINT_CONNECTION_TYPE, type, fhir ? "HL7 FHIR" : "HL7 v2 MLLP"));
        endpoint.setName(organizationName + " (" + type + ")");
        endpoint.addPayloadType().addCoding().setSystem(Systems.ENDPOINT_PAYLOAD_TYPE).setCode("any");
        endpoint.addPayloadMimeType(fhir ? MIME_FHIR_JSON : MIME_HL7V2_ER7);
        endpoint.setAddress(address);
        return endpoint;
    }
}
