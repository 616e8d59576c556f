package org.carerelay.fhir.hl7;

import static org.assertj.core.api.Assertions.assertThat;

import ca.uhn.hl7v2.model.Message;
import ca.uhn.hl7v2.model.Segment;
import java.time.Instant;
import org.hl7.fhir.r4.model.DateTimeType;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.CsvSource;
import org.junit.jupiter.params.provider.ValueSource;

class V2SupportTest {

    @ParameterizedTest(name = "{0} -> {1}")
    @CsvSource(delimiter = ';', value = {
        "2024;2024",
        "202405;2024-05",
        "20240502;2024-05-02",
        "20240502+0200;2024-05-02",
        "2024050210;2024-05-02T10:00:00+02:00",
        "202405021005;2024-05-02T10:05:00+02:00",
        "20240502100559;2024-05-02T10:05:59+02:00",
        "20240502100559.1234;2024-05-02T10:05:59.123+02:00",
        "20240115100559;2024-01-15T10:05:59+01:00",
        "20240502100559+0000;2024-05-02T10:05:59+00:00",
        "200801311600+0215;2008-01-31T16:00:00+02:15",
        "20110103143428-0800;2011-01-03T14:34:28-08:00",
    })
    void v2Timestamp_keepsPrecisionAndOffset_berlinWithoutOffset(String dtm, String expected) {
        DateTimeType dateTime = V2Support.dateTime(dtm);

        assertThat(dateTime).isNotNull();
        assertThat(dateTime.getValueAsString()).isEqualTo(expected);
    }

    @ParameterizedTest
    @ValueSource(strings = {"", " ", "2024-05-02", "20241302", "20240230", "2024050225", "yesterday", "20240502+02"})
    void malformedTimestamp_givesNull(String dtm) {
        assertThat(V2Support.dateTime(dtm)).isNull();
        assertThat(V2Support.instant(dtm)).isNull();
    }

    @Test
    void yearZero_isNoFhirDateTime() {
        assertThat(V2Support.dateTime("0000")).isNull();
        assertThat(V2Support.dateTime("00000101")).isNull();
        assertThat(V2Support.instant("00000101120000")).isNull();
    }

    @Test
    void v2TimestampAsInstant_dateOnlyIsStartOfBerlinDay() {
        assertThat(V2Support.instant("20240502")).isEqualTo(Instant.parse("2024-05-01T22:00:00Z"));
        assertThat(V2Support.instant("20240502101500")).isEqualTo(Instant.parse("2024-05-02T08:15:00Z"));
        assertThat(V2Support.instant("20240502101500-0500")).isEqualTo(Instant.parse("2024-05-02T15:15:00Z"));
        assertThat(V2Support.instant(null)).isNull();
    }

    @ParameterizedTest(name = "{0}")
    @CsvSource(delimiter = ';', value = {
        // input (after HAPI's delimiter unescaping) ; expected, ¶ for a line break
        "a\\.br\\b;a¶b",
        "a\\.sp\\b;a¶b",
        "a\\.sp3\\b;a¶¶¶b",
        "a\\.ce\\b;a¶b",
        "\\H\\fett\\N\\ normal;fett normal",
        "\\.in+4\\\\.ti-2\\\\.sk 3\\\\.fi\\\\.nf\\x;x",
        "Gr\\XC3B6\\\\XC39F\\e;Größe",
        "Gr\\XF6\\\\XDF\\e;Größe",
        "\\C2842\\\\M2442\\\\Zlokal\\x;x",
        "C:\\temp\\file;C:\\temp\\file",
        "a\\b;a\\b",
        "unterminated \\.br;unterminated \\.br",
        "\\X0D0A\\;¶",
    })
    void formattingEscapes_areDecoded_unknownOnesKept(String input, String expected) {
        assertThat(V2Support.decodeFormatting(input, '\\')).isEqualTo(expected.replace('¶', '\n'));
    }

    @Test
    void lineBreaks_areNormalisedToLf() {
        assertThat(V2Support.decodeFormatting("a\r\nb\rc", '\\')).isEqualTo("a\nb\nc");
        assertThat(V2Support.decodeFormatting(null, '\\')).isEmpty();
    }

    @Test
    void otherEscapeCharacter_fromMsh2_isUsed() throws Exception {
        Message message = V2TestMessages.parse("MSH|^~!&|A|B|C|D|20240502||MDM^T02|1|P|2.5.1\rEVN|T02\rPID|1\rPV1|1|N\r"
                + "TXA|1|CN|TX\rOBX|1|TX|^x||eins!.br!zwei||||||F\r");

        char escape = V2Support.escapeCharacter(message);

        assertThat(escape).isEqualTo('!');
        assertThat(MdmToCommunication.map(message).text()).isEqualTo("eins\nzwei");
    }

    @Test
    void segmentsOfMessageWithMisplacedObx_comeInMessageOrder() throws Exception {
        Message message = V2TestMessages.parse(String.join("\r",
                "MSH|^~\\&|A|B|C|D|20240502||ORU^R01|1|P|2.5.1",
                "PID|1||1",
                "OBX|1|NM|a||1",
                "PV1|1|I",
                "OBR|1|x||y",
                "OBX|2|NM|b||2",
                "NTE|1||n",
                ""));

        assertThat(V2Support.segments(message)).extracting(Segment::getName)
                .containsExactly("MSH", "PID", "OBX", "PV1", "OBR", "OBX", "NTE");
        assertThat(V2Support.segments(message)).extracting(s -> V2Support.value(s, 1, 1))
                .containsExactly("|", "1", "1", "1", "1", "2", "1");
    }
}
