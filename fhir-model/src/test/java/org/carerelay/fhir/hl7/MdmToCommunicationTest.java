package org.carerelay.fhir.hl7;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;
import static org.carerelay.fhir.hl7.V2TestMessages.parse;

import ca.uhn.hl7v2.HL7Exception;
import ca.uhn.hl7v2.model.Message;
import java.nio.charset.StandardCharsets;
import java.time.Instant;
import java.util.Base64;
import java.util.Date;
import java.util.List;
import org.carerelay.fhir.hl7.MdmToCommunication.Attachment;
import org.carerelay.fhir.hl7.MdmToCommunication.Result;
import org.carerelay.fhir.validation.ResourceValidator;
import org.hl7.fhir.r4.model.Communication;
import org.hl7.fhir.r4.model.Patient;
import org.hl7.fhir.r4.model.Reference;
import org.hl7.fhir.r4.model.StringType;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.CsvSource;

class MdmToCommunicationTest {

    private static final String HEADER = String.join("\r",
            "MSH|^~\\&|KIS|KH-NORD|CareRelay|CR|20240502101500||MDM^T02^MDM_T02|M-1|P|2.5.1",
            "EVN|T02|20240502101500",
            "PID|1||P-4711^^^KH^PI||Müller^Erika",
            "PV1|1|N",
            "TXA|1|DS|TX|20240502101000+0200||||||||DOC-42^KIS",
            "");

    private static Message sample(String name) throws HL7Exception {
        return V2TestMessages.sample(name, StandardCharsets.UTF_8);
    }

    /** {@link #HEADER} followed by the given OBX segments. */
    private static Message mdm(String... obx) throws HL7Exception {
        return parse(HEADER + String.join("\r", obx) + "\r");
    }

    // ------------------------------------------------------------------ real samples

    @Test
    void t02V23WithTwentyNineTextObx_joinsLinesAndReadsTxa() throws Exception {
        Result result = MdmToCommunication.map(sample("msft_MDM-T02-03.hl7"));

        String[] lines = result.text().split("\n", -1);
        assertThat(lines).hasSize(29);
        assertThat(lines[0]).isEqualTo("Toilet cylinder crackers model step-mother visor opening communication");
        assertThat(lines[28]).isEqualTo("Reminder shofar congo vibration mother-in-law bondsman suspect");
        assertThat(result.attachments()).isEmpty();
        assertThat(result.documentNumber()).isEqualTo("2RWRVAJ627408");
        assertThat(result.documentType()).isEqualTo("DS");
        assertThat(result.title()).isEqualTo("obs-text");
        assertThat(result.activityTime()).isEqualTo(Instant.parse("2021-08-01T06:51:42Z")); // +0215
        assertThat(result.skippedEmptyAttachments()).isZero();
        assertThat(result.skippedReferencePointers()).isZero();
    }

    @Test
    void t02V28WithTwoOrders_readsTextAndTxa() throws Exception {
        Result result = MdmToCommunication.map(sample("msft_MDM-T02-02.hl7"));

        assertThat(result.text()).isEqualTo(
                "Toilet cylinder crackers model step-mother visor opening communication\n"
                        + "Columnist draft inn brown income ikebana circulation prince");
        assertThat(result.documentNumber()).isEqualTo("1.2.840.317.5947431.51.20080131160038");
        assertThat(result.documentType()).isEqualTo("DI");
        assertThat(result.activityTime()).isEqualTo(Instant.parse("2008-01-31T13:40:00Z"));
    }

    @Test
    void t02WithEmptyPdfPayload_skipsAndCountsItAndIgnoresHdObx() throws Exception {
        // OBX|1|HD|... (DICOM study uid) and OBX|2|ED|...||^application^pdf^Base64^ (no data)
        Result result = MdmToCommunication.map(sample("msft_MDM-T02-01.hl7"));

        assertThat(result.attachments()).isEmpty();
        assertThat(result.skippedEmptyAttachments()).isEqualTo(1);
        assertThat(result.text()).isEmpty();
        assertThat(result.title()).isEqualTo("TransthoracicEcho");
        assertThat(MdmToCommunication.toCommunication(result).getPayload()).isEmpty();
    }

    @Test
    void t01WithoutObx_givesEmptyTextNoAttachmentsButTxaData() throws Exception {
        Result result = MdmToCommunication.map(sample("msft_MDM-T01-01.hl7"));

        assertThat(result.text()).isEmpty();
        assertThat(result.attachments()).isEmpty();
        assertThat(result.title()).isNull();
        assertThat(result.documentNumber()).isEqualTo("1.2.840.317.5947431.51.20080131160038");
        assertThat(result.documentType()).isEqualTo("DI");
        assertThat(result.activityTime()).isEqualTo(Instant.parse("2008-01-31T13:40:00Z"));
    }

    // ------------------------------------------------------------------ round trip

    @Test
    void mdmFromCommunicationToMdm_roundTripsTextAttachmentsAndTitles() throws Exception {
        String text = "Guten Tag, Frau Müller,\n"
                + "Blutdruck 140/90 | Puls 72 ^ Größe & Gewicht ~ siehe \\ Anhang.\n\n  Grüße";
        byte[] pdf = new byte[300];
        for (int i = 0; i < pdf.length; i++) {
            pdf[i] = (byte) i;
        }
        byte[] png = {(byte) 0x89, 'P', 'N', 'G', 0x0D, 0x0A, 0x1A, 0x0A, 0, 0};
        Communication communication = new Communication();
        communication.setId("Communication/c-123");
        communication.setStatus(Communication.CommunicationStatus.COMPLETED);
        communication.setSubject(new Reference("Patient/p-1"));
        communication.setSent(Date.from(Instant.parse("2024-05-02T08:15:00Z")));
        communication.addPayload().setContent(new StringType(text));
        Patient patient = new Patient();
        patient.setId("Patient/p-1");
        String er7 = CommunicationToMdm.encode(CommunicationToMdm.map(new CommunicationToMdm.Input(
                communication, patient, List.of(
                        new CommunicationToMdm.AttachmentContent("b-1", "application/pdf", pdf, "Befund.pdf"),
                        new CommunicationToMdm.AttachmentContent("b-2", "image/png", png, null),
                        new CommunicationToMdm.AttachmentContent("b-3", "text/plain",
                                "Notiz".getBytes(StandardCharsets.UTF_8), "Notiz")),
                "CareRelay", "CR", "KIS", "KH", "msg-1", Instant.parse("2024-05-02T08:20:00Z"))));

        Result result = MdmToCommunication.map(parse(er7));

        assertThat(result.text()).isEqualTo(text);
        assertThat(result.documentNumber()).isEqualTo("c-123");
        assertThat(result.documentType()).isEqualTo(CommunicationToMdm.DEFAULT_DOCUMENT_TYPE);
        assertThat(result.activityTime()).isEqualTo(Instant.parse("2024-05-02T08:15:00Z"));
        // "Nachricht" is CareRelay's generic label, not a title
        assertThat(result.title()).isEqualTo("Befund.pdf");
        assertThat(result.attachments()).extracting(Attachment::contentType, Attachment::title).containsExactly(
                org.assertj.core.groups.Tuple.tuple("application/pdf", "Befund.pdf"),
                org.assertj.core.groups.Tuple.tuple("image/png", null),
                org.assertj.core.groups.Tuple.tuple("text/plain", "Notiz"));
        assertThat(result.attachments().get(0).data()).isEqualTo(pdf);
        assertThat(result.attachments().get(1).data()).isEqualTo(png);
        assertThat(new String(result.attachments().get(2).data(), StandardCharsets.UTF_8)).isEqualTo("Notiz");
    }

    // ------------------------------------------------------------------ constructed messages

    @Test
    void escapesInTextObx_areDecoded() throws Exception {
        Result result = MdmToCommunication.map(mdm(
                "OBX|1|TX|^Nachricht||a\\F\\b\\S\\c\\T\\d\\R\\e\\E\\f||||||F",
                "OBX|2|FT|^Bericht||Zeile\\.br\\\\H\\Wichtig\\N\\: Gr\\XC3B6\\\\XDF\\e\\.sp2\\Ende||||||F",
                "OBX|3|ST|^Zusatz||unescaped ^ and & kept||||||F",
                "OBX|4|TX|^Nachricht||||||||F",
                "OBX|5|TX|^Nachricht||Zeile A~Zeile B||||||F"));

        assertThat(result.text()).isEqualTo(String.join("\n",
                "a|b^c&d~e\\f",
                "Zeile",
                "Wichtig: Größe",
                "",
                "Ende",
                "unescaped ^ and & kept",
                "",
                "Zeile A",
                "Zeile B"));
        assertThat(result.title()).isEqualTo("Bericht"); // the first OBX-3-2 that is not a CareRelay label
    }

    @Test
    void edValues_mapContentTypesAndEncodings() throws Exception {
        String pdf = Base64.getEncoder().encodeToString("%PDF-1.4 test".getBytes(StandardCharsets.US_ASCII));
        Result result = MdmToCommunication.map(mdm(
                "OBX|1|ED|1^Arztbrief||^AP^PDF^Base64^" + pdf + "||||||F",
                "OBX|2|ED|2^Foto||^IM^JPEG^Hex^FFD8 FFE0||||||F",
                "OBX|3|ED|3^Wunde||^IM^PNG^Base64^iVBORw||||||F",
                "OBX|4|ED|4^Scan||^IM^TIFF^Base64^SUkqAA==||||||F",
                "OBX|5|ED|5^CT||^AP^DICOM^Base64^RElDTQ||||||F",
                "OBX|6|ED|6^MRT||^application^dicom^Base64^RElDTQ==||||||F",
                "OBX|7|ED|7^Notiz||^TEXT^^A^Hallo\\.br\\Welt||||||F",
                "OBX|8|ED|8^Unbekannt||^AP^WORD^Base64^AAEC||||||F",
                "OBX|9|ED|9^Leer||^AP^PDF^Base64^||||||F",
                "OBX|10|RP|10^Verweis||http://pacs.example/123^PACS^AP^PDF||||||F"));

        assertThat(result.attachments()).extracting(Attachment::contentType).containsExactly(
                "application/pdf", "image/jpeg", "image/png", "image/tiff", "application/dicom",
                "application/dicom", "text/plain", "application/octet-stream");
        assertThat(result.attachments()).extracting(Attachment::title).containsExactly(
                "Arztbrief", "Foto", "Wunde", "Scan", "CT", "MRT", "Notiz", "Unbekannt");
        assertThat(new String(result.attachments().get(0).data(), StandardCharsets.US_ASCII)).isEqualTo("%PDF-1.4 test");
        assertThat(result.attachments().get(1).data()).containsExactly(0xFF, 0xD8, 0xFF, 0xE0);
        assertThat(result.attachments().get(2).data()).containsExactly(0x89, 'P', 'N', 'G'); // no padding
        assertThat(result.attachments().get(3).data()).containsExactly('I', 'I', 0x2A, 0x00);
        assertThat(result.attachments().get(4).data()).isEqualTo("DICM".getBytes(StandardCharsets.US_ASCII));
        assertThat(new String(result.attachments().get(6).data(), StandardCharsets.UTF_8)).isEqualTo("Hallo\nWelt");
        assertThat(result.attachments().get(7).data()).containsExactly(0, 1, 2);
        assertThat(result.skippedEmptyAttachments()).isEqualTo(1);
        assertThat(result.skippedReferencePointers()).isEqualTo(1);
        assertThat(result.text()).isEmpty();
        assertThat(result.title()).isEqualTo("Arztbrief");
    }

    @Test
    void base64WithSpacesEscapedLineBreaksUrlAlphabetAndNoPadding_isDecoded() throws Exception {
        byte[] data = new byte[200];
        for (int i = 0; i < data.length; i++) {
            data[i] = (byte) (255 - i);
        }
        String base64 = Base64.getEncoder().encodeToString(data);
        // line breaks as a sender escapes them, a space, URL-safe characters, padding dropped
        String mangled = base64.substring(0, 76) + "\\X0D0A\\" + base64.substring(76, 152) + "\\.br\\ "
                + base64.substring(152).replace('+', '-').replace('/', '_').replace("=", "");

        Result result = MdmToCommunication.map(mdm("OBX|1|ED|^Anhang: Daten.bin||^AP^Octet-stream^Base64^"
                + mangled + "||||||F"));

        assertThat(result.attachments()).hasSize(1);
        assertThat(result.attachments().get(0).data()).isEqualTo(data);
        assertThat(result.attachments().get(0).contentType()).isEqualTo("application/octet-stream");
        // CareRelay's own "Anhang: " prefix is not part of the title
        assertThat(result.attachments().get(0).title()).isEqualTo("Daten.bin");
    }

    @Test
    void unknownEdEncoding_isRejected() throws Exception {
        Message message = mdm("OBX|1|ED|^Anhang||^AP^PDF^UUENCODE^begin 644||||||F");

        assertThatThrownBy(() -> MdmToCommunication.map(message))
                .isInstanceOf(IllegalArgumentException.class)
                .hasMessageContaining("UUENCODE");
    }

    @Test
    void invalidBase64_isRejected() throws Exception {
        Message message = mdm("OBX|1|ED|^Anhang||^AP^PDF^Base64^not*base64!||||||F");

        assertThatThrownBy(() -> MdmToCommunication.map(message))
                .isInstanceOf(IllegalArgumentException.class)
                .hasMessageContaining("Base64");
    }

    @Test
    void txaTimeWithoutOffsetAndTitleInTxa25_areRead() throws Exception {
        Message message = parse(String.join("\r",
                "MSH|^~\\&|KIS|KH|CR|CR|20240115101500||MDM^T02^MDM_T02|M-2|P|2.6",
                "EVN|T02|20240115101500",
                "PID|1||1",
                "PV1|1|N",
                "TXA|1|CN|TX|20240115093000||||||||DOC-7|||||AU||AV||||||Überleitungsbogen",
                "OBX|1|TX|^Nachricht||Text||||||F",
                ""));

        Result result = MdmToCommunication.map(message);

        assertThat(result.activityTime()).isEqualTo(Instant.parse("2024-01-15T08:30:00Z")); // CET
        assertThat(result.title()).isEqualTo("Überleitungsbogen");
        assertThat(result.documentNumber()).isEqualTo("DOC-7");
    }

    @Test
    void nonMdmMessage_isRejected() throws Exception {
        Message adt = parse("MSH|^~\\&|A|B|C|D|20240502100000||ADT^A01|M1|P|2.5.1\rEVN|A01\rPID|1||1\rPV1|1|I\r");

        assertThatThrownBy(() -> MdmToCommunication.map(adt))
                .isInstanceOf(IllegalArgumentException.class)
                .hasMessageContaining("ADT");
    }

    // ------------------------------------------------------------------ toCommunication

    @Test
    void resultWithTextAndAttachment_givesValidCommunication() throws Exception {
        String pdf = Base64.getEncoder().encodeToString("%PDF-1.4 x".getBytes(StandardCharsets.US_ASCII));
        Result result = MdmToCommunication.map(mdm(
                "OBX|1|TX|^Nachricht||Sehr geehrte Kollegen,||||||F",
                "OBX|2|TX|^Nachricht||anbei der Entlassbrief.||||||F",
                "OBX|3|ED|^Anhang: Entlassbrief.pdf||^AP^PDF^Base64^" + pdf + "||||||F"));

        Communication communication = MdmToCommunication.toCommunication(result);

        assertThat(communication.getStatus()).isEqualTo(Communication.CommunicationStatus.COMPLETED);
        assertThat(communication.getIdentifier()).hasSize(1);
        assertThat(communication.getIdentifierFirstRep().getSystem())
                .isEqualTo(MdmToCommunication.DOCUMENT_NUMBER_SYSTEM);
        assertThat(communication.getIdentifierFirstRep().getValue()).isEqualTo("DOC-42");
        assertThat(communication.getSent()).isEqualTo(Date.from(Instant.parse("2024-05-02T08:10:00Z")));
        assertThat(communication.getCategoryFirstRep().getCodingFirstRep().getSystem())
                .isEqualTo(CommunicationToMdm.DOCUMENT_TYPE_SYSTEM);
        assertThat(communication.getCategoryFirstRep().getCodingFirstRep().getCode()).isEqualTo("DS");
        assertThat(communication.getTopic().getText()).isEqualTo("Entlassbrief.pdf");
        assertThat(communication.getPayload()).hasSize(2);
        assertThat(communication.getPayload().get(0).getContentStringType().getValue())
                .isEqualTo("Sehr geehrte Kollegen,\nanbei der Entlassbrief.");
        org.hl7.fhir.r4.model.Attachment attachment = communication.getPayload().get(1).getContentAttachment();
        assertThat(attachment.getContentType()).isEqualTo("application/pdf");
        assertThat(attachment.getTitle()).isEqualTo("Entlassbrief.pdf");
        assertThat(new String(attachment.getData(), StandardCharsets.US_ASCII)).isEqualTo("%PDF-1.4 x");
        assertThat(communication.hasSubject()).isFalse();
        assertThat(communication.hasSender()).isFalse();
        assertThat(communication.hasRecipient()).isFalse();

        communication.setSubject(new Reference("Patient/x"));
        ResourceValidator.Result validation = SharedValidator.VALIDATOR.validate(communication);
        assertThat(validation.errors()).isEmpty();
    }

    @Test
    void documentNumberWithNamespaceAndUniversalId_isKeptWhole_soAReplyCanNameItExactly() throws Exception {
        Message message = parse(HEADER.replace("DOC-42^KIS", "DOC-42^KIS^1.2.276.0.76.3.1.99^ISO") + "OBX|1|TX|||Text\r");

        Communication communication = MdmToCommunication.toCommunication(MdmToCommunication.map(message));

        org.hl7.fhir.r4.model.Identifier number = communication.getIdentifierFirstRep();
        assertThat(number.getValue()).isEqualTo("DOC-42");
        assertThat(number.getAssigner().getDisplay()).isEqualTo("KIS");
        assertThat(number.getAssigner().getIdentifier().getValue()).isEqualTo("1.2.276.0.76.3.1.99");
        assertThat(number.getAssigner().getIdentifier().getType().getText()).isEqualTo("ISO");
        assertThat(SharedValidator.VALIDATOR.validate(communication).errors()).isEmpty();
    }

    @Test
    void resultWithoutTextNumberTimeOrKnownType_leavesThemOut() {
        Result result = new Result("  \n", List.of(), null, null, "DIS", null, null, 0, 0);

        Communication communication = MdmToCommunication.toCommunication(result);

        assertThat(communication.getPayload()).isEmpty();
        assertThat(communication.getIdentifier()).isEmpty();
        assertThat(communication.hasSent()).isFalse();
        assertThat(communication.getCategory()).isEmpty(); // DIS is not in HL7 table 0270
        assertThat(communication.hasTopic()).isFalse();
    }

    // ------------------------------------------------------------------ tables

    @ParameterizedTest(name = "{0}^{1} -> {2}")
    @CsvSource(delimiter = ';', nullValues = "null", value = {
        "AP;PDF;application/pdf",
        "IM;JPEG;image/jpeg",
        "IM;JPG;image/jpeg",
        "IM;PNG;image/png",
        "IM;TIFF;image/tiff",
        "IM;GIF;image/gif",
        "AP;DICOM;application/dicom",
        "IM;DICOM;application/dicom",
        "application;dicom;application/dicom",
        "application;pdf;application/pdf",
        "image;png;image/png",
        "TEXT;null;text/plain",
        "TX;plain;text/plain",
        "TEXT;XML;text/xml",
        "AP;XML;application/xml",
        "TEXT;HTML;text/html",
        "AP;RTF;application/rtf",
        "AP;zip;application/zip",
        "AP;Octet-stream;application/octet-stream",
        "null;application/pdf;application/pdf",
        "AP;WORD;application/octet-stream",
        "SD;null;application/octet-stream",
        "null;null;application/octet-stream",
    })
    void edTypeAndSubtype_mapToContentType(String type, String subtype, String expected) {
        assertThat(MdmToCommunication.contentType(type, subtype)).isEqualTo(expected);
    }
}
