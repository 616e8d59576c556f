package org.carerelay.fhir.content;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;
import static org.carerelay.fhir.content.ContentFixtures.concat;
import static org.carerelay.fhir.content.ContentFixtures.utf8;

import java.nio.charset.StandardCharsets;
import java.util.Arrays;
import java.util.Random;
import org.carerelay.fhir.content.ContentInspector.Result;
import org.junit.jupiter.api.Test;

class ContentInspectorTest {

    /** "Befund 😀 ok": the emoji is the 4-byte sequence F0 9F 98 80 at offsets 7-10. */
    private static final byte[] WITH_EMOJI = utf8("Befund \uD83D\uDE00 ok");
    private static final int EMOJI_START = 7;

    @Test
    void fourByteCharacterMaySplitAtEveryPosition() {
        assertThat(Arrays.copyOfRange(WITH_EMOJI, EMOJI_START, EMOJI_START + 4))
                .containsExactly(0xF0, 0x9F, 0x98, 0x80);
        for (int split = 1; split < WITH_EMOJI.length; split++) {
            ContentInspector inspector = new ContentInspector("text/plain");
            inspector.update(WITH_EMOJI, 0, split);
            inspector.update(WITH_EMOJI, split, WITH_EMOJI.length - split);
            assertThat(inspector.finish().matches()).as("split at " + split).isTrue();
        }
        // three chunks, both cuts inside the character
        for (int first = EMOJI_START + 1; first < EMOJI_START + 4; first++) {
            for (int second = first + 1; second < EMOJI_START + 4; second++) {
                ContentInspector inspector = new ContentInspector("text/plain");
                inspector.update(WITH_EMOJI, 0, first);
                inspector.update(WITH_EMOJI, first, second - first);
                inspector.update(WITH_EMOJI, second, WITH_EMOJI.length - second);
                assertThat(inspector.finish().matches()).as("cuts at " + first + ", " + second).isTrue();
            }
        }
        assertThat(byteByByte("text/plain", WITH_EMOJI).matches()).isTrue();
    }

    @Test
    void invalidContinuationIsFoundAcrossAChunkBoundary() {
        // F0 9F then ESC: not UTF-8, and ESC is no printable single-byte text
        byte[] broken = concat(utf8("abc"), new byte[] {(byte) 0xF0, (byte) 0x9F, 0x1B}, utf8("A and more"));
        for (int split = 1; split < broken.length; split++) {
            ContentInspector inspector = new ContentInspector("text/plain");
            inspector.update(broken, 0, split);
            inspector.update(broken, split, broken.length - split);
            assertThat(inspector.finish()).as("split at " + split)
                    .isEqualTo(new Result(false, "not valid UTF-8, ISO-8859-1 or Windows-1252 text"));
        }
        assertThat(ContentTypes.matches("text/plain", broken)).isFalse();
    }

    @Test
    void sequenceTruncatedAtTheEndIsInvalid() {
        // U+10000 is F0 90 80 80: cut after 2 or 3 bytes it is no UTF-8, and 0x90 is undefined in
        // Windows-1252, so it is no single-byte text either
        byte[] linearB = concat(utf8("abc "), new byte[] {(byte) 0xF0, (byte) 0x90, (byte) 0x80, (byte) 0x80});
        assertThat(byteByByte("text/plain", linearB).matches()).isTrue();
        for (int cut = 2; cut < 4; cut++) {
            byte[] truncated = Arrays.copyOf(linearB, 4 + cut);
            Result result = byteByByte("text/plain", truncated);
            assertThat(result).as("cut after " + cut).isEqualTo(new Result(false, "not valid UTF-8, ISO-8859-1 or Windows-1252 text"));
            assertThat(ContentTypes.matches("text/plain", truncated)).isFalse();
        }
        // E2 81 (U+2041 cut short): 0x81 is undefined in Windows-1252
        assertThat(ContentInspector.inspect("text/plain", concat(utf8("5 "), new byte[] {(byte) 0xE2, (byte) 0x81})).matches())
                .isFalse();
        // a cut sequence whose bytes are all printable Windows-1252 reads as such ("ðŸ˜"), like ContentTypes.matches
        byte[] emojiCut = Arrays.copyOf(WITH_EMOJI, EMOJI_START + 3);
        assertThat(byteByByte("text/plain", emojiCut).matches()).isTrue();
        assertThat(ContentTypes.matches("text/plain", emojiCut)).isTrue();
    }

    @Test
    void truncatedSequenceOfPrintableLatin1BytesIsLatin1Text() {
        // the same outcome as ContentTypes.matches: C3 alone is no UTF-8, but it is Latin-1 "Ã"
        byte[] data = concat(utf8("abc"), new byte[] {(byte) 0xC3});
        assertThat(byteByByte("text/plain", data).matches()).isTrue();
        assertThat(ContentTypes.matches("text/plain", data)).isTrue();
        byte[] emojiCutAfterItsFirstByte = Arrays.copyOf(WITH_EMOJI, EMOJI_START + 1);
        assertThat(byteByByte("text/plain", emojiCutAfterItsFirstByte).matches()).isTrue();
        assertThat(ContentTypes.matches("text/plain", emojiCutAfterItsFirstByte)).isTrue();
    }

    @Test
    void nulByteAfterTheHeadIsFound() {
        byte[] data = new byte[100_000];
        for (int i = 0; i < data.length; i++) {
            data[i] = (byte) (i % 80 == 79 ? '\n' : 'a' + i % 26);
        }
        assertThat(feedInChunks("text/plain", data, 4096).finish().matches()).isTrue();

        data[70_000] = 0;
        ContentInspector inspector = feedInChunks("text/plain", data, 4096);
        assertThat(inspector.finish()).isEqualTo(new Result(false, "contains a NUL byte"));
        assertThat(inspector.size()).isEqualTo(100_000);
        assertThat(inspector.head()).hasSize(ContentInspector.HEAD_SIZE).doesNotContain(0);
        assertThat(ContentTypes.matches("text/plain", data)).isFalse();
    }

    @Test
    void latin1TextMatches() {
        byte[] text = "Größe: 180 cm, Gewicht: 75 kg\r\nBefund: unauffällig, Rückruf erbeten\f"
                .getBytes(StandardCharsets.ISO_8859_1);
        assertThat(byteByByte("text/plain; charset=ISO-8859-1", text)).isEqualTo(new Result(true, ""));
        assertThat(ContentInspector.inspect("text/plain", ContentFixtures.TEXT_LATIN1).matches()).isTrue();
        // a byte Windows-1252 leaves undefined in otherwise Latin-1 text that is no UTF-8 either
        byte[] withControl = concat(text, new byte[] {(byte) 0x8D});
        assertThat(byteByByte("text/plain", withControl).matches()).isFalse();
    }

    @Test
    void utf8TextWithControlCharactersIsText() {
        // U+0085 is valid UTF-8 (C2 85) although 0x85 is no printable Latin-1: one alternative suffices
        byte[] data = utf8("Zeile 1\u0085Zeile 2 \u00e4");
        assertThat(byteByByte("text/plain", data).matches()).isTrue();
        assertThat(ContentTypes.matches("text/plain", data)).isTrue();
    }

    @Test
    void binaryTypesAreDecidedOnTheHead() {
        byte[] pdf = concat(ContentFixtures.PDF, new byte[200_000]);
        ContentInspector inspector = feedInChunks("application/pdf", pdf, 8192);
        assertThat(inspector.finish()).isEqualTo(new Result(true, ""));
        assertThat(inspector.size()).isEqualTo(pdf.length);
        assertThat(inspector.head()).hasSize(ContentInspector.HEAD_SIZE);

        byte[] junkThenPdf = concat(filled(1000, (byte) 1), ContentFixtures.PDF);
        assertThat(byteByByte("application/pdf", junkThenPdf).matches()).isTrue();
        byte[] tooMuchJunk = concat(filled(1024, (byte) 1), ContentFixtures.PDF);
        assertThat(byteByByte("application/pdf", tooMuchJunk))
                .isEqualTo(new Result(false, "the bytes are not application/pdf"));

        assertThat(byteByByte("image/jpg", ContentFixtures.JPEG).matches()).isTrue();
        assertThat(byteByByte("application/dicom", ContentFixtures.DICOM).matches()).isTrue();
        assertThat(byteByByte("application/dicom", Arrays.copyOf(ContentFixtures.DICOM, 131)).matches()).isFalse();
    }

    @Test
    void detailNamesTheRealType() {
        assertThat(ContentInspector.inspect("application/pdf", ContentFixtures.PNG))
                .isEqualTo(new Result(false, "the bytes are image/png"));
        assertThat(ContentInspector.inspect("text/plain", ContentFixtures.PDF))
                .isEqualTo(new Result(false, "the bytes are application/pdf"));
        assertThat(ContentInspector.inspect("image/png", new byte[0])).isEqualTo(new Result(false, "empty"));
        assertThat(ContentInspector.inspect("image/png", null)).isEqualTo(new Result(false, "empty"));
        assertThat(ContentInspector.inspect(null, ContentFixtures.PNG).matches()).isFalse();
        assertThat(ContentInspector.inspect(" ", ContentFixtures.PNG).matches()).isFalse();
        assertThat(ContentInspector.inspect("application/octet-stream", ContentFixtures.PNG))
                .isEqualTo(new Result(false, "the declared type cannot be checked"));
    }

    @Test
    void detailNeverQuotesTheContent() {
        String marker = "Mustermann";
        byte[][] inputs = {
            concat(utf8("Patient " + marker + " "), new byte[] {(byte) 0xF0, (byte) 0x9F}),
            concat(utf8("Patient " + marker), new byte[] {0}, utf8(marker)),
            utf8("<" + marker + ">Patient " + marker + "</" + marker + ">"),
            utf8("<?xml version=\"1.0\"?><" + marker + " xmlns=\"" + marker + "\">"),
            utf8("<?xml version=\"1.0\"?><ClinicalDocument xmlns=\"urn:" + marker + "\">"),
            utf8("<?xml version=\"1.0\"?><ClinicalDocument xmlns=\"urn:hl7-org:v3\"><!ENTITY " + marker + " \"x\">"),
            utf8("<?xml version=\"1.0\"?><" + marker + "_" + "x".repeat(60) + "/>"),
            utf8("<?xml version=\"1.0\"?>< " + marker + " & </" + marker + ">"),
            utf8("Patient " + marker),
        };
        for (byte[] input : inputs) {
            for (String type : new String[] {"text/plain", "application/pdf", "text/xml"}) {
                Result result = ContentInspector.inspect(type, input);
                assertThat(result.detail()).doesNotContainIgnoringCase(marker);
                assertThat(result.detail().length()).isLessThan(100);
            }
        }
    }

    @Test
    void headIsACopyOfTheFirst64KiB() {
        ContentInspector inspector = new ContentInspector("text/plain");
        assertThat(inspector.head()).isEmpty();
        assertThat(inspector.size()).isZero();
        inspector.update(utf8("hello"), 0, 5);
        byte[] head = inspector.head();
        head[0] = 'J';
        assertThat(inspector.head()).isEqualTo(utf8("hello"));
        assertThat(inspector.size()).isEqualTo(5);

        byte[] big = new byte[ContentInspector.HEAD_SIZE + 1];
        Arrays.fill(big, (byte) 'x');
        big[ContentInspector.HEAD_SIZE - 6] = 'y';
        inspector.update(big, 0, big.length);
        assertThat(inspector.size()).isEqualTo(5 + big.length);
        assertThat(inspector.head()).hasSize(ContentInspector.HEAD_SIZE)
                .isEqualTo(concat(utf8("hello"), Arrays.copyOf(big, ContentInspector.HEAD_SIZE - 5)));
    }

    @Test
    void finishIsFinal() {
        ContentInspector inspector = new ContentInspector("text/plain");
        inspector.update(utf8("abc"), 0, 3);
        Result first = inspector.finish();
        assertThat(inspector.finish()).isEqualTo(first);
        assertThatThrownBy(() -> inspector.update(utf8("d"), 0, 1)).isInstanceOf(IllegalStateException.class);
    }

    @Test
    void chunkBoundsAreChecked() {
        ContentInspector inspector = new ContentInspector("text/plain");
        assertThatThrownBy(() -> inspector.update(new byte[4], 3, 2)).isInstanceOf(IndexOutOfBoundsException.class);
        assertThatThrownBy(() -> inspector.update(new byte[4], -1, 1)).isInstanceOf(IndexOutOfBoundsException.class);
        assertThat(inspector.size()).isZero();
    }

    @Test
    void randomChunkingOfTheFixturesGivesTheSameResult() {
        Random rnd = new Random(42);
        for (ContentFixtures.Fixture fixture : ContentFixtures.BINARY) {
            for (String type : ContentTypes.CHECKABLE) {
                boolean expected = ContentTypes.matches(type, fixture.data());
                assertThat(ContentFixtures.feed(type, fixture.data(), rnd, 5).finish().matches())
                        .as(fixture.type() + " declared as " + type)
                        .isEqualTo(expected)
                        .isEqualTo(type.equals(fixture.type()));
            }
        }
    }

    static Result byteByByte(String declared, byte[] data) {
        return feedInChunks(declared, data, 1).finish();
    }

    static ContentInspector feedInChunks(String declared, byte[] data, int chunk) {
        ContentInspector inspector = new ContentInspector(declared);
        for (int pos = 0; pos < data.length; pos += chunk) {
            inspector.update(data, pos, Math.min(chunk, data.length - pos));
        }
        return inspector;
    }

    private static byte[] filled(int length, byte value) {
        byte[] data = new byte[length];
        Arrays.fill(data, value);
        return data;
    }
}
