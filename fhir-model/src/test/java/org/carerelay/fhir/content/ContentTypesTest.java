package org.carerelay.fhir.content;

import static org.assertj.core.api.Assertions.assertThat;
import static org.carerelay.fhir.content.ContentFixtures.DICOM;
import static org.carerelay.fhir.content.ContentFixtures.GIF;
import static org.carerelay.fhir.content.ContentFixtures.JPEG;
import static org.carerelay.fhir.content.ContentFixtures.PDF;
import static org.carerelay.fhir.content.ContentFixtures.PNG;
import static org.carerelay.fhir.content.ContentFixtures.TIFF_BIG_ENDIAN;
import static org.carerelay.fhir.content.ContentFixtures.TIFF_LITTLE_ENDIAN;
import static org.carerelay.fhir.content.ContentFixtures.ZIP;
import static org.carerelay.fhir.content.ContentFixtures.concat;
import static org.carerelay.fhir.content.ContentFixtures.latin1;

import java.nio.charset.StandardCharsets;
import java.util.Arrays;
import org.junit.jupiter.api.Test;

class ContentTypesTest {

    @Test
    void sniffsImagesWrittenByImageIo() {
        assertThat(ContentTypes.sniff(PNG)).contains("image/png");
        assertThat(ContentTypes.sniff(JPEG)).contains("image/jpeg");
        assertThat(ContentTypes.sniff(GIF)).contains("image/gif");
    }

    @Test
    void sniffsDocumentAndContainerFormats() {
        assertThat(ContentTypes.sniff(PDF)).contains("application/pdf");
        assertThat(ContentTypes.sniff(DICOM)).contains("application/dicom");
        assertThat(ContentTypes.sniff(TIFF_LITTLE_ENDIAN)).contains("image/tiff");
        assertThat(ContentTypes.sniff(TIFF_BIG_ENDIAN)).contains("image/tiff");
        assertThat(ContentTypes.sniff(ZIP)).contains("application/zip");
    }

    @Test
    void pdfHeaderMayFollowLeadingJunkWithinTheFirstKilobyte() {
        byte[] junk = new byte[1000];
        Arrays.fill(junk, (byte) 0x01);
        assertThat(ContentTypes.sniff(concat(junk, PDF))).contains("application/pdf");

        byte[] tooMuchJunk = new byte[1024];
        Arrays.fill(tooMuchJunk, (byte) 0x01);
        assertThat(ContentTypes.sniff(concat(tooMuchJunk, PDF))).isEmpty();
    }

    @Test
    void dicomPreambleMayHoldAnotherHeader() {
        byte[] dualPersonality = DICOM.clone();
        System.arraycopy(TIFF_LITTLE_ENDIAN, 0, dualPersonality, 0, TIFF_LITTLE_ENDIAN.length);
        assertThat(ContentTypes.sniff(dualPersonality)).contains("application/dicom");
    }

    @Test
    void unknownTruncatedOrMissingDataIsNotSniffed() {
        assertThat(ContentTypes.sniff(new byte[0])).isEmpty();
        assertThat(ContentTypes.sniff(null)).isEmpty();
        assertThat(ContentTypes.sniff(latin1("hello world"))).isEmpty();
        assertThat(ContentTypes.sniff(Arrays.copyOf(PNG, 7))).isEmpty();
        assertThat(ContentTypes.sniff(Arrays.copyOf(DICOM, 131))).isEmpty();
        assertThat(ContentTypes.sniff(latin1("%PDF"))).isEmpty();
    }

    @Test
    void declaredBinaryTypeMustMatchTheBytes() {
        assertThat(ContentTypes.matches("image/png", PNG)).isTrue();
        assertThat(ContentTypes.matches("image/jpeg", JPEG)).isTrue();
        assertThat(ContentTypes.matches("application/pdf", PDF)).isTrue();
        assertThat(ContentTypes.matches("application/dicom", DICOM)).isTrue();
        assertThat(ContentTypes.matches("image/tiff", TIFF_BIG_ENDIAN)).isTrue();
        assertThat(ContentTypes.matches("image/gif", GIF)).isTrue();
        assertThat(ContentTypes.matches("application/zip", ZIP)).isTrue();
    }

    @Test
    void mismatchesAreRejected() {
        assertThat(ContentTypes.matches("application/pdf", PNG)).isFalse();
        assertThat(ContentTypes.matches("image/png", JPEG)).isFalse();
        assertThat(ContentTypes.matches("image/jpeg", PDF)).isFalse();
        assertThat(ContentTypes.matches("application/dicom", ZIP)).isFalse();
        assertThat(ContentTypes.matches("application/pdf", latin1("just some text"))).isFalse();
        assertThat(ContentTypes.matches("text/plain", PNG)).isFalse();
        assertThat(ContentTypes.matches("text/plain", PDF)).isFalse();
    }

    @Test
    void declaredTypeIsNormalised() {
        assertThat(ContentTypes.normalize(" Image/JPG ; name=\"scan.jpg\"")).isEqualTo("image/jpeg");
        assertThat(ContentTypes.normalize("image/pjpeg")).isEqualTo("image/jpeg");
        assertThat(ContentTypes.normalize("TEXT/PLAIN; charset=UTF-8")).isEqualTo("text/plain");
        assertThat(ContentTypes.normalize("application/fhir+json")).isEqualTo("application/fhir+json");
        assertThat(ContentTypes.normalize(null)).isEmpty();

        assertThat(ContentTypes.matches("image/jpg", JPEG)).isTrue();
        assertThat(ContentTypes.matches("image/pjpeg", JPEG)).isTrue();
        assertThat(ContentTypes.matches("Application/PDF; version=1.7", PDF)).isTrue();
    }

    @Test
    void plainTextMayBeUtf8OrPrintableLatin1() {
        assertThat(ContentTypes.matches("text/plain; charset=utf-8",
                "Befund: Kalium erhöht – bitte Rückruf.\r\n\tDanke".getBytes(StandardCharsets.UTF_8))).isTrue();
        assertThat(ContentTypes.matches("text/plain",
                "Größe: 180 cm, Gewicht: 75 kg".getBytes(StandardCharsets.ISO_8859_1))).isTrue();
        assertThat(ContentTypes.matches("text/plain", "emoji \uD83D\uDE00".getBytes(StandardCharsets.UTF_8)))
                .isTrue();
        // Windows-1252, as German text exported on Windows comes: euro sign, German quotes, dash, ellipsis
        assertThat(ContentTypes.matches("text/plain",
                "Zuzahlung 10 \u20ac \u2013 \u201eBitte R\u00fcckruf\u201c \u2026".getBytes(java.nio.charset.Charset.forName("windows-1252"))))
                .isTrue();
    }

    @Test
    void plainTextRejectsNulBytesAndNonPrintableBytes() {
        assertThat(ContentTypes.matches("text/plain", new byte[] {'a', 0, 'b'})).isFalse();
        // UTF-16 text contains NUL bytes
        assertThat(ContentTypes.matches("text/plain", "abc".getBytes(StandardCharsets.UTF_16LE))).isFalse();
        // neither valid UTF-8 (lone continuation byte) nor printable single-byte text (0x81 is
        // undefined in Windows-1252, ESC a control character)
        assertThat(ContentTypes.matches("text/plain", new byte[] {'a', (byte) 0x81, 'b'})).isFalse();
        assertThat(ContentTypes.matches("text/plain", new byte[] {'a', (byte) 0xE4, 0x1B})).isFalse();
    }

    @Test
    void utf8ValidationIsStrict() {
        assertThat(ContentTypes.isValidUtf8("äöü €".getBytes(StandardCharsets.UTF_8))).isTrue();
        assertThat(ContentTypes.isValidUtf8(new byte[] {(byte) 0xC3})).isFalse(); // truncated
        assertThat(ContentTypes.isValidUtf8(new byte[] {(byte) 0xC0, (byte) 0xAF})).isFalse(); // overlong '/'
        assertThat(ContentTypes.isValidUtf8(new byte[] {(byte) 0xE0, (byte) 0x80, (byte) 0xAF})).isFalse();
        assertThat(ContentTypes.isValidUtf8(new byte[] {(byte) 0xED, (byte) 0xA0, (byte) 0x80})).isFalse(); // surrogate
        assertThat(ContentTypes.isValidUtf8(new byte[] {(byte) 0xF4, (byte) 0x90, (byte) 0x80, (byte) 0x80}))
                .isFalse(); // > U+10FFFF
    }

    @Test
    void emptyDataNeverMatches() {
        for (String type : ContentTypes.CHECKABLE) {
            assertThat(ContentTypes.matches(type, new byte[0])).as(type).isFalse();
            assertThat(ContentTypes.matches(type, null)).as(type).isFalse();
        }
    }

    @Test
    void typesThatCannotBeCheckedNeverMatch() {
        assertThat(ContentTypes.isCheckable("image/jpg")).isTrue();
        assertThat(ContentTypes.isCheckable("application/octet-stream")).isFalse();
        assertThat(ContentTypes.matches("application/octet-stream", PDF)).isFalse();
        assertThat(ContentTypes.matches(null, PDF)).isFalse();
        assertThat(ContentTypes.matches("  ", PDF)).isFalse();
    }
}
