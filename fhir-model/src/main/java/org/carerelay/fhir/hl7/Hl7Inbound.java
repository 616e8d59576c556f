package org.carerelay.fhir.hl7;

import ca.uhn.hl7v2.DefaultHapiContext;
import ca.uhn.hl7v2.HL7Exception;
import ca.uhn.hl7v2.HapiContext;
import ca.uhn.hl7v2.model.GenericMessage;
import ca.uhn.hl7v2.model.Message;
import ca.uhn.hl7v2.parser.CanonicalModelClassFactory;
import ca.uhn.hl7v2.parser.PipeParser;
import ca.uhn.hl7v2.util.Terser;
import ca.uhn.hl7v2.validation.impl.ValidationContextFactory;
import java.nio.ByteBuffer;
import java.nio.charset.CharacterCodingException;
import java.nio.charset.Charset;
import java.nio.charset.CodingErrorAction;
import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.List;
import java.util.Locale;
import java.util.Objects;
import java.util.Optional;
import java.util.regex.Pattern;
import org.carerelay.fhir.ErrorCode;

/**
 * Turns the bytes of an inbound HL7v2 frame (MLLP framing already removed) into a parsed message,
 * leniently, as real feeds require: {@link #decode} picks the charset (BOM, MSH-18, sender default,
 * detection — a label that does not fit the bytes is overruled) and normalises segment separators;
 * {@link #parse} checks the header and parses every supported version into the v2.5.1 structures.
 * Stateless and thread-safe. Rules and refusal codes: docs/mappings.md, section 1 "Inbound frame".
 */
public final class Hl7Inbound {

    /** The structures every inbound message is parsed into. */
    public static final String CANONICAL_VERSION = "2.5.1";

    /**
     * MSH-12 (VID-1) values that are accepted: every version HAPI knows ({@link ca.uhn.hl7v2.Version}),
     * 2.1 to 2.8.1. They are all read into the v2.5.1 structures, which keep whatever an older or
     * newer version has beyond them as extra content; anything else is answered with 0357 {@code 203}.
     */
    public static final List<String> SUPPORTED_VERSIONS =
            List.of("2.1", "2.2", "2.3", "2.3.1", "2.4", "2.5", "2.5.1", "2.6", "2.7", "2.7.1", "2.8", "2.8.1");

    /** A decoded frame: the ER7 text with {@code \r} segment terminators, and the charset used. */
    public record Decoded(String er7, Charset charset) {
        public Decoded {
            Objects.requireNonNull(er7, "er7");
            Objects.requireNonNull(charset, "charset");
        }
    }

    /**
     * A parsed message and its header values (unescaped; {@code null} when the field is empty).
     * {@code messageType}, {@code version} and {@code controlId} are never null.
     *
     * @param version MSH-12 as sent (e.g. {@code 2.3.1}); {@code message.getVersion()} is
     *     {@value #CANONICAL_VERSION}
     * @param sendingFacility MSH-4-1 (namespace id), or MSH-4-2 (universal id) when that is empty;
     *     the same rule applies to the other three HD fields
     * @param rawControlId MSH-10 exactly as it stands between the field separators, escape
     *     sequences (valid or not) untouched: what an ACK echoes in MSA-2
     */
    public record Parsed(
            Message message,
            String messageType,
            String triggerEvent,
            String version,
            String controlId,
            String sendingApplication,
            String sendingFacility,
            String receivingApplication,
            String receivingFacility,
            String acceptAckType,
            String applicationAckType,
            String rawControlId) {
        public Parsed {
            Objects.requireNonNull(message, "message");
        }
    }

    private static final Pattern SEGMENT_NAME = Pattern.compile("[A-Z][A-Z0-9]{2}");
    private static final byte[] UTF8_BOM = {(byte) 0xEF, (byte) 0xBB, (byte) 0xBF};
    private static final byte MLLP_START = 0x0B;
    private static final byte MLLP_END = 0x1C;

    private static final PipeParser PARSER = createParser();

    private Hl7Inbound() {
    }

    /** {@link #decode} then {@link #parse}. */
    public static Parsed decodeAndParse(byte[] frame, Charset senderDefault) {
        return parse(decode(frame, senderDefault).er7());
    }

    /**
     * Decodes a frame; charset rules in docs/mappings.md, section 1. Never fails: whether the
     * content is an HL7 message at all is decided by {@link #parse}.
     *
     * @param senderDefault the charset agreed with the sender, used when MSH-18 is empty or does not
     *     fit; may be {@code null}
     */
    public static Decoded decode(byte[] frame, Charset senderDefault) {
        Objects.requireNonNull(frame, "frame");
        int start = 0;
        int end = frame.length;
        boolean bom = startsWith(frame, 0, UTF8_BOM);
        if (bom) {
            start = UTF8_BOM.length;
        }
        while (start < end && isLeadingNoise(frame[start])) {
            start++;
        }
        while (end > start && isTrailingNoise(frame[end - 1])) {
            end--;
        }

        List<Charset> candidates = new ArrayList<>(4);
        if (bom) {
            candidates.add(StandardCharsets.UTF_8);
        }
        declaredCharset(frame, start, end).ifPresent(candidates::add);
        if (senderDefault != null) {
            candidates.add(senderDefault);
        }
        Charset charset = null;
        for (Charset candidate : candidates) {
            if (fits(candidate, frame, start, end)) {
                charset = candidate;
                break;
            }
        }
        if (charset == null) {
            charset = isValidUtf8(frame, start, end) ? StandardCharsets.UTF_8 : StandardCharsets.ISO_8859_1;
        }

        String text = new String(frame, start, end - start, charset);
        if (!text.isEmpty() && text.charAt(0) == '\uFEFF') {
            text = text.substring(1);
        }
        return new Decoded(normaliseSegments(text), charset);
    }

    /**
     * Parses ER7 text (segment separators are normalised here too, so {@code \n} works).
     *
     * @throws Hl7InboundException {@link ErrorCode#INVALID_REQUEST} with 0357 {@code 100} when the
     *     text does not start with an MSH segment (batches included), {@code 102} when MSH-1/MSH-2
     *     are not usable delimiters, {@code 101} when MSH-9, MSH-10 or MSH-12 is empty, {@code 203}
     *     when the version is not in {@link #SUPPORTED_VERSIONS}, {@code 207} when a line is not a
     *     segment (no valid segment name) or HAPI cannot parse the content
     */
    public static Parsed parse(String er7) {
        String text = er7 == null ? "" : er7;
        if (!text.isEmpty() && text.charAt(0) == '\uFEFF') {
            text = text.substring(1);
        }
        text = normaliseSegments(text);
        if (!text.startsWith("MSH")) {
            throw new Hl7InboundException(ErrorCode.INVALID_REQUEST, Hl7InboundException.SEGMENT_SEQUENCE_ERROR,
                    "The message does not start with an MSH segment.");
        }
        Header header = readHeader(text);
        if (header.controlId() == null) {
            throw new Hl7InboundException(ErrorCode.INVALID_REQUEST, Hl7InboundException.REQUIRED_FIELD_MISSING,
                    "MSH-10 (message control id) is empty.");
        }
        if (header.messageType() == null) {
            throw new Hl7InboundException(ErrorCode.INVALID_REQUEST, Hl7InboundException.REQUIRED_FIELD_MISSING,
                    "MSH-9 (message type) is empty.", header.controlId());
        }
        if (header.version() == null) {
            throw new Hl7InboundException(ErrorCode.INVALID_REQUEST, Hl7InboundException.REQUIRED_FIELD_MISSING,
                    "MSH-12 (version id) is empty.", header.controlId());
        }
        if (!SUPPORTED_VERSIONS.contains(header.version())) {
            throw new Hl7InboundException(ErrorCode.INVALID_REQUEST, Hl7InboundException.UNSUPPORTED_VERSION_ID,
                    "HL7 version " + printable(header.version()) + " is not supported; accepted: "
                            + String.join(", ", SUPPORTED_VERSIONS) + ".",
                    header.controlId());
        }

        text = checkSegments(text, header);

        Message message;
        try {
            message = PARSER.parse(text);
        } catch (HL7Exception e) {
            throw new Hl7InboundException(ErrorCode.INVALID_REQUEST, Hl7InboundException.APPLICATION_INTERNAL_ERROR,
                    "The message content cannot be parsed" + location(e) + ".", header.controlId());
        } catch (RuntimeException e) {
            // HAPI signals some structural problems with unchecked exceptions
            throw new Hl7InboundException(ErrorCode.INVALID_REQUEST, Hl7InboundException.APPLICATION_INTERNAL_ERROR,
                    "The message content cannot be parsed (" + e.getClass().getSimpleName() + ").",
                    header.controlId());
        }

        try {
            Terser t = new Terser(message);
            return new Parsed(message,
                    firstNonBlank(t.get("/MSH-9-1"), header.messageType()),
                    blankToNull(t.get("/MSH-9-2")),
                    header.version(),
                    firstNonBlank(t.get("/MSH-10"), header.controlId()),
                    hd(t, 3), hd(t, 4), hd(t, 5), hd(t, 6),
                    blankToNull(t.get("/MSH-15")),
                    blankToNull(t.get("/MSH-16")),
                    header.rawControlId());
        } catch (HL7Exception e) {
            throw new Hl7InboundException(ErrorCode.INVALID_REQUEST, Hl7InboundException.APPLICATION_INTERNAL_ERROR,
                    "The message header cannot be read" + location(e) + ".", header.controlId());
        }
    }

    // ---------------------------------------------------------------------------------- parsing

    private record Header(char fieldSeparator, String encodingCharacters, String messageType, String controlId,
            String version, String rawControlId) {
    }

    /**
     * Every segment must start with a segment name ({@code [A-Z][A-Z0-9]{2}}, Z-segments included)
     * followed by the field separator; a line that does not (typically a raw line break inside a
     * field value, or binary garbage) makes the message unparsable rather than being guessed at.
     * MSH-2 with the v2.7+ truncation character is cut to the four v2.5.1 delimiters, so that the
     * parsed message can be encoded again (HAPI's encoder accepts only four).
     */
    private static String checkSegments(String text, Header header) {
        String[] segments = text.split("\r");
        for (int i = 1; i < segments.length; i++) {
            String segment = segments[i];
            boolean named = segment.length() >= 3 && SEGMENT_NAME.matcher(segment.substring(0, 3)).matches()
                    && (segment.length() == 3 || segment.charAt(3) == header.fieldSeparator());
            if (!named) {
                throw new Hl7InboundException(ErrorCode.INVALID_REQUEST,
                        Hl7InboundException.APPLICATION_INTERNAL_ERROR,
                        "Segment " + (i + 1) + " has no valid segment name (a raw line break inside a field?).",
                        header.controlId());
            }
        }
        if (header.encodingCharacters().length() == 5) {
            return text.substring(0, 4) + header.encodingCharacters().substring(0, 4)
                    + text.substring(4 + header.encodingCharacters().length());
        }
        return text;
    }

    /** Reads MSH-9-1, MSH-10 and MSH-12-1 without HAPI, checking MSH-1 and MSH-2 on the way. */
    private static Header readHeader(String text) {
        int segmentEnd = text.indexOf('\r');
        String msh = segmentEnd < 0 ? text : text.substring(0, segmentEnd);
        if (msh.length() < 8) {
            throw new Hl7InboundException(ErrorCode.INVALID_REQUEST, Hl7InboundException.DATA_TYPE_ERROR,
                    "MSH-1/MSH-2 (delimiters) are missing.");
        }
        char fieldSeparator = msh.charAt(3);
        if (!isDelimiter(fieldSeparator)) {
            throw new Hl7InboundException(ErrorCode.INVALID_REQUEST, Hl7InboundException.DATA_TYPE_ERROR,
                    "MSH-1 (field separator) is not a usable delimiter.");
        }
        String[] fields = msh.split(Pattern.quote(String.valueOf(fieldSeparator)), -1);
        String encoding = fields.length > 1 ? fields[1] : "";
        // 4 delimiters, plus the truncation character from v2.7 on
        boolean encodingOk = (encoding.length() == 4 || encoding.length() == 5)
                && encoding.chars().allMatch(c -> isDelimiter((char) c) && c != fieldSeparator)
                && encoding.chars().distinct().count() == encoding.length();
        if (!encodingOk) {
            throw new Hl7InboundException(ErrorCode.INVALID_REQUEST, Hl7InboundException.DATA_TYPE_ERROR,
                    "MSH-2 (encoding characters) is not usable.");
        }
        char component = encoding.charAt(0);
        return new Header(fieldSeparator, encoding,
                firstComponent(field(fields, 9), component),
                blankToNull(field(fields, 10)),
                firstComponent(field(fields, 12), component),
                field(fields, 10));
    }

    /** MSH-n of a header split at the field separator ({@code fields[0]} is "MSH", MSH-2 is at 1). */
    private static String field(String[] fields, int n) {
        return n - 1 < fields.length ? fields[n - 1] : "";
    }

    private static String firstComponent(String value, char componentSeparator) {
        int i = value.indexOf(componentSeparator);
        return blankToNull(i < 0 ? value : value.substring(0, i));
    }

    private static boolean isDelimiter(char c) {
        return c > ' ' && c < 0x7F && !Character.isLetterOrDigit(c);
    }

    /** HD namespace id, or the universal id when the namespace id is empty. */
    private static String hd(Terser t, int field) throws HL7Exception {
        return firstNonBlank(t.get("/MSH-" + field + "-1"), t.get("/MSH-" + field + "-2"));
    }

    private static String location(HL7Exception e) {
        if (e.getLocation() == null || e.getLocation().getSegmentName() == null
                || !SEGMENT_NAME.matcher(e.getLocation().getSegmentName()).matches()) {
            return "";
        }
        var loc = e.getLocation();
        return loc.getField() > 0
                ? " (at " + loc.getSegmentName() + "-" + loc.getField() + ")"
                : " (at " + loc.getSegmentName() + ")";
    }

    /** Version text for an error message: short and printable, since it echoes input. */
    private static String printable(String value) {
        String v = value.length() > 16 ? value.substring(0, 16) + "…" : value;
        return "'" + v.replaceAll("[^\\x20-\\x7E]", "?") + "'";
    }

    private static PipeParser createParser() {
        HapiContext context = new DefaultHapiContext(new StructureTolerantFactory());
        context.setValidationContext(ValidationContextFactory.noValidation());
        context.getParserConfiguration().setValidating(false);
        context.getParserConfiguration().setInvalidObx2Type("ST");
        context.getParserConfiguration().setDefaultObx2Type("ST");
        PipeParser parser = context.getPipeParser();
        warmUp(parser);
        return parser;
    }

    /**
     * HAPI resolves message structures and event maps lazily on first use; concurrent first uses
     * of a message type were seen to fail now and then. Resolving every supported type once, on one
     * thread, before the parser is shared, removes that race.
     */
    private static void warmUp(PipeParser parser) {
        String[] types = {"ADT^A01", "ADT^A04", "ADT^A05", "ADT^A08", "ADT^A28", "ADT^A31", "ADT^A40",
            "MDM^T01", "MDM^T02", "ORU^R01", "ACK^A01"};
        for (String version : SUPPORTED_VERSIONS) {
            for (String type : types) {
                String message = "MSH|^~\\&|W|W|W|W|20260101000000||" + type + "|1|P|" + version + "\r"
                        + "EVN|A01|20260101000000\rPID|1||1^^^X^PI||N^V\rPV1|1|O\r";
                try {
                    parser.parse(message);
                } catch (Exception e) {
                    // a structure that does not parse from this stub is resolved on first real use
                }
            }
        }
    }

    /**
     * Canonical 2.5.1 factory that resolves an explicit structure unknown to 2.5.1 (e.g.
     * {@code ADT_A04}) through the event map instead of falling back to a {@link GenericMessage}.
     */
    private static final class StructureTolerantFactory extends CanonicalModelClassFactory {

        private static final long serialVersionUID = 1L;

        StructureTolerantFactory() {
            super(CANONICAL_VERSION);
        }

        @Override
        public Class<? extends Message> getMessageClass(String name, String version, boolean isExplicit)
                throws HL7Exception {
            Class<? extends Message> explicit = super.getMessageClass(name, version, isExplicit);
            if (isExplicit && (explicit == null || GenericMessage.class.isAssignableFrom(explicit))) {
                Class<? extends Message> byEvent = super.getMessageClass(name, version, false);
                if (byEvent != null) {
                    return byEvent;
                }
            }
            return explicit;
        }
    }

    // --------------------------------------------------------------------------------- decoding

    /** Reads the first repetition of MSH-18 from the raw bytes and maps it to a charset. */
    static Optional<Charset> declaredCharset(byte[] frame, int start, int end) {
        if (end - start < 8 || frame[start] != 'M' || frame[start + 1] != 'S' || frame[start + 2] != 'H') {
            return Optional.empty();
        }
        int segmentEnd = start;
        while (segmentEnd < end && frame[segmentEnd] != '\r' && frame[segmentEnd] != '\n') {
            segmentEnd++;
        }
        // ISO-8859-1 maps every byte to one char, so positions and ASCII delimiters stay intact
        String msh = new String(frame, start, segmentEnd - start, StandardCharsets.ISO_8859_1);
        char fieldSeparator = msh.charAt(3);
        String[] fields = msh.split(Pattern.quote(String.valueOf(fieldSeparator)), -1);
        if (fields.length < 18 || fields[1].length() < 2) {
            return Optional.empty();
        }
        char component = fields[1].charAt(0);
        char repetition = fields[1].charAt(1);
        String value = fields[17];
        int cut = indexOfAny(value, repetition, component);
        if (cut >= 0) {
            value = value.substring(0, cut);
        }
        return charsetForHl7Name(value);
    }

    /**
     * The HL7 table 0211 name of a charset {@link #decode} reads in ({@code ASCII}, {@code 8859/n},
     * {@code UNICODE UTF-8}), e.g. for MSH-18 of an ACK encoded in it; {@code null} for a charset
     * without one (a sender default such as windows-1252).
     */
    public static String hl7Name(Charset charset) {
        String name = charset.name().toUpperCase(Locale.ROOT);
        if (name.equals("US-ASCII")) {
            return "ASCII";
        }
        if (name.matches("ISO-8859-([1-9]|15)")) {
            return "8859/" + name.substring("ISO-8859-".length());
        }
        return name.equals("UTF-8") ? "UNICODE UTF-8" : null;
    }

    /** HL7 table 0211 name → charset, for the ASCII-compatible ones. */
    public static Optional<Charset> charsetForHl7Name(String hl7Name) {
        String name = hl7Name == null ? "" : hl7Name.trim().toUpperCase(Locale.ROOT);
        if (name.isEmpty()) {
            return Optional.empty();
        }
        switch (name) {
            case "ASCII":
                return Optional.of(StandardCharsets.US_ASCII);
            case "UNICODE UTF-8":
            case "UTF-8":
            case "UNICODE":
                return Optional.of(StandardCharsets.UTF_8);
            default:
                break;
        }
        if (name.matches("8859/([1-9]|15)")) {
            String javaName = "ISO-8859-" + name.substring(5);
            if (Charset.isSupported(javaName)) {
                return Optional.of(Charset.forName(javaName));
            }
        }
        return Optional.empty();
    }

    private static boolean fits(Charset charset, byte[] bytes, int start, int end) {
        if (StandardCharsets.US_ASCII.equals(charset)) {
            for (int i = start; i < end; i++) {
                if (bytes[i] < 0) {
                    return false;
                }
            }
            return true;
        }
        if (StandardCharsets.UTF_8.equals(charset)) {
            return isValidUtf8(bytes, start, end);
        }
        // a single-byte label on bytes that hold multi-byte UTF-8 sequences and nothing else is a
        // mislabel: read as ISO-8859-1 they would become mojibake ("MÃ¼ller")
        return !looksLikeUtf8(bytes, start, end);
    }

    /**
     * Whether the bytes are valid UTF-8 and contain at least one multi-byte sequence. Real
     * ISO-8859 text practically never passes: an umlaut or ß (0xC0–0xFF) would have to be followed
     * by exactly the right number of bytes from 0x80–0xBF, which are control characters or rare
     * symbols in ISO-8859-1 ("Ã¼" written on purpose).
     */
    static boolean looksLikeUtf8(byte[] bytes, int start, int end) {
        boolean multiByte = false;
        for (int i = start; i < end; i++) {
            if (bytes[i] < 0) {
                multiByte = true;
                break;
            }
        }
        return multiByte && isValidUtf8(bytes, start, end);
    }

    private static boolean isValidUtf8(byte[] bytes, int start, int end) {
        try {
            StandardCharsets.UTF_8.newDecoder()
                    .onMalformedInput(CodingErrorAction.REPORT)
                    .onUnmappableCharacter(CodingErrorAction.REPORT)
                    .decode(ByteBuffer.wrap(bytes, start, end - start));
            return true;
        } catch (CharacterCodingException e) {
            return false;
        }
    }

    /** {@code \r\n} and {@code \n} → {@code \r}; blank segments dropped; each segment ends with {@code \r}. */
    static String normaliseSegments(String text) {
        String unified = text.replace("\r\n", "\r").replace('\n', '\r');
        StringBuilder sb = new StringBuilder(unified.length() + 1);
        for (String segment : unified.split("\r")) {
            if (!segment.isBlank()) {
                sb.append(segment).append('\r');
            }
        }
        return sb.toString();
    }

    private static boolean isLeadingNoise(byte b) {
        return b == MLLP_START || b == '\r' || b == '\n' || b == ' ' || b == '\t';
    }

    private static boolean isTrailingNoise(byte b) {
        return b == MLLP_END || b == '\r' || b == '\n';
    }

    private static boolean startsWith(byte[] bytes, int offset, byte[] prefix) {
        if (bytes.length - offset < prefix.length) {
            return false;
        }
        for (int i = 0; i < prefix.length; i++) {
            if (bytes[offset + i] != prefix[i]) {
                return false;
            }
        }
        return true;
    }

    private static int indexOfAny(String s, char a, char b) {
        for (int i = 0; i < s.length(); i++) {
            if (s.charAt(i) == a || s.charAt(i) == b) {
                return i;
            }
        }
        return -1;
    }

    static String blankToNull(String s) {
        return s == null || s.isBlank() ? null : s.trim();
    }

    private static String firstNonBlank(String a, String b) {
        String first = blankToNull(a);
        return first != null ? first : blankToNull(b);
    }
}
