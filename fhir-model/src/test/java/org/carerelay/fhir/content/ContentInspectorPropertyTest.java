package org.carerelay.fhir.content;

import static org.assertj.core.api.Assertions.assertThat;
import static org.carerelay.fhir.content.ContentFixtures.concat;
import static org.carerelay.fhir.content.ContentFixtures.feed;
import static org.carerelay.fhir.content.ContentFixtures.latin1;
import static org.carerelay.fhir.content.ContentFixtures.utf8;

import java.io.ByteArrayOutputStream;
import java.nio.charset.StandardCharsets;
import java.util.Arrays;
import java.util.List;
import java.util.Random;
import org.carerelay.fhir.content.ContentFixtures.Fixture;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.ValueSource;

/**
 * Property-style checks (plain JUnit, seeded {@link Random}): for generated inputs, a
 * {@link ContentInspector} fed in random chunks gives the same {@code matches} as
 * {@link ContentTypes#matches(String, byte[])} on the whole array. A failure names the type, seed and
 * case, which reproduce it.
 */
class ContentInspectorPropertyTest {

    private static final int CASES = 400;
    private static final int[] MAX_CHUNKS = {1, 2, 3, 4, 7, 64, 1000, 70_000, Integer.MAX_VALUE};
    /** Bytes that steer the UTF-8 and Latin-1 checks through their edge cases. */
    private static final int[] INTERESTING = {0x00, 0x09, 0x0A, 0x0C, 0x0D, 0x1B, 0x20, 'a', 0x7E, 0x7F, 0x80, 0x8F,
        0x90, 0x9F, 0xA0, 0xBF, 0xC0, 0xC1, 0xC2, 0xDF, 0xE0, 0xE1, 0xED, 0xEF, 0xF0, 0xF1, 0xF4, 0xF5, 0xFF};

    @ParameterizedTest(name = "{0}")
    @ValueSource(strings = {"application/pdf", "image/jpeg", "image/png", "image/tiff", "image/gif",
        "application/dicom", "application/zip", "text/plain"})
    void streamingGivesTheSameResultAsTheWholeArray(String type) {
        long seed = 0x5EED_0000L + type.hashCode();
        Random rnd = new Random(seed);
        int matched = 0;
        for (int i = 0; i < CASES; i++) {
            String declared = declaredSpelling(type, rnd);
            byte[] data = generate(type, rnd);
            int maxChunk = MAX_CHUNKS[rnd.nextInt(MAX_CHUNKS.length)];

            ContentInspector inspector = feed(declared, data, rnd, maxChunk);
            ContentInspector.Result result = inspector.finish();
            boolean expected = ContentTypes.matches(declared, data);

            String where = "type " + type + ", seed " + seed + ", case " + i + ", " + data.length
                    + " bytes, chunks up to " + maxChunk;
            assertThat(result.matches()).as(where).isEqualTo(expected);
            assertThat(result.detail().isEmpty()).as(where + ": detail iff no match").isEqualTo(expected);
            assertThat(inspector.size()).as(where).isEqualTo(data.length);
            assertThat(inspector.head()).as(where)
                    .isEqualTo(Arrays.copyOf(data, Math.min(data.length, ContentInspector.HEAD_SIZE)));
            assertThat(ContentInspector.inspect(declared, data).matches()).as(where + ", one chunk").isEqualTo(expected);
            if (expected) {
                matched++;
            }
        }
        // the generator must exercise both outcomes, or the property says little
        assertThat(matched).as("matching cases for " + type).isBetween(CASES / 20, CASES - CASES / 20);
    }

    @ParameterizedTest(name = "{0}")
    @ValueSource(strings = {"application/hl7-cda+xml", "text/xml", "application/xml", "application/cda+xml"})
    void cdaResultDoesNotDependOnChunking(String declared) {
        long seed = 0xCDA_0000L + declared.hashCode();
        Random rnd = new Random(seed);
        int matched = 0;
        for (int i = 0; i < CASES / 2; i++) {
            byte[] data = generateCda(rnd);
            int maxChunk = MAX_CHUNKS[rnd.nextInt(MAX_CHUNKS.length)];
            boolean expected = ContentTypes.matches(declared, data);
            ContentInspector.Result result = feed(declared, data, rnd, maxChunk).finish();
            assertThat(result.matches()).as("seed " + seed + ", case " + i).isEqualTo(expected);
            if (expected) {
                matched++;
            }
        }
        assertThat(matched).isBetween(CASES / 40, CASES / 2 - CASES / 40);
    }

    // ---- generators -------------------------------------------------------------------------

    private static String declaredSpelling(String type, Random rnd) {
        return switch (rnd.nextInt(4)) {
            case 0 -> type.toUpperCase(java.util.Locale.ROOT);
            case 1 -> " " + type + "; name=\"x\"";
            case 2 -> switch (type) {
                case ContentTypes.JPEG -> "image/jpg";
                case ContentTypes.PNG -> "image/x-png";
                case ContentTypes.PDF -> "application/x-pdf";
                case ContentTypes.TEXT -> "text/plain; charset=utf-8";
                default -> type;
            };
            default -> type;
        };
    }

    private static byte[] generate(String type, Random rnd) {
        byte[] data = switch (rnd.nextInt(14)) {
            case 0, 1 -> ownFixture(type, rnd);
            case 2 -> truncate(anyFixture(rnd), rnd);
            case 3 -> concat(ownFixture(type, rnd), rnd.nextBoolean() ? randomBytes(rnd, 300) : validUtf8(rnd, 300));
            case 4 -> concat(junk(rnd), rnd.nextBoolean() ? ContentFixtures.PDF : anyFixture(rnd));
            case 5 -> randomBytes(rnd, 2000);
            case 6 -> validUtf8(rnd, 2000);
            case 7, 12, 13 -> invalidUtf8(rnd);
            case 8 -> latin1Text(rnd, 2000);
            case 9 -> concat(truncate(anyFixture(rnd), rnd), validUtf8(rnd, 200));
            case 10 -> rnd.nextBoolean() ? ContentFixtures.TEXT_UTF8 : ContentFixtures.TEXT_LATIN1;
            default -> large(type, rnd);
        };
        if (data.length > 0 && rnd.nextInt(6) == 0) {
            data = data.clone();
            data[rnd.nextInt(data.length)] = (byte) INTERESTING[rnd.nextInt(INTERESTING.length)];
        }
        return data;
    }

    /** A fixture of the type under test (text for text/plain), or any fixture now and then. */
    private static byte[] ownFixture(String type, Random rnd) {
        if (ContentTypes.TEXT.equals(type)) {
            return switch (rnd.nextInt(3)) {
                case 0 -> validUtf8(rnd, 500);
                case 1 -> latin1Text(rnd, 500);
                default -> ContentFixtures.TEXT_UTF8;
            };
        }
        List<Fixture> own = ContentFixtures.BINARY.stream().filter(f -> f.type().equals(type)).toList();
        return rnd.nextInt(8) == 0 ? anyFixture(rnd) : own.get(rnd.nextInt(own.size())).data();
    }

    private static byte[] anyFixture(Random rnd) {
        return ContentFixtures.BINARY.get(rnd.nextInt(ContentFixtures.BINARY.size())).data();
    }

    private static byte[] truncate(byte[] data, Random rnd) {
        return Arrays.copyOf(data, rnd.nextInt(data.length + 1));
    }

    /** Leading bytes before a PDF header: lengths around the end of the 1024-byte window, text or binary. */
    private static byte[] junk(Random rnd) {
        int length = rnd.nextBoolean() ? 1015 + rnd.nextInt(15) : rnd.nextInt(1100);
        byte[] junk = new byte[length];
        byte fill = rnd.nextBoolean() ? (byte) 'x' : (byte) 0x01;
        Arrays.fill(junk, fill);
        return junk;
    }

    private static byte[] randomBytes(Random rnd, int maxLength) {
        byte[] data = new byte[rnd.nextInt(maxLength + 1)];
        boolean uniform = rnd.nextBoolean();
        for (int i = 0; i < data.length; i++) {
            data[i] = uniform ? (byte) rnd.nextInt(256) : (byte) INTERESTING[rnd.nextInt(INTERESTING.length)];
        }
        return data;
    }

    /** Valid UTF-8 with characters of every length, from a random mix of ranges. */
    private static byte[] validUtf8(Random rnd, int maxChars) {
        StringBuilder text = new StringBuilder();
        int chars = rnd.nextInt(maxChars + 1);
        boolean controls = rnd.nextInt(4) == 0;
        for (int i = 0; i < chars; i++) {
            int codePoint = switch (rnd.nextInt(controls ? 7 : 6)) {
                case 0, 1 -> 0x20 + rnd.nextInt(0x5F);
                case 2 -> "\t\r\n\f".charAt(rnd.nextInt(4));
                case 3 -> 0xA0 + rnd.nextInt(0x760); // U+00A0-U+07FF: 2 bytes
                case 4 -> {
                    int c = 0x800 + rnd.nextInt(0x10000 - 0x800); // 3 bytes
                    yield Character.isSurrogate((char) c) ? 0x20AC : c;
                }
                case 5 -> 0x10000 + rnd.nextInt(0x100000); // 4 bytes
                default -> 1 + rnd.nextInt(0x9F); // controls, C1 included (valid UTF-8, not printable Latin-1)
            };
            text.appendCodePoint(codePoint);
        }
        return text.toString().getBytes(StandardCharsets.UTF_8);
    }

    /** Valid UTF-8 with one defect: truncated, overlong, surrogate, too high, stray continuation or bad lead. */
    private static byte[] invalidUtf8(Random rnd) {
        byte[] text = validUtf8(rnd, 300);
        byte[][] defects = {
            {(byte) 0xC0, (byte) 0xAF}, {(byte) 0xE0, (byte) 0x80, (byte) 0xAF}, {(byte) 0xE0, (byte) 0x9F, (byte) 0xBF}, {(byte) 0xED, (byte) 0xA0, (byte) 0x80},
            {(byte) 0xF4, (byte) 0x90, (byte) 0x80, (byte) 0x80}, {(byte) 0xF0, (byte) 0x8F, (byte) 0xBF, (byte) 0xBF},
            {(byte) 0x80}, {(byte) 0xBF}, {(byte) 0xF5, (byte) 0x80, (byte) 0x80, (byte) 0x80}, {(byte) 0xFF},
            {(byte) 0xE2, (byte) 0x82}, {(byte) 0xF0, (byte) 0x9F, (byte) 0x98}, {(byte) 0xC3}};
        byte[] defect = defects[rnd.nextInt(defects.length)];
        if (rnd.nextBoolean()) {
            return concat(text, defect); // at the very end: truncated sequences in particular
        }
        int at = rnd.nextInt(text.length + 1);
        return concat(Arrays.copyOf(text, at), defect, Arrays.copyOfRange(text, at, text.length));
    }

    private static byte[] latin1Text(Random rnd, int maxLength) {
        byte[] data = new byte[rnd.nextInt(maxLength + 1)];
        for (int i = 0; i < data.length; i++) {
            int b = rnd.nextInt(4) == 0 ? 0xA0 + rnd.nextInt(0x60) : 0x20 + rnd.nextInt(0x5F);
            data[i] = (byte) b;
        }
        if (data.length > 0 && rnd.nextInt(4) == 0) {
            data[rnd.nextInt(data.length)] = (byte) (0x80 + rnd.nextInt(0x20)); // 0x80-0x9F: Windows-1252 text unless undefined there
        }
        return data;
    }

    /**
     * Longer than the head: a fixture or text followed by text, with now and then a NUL, a stray
     * continuation byte or a truncated sequence after the head or at the very end.
     */
    private static byte[] large(String type, Random rnd) {
        ByteArrayOutputStream out = new ByteArrayOutputStream();
        out.writeBytes(rnd.nextBoolean() ? ownFixture(type, rnd) : validUtf8(rnd, 50));
        int target = ContentInspector.HEAD_SIZE + 1 + rnd.nextInt(50_000);
        boolean latin1 = rnd.nextInt(3) == 0;
        while (out.size() < target) {
            out.writeBytes(latin1 ? latin1Text(rnd, 2000) : validUtf8(rnd, 1000));
        }
        byte[] data = out.toByteArray();
        switch (rnd.nextInt(5)) {
            case 0 -> data[ContentInspector.HEAD_SIZE + rnd.nextInt(data.length - ContentInspector.HEAD_SIZE)] = 0;
            case 1 -> data[ContentInspector.HEAD_SIZE + rnd.nextInt(data.length - ContentInspector.HEAD_SIZE)] =
                    (byte) 0x85;
            case 2 -> data = concat(data, new byte[] {(byte) 0xF0, (byte) 0x9F});
            default -> {
                // left as generated
            }
        }
        return data;
    }

    /** CDA-like documents: valid ones in several encodings and with prologs, and broken variants. */
    private static byte[] generateCda(Random rnd) {
        String prolog = switch (rnd.nextInt(4)) {
            case 0 -> "";
            case 1 -> "<?xml version=\"1.0\" encoding=\"UTF-8\"?>\n";
            case 2 -> "<?xml version=\"1.0\"?>\n<!-- Arztbrief -->\n<?xml-stylesheet type=\"text/xsl\" href=\"cda.xsl\"?>\n";
            default -> "<!--" + "c".repeat(rnd.nextInt(3000)) + "-->\n  ";
        };
        String root = switch (rnd.nextInt(8)) {
            case 0 -> "<ClinicalDocument xmlns=\"urn:hl7-org:v2\">";
            case 1 -> "<html>";
            case 2 -> "<cda:ClinicalDocument xmlns:cda=\"urn:hl7-org:v3\">";
            case 3 -> "<!DOCTYPE ClinicalDocument [<!ENTITY a \"b\">]><ClinicalDocument xmlns=\"urn:hl7-org:v3\">";
            default -> "<ClinicalDocument xmlns=\"urn:hl7-org:v3\" xmlns:xsi=\"http://www.w3.org/2001/XMLSchema-instance\">";
        };
        String body = "<title>Entlassbrief \u00e4\u00f6\u00fc \u20ac</title>"
                + "<component><structuredBody/></component>".repeat(rnd.nextInt(50));
        String close = root.startsWith("<html") ? "</html>" : root.contains("cda:") ? "</cda:ClinicalDocument>"
                : "</ClinicalDocument>";
        String document = prolog + root + body + close;
        byte[] data = switch (rnd.nextInt(4)) {
            case 0 -> concat(new byte[] {(byte) 0xEF, (byte) 0xBB, (byte) 0xBF}, utf8(document));
            case 1 -> ("\uFEFF" + document.replace("encoding=\"UTF-8\"", "encoding=\"UTF-16\""))
                    .getBytes(rnd.nextBoolean() ? StandardCharsets.UTF_16BE : StandardCharsets.UTF_16LE);
            default -> utf8(document);
        };
        if (rnd.nextInt(5) == 0) {
            data = Arrays.copyOf(data, rnd.nextInt(data.length + 1));
        }
        if (rnd.nextInt(10) == 0) {
            data = latin1(new String(data, StandardCharsets.ISO_8859_1).replace("<!--", "<!--<!ENTITY -->"));
        }
        return data;
    }
}
