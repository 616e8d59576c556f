package org.carerelay.fhir.hl7;

import ca.uhn.fhir.parser.DataFormatException;
import ca.uhn.hl7v2.HL7Exception;
import ca.uhn.hl7v2.model.Composite;
import ca.uhn.hl7v2.model.ExtraComponents;
import ca.uhn.hl7v2.model.Group;
import ca.uhn.hl7v2.model.Message;
import ca.uhn.hl7v2.model.Primitive;
import ca.uhn.hl7v2.model.Segment;
import ca.uhn.hl7v2.model.Structure;
import ca.uhn.hl7v2.model.Type;
import ca.uhn.hl7v2.model.Varies;
import ca.uhn.hl7v2.util.Terser;
import java.nio.ByteBuffer;
import java.nio.charset.CharacterCodingException;
import java.nio.charset.CodingErrorAction;
import java.nio.charset.StandardCharsets;
import java.time.DateTimeException;
import java.time.Instant;
import java.time.LocalDate;
import java.time.LocalDateTime;
import java.time.OffsetDateTime;
import java.time.ZoneId;
import java.time.ZoneOffset;
import java.time.format.DateTimeFormatter;
import java.util.ArrayList;
import java.util.HexFormat;
import java.util.List;
import java.util.Locale;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import org.hl7.fhir.r4.model.DateTimeType;

/**
 * Helpers shared by the inbound v2 → FHIR mappers ({@link AdtToPatient}, {@link MdmToCommunication},
 * {@link OruToObservations}): walking a parsed message's segments in message order, reading field
 * values as text, decoding the HL7 formatting escapes HAPI leaves in place, and converting v2
 * timestamps.
 *
 * <p>Pure and stateless; thread-safe.
 */
final class V2Support {

    /** Where a v2 timestamp without offset was taken: the local time of the (German) sender. */
    static final ZoneId DEFAULT_ZONE = ZoneId.of("Europe/Berlin");

    /** HL7 "explicit null" ({@code ""}): the value is deleted; read as empty. */
    private static final String HL7_NULL = "\"\"";

    /**
     * {@code YYYY[MM[DD[HH[MM[SS[.S[S[S[S]]]]]]]]][+/-ZZZZ]}; the offset is also accepted after a
     * date only (it is ignored there).
     */
    private static final Pattern DTM = Pattern.compile(
            "(\\d{4})(?:(\\d{2})(?:(\\d{2})(?:(\\d{2})(?:(\\d{2})(?:(\\d{2})(?:\\.(\\d{1,4}))?)?)?)?)?)?([+-]\\d{4})?");
    private static final DateTimeFormatter FHIR_SECONDS = DateTimeFormatter.ofPattern("yyyy-MM-dd'T'HH:mm:ssxxx");
    private static final DateTimeFormatter FHIR_MILLIS = DateTimeFormatter.ofPattern("yyyy-MM-dd'T'HH:mm:ss.SSSxxx");

    private V2Support() {
    }

    // ------------------------------------------------------------------ segments

    /**
     * All non-empty segments of {@code message} in message order, including non-standard ones
     * (segments HAPI could not place in the message structure are kept as "non-standard" segments
     * at the position where they occurred, e.g. {@code OBX2}; {@link Segment#getName()} still gives
     * {@code OBX}).
     */
    static List<Segment> segments(Message message) {
        List<Segment> segments = new ArrayList<>();
        try {
            collect(message, segments);
        } catch (HL7Exception e) {
            throw new IllegalArgumentException("Cannot read the message structure: " + e.getMessage(), e);
        }
        return segments;
    }

    private static void collect(Group group, List<Segment> segments) throws HL7Exception {
        for (String name : group.getNames()) {
            for (Structure structure : group.getAll(name)) {
                if (structure instanceof Segment segment) {
                    if (!segment.isEmpty()) {
                        segments.add(segment);
                    }
                } else if (structure instanceof Group child) {
                    collect(child, segments);
                }
            }
        }
    }

    /** The first segment named {@code name} (e.g. {@code TXA}), or {@code null}. */
    static Segment first(List<Segment> segments, String name) {
        for (Segment segment : segments) {
            if (name.equals(segment.getName())) {
                return segment;
            }
        }
        return null;
    }

    /** MSH-9-1 and MSH-9-2, upper case, e.g. {@code {"ORU", "R01"}}; missing parts are empty. */
    static String[] messageType(Message message) {
        try {
            Terser terser = new Terser(message);
            return new String[] {upper(terser.get("/MSH-9-1")), upper(terser.get("/MSH-9-2"))};
        } catch (HL7Exception e) {
            throw new IllegalArgumentException("Cannot read MSH-9: " + e.getMessage(), e);
        }
    }

    private static String upper(String value) {
        return value == null ? "" : value.strip().toUpperCase(Locale.ROOT);
    }

    /** The escape character of {@code message} (MSH-2, third character), by default {@code \}. */
    static char escapeCharacter(Message message) {
        try {
            String encodingCharacters = new Terser(message).get("/MSH-2");
            if (encodingCharacters != null && encodingCharacters.length() >= 3) {
                return encodingCharacters.charAt(2);
            }
        } catch (HL7Exception e) {
            // fall through to the default
        }
        return '\\';
    }

    // ------------------------------------------------------------------ field values

    /**
     * One component's (or subcomponent's) value as HAPI parsed it (delimiter escapes already
     * decoded), stripped; {@code null} if empty, absent or the HL7 null {@code ""}.
     */
    static String value(Segment segment, int field, int repetition, int component, int subcomponent) {
        try {
            if (segment == null || repetition >= segment.getField(field).length) {
                return null; // asking the Terser would add an empty repetition to the caller's message
            }
            return clean(Terser.get(segment, field, repetition, component, subcomponent));
        } catch (HL7Exception | RuntimeException e) {
            // a field beyond the segment's definition and not sent
            return null;
        }
    }

    /** {@link #value(Segment, int, int, int, int)} of the first repetition and subcomponent. */
    static String value(Segment segment, int field, int component) {
        return value(segment, field, 0, component, 1);
    }

    /** The number of repetitions of {@code field}; 0 if absent. */
    static int repetitions(Segment segment, int field) {
        try {
            return segment.getField(field).length;
        } catch (HL7Exception | RuntimeException e) {
            return 0;
        }
    }

    /** The {@code repetition}th repetition of {@code field}, or {@code null}. */
    static Type field(Segment segment, int field, int repetition) {
        try {
            Type[] reps = segment.getField(field);
            return repetition < reps.length ? reps[repetition] : null;
        } catch (HL7Exception | RuntimeException e) {
            return null;
        }
    }

    /**
     * The whole text of a field repetition, also where a sender did not escape the component or
     * subcomponent separator inside a text value ({@code TX}, {@code FT}, {@code ST}): the parts HAPI
     * split off are joined again with {@code ^} and {@code &}. Delimiter escapes are decoded (by
     * HAPI); formatting escapes are not (see {@link #decodeFormatting(String, char)}).
     */
    static String fullText(Type type) {
        if (type == null) {
            return "";
        }
        if (type instanceof Varies varies) {
            return fullText(varies.getData());
        }
        StringBuilder text = new StringBuilder();
        if (type instanceof Primitive primitive) {
            text.append(primitive.getValue() == null ? "" : primitive.getValue());
        } else if (type instanceof Composite composite) {
            text.append(joinComponents(composite, '^'));
        }
        ExtraComponents extra = type.getExtraComponents();
        for (int i = 0; i < extra.numComponents(); i++) {
            Type data = extra.getComponent(i).getData();
            text.append('^');
            if (data instanceof Composite composite) {
                text.append(joinComponents(composite, '&'));
            } else {
                text.append(fullText(data));
            }
        }
        String result = stripTrailing(text.toString(), '^');
        return HL7_NULL.equals(result) ? "" : result;
    }

    /**
     * The text of the {@code repetition}th repetition of {@code field}: its {@link #fullText(Type)}
     * with the formatting escapes decoded ({@link #decodeFormatting(String, char)}); empty if absent.
     */
    static String text(Segment segment, int field, int repetition, char escape) {
        return decodeFormatting(fullText(field(segment, field, repetition)), escape);
    }

    private static String joinComponents(Composite composite, char separator) {
        StringBuilder text = new StringBuilder();
        Type[] components = composite.getComponents();
        for (int i = 0; i < components.length; i++) {
            if (i > 0) {
                text.append(separator);
            }
            Type component = components[i];
            if (component instanceof Composite sub) {
                text.append(joinComponents(sub, '&'));
            } else {
                text.append(fullText(component));
            }
        }
        return stripTrailing(text.toString(), separator);
    }

    private static String stripTrailing(String text, char separator) {
        int end = text.length();
        while (end > 0 && text.charAt(end - 1) == separator) {
            end--;
        }
        return text.substring(0, end);
    }

    private static String clean(String value) {
        if (value == null) {
            return null;
        }
        String stripped = value.strip();
        return stripped.isEmpty() || HL7_NULL.equals(stripped) ? null : stripped;
    }

    // ------------------------------------------------------------------ escapes

    /**
     * Decodes the escape sequences HAPI's parser leaves in a value. HAPI already decodes the
     * delimiter escapes ({@code \F\ \S\ \T\ \R\ \E\}); this decodes the rest:
     *
     * <ul>
     *   <li>{@code \.br\} and {@code \.ce\} → line break; {@code \.sp\} / {@code \.sp n\} → n line
     *       breaks (at least one);</li>
     *   <li>{@code \Xhh..\} → the bytes, read as UTF-8 if they are valid UTF-8, else as ISO-8859-1
     *       (so both {@code \XC3A4\} and {@code \XE4\} give "ä");</li>
     *   <li>{@code \H\ \N\} (highlighting), the other formatting commands ({@code .fi .nf .in .ti
     *       .sk}) and the character-set and locally defined escapes ({@code \Cxxyy\ \Mxxyyzz\ \Z..\})
     *       are dropped;</li>
     *   <li>CR LF and lone CR become LF;</li>
     *   <li>anything else, including an unterminated or unknown sequence, is kept as it is.</li>
     * </ul>
     *
     * <p>Because HAPI decoded {@code \E\} to the escape character before, a literal text such as
     * {@code \E\.br\E\} (meaning the characters {@code \.br\}) also becomes a line break: the
     * original cannot be told apart any more. Real messages practically never contain it.
     */
    static String decodeFormatting(String text, char escape) {
        if (text == null || text.isEmpty()) {
            return text == null ? "" : text;
        }
        if (text.indexOf(escape) < 0) {
            return normalizeLineBreaks(text);
        }
        StringBuilder out = new StringBuilder(text.length());
        int i = 0;
        while (i < text.length()) {
            char c = text.charAt(i);
            int end = c == escape ? text.indexOf(escape, i + 1) : -1;
            if (end < 0) {
                out.append(c);
                i++;
                continue;
            }
            String replacement = escapeReplacement(text.substring(i + 1, end));
            if (replacement == null) {
                // unknown: keep the opening escape character and go on with the next character
                out.append(c);
                i++;
            } else {
                out.append(replacement);
                i = end + 1;
            }
        }
        return normalizeLineBreaks(out.toString());
    }

    /** {@code text} without any escape sequences ({@code \...\}); an unterminated one is kept. */
    static String stripEscapes(String text, char escape) {
        StringBuilder out = new StringBuilder(text.length());
        int i = 0;
        while (i < text.length()) {
            char c = text.charAt(i);
            int end = c == escape ? text.indexOf(escape, i + 1) : -1;
            if (end < 0) {
                out.append(c);
                i++;
            } else {
                i = end + 1;
            }
        }
        return out.toString();
    }

    private static String normalizeLineBreaks(String text) {
        return text.replace("\r\n", "\n").replace('\r', '\n');
    }

    /** The text for the escape sequence {@code body} (without escape characters), or {@code null}. */
    private static String escapeReplacement(String body) {
        if (body.isEmpty()) {
            return null;
        }
        switch (body) {
            case ".br":
            case ".ce":
                return "\n";
            case "H":
            case "N":
            case ".fi":
            case ".nf":
                return "";
            default:
                break;
        }
        if (body.startsWith(".sp")) {
            String count = body.substring(3).strip();
            if (count.isEmpty()) {
                return "\n";
            }
            if (count.matches("[+]?\\d{1,3}")) {
                return "\n".repeat(Math.max(1, Integer.parseInt(count.replace("+", ""))));
            }
            return null;
        }
        if (body.matches("\\.(in|ti)\\s*[+-]?\\d{0,3}") || body.matches("\\.sk\\s*[+]?\\d{0,3}")) {
            return "";
        }
        char kind = body.charAt(0);
        String rest = body.substring(1);
        if (kind == 'X' && !rest.isEmpty() && rest.length() % 2 == 0 && rest.matches("[0-9A-Fa-f]+")) {
            return hexText(HexFormat.of().parseHex(rest));
        }
        if ((kind == 'C' && rest.matches("[0-9A-Fa-f]{4}"))
                || (kind == 'M' && rest.matches("[0-9A-Fa-f]{4}|[0-9A-Fa-f]{6}"))
                || kind == 'Z') {
            return "";
        }
        return null;
    }

    private static String hexText(byte[] bytes) {
        try {
            return StandardCharsets.UTF_8.newDecoder()
                    .onMalformedInput(CodingErrorAction.REPORT)
                    .onUnmappableCharacter(CodingErrorAction.REPORT)
                    .decode(ByteBuffer.wrap(bytes))
                    .toString();
        } catch (CharacterCodingException e) {
            return new String(bytes, StandardCharsets.ISO_8859_1);
        }
    }

    // ------------------------------------------------------------------ timestamps

    /**
     * A v2 timestamp ({@code DTM}, the first component of {@code TS}) as FHIR {@code dateTime},
     * keeping its precision: {@code 2024}, {@code 2024-05}, {@code 2024-05-02}, or date and time to
     * the second (or millisecond) with offset. Hours without minutes get {@code :00}. Without an
     * offset the time is read as local time in {@link #DEFAULT_ZONE}. Returns {@code null} for
     * blank or malformed values.
     */
    static DateTimeType dateTime(String dtm) {
        Matcher m = match(dtm);
        if (m == null) {
            return null;
        }
        try {
            if (m.group(4) == null) {
                if (m.group(2) == null) {
                    return new DateTimeType(m.group(1));
                }
                if (m.group(3) == null) {
                    int month = Integer.parseInt(m.group(2));
                    if (month < 1 || month > 12) {
                        return null;
                    }
                    return new DateTimeType(m.group(1) + "-" + m.group(2));
                }
                LocalDate date = LocalDate.of(Integer.parseInt(m.group(1)), Integer.parseInt(m.group(2)),
                        Integer.parseInt(m.group(3)));
                return new DateTimeType(date.toString());
            }
            OffsetDateTime time = offsetDateTime(m);
            boolean millis = m.group(7) != null;
            return new DateTimeType((millis ? FHIR_MILLIS : FHIR_SECONDS).format(time));
        } catch (DateTimeException | IllegalArgumentException | DataFormatException e) {
            // invalid date, e.g. February 30th
            return null;
        }
    }

    /**
     * A v2 timestamp as an instant; a date only means the start of that day. Without an offset the
     * time is read as local time in {@link #DEFAULT_ZONE}. Returns {@code null} for blank or
     * malformed values.
     */
    static Instant instant(String dtm) {
        Matcher m = match(dtm);
        if (m == null) {
            return null;
        }
        try {
            return offsetDateTime(m).toInstant();
        } catch (DateTimeException | IllegalArgumentException e) {
            return null;
        }
    }

    private static Matcher match(String dtm) {
        if (dtm == null) {
            return null;
        }
        Matcher m = DTM.matcher(dtm.strip());
        // year 0000 is no FHIR date (and no real one)
        return m.matches() && !m.group(1).equals("0000") ? m : null;
    }

    private static OffsetDateTime offsetDateTime(Matcher m) {
        int year = Integer.parseInt(m.group(1));
        int month = m.group(2) == null ? 1 : Integer.parseInt(m.group(2));
        int day = m.group(3) == null ? 1 : Integer.parseInt(m.group(3));
        int hour = m.group(4) == null ? 0 : Integer.parseInt(m.group(4));
        int minute = m.group(5) == null ? 0 : Integer.parseInt(m.group(5));
        int second = m.group(6) == null ? 0 : Integer.parseInt(m.group(6));
        int nanos = 0;
        if (m.group(7) != null) {
            String fraction = (m.group(7) + "000000000").substring(0, 9);
            nanos = Integer.parseInt(fraction);
        }
        LocalDateTime local = LocalDateTime.of(year, month, day, hour, minute, second, nanos);
        String offset = m.group(8);
        if (offset == null) {
            return local.atZone(DEFAULT_ZONE).toOffsetDateTime();
        }
        int sign = offset.charAt(0) == '-' ? -1 : 1;
        int hours = Integer.parseInt(offset.substring(1, 3));
        int minutes = Integer.parseInt(offset.substring(3, 5));
        return local.atOffset(ZoneOffset.ofHoursMinutes(sign * hours, sign * minutes));
    }
}
