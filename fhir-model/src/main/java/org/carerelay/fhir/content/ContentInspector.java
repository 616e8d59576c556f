package org.carerelay.fhir.content;

import java.io.ByteArrayInputStream;
import java.nio.charset.StandardCharsets;
import java.util.Arrays;
import java.util.Objects;
import java.util.Optional;
import java.util.Set;
import javax.xml.XMLConstants;
import javax.xml.stream.XMLInputFactory;
import javax.xml.stream.XMLStreamConstants;
import javax.xml.stream.XMLStreamException;
import javax.xml.stream.XMLStreamReader;

/**
 * Checks a declared content type against bytes that stream through, chunk by chunk, without
 * buffering them: the streaming counterpart of {@link ContentTypes#matches(String, byte[])}, with the
 * same results for every type that class checks, whatever the chunk sizes.
 *
 * <ul>
 *   <li>The binary types ({@link ContentTypes#SNIFFABLE}) are decided on the {@linkplain #head()
 *       head}, the first 64 KiB, which covers every magic number {@link ContentTypes#sniff(byte[])}
 *       looks at (the PDF header window of 1024 bytes, DICOM's 132 bytes).</li>
 *   <li>{@code text/plain} needs the whole stream: no NUL byte anywhere, and either strict UTF-8
 *       (validated across chunk boundaries; a sequence truncated at the very end is invalid) or
 *       printable ISO-8859-1 throughout; both alternatives are tracked in parallel in constant
 *       memory. The head must not sniff as a binary type.</li>
 *   <li>The {@linkplain ContentTypes#CDA_TYPES CDA types} ({@code application/hl7-cda+xml},
 *       {@code text/xml}, {@code application/xml}) are decided on the head: it must contain no
 *       {@code <!DOCTYPE} or {@code <!ENTITY} (in an ASCII-compatible encoding or UTF-16, in any
 *       letter case), and a StAX reader with DTDs and external entities switched off, reading events
 *       only up to the first start tag, must find the root element {@code ClinicalDocument} in
 *       namespace {@code urn:hl7-org:v3}. A BOM, whitespace, an XML declaration, comments and
 *       processing instructions may precede the root; the rest of the document is not parsed.</li>
 *   <li>Empty data, a missing declared type and any declared type not in
 *       {@link ContentTypes#CHECKABLE} never match.</li>
 * </ul>
 *
 * <p>The {@linkplain Result#detail() detail} of a result never holds any of the content itself
 * (which is patient data), only fixed wording, known type names and, for a wrong XML root, its
 * element name if it is a well-known one such as {@code html} or {@code Bundle}.
 *
 * <p>Not thread-safe: one instance per stream.
 */
public final class ContentInspector {

    /** Bytes kept of the start of the stream. */
    public static final int HEAD_SIZE = 64 * 1024;

    static final String CDA_NAMESPACE = "urn:hl7-org:v3";
    static final String CDA_ROOT = "ClinicalDocument";
    static final String DETAIL_DOCTYPE = "DOCTYPE or entity declarations are not accepted";
    static final String DETAIL_TEXT_ENCODING = "not valid UTF-8, ISO-8859-1 or Windows-1252 text";
    static final String DETAIL_NUL = "contains a NUL byte";
    static final String DETAIL_EMPTY = "empty";

    private static final byte[][] FORBIDDEN_MARKUP = {ascii("<!DOCTYPE"), ascii("<!ENTITY")};
    /**
     * Well-known root elements of other documents, named in a detail; any other name is not, as
     * element names of an unknown document are content too.
     */
    private static final Set<String> KNOWN_ROOTS = Set.of("html", "Bundle", "Composition", "DocumentReference",
            "Binary", "Envelope", "svg", "feed", "rss", "stylesheet", "schema");

    /** The result of a check: {@code detail} is a short reason if it does not match, else empty. */
    public record Result(boolean matches, String detail) {

        public Result {
            Objects.requireNonNull(detail, "detail");
        }

        static Result ok() {
            return new Result(true, "");
        }

        static Result no(String detail) {
            return new Result(false, detail);
        }
    }

    private enum Kind { BINARY, TEXT, CDA, UNCHECKABLE }

    private final String type;
    private final Kind kind;

    private byte[] head = new byte[0];
    private int headLength;
    private long size;
    private Result result;

    // text/plain state; text is no longer scanned once it cannot match any more
    private boolean textRejected;
    private boolean nulSeen;
    private boolean latin1Ok = true;
    private boolean utf8Ok = true;
    /** Continuation bytes the current UTF-8 sequence still needs. */
    private int utf8Pending;
    /** Range allowed for the next continuation byte (narrower for the second byte after E0, ED, F0, F4). */
    private int utf8Min = 0x80;
    private int utf8Max = 0xBF;

    /** @param declaredType the declared content type, {@linkplain ContentTypes#normalize(String) normalised} here */
    public ContentInspector(String declaredType) {
        this.type = ContentTypes.normalize(declaredType);
        if (ContentTypes.TEXT.equals(type)) {
            kind = Kind.TEXT;
        } else if (ContentTypes.SNIFFABLE.contains(type)) {
            kind = Kind.BINARY;
        } else if (ContentTypes.CDA_TYPES.contains(type)) {
            kind = Kind.CDA;
        } else {
            kind = Kind.UNCHECKABLE;
        }
    }

    /** Checks {@code data} in one go; the same as {@link ContentTypes#matches(String, byte[])}, with a reason. */
    public static Result inspect(String declaredType, byte[] data) {
        ContentInspector inspector = new ContentInspector(declaredType);
        if (data != null) {
            inspector.update(data, 0, data.length);
        }
        return inspector.finish();
    }

    /**
     * Takes the next {@code len} bytes of the stream from {@code b} at {@code off}; chunks may be of
     * any size, including empty.
     *
     * @throws IllegalStateException after {@link #finish()}
     */
    public void update(byte[] b, int off, int len) {
        Objects.checkFromIndexSize(off, len, b.length);
        if (result != null) {
            throw new IllegalStateException("finish() has already been called");
        }
        if (headLength < HEAD_SIZE && len > 0) {
            int take = Math.min(len, HEAD_SIZE - headLength);
            if (headLength + take > head.length) {
                int capacity = Math.max(headLength + take, Math.min(HEAD_SIZE, Math.max(256, head.length * 2)));
                head = Arrays.copyOf(head, capacity);
            }
            System.arraycopy(b, off, head, headLength, take);
            headLength += take;
        }
        size += len;
        if (kind == Kind.TEXT && !textRejected) {
            scanText(b, off, off + len);
        }
    }

    /** The result, after the last chunk; calling it again gives the same result. */
    public Result finish() {
        if (result == null) {
            result = decide();
        }
        return result;
    }

    /** Bytes seen so far. */
    public long size() {
        return size;
    }

    /** A copy of the first (up to) {@value #HEAD_SIZE} bytes seen so far. */
    public byte[] head() {
        return Arrays.copyOf(head, headLength);
    }

    private Result decide() {
        if (type.isEmpty()) {
            return Result.no("no declared type");
        }
        if (kind == Kind.UNCHECKABLE) {
            return Result.no("the declared type cannot be checked");
        }
        if (size == 0) {
            return Result.no(DETAIL_EMPTY);
        }
        return switch (kind) {
            case BINARY -> decideBinary();
            case TEXT -> decideText();
            case CDA -> decideCda();
            case UNCHECKABLE -> throw new IllegalStateException();
        };
    }

    private Result decideBinary() {
        Optional<String> sniffed = ContentTypes.sniff(head());
        if (sniffed.isEmpty()) {
            return Result.no("the bytes are not " + type);
        }
        return sniffed.get().equals(type) ? Result.ok() : Result.no("the bytes are " + sniffed.get());
    }

    private Result decideText() {
        Optional<String> sniffed = ContentTypes.sniff(head());
        if (sniffed.isPresent()) {
            return Result.no("the bytes are " + sniffed.get());
        }
        if (nulSeen) {
            return Result.no(DETAIL_NUL);
        }
        boolean utf8 = utf8Ok && utf8Pending == 0; // a sequence truncated at the end is invalid
        return utf8 || latin1Ok ? Result.ok() : Result.no(DETAIL_TEXT_ENCODING);
    }

    private void scanText(byte[] b, int from, int to) {
        boolean utf8 = utf8Ok;
        boolean latin1 = latin1Ok;
        int pending = utf8Pending;
        int min = utf8Min;
        int max = utf8Max;
        for (int i = from; i < to; i++) {
            int c = b[i] & 0xFF;
            if (c == 0) {
                nulSeen = true;
                textRejected = true;
                break;
            }
            if (latin1 && !ContentTypes.isPrintableLatin1(c)) {
                latin1 = false;
            }
            if (utf8) {
                if (pending > 0) {
                    if (c < min || c > max) {
                        utf8 = false;
                    } else {
                        pending--;
                        min = 0x80;
                        max = 0xBF;
                    }
                } else if (c >= 0x80) {
                    // lead byte: the same table as ContentTypes.isValidUtf8
                    if (c >= 0xC2 && c <= 0xDF) {
                        pending = 1;
                    } else if (c == 0xE0) {
                        pending = 2;
                        min = 0xA0; // no overlongs
                    } else if (c == 0xED) {
                        pending = 2;
                        max = 0x9F; // no surrogates
                    } else if (c >= 0xE1 && c <= 0xEF) {
                        pending = 2;
                    } else if (c == 0xF0) {
                        pending = 3;
                        min = 0x90; // no overlongs
                    } else if (c >= 0xF1 && c <= 0xF3) {
                        pending = 3;
                    } else if (c == 0xF4) {
                        pending = 3;
                        max = 0x8F; // not above U+10FFFF
                    } else {
                        utf8 = false; // 0x80-0xC1 and 0xF5-0xFF never start a sequence
                    }
                }
            }
            if (!utf8 && !latin1) {
                textRejected = true;
                break;
            }
        }
        utf8Ok = utf8;
        latin1Ok = latin1;
        utf8Pending = pending;
        utf8Min = min;
        utf8Max = max;
    }

    private Result decideCda() {
        if (containsForbiddenMarkup(head, headLength)) {
            return Result.no(DETAIL_DOCTYPE);
        }
        XMLStreamReader reader = null;
        try {
            reader = xmlInputFactory().createXMLStreamReader(new ByteArrayInputStream(head, 0, headLength));
            while (reader.hasNext()) {
                int event = reader.next();
                if (event == XMLStreamConstants.DTD || event == XMLStreamConstants.ENTITY_DECLARATION) {
                    return Result.no(DETAIL_DOCTYPE); // in an encoding the byte search does not cover
                }
                if (event == XMLStreamConstants.START_ELEMENT) {
                    return checkRoot(reader.getLocalName(), reader.getNamespaceURI());
                }
            }
            return Result.no(noRootDetail());
        } catch (XMLStreamException | RuntimeException e) {
            // the message may quote the content: not passed on
            return Result.no(noRootDetail());
        } finally {
            if (reader != null) {
                try {
                    reader.close();
                } catch (XMLStreamException ignored) {
                    // nothing to release: the input is a byte array
                }
            }
        }
    }

    private String noRootDetail() {
        return headLength >= HEAD_SIZE
                ? "not a CDA document (no root element in the first 64 KiB)"
                : "not a CDA document (not well-formed XML before the root element)";
    }

    private static Result checkRoot(String localName, String namespace) {
        if (!CDA_ROOT.equals(localName)) {
            return Result.no(KNOWN_ROOTS.contains(localName)
                    ? "not a CDA document (root element is <" + localName + ">)"
                    : "not a CDA document (root element is not <" + CDA_ROOT + ">)");
        }
        if (!CDA_NAMESPACE.equals(namespace)) {
            return Result.no("not a CDA document (root element is not in namespace " + CDA_NAMESPACE + ")");
        }
        return Result.ok();
    }

    /**
     * The JDK's own StAX implementation (not whichever one the class path brings), with DTDs and
     * external entities off. A new factory per check: factories are not guaranteed to be
     * thread-safe, and this runs once per document.
     */
    private static XMLInputFactory xmlInputFactory() {
        XMLInputFactory factory = XMLInputFactory.newDefaultFactory();
        factory.setProperty(XMLInputFactory.SUPPORT_DTD, false);
        factory.setProperty(XMLInputFactory.IS_SUPPORTING_EXTERNAL_ENTITIES, false);
        factory.setProperty(XMLInputFactory.IS_NAMESPACE_AWARE, true);
        factory.setXMLResolver((publicId, systemId, baseUri, namespace) -> {
            throw new XMLStreamException("external resources are not resolved");
        });
        try {
            factory.setProperty(XMLConstants.ACCESS_EXTERNAL_DTD, "");
        } catch (IllegalArgumentException unsupported) {
            // SUPPORT_DTD=false already keeps DTDs out
        }
        return factory;
    }

    /**
     * Whether {@code <!DOCTYPE} or {@code <!ENTITY} occurs anywhere in the first {@code length}
     * bytes, as single bytes (UTF-8, ISO-8859-x and other ASCII-compatible encodings) or as UTF-16
     * in either byte order; letters in any case.
     */
    static boolean containsForbiddenMarkup(byte[] data, int length) {
        for (byte[] needle : FORBIDDEN_MARKUP) {
            if (contains(data, length, needle, 1, 0)
                    || contains(data, length, needle, 2, 0) // UTF-16LE: character, then 0x00
                    || contains(data, length, needle, 2, 1)) { // UTF-16BE: 0x00, then character
                return true;
            }
        }
        return false;
    }

    /**
     * Whether {@code needle} (ASCII) occurs in {@code data[0, length)}, each character taking
     * {@code width} bytes with the character at {@code charOffset} and zeros elsewhere.
     */
    private static boolean contains(byte[] data, int length, byte[] needle, int width, int charOffset) {
        int span = needle.length * width;
        for (int start = 0; start + span <= length; start++) {
            if (matchesAt(data, start, needle, width, charOffset)) {
                return true;
            }
        }
        return false;
    }

    private static boolean matchesAt(byte[] data, int start, byte[] needle, int width, int charOffset) {
        for (int k = 0; k < needle.length; k++) {
            int base = start + k * width;
            for (int j = 0; j < width; j++) {
                int actual = data[base + j] & 0xFF;
                if (j == charOffset) {
                    if (toUpperAscii(actual) != needle[k]) {
                        return false;
                    }
                } else if (actual != 0) {
                    return false;
                }
            }
        }
        return true;
    }

    private static int toUpperAscii(int b) {
        return b >= 'a' && b <= 'z' ? b - ('a' - 'A') : b;
    }

    private static byte[] ascii(String s) {
        return s.getBytes(StandardCharsets.US_ASCII);
    }
}
