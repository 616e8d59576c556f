package org.carerelay.fhir.hl7;

import static org.assertj.core.api.Assertions.assertThat;
import static org.carerelay.fhir.hl7.V2TestMessages.sampleBytes;

import ca.uhn.hl7v2.model.GenericMessage;
import ca.uhn.hl7v2.model.v251.message.ADT_A01;
import ca.uhn.hl7v2.model.v251.message.ADT_A05;
import ca.uhn.hl7v2.model.v251.message.ADT_A39;
import ca.uhn.hl7v2.util.Terser;
import java.nio.charset.Charset;
import java.nio.charset.StandardCharsets;
import org.carerelay.fhir.ErrorCode;
import org.carerelay.fhir.hl7.Hl7Inbound.Decoded;
import org.carerelay.fhir.hl7.Hl7Inbound.Parsed;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.CsvSource;
import org.junit.jupiter.params.provider.ValueSource;

class Hl7InboundTest {

    private static final Charset LATIN1 = StandardCharsets.ISO_8859_1;

    private static String msh(String version, String charset) {
        return "MSH|^~\\&|KIS|KH_BSP|CARERELAY|CR|20240502102000||ADT^A01^ADT_A01|MSG-1|P|" + version
                + "|||AL|NE|DEU|" + charset;
    }

    private static Hl7InboundException rejected(String er7) {
        try {
            Hl7Inbound.parse(er7);
        } catch (Hl7InboundException e) {
            return e;
        }
        throw new AssertionError("expected an Hl7InboundException");
    }

    // ------------------------------------------------------------------------------- samples

    @ParameterizedTest(name = "{0}")
    @CsvSource({
        "ipf_ADT-A01.hl7,                     ADT, A01, 2.3.1, 371601,     ADT_A01",
        "ipf_ADT-A08.hl7,                     ADT, A08, 2.3.1, 387352,     ADT_A01",
        "ipf_pcd01-ORU-R01-vitals-8859-1.hl7, ORU, R01, 2.6,   MSGID1234,  ORU_R01",
        "ipf_pcd01-ORU-R01-vitals.hl7,        ORU, R01, 2.6,   MSGID1234,  ORU_R01",
        "msft_ADT-A01-01.hl7,                 ADT, A01, 2.8,   MSG00001,   ADT_A01",
        "msft_ADT-A01-02.hl7,                 ADT, A01, 2.8,   MSG00001,   ADT_A01",
        "msft_ADT-A04-01.hl7,                 ADT, A04, 2.8,   MSG00001,   ADT_A01",
        "msft_ADT-A08-01.hl7,                 ADT, A08, 2.8,   MSG00001,   ADT_A01",
        "msft_ADT-A28-01.hl7,                 ADT, A28, 2.8,   MSG00001,   ADT_A05",
        "msft_ADT-A31-01.hl7,                 ADT, A31, 2.8,   MSG00001,   ADT_A05",
        "msft_ADT-A40-01.hl7,                 ADT, A40, 2.8,   8919-40,    ADT_A39",
        "msft_ADT04-251.hl7,                  ADT, A04, 2.3,   1270326314, ADT_A01",
        "msft_LAB-ORU-1.hl7,                  ORU, R01, 2.5,   182,        ORU_R01",
        "msft_MDM-T01-01.hl7,                 MDM, T01, 2.8,   PS1-20080131160038, MDM_T01",
        "msft_MDM-T02-01.hl7,                 MDM, T02, 2.8,   PS1-20080131160038, MDM_T02",
        "msft_MDM-T02-02.hl7,                 MDM, T02, 2.8,   PS1-20080131160038, MDM_T02",
        "msft_MDM-T02-03.hl7,                 MDM, T02, 2.3,   112,        MDM_T02",
        "msft_ORU-R01-01.hl7,                 ORU, R01, 2.5.1, 2.16.840.1.114222.4.3.3.5.1.2-20120314235954.325, ORU_R01",
    })
    void sample_decodesAndParsesIntoTyped251Structure(String file, String type, String trigger, String version,
            String controlId, String structure) throws Exception {
        Decoded decoded = Hl7Inbound.decode(sampleBytes(file), null);
        Parsed parsed = Hl7Inbound.parse(decoded.er7());

        assertThat(parsed.messageType()).isEqualTo(type);
        assertThat(parsed.triggerEvent()).isEqualTo(trigger);
        assertThat(parsed.version()).isEqualTo(version);
        assertThat(parsed.controlId()).isEqualTo(controlId);
        assertThat(parsed.message().getVersion()).isEqualTo("2.5.1");
        assertThat(parsed.message()).isNotInstanceOf(GenericMessage.class);
        assertThat(parsed.message().getClass().getSimpleName()).isEqualTo(structure);
        assertThat(new Terser(parsed.message()).get("/.PID-3-1")).isNotBlank();
        assertThat(decoded.er7()).doesNotContain("\n").endsWith("\r").doesNotContain("\r\r");
    }

    @Test
    void v23Header_givesHeaderFieldsAsSent() {
        Parsed parsed = Hl7Inbound.decodeAndParse(sampleBytes("msft_MDM-T02-03.hl7"), null);

        assertThat(parsed.sendingApplication()).isEqualTo("SIMHOSP");
        assertThat(parsed.sendingFacility()).isEqualTo("SFAC");
        assertThat(parsed.receivingApplication()).isEqualTo("RAPP");
        assertThat(parsed.receivingFacility()).isEqualTo("RFAC");
        assertThat(parsed.acceptAckType()).isEqualTo("AL");
        assertThat(parsed.applicationAckType()).isNull();
    }

    @Test
    void hdWithoutNamespaceId_givesUniversalIdAsFacility() {
        String er7 = "MSH|^~\\&|^1.2.3.4^ISO|^1.2.3.5^ISO|APP|FAC|20240502||ADT^A08|42|P|2.5\rPID|1||4711\r";

        Parsed parsed = Hl7Inbound.parse(er7);

        assertThat(parsed.sendingApplication()).isEqualTo("1.2.3.4");
        assertThat(parsed.sendingFacility()).isEqualTo("1.2.3.5");
        assertThat(parsed.receivingFacility()).isEqualTo("FAC");
    }

    @Test
    void explicitStructureUnknownIn251_isResolvedThroughEventMap() {
        assertThat(Hl7Inbound.decodeAndParse(sampleBytes("msft_ADT-A04-01.hl7"), null).message()).isInstanceOf(ADT_A01.class);
        assertThat(Hl7Inbound.decodeAndParse(sampleBytes("msft_ADT-A28-01.hl7"), null).message()).isInstanceOf(ADT_A05.class);
        assertThat(Hl7Inbound.decodeAndParse(sampleBytes("msft_ADT-A40-01.hl7"), null).message()).isInstanceOf(ADT_A39.class);
    }

    // ------------------------------------------------------------------------------ charsets

    @Test
    void iso88591Sample_isDecodedAsDeclaredInMsh18() throws Exception {
        Decoded decoded = Hl7Inbound.decode(sampleBytes("ipf_pcd01-ORU-R01-vitals-8859-1.hl7"), StandardCharsets.UTF_8);

        assertThat(decoded.charset()).isEqualTo(LATIN1);
        Parsed parsed = Hl7Inbound.parse(decoded.er7());
        assertThat(new Terser(parsed.message()).get("/.PID-11-1")).isEqualTo("Kornstr 31");
        assertThat(new Terser(parsed.message()).get("/.PID-11-3")).isEqualTo("Bremen");
    }

    @Test
    void iso88591SampleWithUmlauts_keepsUmlautsAgainstUtf8SenderDefault() throws Exception {
        // the sample itself is 7-bit; put real ISO-8859-1 umlauts into its German address
        String text = new String(sampleBytes("ipf_pcd01-ORU-R01-vitals-8859-1.hl7"), LATIN1)
                .replace("Kornstr 31^^Bremen", "Kornstraße 31^^Bremen-Vegesack Süd")
                .replace("Doe^John^Joseph", "Jäger^Jürgen^Jörg");
        byte[] bytes = text.getBytes(LATIN1);
        assertThat(bytes).contains((byte) 0xDF, (byte) 0xFC);

        Decoded decoded = Hl7Inbound.decode(bytes, StandardCharsets.UTF_8);
        Terser terser = new Terser(Hl7Inbound.parse(decoded.er7()).message());

        assertThat(decoded.charset()).isEqualTo(LATIN1);
        assertThat(terser.get("/.PID-11-1")).isEqualTo("Kornstraße 31");
        assertThat(terser.get("/.PID-11-3")).isEqualTo("Bremen-Vegesack Süd");
        assertThat(terser.get("/.PID-5-1")).isEqualTo("Jäger");
        assertThat(terser.get("/.PID-5-2")).isEqualTo("Jürgen");
    }

    @Test
    void msh18UnicodeUtf8_decodesUtf8UmlautsAgainstLatin1SenderDefault() throws Exception {
        String er7 = msh("2.5", "UNICODE UTF-8") + "\rPID|1||4711^^^KH_BSP^PI||Weiß^Jürgen||19700101|M\r";

        Decoded decoded = Hl7Inbound.decode(er7.getBytes(StandardCharsets.UTF_8), LATIN1);

        assertThat(decoded.charset()).isEqualTo(StandardCharsets.UTF_8);
        Terser terser = new Terser(Hl7Inbound.parse(decoded.er7()).message());
        assertThat(terser.get("/.PID-5-1")).isEqualTo("Weiß");
        assertThat(terser.get("/.PID-5-2")).isEqualTo("Jürgen");
    }

    @Test
    void msh18Ascii_withPureAsciiBytes_isUsAscii() {
        Decoded decoded = Hl7Inbound.decode(sampleBytes("msft_MDM-T02-03.hl7"), LATIN1);

        assertThat(decoded.charset()).isEqualTo(StandardCharsets.US_ASCII);
    }

    @Test
    void msh18AsciiButLatin1Bytes_mislabelIsReadAsLatin1() {
        String er7 = msh("2.5", "ASCII") + "\rPID|1||4711||Müller^Anna\r";

        Decoded decoded = Hl7Inbound.decode(er7.getBytes(LATIN1), null);

        assertThat(decoded.charset()).isEqualTo(LATIN1);
        assertThat(decoded.er7()).contains("Müller^Anna");
    }

    @Test
    void msh18Utf8ButLatin1Bytes_mislabelIsReadAsLatin1() {
        String er7 = msh("2.5", "UNICODE UTF-8") + "\rPID|1||4711||Müller^Anna\r";

        Decoded decoded = Hl7Inbound.decode(er7.getBytes(LATIN1), null);

        assertThat(decoded.charset()).isEqualTo(LATIN1);
        assertThat(decoded.er7()).contains("Müller^Anna");
    }

    /**
     * The charset a frame is read in, by its label and the encoding its bytes really have. A
     * single-byte label on bytes that are valid UTF-8 with multi-byte sequences is overruled; true
     * ISO-8859 text keeps its label.
     */
    @ParameterizedTest(name = "MSH-18 ''{0}'', bytes {2}, sender default {3} → {4}")
    @CsvSource(delimiter = ';', value = {
        // MSH-18    ; text                         ; bytes written as ; sender default ; read as
        "8859/1      ; Müller^Anna                  ; UTF-8            ;                ; UTF-8",
        "8859/1      ; Zuzahlung 5 €                ; UTF-8            ;                ; UTF-8",
        "8859/1      ; Weiß, Straße                 ; UTF-8            ;                ; UTF-8",
        "8859/1      ; Müller^Anna                  ; ISO-8859-1       ;                ; ISO-8859-1",
        "8859/1      ; Ærø¿ ×÷ ÿ                    ; ISO-8859-1       ;                ; ISO-8859-1",
        "8859/1      ; Muster^Max                   ; US-ASCII         ;                ; ISO-8859-1",
        "8859/15     ; Zuzahlung 5 €                ; UTF-8            ;                ; UTF-8",
        "8859/15     ; Zuzahlung 5 €                ; ISO-8859-15      ;                ; ISO-8859-15",
        "''          ; Müller^Anna                  ; UTF-8            ; ISO-8859-1     ; UTF-8",
        "''          ; Müller^Anna                  ; ISO-8859-1       ; ISO-8859-1     ; ISO-8859-1",
        "''          ; Müller^Anna                  ; UTF-8            ;                ; UTF-8",
        "''          ; Müller^Anna                  ; ISO-8859-1       ;                ; ISO-8859-1",
        "UNICODE UTF-8; Müller^Anna                 ; ISO-8859-1       ;                ; ISO-8859-1",
        "ASCII       ; Müller^Anna                  ; UTF-8            ;                ; UTF-8",
    })
    void charsetLabel_isOverruledOnlyWhenTheBytesDoNotFitIt(String label, String text, String written,
            String senderDefault, String expected) {
        String er7 = msh("2.5", label) + "\rPID|1||4711||" + text + "\r";
        Charset writtenAs = Charset.forName(written);
        Charset expectedCharset = Charset.forName(expected);

        Decoded decoded = Hl7Inbound.decode(er7.getBytes(writtenAs),
                senderDefault == null ? null : Charset.forName(senderDefault));

        assertThat(decoded.charset()).isEqualTo(expectedCharset);
        assertThat(decoded.er7()).contains("PID|1||4711||" + text + "\r");
    }

    @Test
    void msh18Latin9_decodesEuroSign() {
        String er7 = msh("2.5", "8859/15") + "\rNTE|1||Zuzahlung 10 €\r";
        Charset latin9 = Charset.forName("ISO-8859-15");

        Decoded decoded = Hl7Inbound.decode(er7.getBytes(latin9), StandardCharsets.UTF_8);

        assertThat(decoded.charset()).isEqualTo(latin9);
        assertThat(decoded.er7()).contains("10 €");
    }

    @Test
    void noMsh18_usesSenderDefault() {
        String er7 = msh("2.5", "") + "\rPID|1||4711||Müller^Anna\r";
        Charset latin9 = Charset.forName("ISO-8859-15");

        Decoded decoded = Hl7Inbound.decode(er7.getBytes(latin9), latin9);

        assertThat(decoded.charset()).isEqualTo(latin9);
        assertThat(decoded.er7()).contains("Müller^Anna");
    }

    @Test
    void noMsh18AndNoSenderDefault_validUtf8IsUtf8() {
        String er7 = msh("2.5", "") + "\rPID|1||4711||Müller^Anna\r";

        Decoded decoded = Hl7Inbound.decode(er7.getBytes(StandardCharsets.UTF_8), null);

        assertThat(decoded.charset()).isEqualTo(StandardCharsets.UTF_8);
        assertThat(decoded.er7()).contains("Müller^Anna");
    }

    @Test
    void noMsh18AndNoSenderDefault_invalidUtf8IsLatin1() {
        String er7 = msh("2.5", "") + "\rPID|1||4711||Müller^Anna\r";

        Decoded decoded = Hl7Inbound.decode(er7.getBytes(LATIN1), null);

        assertThat(decoded.charset()).isEqualTo(LATIN1);
        assertThat(decoded.er7()).contains("Müller^Anna");
    }

    @Test
    void utf8Bom_isStrippedAndMeansUtf8() {
        byte[] body = (msh("2.5", "") + "\rPID|1||4711||Müller^Anna\r").getBytes(StandardCharsets.UTF_8);
        byte[] frame = new byte[body.length + 3];
        frame[0] = (byte) 0xEF;
        frame[1] = (byte) 0xBB;
        frame[2] = (byte) 0xBF;
        System.arraycopy(body, 0, frame, 3, body.length);

        Decoded decoded = Hl7Inbound.decode(frame, LATIN1);

        assertThat(decoded.charset()).isEqualTo(StandardCharsets.UTF_8);
        assertThat(decoded.er7()).startsWith("MSH|").contains("Müller^Anna");
        assertThat(Hl7Inbound.parse(decoded.er7()).controlId()).isEqualTo("MSG-1");
    }

    // ---------------------------------------------------------------------------- separators

    @ParameterizedTest(name = "separator {0}")
    @ValueSource(strings = {"LF", "CRLF", "CR"})
    void segmentSeparator_isNormalisedToCr(String separator) throws Exception {
        String sep = switch (separator) {
            case "LF" -> "\n";
            case "CRLF" -> "\r\n";
            default -> "\r";
        };
        String raw = msh("2.5", "") + sep + "EVN|A01|20240502" + sep + "PID|1||4711^^^KH_BSP^PI||Muster^Max"
                + sep + "PV1|1|I" + sep + sep + sep;

        Decoded decoded = Hl7Inbound.decode(raw.getBytes(StandardCharsets.US_ASCII), null);
        Parsed parsed = Hl7Inbound.parse(decoded.er7());

        assertThat(decoded.er7()).isEqualTo(String.join("\r", msh("2.5", ""), "EVN|A01|20240502",
                "PID|1||4711^^^KH_BSP^PI||Muster^Max", "PV1|1|I") + "\r");
        assertThat(new Terser(parsed.message()).get("/.PID-5-1")).isEqualTo("Muster");
        assertThat(new Terser(parsed.message()).get("/.PV1-2")).isEqualTo("I");
    }

    @Test
    void lfSeparatedString_isAcceptedByParseDirectly() throws Exception {
        String er7 = msh("2.5", "") + "\nPID|1||4711||Muster^Max\n";

        assertThat(new Terser(Hl7Inbound.parse(er7).message()).get("/.PID-5-2")).isEqualTo("Max");
    }

    @Test
    void crlfSample_parsesLikeCrSample() throws Exception {
        byte[] crlf = sampleBytes("ipf_ADT-A08.hl7");
        assertThat(new String(crlf, LATIN1)).contains("\r\n");

        Parsed parsed = Hl7Inbound.decodeAndParse(crlf, null);

        assertThat(new Terser(parsed.message()).get("/.PID-11-3")).isEqualTo("WALTON");
        assertThat(new Terser(parsed.message()).get("/.PV1-2")).isEqualTo("O");
    }

    @Test
    void mllpFramingBytesAndLeadingBlankLines_areDropped() {
        byte[] body = ("\r\n" + msh("2.5", "") + "\rPID|1||4711\r").getBytes(StandardCharsets.US_ASCII);
        byte[] frame = new byte[body.length + 3];
        frame[0] = 0x0B;
        System.arraycopy(body, 0, frame, 1, body.length);
        frame[frame.length - 2] = 0x1C;
        frame[frame.length - 1] = 0x0D;

        Decoded decoded = Hl7Inbound.decode(frame, null);

        assertThat(decoded.er7()).isEqualTo(msh("2.5", "") + "\rPID|1||4711\r");
    }

    // ---------------------------------------------------------------------------- leniency

    @Test
    void zSegments_areKeptAndParse() throws Exception {
        String er7 = msh("2.5", "") + "\rZAB|1|Hausarzt\rEVN|A01\rPID|1||4711||Muster^Max\rZBE|1|K-42\rPV1|1|I\r";

        Parsed parsed = Hl7Inbound.parse(er7);

        assertThat(parsed.message()).isInstanceOf(ADT_A01.class);
        assertThat(new Terser(parsed.message()).get("/.PID-5-1")).isEqualTo("Muster");
        assertThat(parsed.message().encode()).contains("\rZAB|1|Hausarzt\r").contains("\rZBE|1|K-42\r");
    }

    @Test
    void v27TruncationCharacter_isAcceptedAndMessageEncodesAgain() throws Exception {
        String er7 = "MSH|^~\\&#|KIS|KH|CR|CR|20240502||ADT^A01^ADT_A01|42|P|2.7\rPID|1||4711||Muster^Max\r";

        Parsed parsed = Hl7Inbound.parse(er7);

        assertThat(parsed.version()).isEqualTo("2.7");
        assertThat(parsed.message().encode()).startsWith("MSH|^~\\&|KIS|");
    }

    // ---------------------------------------------------------------------------- rejection

    @Test
    void garbageBytes_areRejectedAsSegmentSequenceError() {
        byte[] garbage = {(byte) 0x89, 'P', 'N', 'G', 0x0D, 0x0A, 0x1A, 0x0A, 0x00, (byte) 0xFF, 0x12};

        Decoded decoded = Hl7Inbound.decode(garbage, null);

        Hl7InboundException e = rejected(decoded.er7());
        assertThat(e.errorCode()).isEqualTo(ErrorCode.INVALID_REQUEST);
        assertThat(e.hl7ErrorCode()).isEqualTo("100");
        assertThat(e.controlId()).isEmpty();
    }

    @Test
    void emptyFrame_isRejectedAsSegmentSequenceError() {
        assertThat(rejected(Hl7Inbound.decode(new byte[0], null).er7()).hl7ErrorCode()).isEqualTo("100");
        assertThat(rejected(null).hl7ErrorCode()).isEqualTo("100");
    }

    @Test
    void messageWithoutMsh_isRejectedAsSegmentSequenceError() {
        Hl7InboundException e = rejected("EVN|A01\rPID|1||4711||Muster^Max\r");

        assertThat(e.hl7ErrorCode()).isEqualTo("100");
        assertThat(e.getMessage()).doesNotContain("Muster");
    }

    @Test
    void batchHeader_isRejectedAsSegmentSequenceError() {
        assertThat(rejected("FHS|^~\\&\rBHS|^~\\&\r" + msh("2.5", "") + "\r").hl7ErrorCode()).isEqualTo("100");
    }

    @ParameterizedTest(name = "version {0}")
    @ValueSource(strings = {"2.0", "2.9", "3.0", "2.5.2", "x"})
    void unsupportedVersion_isRejectedWith203AndKeepsControlId(String version) {
        Hl7InboundException e = rejected(msh(version, "") + "\rPID|1||4711||Muster^Max\r");

        assertThat(e.errorCode()).isEqualTo(ErrorCode.INVALID_REQUEST);
        assertThat(e.hl7ErrorCode()).isEqualTo("203");
        assertThat(e.controlId()).contains("MSG-1");
    }

    @ParameterizedTest(name = "version {0}")
    @ValueSource(strings = {"2.1", "2.2", "2.3", "2.3.1", "2.4", "2.5", "2.5.1", "2.6", "2.7", "2.7.1", "2.8", "2.8.1"})
    void supportedVersion_isParsed(String version) {
        assertThat(Hl7Inbound.parse(msh(version, "") + "\rPID|1||4711\r").version()).isEqualTo(version);
    }

    @Test
    void versionWithInternationalizationCode_usesVid1() {
        String er7 = "MSH|^~\\&|KIS|KH|CR|CR|20240502||ADT^A01|42|P|2.5^DEU&Germany&ISO3166\rPID|1||4711\r";

        assertThat(Hl7Inbound.parse(er7).version()).isEqualTo("2.5");
    }

    @ParameterizedTest(name = "{0}")
    @ValueSource(strings = {"MSH", "MSH|", "MSHA^~\\&|A|B", "MSH|^~|A|B|C|D|2024||ADT^A01|1|P|2.5",
        "MSH|^^\\&|A|B|C|D|2024||ADT^A01|1|P|2.5", "MSH|^~\\|&|A|B|C|D|2024||ADT^A01|1|P|2.5"})
    void unusableDelimiters_areRejectedAsDataTypeError(String header) {
        assertThat(rejected(header + "\rPID|1\r").hl7ErrorCode()).isEqualTo("102");
    }

    @Test
    void missingControlId_isRejectedAsRequiredFieldMissing() {
        assertThat(rejected("MSH|^~\\&|A|B|C|D|2024||ADT^A01||P|2.5\r").hl7ErrorCode()).isEqualTo("101");
    }

    @Test
    void missingMessageType_isRejectedAsRequiredFieldMissingWithControlId() {
        Hl7InboundException e = rejected("MSH|^~\\&|A|B|C|D|2024|||42|P|2.5\r");

        assertThat(e.hl7ErrorCode()).isEqualTo("101");
        assertThat(e.controlId()).contains("42");
    }

    @Test
    void missingVersion_isRejectedAsRequiredFieldMissing() {
        assertThat(rejected("MSH|^~\\&|A|B|C|D|2024||ADT^A01|42|P\r").hl7ErrorCode()).isEqualTo("101");
    }

    @Test
    void lineThatIsNoSegment_isRejectedWith207WithoutQuotingIt() {
        String er7 = msh("2.5", "") + "\rPID|1||4711||Muster^Max\rOBX|1|TX|Befund||Zeile eins\rZeile zwei von Muster\r";

        Hl7InboundException e = rejected(er7);

        assertThat(e.hl7ErrorCode()).isEqualTo("207");
        assertThat(e.controlId()).contains("MSG-1");
        assertThat(e.getMessage()).contains("Segment 4").doesNotContain("Zeile").doesNotContain("Muster");
    }

    @Test
    void segmentNameLongerThanThree_isRejectedWith207() {
        Hl7InboundException e = rejected(msh("2.5", "") + "\rPIDX|1||4711||Muster^Max\r");

        assertThat(e.hl7ErrorCode()).isEqualTo("207");
        assertThat(e.getMessage()).doesNotContain("Muster");
    }
}
