package org.carerelay.gateway.web.inbox;

import static org.assertj.core.api.Assertions.assertThat;

import java.util.List;
import org.carerelay.fhir.ErrorCode;
import org.junit.jupiter.api.Test;

/** File names, sizes, delivery states and error texts as the inbox pages show them. */
class InboxTextTest {

    @Test
    void fileNameFromASender_losesPathsQuotesAndControlCharacters() {
        assertThat(FileNames.of("../../etc/passwd", "b1", "text/plain")).isEqualTo("passwd");
        assertThat(FileNames.of("C:\\Users\\x\\Befund März.pdf", "b1", "application/pdf")).isEqualTo("Befund Marz.pdf");
        assertThat(FileNames.of("a\"b\r\nContent-Type: x.pdf", "b1", "application/pdf")).doesNotContain("\"", "\r", "\n", ":");
        assertThat(FileNames.of("...", "b1", "application/pdf")).isEqualTo("anhang-b1.pdf");
        assertThat(FileNames.of(null, "b/1", "image/png; x=y")).isEqualTo("anhang-b1.png");
        assertThat(FileNames.of("x".repeat(300) + ".pdf", "b1", "application/pdf")).hasSize(100).endsWith(".pdf");
    }

    @Test
    void sizesAndRefusals_areGerman() {
        assertThat(GermanErrors.megabytes(524_288)).isEqualTo("512 KB");
        assertThat(GermanErrors.megabytes(104_857_600)).isEqualTo("100 MB");
        assertThat(GermanErrors.of(ErrorCode.PAYLOAD_TOO_LARGE, 104_857_600, List.of("application/pdf")))
                .isEqualTo("Die Datei ist zu groß. Erlaubt sind höchstens 100 MB je Datei.");
        assertThat(GermanErrors.of(ErrorCode.UNSUPPORTED_MEDIA_TYPE, 1, List.of("application/pdf", "image/png")))
                .contains("nicht erlaubt").contains("application/pdf, image/png");
        assertThat(GermanErrors.of(ErrorCode.INTERNAL_ERROR, 1, List.of())).doesNotContain("Exception");
    }

    @Test
    void deliveryStates_areGerman() {
        assertThat(DeliveryStates.german("delivered")).isEqualTo("zugestellt");
        assertThat(DeliveryStates.german("held-invited")).startsWith("eingeladen");
        assertThat(DeliveryStates.german(null)).isEqualTo("unbekannt");
    }

    @Test
    void uploadLimits_leaveRoomToRefuseATooLargeFileWithAMessage() {
        assertThat(UploadLimits.saturatedAdd(Long.MAX_VALUE, 10)).isEqualTo(Long.MAX_VALUE);
        assertThat(UploadLimits.saturatedMultiply(Long.MAX_VALUE / 2, 10)).isEqualTo(Long.MAX_VALUE);
    }
}
