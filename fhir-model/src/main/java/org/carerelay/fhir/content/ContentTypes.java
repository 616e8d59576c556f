package org.carerelay.fhir.content;

import java.nio.charset.StandardCharsets;
import java.util.Locale;
import java.util.Map;
import java.util.Optional;
import java.util.Set;

/**
 * Detects the real type of uploaded bytes by their magic numbers, so that a declared content type
 * (e.g. {@code Attachment.contentType} or a MIME part's {@code Content-Type}) can be checked
 * against the bytes actually sent.
 *
 * <p>Only the types listed in {@link #CHECKABLE} can be checked. {@link #matches(String, byte[])}
 * fails closed: a declared type this class cannot verify never matches, so callers decide
 * explicitly (with {@link #isCheckable(String)}) what to do with such uploads.
 *
 * <p>For uploads that are checked while they stream through, without buffering them, use
 * {@link ContentInspector}, which gives the same results.
 *
 * <p>Pure and stateless; all methods are thread-safe.
 */
public final class ContentTypes {

    public static final String PDF = "application/pdf";
    public static final String JPEG = "image/jpeg";
    public static final String PNG = "image/png";
    public static final String TIFF = "image/tiff";
    public static final String GIF = "image/gif";
    public static final String DICOM = "application/dicom";
    public static final String ZIP = "application/zip";
    public static final String TEXT = "text/plain";
    /** HL7 CDA R2 document (XML); {@code application/cda+xml} is accepted as an alias. */
    public static final String CDA = "application/hl7-cda+xml";

    /**
     * Declared types that are checked as CDA documents: the root element must be
     * {@code ClinicalDocument} in namespace {@code urn:hl7-org:v3} (see {@link ContentInspector}).
     */
    public static final Set<String> CDA_TYPES = Set.of(CDA, "text/xml", "application/xml");

    /** The binary types {@link #sniff(byte[])} can detect. */
    public static final Set<String> SNIFFABLE = Set.of(PDF, JPEG, PNG, TIFF, GIF, DICOM, ZIP);

    /** All declared types {@link #matches(String, byte[])} can verify. */
    public static final Set<String> CHECKABLE =
            Set.of(PDF, JPEG, PNG, TIFF, GIF, DICOM, ZIP, TEXT, CDA, "text/xml", "application/xml");

    /** Non-standard spellings sent by browsers and older mail clients, mapped to the registered type. */
    private static final Map<String, String> ALIASES = Map.of(
            "image/jpg", JPEG,
            "image/pjpeg", JPEG,
            "image/x-png", PNG,
            "image/x-tiff", TIFF,
            "application/x-pdf", PDF,
            "application/x-zip-compressed", ZIP,
            "application/cda+xml", CDA);

    /** A PDF header may be preceded by junk; readers look for it within the first 1024 bytes. */
    private static final int PDF_HEADER_WINDOW = 1024;
    private static final byte[] PDF_MAGIC = ascii("%PDF-");
    private static final byte[] PNG_MAGIC = {(byte) 0x89, 'P', 'N', 'G', 0x0D, 0x0A, 0x1A, 0x0A};
    private static final byte[] JPEG_MAGIC = {(byte) 0xFF, (byte) 0xD8, (byte) 0xFF};
    private static final byte[] TIFF_LE_MAGIC = {'I', 'I', 0x2A, 0x00};
    private static final byte[] TIFF_BE_MAGIC = {'M', 'M', 0x00, 0x2A};
    private static final byte[] GIF87_MAGIC = ascii("GIF87a");
    private static final byte[] GIF89_MAGIC = ascii("GIF89a");
    /** Local file header; an empty archive consists only of the end-of-central-directory record. */
    private static final byte[] ZIP_MAGIC = {'P', 'K', 0x03, 0x04};
    private static final byte[] ZIP_EMPTY_MAGIC = {'P', 'K', 0x05, 0x06};
    /** DICOM Part 10: a 128-byte preamble followed by "DICM". */
    private static final int DICOM_PREFIX_OFFSET = 128;
    private static final byte[] DICOM_MAGIC = ascii("DICM");

    private ContentTypes() {
    }

    /**
     * The type of {@code data} as detected by its magic number: one of {@link #SNIFFABLE}, or empty
     * if {@code data} is {@code null}, empty or of an unknown type. Plain text is never sniffed
     * (it has no magic number); use {@link #matches(String, byte[])} for {@code text/plain}.
     *
     * <p>DICOM is checked before the signatures at offset 0, because the 128-byte preamble of a
     * DICOM file may itself hold another format's header (e.g. dual-personality DICOM/TIFF files).
     * PDF is checked last, because its header may appear anywhere in the first 1024 bytes.
     */
    public static Optional<String> sniff(byte[] data) {
        if (data == null || data.length == 0) {
            return Optional.empty();
        }
        if (startsWith(data, DICOM_PREFIX_OFFSET, DICOM_MAGIC)) {
            return Optional.of(DICOM);
        }
        if (startsWith(data, 0, PNG_MAGIC)) {
            return Optional.of(PNG);
        }
        if (startsWith(data, 0, JPEG_MAGIC)) {
            return Optional.of(JPEG);
        }
        if (startsWith(data, 0, TIFF_LE_MAGIC) || startsWith(data, 0, TIFF_BE_MAGIC)) {
            return Optional.of(TIFF);
        }
        if (startsWith(data, 0, GIF87_MAGIC) || startsWith(data, 0, GIF89_MAGIC)) {
            return Optional.of(GIF);
        }
        if (startsWith(data, 0, ZIP_MAGIC) || startsWith(data, 0, ZIP_EMPTY_MAGIC)) {
            return Optional.of(ZIP);
        }
        if (indexOf(data, PDF_MAGIC, PDF_HEADER_WINDOW) >= 0) {
            return Optional.of(PDF);
        }
        return Optional.empty();
    }

    /**
     * Whether {@code data} really is of the {@code declared} content type.
     *
     * <ul>
     *   <li>The declared type is {@linkplain #normalize(String) normalised} first, so
     *       {@code "Image/JPG; name=x.jpg"} is checked as {@code image/jpeg}.</li>
     *   <li>For the binary types ({@link #SNIFFABLE}) the {@linkplain #sniff(byte[]) sniffed} type
     *       must equal the declared one.</li>
     *   <li>For {@code text/plain} the data must contain no NUL byte, must be valid UTF-8 or
     *       printable ISO-8859-1 or Windows-1252 text (tab, CR, LF, FF, 0x20-0x7E, 0x80-0xFF but the five bytes Windows-1252 leaves undefined), and must not be
     *       sniffed as one of the binary types.</li>
     *   <li>For the {@linkplain #CDA_TYPES CDA types} ({@code application/hl7-cda+xml},
     *       {@code text/xml}, {@code application/xml}) the document must have the root element
     *       {@code ClinicalDocument} in namespace {@code urn:hl7-org:v3} and no DOCTYPE or entity
     *       declaration in its first 64 KiB; see {@link ContentInspector}.</li>
     *   <li>Empty or {@code null} data, a {@code null} or blank declared type, and any declared type
     *       not in {@link #CHECKABLE} never match.</li>
     * </ul>
     */
    public static boolean matches(String declared, byte[] data) {
        String type = normalize(declared);
        if (type.isEmpty() || data == null || data.length == 0) {
            return false;
        }
        if (TEXT.equals(type)) {
            return isPlainText(data);
        }
        if (SNIFFABLE.contains(type)) {
            return sniff(data).map(type::equals).orElse(false);
        }
        if (CDA_TYPES.contains(type)) {
            return ContentInspector.inspect(type, data).matches();
        }
        return false;
    }

    /** Whether {@link #matches(String, byte[])} can verify the (normalised) {@code declared} type. */
    public static boolean isCheckable(String declared) {
        return CHECKABLE.contains(normalize(declared));
    }

    /**
     * The bare media type of {@code declared}: parameters ({@code ; charset=...}) stripped, trimmed,
     * lower-cased, and known aliases such as {@code image/jpg} and {@code image/pjpeg} mapped to the
     * registered type. {@code null} gives the empty string.
     */
    public static String normalize(String declared) {
        if (declared == null) {
            return "";
        }
        int semicolon = declared.indexOf(';');
        String type = (semicolon >= 0 ? declared.substring(0, semicolon) : declared)
                .trim()
                .toLowerCase(Locale.ROOT);
        return ALIASES.getOrDefault(type, type);
    }

    private static boolean isPlainText(byte[] data) {
        for (byte b : data) {
            if (b == 0) {
                return false;
            }
        }
        if (sniff(data).isPresent()) {
            return false;
        }
        return isValidUtf8(data) || isPrintableLatin1(data);
    }

    /**
     * Strict UTF-8 check (RFC 3629): rejects overlong encodings, surrogates, code points above
     * U+10FFFF and truncated sequences. Does not allocate, so large uploads are cheap to check.
     */
    static boolean isValidUtf8(byte[] data) {
        int i = 0;
        int n = data.length;
        while (i < n) {
            int b = data[i] & 0xFF;
            if (b < 0x80) {
                i++;
                continue;
            }
            int continuation;
            int min;
            int max;
            if (b >= 0xC2 && b <= 0xDF) {
                continuation = 1;
                min = 0x80;
                max = 0xBF;
            } else if (b == 0xE0) {
                continuation = 2;
                min = 0xA0; // no overlongs
                max = 0xBF;
            } else if (b == 0xED) {
                continuation = 2;
                min = 0x80;
                max = 0x9F; // no surrogates
            } else if (b >= 0xE1 && b <= 0xEF) {
                continuation = 2;
                min = 0x80;
                max = 0xBF;
            } else if (b == 0xF0) {
                continuation = 3;
                min = 0x90; // no overlongs
                max = 0xBF;
            } else if (b >= 0xF1 && b <= 0xF3) {
                continuation = 3;
                min = 0x80;
                max = 0xBF;
            } else if (b == 0xF4) {
                continuation = 3;
                min = 0x80;
                max = 0x8F; // not above U+10FFFF
            } else {
                return false; // 0x80-0xC1 and 0xF5-0xFF never start a sequence
            }
            if (i + continuation >= n) {
                return false; // truncated sequence
            }
            int second = data[i + 1] & 0xFF;
            if (second < min || second > max) {
                return false;
            }
            for (int k = 2; k <= continuation; k++) {
                int next = data[i + k] & 0xFF;
                if (next < 0x80 || next > 0xBF) {
                    return false;
                }
            }
            i += continuation + 1;
        }
        return true;
    }

    private static boolean isPrintableLatin1(byte[] data) {
        for (byte value : data) {
            if (!isPrintableLatin1(value & 0xFF)) {
                return false;
            }
        }
        return true;
    }

    /**
     * Whether the unsigned byte {@code b} is printable single-byte text: ISO-8859-1 (tab, CR, LF,
     * FF, 0x20-0x7E, 0xA0-0xFF) or the characters Windows-1252 puts at 0x80-0x9F (€, „, “, ”, –, …;
     * German text exported on Windows is full of them). The five bytes Windows-1252 leaves
     * undefined (0x81, 0x8D, 0x8F, 0x90, 0x9D) and all other control characters are not text.
     * The per-byte rule of {@link #isPrintableLatin1(byte[])}, for {@link ContentInspector}.
     */
    static boolean isPrintableLatin1(int b) {
        if (b >= 0x80 && b <= 0x9F) {
            return b != 0x81 && b != 0x8D && b != 0x8F && b != 0x90 && b != 0x9D;
        }
        return (b >= 0x20 && b <= 0x7E) || b >= 0xA0
                || b == '\t' || b == '\n' || b == '\r' || b == '\f';
    }

    private static boolean startsWith(byte[] data, int offset, byte[] magic) {
        if (data.length < offset + magic.length) {
            return false;
        }
        for (int i = 0; i < magic.length; i++) {
            if (data[offset + i] != magic[i]) {
                return false;
            }
        }
        return true;
    }

    /** First index of {@code needle} starting within the first {@code window} bytes, or -1. */
    private static int indexOf(byte[] data, byte[] needle, int window) {
        // a header starting inside the window may end just past it
        int lastStart = Math.min(window - 1, data.length - needle.length);
        for (int start = 0; start <= lastStart; start++) {
            if (startsWith(data, start, needle)) {
                return start;
            }
        }
        return -1;
    }

    private static byte[] ascii(String s) {
        return s.getBytes(StandardCharsets.US_ASCII);
    }
}
