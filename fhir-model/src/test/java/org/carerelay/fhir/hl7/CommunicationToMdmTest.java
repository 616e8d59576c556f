package org.carerelay.fhir.hl7;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import ca.uhn.hl7v2.DefaultHapiContext;
import ca.uhn.hl7v2.HapiContext;
import ca.uhn.hl7v2.model.Message;
import ca.uhn.hl7v2.model.v251.datatype.CX;
import ca.uhn.hl7v2.model.v251.datatype.ED;
import ca.uhn.hl7v2.model.v251.datatype.XPN;
import ca.uhn.hl7v2.model.v251.group.MDM_T02_OBSERVATION;
import ca.uhn.hl7v2.model.v251.message.MDM_T02;
import ca.uhn.hl7v2.model.v251.segment.OBX;
import ca.uhn.hl7v2.parser.PipeParser;
import ca.uhn.hl7v2.util.Terser;
import ca.uhn.hl7v2.validation.impl.ValidationContextFactory;
import java.time.Instant;
import java.util.ArrayList;
import java.util.Base64;
import java.util.Date;
import java.util.List;
import org.carerelay.fhir.Systems;
import org.carerelay.fhir.conversation.Masking;
import org.carerelay.fhir.hl7.CommunicationToMdm.AttachmentContent;
import org.carerelay.fhir.hl7.CommunicationToMdm.Input;
import org.hl7.fhir.r4.model.Address;
import org.hl7.fhir.r4.model.CodeableConcept;
import org.hl7.fhir.r4.model.Coding;
import org.hl7.fhir.r4.model.Communication;
import org.hl7.fhir.r4.model.ContactPoint;
import org.hl7.fhir.r4.model.DateType;
import org.hl7.fhir.r4.model.Enumerations.AdministrativeGender;
import org.hl7.fhir.r4.model.HumanName;
import org.hl7.fhir.r4.model.Patient;
import org.hl7.fhir.r4.model.Reference;
import org.hl7.fhir.r4.model.StringType;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;

class CommunicationToMdmTest {

    private static final Instant NOW = Instant.parse("2024-05-02T08:20:00Z");
    private static final String KVNR = "A123456780";
    private static final String TEXT = "Guten Tag, Frau Müller,\n"
            + "Blutdruck 140/90 | Puls 72 ^ Größe & Gewicht ~ siehe \\ Anhang. Grüße, Jürgen Weiß";
    /** A small "PDF" with all byte values, so Base64 must be byte-exact. */
    private static final byte[] PDF = pdfBytes();

    private static HapiContext context;
    private static PipeParser validatingParser;

    @BeforeAll
    static void parser() {
        context = new DefaultHapiContext();
        context.setValidationContext(ValidationContextFactory.defaultValidation());
        context.getParserConfiguration().setValidating(true);
        validatingParser = context.getPipeParser();
    }

    @AfterAll
    static void close() throws Exception {
        context.close();
    }

    @Test
    void patientBoundMessage_roundTripsThroughValidatingParser() throws Exception {
        String er7 = CommunicationToMdm.encode(CommunicationToMdm.map(input(communication(TEXT), patient(),
                List.of(new AttachmentContent("b-1", "application/pdf", PDF, "Befund.pdf")))));

        assertThat(er7).startsWith("MSH|^~\\&|CareRelay|CR|KIS|KH-NORD|20240502102000||MDM^T02^MDM_T02|msg-0001|P|2.5.1");
        assertThat(er7).doesNotContain("\n");
        assertThat(er7.split("\r")).extracting(s -> s.substring(0, 3))
                .containsExactly("MSH", "EVN", "PID", "PV1", "TXA", "OBX", "OBX", "OBX");

        Message parsed = validatingParser.parse(er7);
        assertThat(parsed).isInstanceOf(MDM_T02.class);
        MDM_T02 mdm = (MDM_T02) parsed;
        Terser terser = new Terser(mdm);

        assertThat(terser.get("/MSH-9-1") + "^" + terser.get("/MSH-9-2") + "^" + terser.get("/MSH-9-3"))
                .isEqualTo("MDM^T02^MDM_T02");
        assertThat(mdm.getMSH().getMessageControlID().getValue()).isEqualTo("msg-0001");
        assertThat(mdm.getMSH().getCharacterSet(0).getValue()).isEqualTo("UNICODE UTF-8");
        assertThat(terser.get("/EVN-1")).isEqualTo("T02");
        assertThat(terser.get("/EVN-2")).isEqualTo("20240502102000");

        CX kvnr = mdm.getPID().getPatientIdentifierList(0);
        assertThat(kvnr.getIDNumber().getValue()).isEqualTo(KVNR);
        assertThat(kvnr.getAssigningAuthority().getNamespaceID().getValue()).isEqualTo("KVNR");
        assertThat(kvnr.getIdentifierTypeCode().getValue()).isEqualTo("KVNR");
        CX local = mdm.getPID().getPatientIdentifierList(1);
        assertThat(local.getIDNumber().getValue()).isEqualTo("P-4711");
        assertThat(local.getAssigningAuthority().getNamespaceID().getValue()).isEqualTo("patient");
        assertThat(local.getAssigningAuthority().getUniversalID().getValue())
                .isEqualTo("https://pflegedienst-sonnenschein.example/sid/patient");
        assertThat(local.getIdentifierTypeCode().getValue()).isEqualTo("PI");

        XPN name = mdm.getPID().getPatientName(0);
        assertThat(name.getFamilyName().getSurname().getValue()).isEqualTo("Müller");
        assertThat(name.getGivenName().getValue()).isEqualTo("Erika");
        assertThat(name.getSecondAndFurtherGivenNamesOrInitialsThereof().getValue()).isEqualTo("Maria");
        assertThat(name.getPrefixEgDR().getValue()).isEqualTo("Dr.");
        assertThat(name.getNameTypeCode().getValue()).isEqualTo("L");
        assertThat(terser.get("/PID-7")).isEqualTo("19500312");
        assertThat(terser.get("/PID-8")).isEqualTo("F");
        assertThat(terser.get("/PID-11-1")).isEqualTo("Hauptstraße 5");
        assertThat(terser.get("/PID-11-3")).isEqualTo("Köln");
        assertThat(terser.get("/PID-11-5")).isEqualTo("50667");
        assertThat(terser.get("/PID-11-6")).isEqualTo("DEU");
        assertThat(terser.get("/PID-11-7")).isEqualTo("H");
        assertThat(terser.get("/PID-13-1")).isEqualTo("+49 221 123456");
        assertThat(terser.get("/PID-13-2")).isEqualTo("PRN");
        assertThat(terser.get("/PV1-2")).isEqualTo("N");

        assertThat(terser.get("/TXA-1")).isEqualTo("1");
        assertThat(terser.get("/TXA-2")).isEqualTo("CN");
        assertThat(terser.get("/TXA-3")).isEqualTo("TX");
        assertThat(terser.get("/TXA-4")).isEqualTo("20240502101500");
        assertThat(terser.get("/TXA-5-1")).isEqualTo("org-1");
        assertThat(terser.get("/TXA-9-1")).isEqualTo("org-1");
        assertThat(terser.get("/TXA-9-2")).isEqualTo("Pflegedienst Sonnenschein");
        assertThat(mdm.getTXA().getUniqueDocumentNumber().getEntityIdentifier().getValue()).isEqualTo("c-123");
        assertThat(mdm.getTXA().getUniqueDocumentNumber().getNamespaceID().getValue()).isEqualTo("CareRelay");
        assertThat(terser.get("/TXA-17")).isEqualTo("AU");
        assertThat(terser.get("/TXA-19")).isEqualTo("AV");

        List<OBX> obx = obx(mdm);
        assertThat(obx).extracting(o -> o.getValueType().getValue()).containsExactly("TX", "TX", "ED");
        assertThat(obx).extracting(o -> o.getSetIDOBX().getValue()).containsExactly("1", "2", "3");
        assertThat(obx).extracting(o -> o.getObservationResultStatus().getValue()).containsOnly("F");
        assertThat(obx.get(0).getObservationIdentifier().getText().getValue()).isEqualTo("Nachricht");
        // coded, not text only: LOINC 11488-4 (consult note) on every OBX
        assertThat(obx).extracting(o -> o.getObservationIdentifier().getIdentifier().getValue()).containsOnly("11488-4");
        assertThat(obx).extracting(o -> o.getObservationIdentifier().getNameOfCodingSystem().getValue()).containsOnly("LN");
        assertThat(textOf(obx)).isEqualTo(TEXT);

        OBX attachment = obx.get(2);
        assertThat(attachment.getObservationIdentifier().getText().getValue()).isEqualTo("Anhang: Befund.pdf");
        ED ed = (ED) attachment.getObservationValue(0).getData();
        assertThat(ed.getSourceApplication().isEmpty()).isTrue();
        assertThat(ed.getTypeOfData().getValue()).isEqualTo("AP");
        assertThat(ed.getDataSubtype().getValue()).isEqualTo("PDF");
        assertThat(ed.getEncoding().getValue()).isEqualTo("Base64");
        assertThat(Base64.getDecoder().decode(ed.getData().getValue())).isEqualTo(PDF);
    }

    @Test
    void hl7DelimitersInText_areEscapedOnTheWire() {
        String er7 = CommunicationToMdm.encode(CommunicationToMdm.map(
                input(communication("a|b^c&d~e\\f"), patient(), List.of())));

        assertThat(er7).contains("|a\\F\\b\\S\\c\\T\\d\\R\\e\\E\\f|");
    }

    @Test
    void networkingMessageWithoutPatient_isParsableWithMinimalPid() throws Exception {
        Communication communication = communication("Teambesprechung am Freitag fällt aus.");
        communication.setSubject(null);
        communication.getCategoryFirstRep().addCoding()
                .setSystem(Systems.COMMUNICATION_CATEGORY).setCode("networking");

        String er7 = CommunicationToMdm.encode(CommunicationToMdm.map(input(communication, null, List.of())));

        // MDM_T02 (v2.5.1) requires PID and PV1; the PID carries no patient data
        assertThat(er7).contains("\rPID|1\rPV1||N\rTXA|1|CN|");
        MDM_T02 mdm = (MDM_T02) validatingParser.parse(er7);
        assertThat(mdm.getPID().getPatientIdentifierListReps()).isZero();
        assertThat(mdm.getPID().getPatientNameReps()).isZero();
        assertThat(mdm.getTXA().getUniqueDocumentNumber().getEntityIdentifier().getValue()).isEqualTo("c-123");
        assertThat(textOf(obx(mdm))).isEqualTo("Teambesprechung am Freitag fällt aus.");
    }

    @Test
    void multiLineText_givesOneObxPerLine_keepingEmptyLines() throws Exception {
        String er7 = CommunicationToMdm.encode(CommunicationToMdm.map(input(
                communication("Zeile 1\r\nZeile 2\n\n  eingerückt\rZeile 5\n"), patient(), List.of())));

        List<OBX> obx = obx((MDM_T02) validatingParser.parse(er7));

        assertThat(obx).hasSize(5);
        assertThat(obx).extracting(o -> o.getSetIDOBX().getValue()).containsExactly("1", "2", "3", "4", "5");
        assertThat(textOf(obx)).isEqualTo("Zeile 1\nZeile 2\n\n  eingerückt\nZeile 5");
    }

    @Test
    void attachmentsOnly_imageTypesAndUnknownTypes() throws Exception {
        Communication communication = communication("x");
        communication.getPayload().clear();
        byte[] jpeg = {(byte) 0xFF, (byte) 0xD8, (byte) 0xFF, 0x00, 0x7C};
        MDM_T02 mapped = CommunicationToMdm.map(input(communication, patient(), List.of(
                new AttachmentContent("b-1", "image/jpg", jpeg, null),
                new AttachmentContent("b-2", "application/dicom", new byte[] {1}, "CT"),
                new AttachmentContent("b-3", "application/zip", new byte[] {2}, "Archiv"))));

        List<OBX> obx = obx((MDM_T02) validatingParser.parse(CommunicationToMdm.encode(mapped)));

        assertThat(obx).extracting(o -> o.getValueType().getValue()).containsExactly("ED", "ED", "ED");
        assertThat(obx).extracting(o -> o.getObservationIdentifier().getText().getValue())
                .containsExactly("Anhang", "Anhang: CT", "Anhang: Archiv");
        assertThat(obx).extracting(o -> {
            ED ed = (ED) o.getObservationValue(0).getData();
            return ed.getTypeOfData().getValue() + "/" + ed.getDataSubtype().getValue();
        }).containsExactly("IM/JPEG", "IM/DICOM", "AP/zip");
        assertThat(Base64.getDecoder().decode(((ED) obx.get(0).getObservationValue(0).getData()).getData().getValue()))
                .isEqualTo(jpeg);
    }

    @Test
    void documentTypeFromCategory() throws Exception {
        Communication communication = communication("Entlassbrief");
        communication.addCategory(new CodeableConcept(
                new Coding(CommunicationToMdm.DOCUMENT_TYPE_SYSTEM, "DS", "Discharge summary")));

        MDM_T02 mdm = CommunicationToMdm.map(input(communication, patient(), List.of()));

        assertThat(mdm.getTXA().getDocumentType().getValue()).isEqualTo("DS");
    }

    @Test
    void maskedCommunication_isRejected() {
        Communication masked = Masking.mask(communication(TEXT), Instant.parse("2024-05-01T00:00:00Z"));

        assertThatThrownBy(() -> CommunicationToMdm.map(input(masked, patient(), List.of())))
                .isInstanceOf(IllegalArgumentException.class)
                .hasMessageContaining("Masked");
    }

    @Test
    void communicationWithoutContent_isRejected() {
        Communication empty = communication("x");
        empty.getPayload().clear();

        assertThatThrownBy(() -> CommunicationToMdm.map(input(empty, patient(), List.of())))
                .isInstanceOf(IllegalArgumentException.class)
                .hasMessageContaining("OBX");
    }

    @Test
    void patientOtherThanSubject_isRejected() {
        Patient other = patient();
        other.setId("Patient/p-2");

        assertThatThrownBy(() -> CommunicationToMdm.map(input(communication(TEXT), other, List.of())))
                .isInstanceOf(IllegalArgumentException.class)
                .hasMessageContaining("p-2");
    }

    @Test
    void reply_carriesTheDocumentItAnswersInTxa13_andAMessageThatIsNoReplyDoesNot() throws Exception {
        Communication reply = communication(TEXT);
        reply.addInResponseTo(new Reference("Communication/c-100"));
        Input in = new Input(reply, patient(), List.of(), "CareRelay", "CR", "KIS", "KH-NORD", "msg-0002", NOW,
                new CommunicationToMdm.DocumentNumber("DOC-4711", "PFLEGE_SW"));

        String er7 = CommunicationToMdm.encode(CommunicationToMdm.map(in));
        MDM_T02 parsed = (MDM_T02) validatingParser.parse(er7);

        assertThat(parsed.getTXA().getParentDocumentNumber().getEntityIdentifier().getValue()).isEqualTo("DOC-4711");
        assertThat(parsed.getTXA().getParentDocumentNumber().getNamespaceID().getValue()).isEqualTo("PFLEGE_SW");
        assertThat(parsed.getTXA().getUniqueDocumentNumber().getEntityIdentifier().getValue()).isEqualTo("c-123");
        assertThat(er7).contains("|11488-4^Nachricht^LN|");

        MDM_T02 plain = CommunicationToMdm.map(input(communication(TEXT), patient(), List.of()));
        assertThat(plain.getTXA().getParentDocumentNumber().isEmpty()).isTrue();
    }

    private static Input input(Communication communication, Patient patient, List<AttachmentContent> attachments) {
        return new Input(communication, patient, attachments, "CareRelay", "CR", "KIS", "KH-NORD", "msg-0001", NOW);
    }

    private static Communication communication(String text) {
        Communication c = new Communication();
        c.setId("Communication/c-123");
        c.setStatus(Communication.CommunicationStatus.COMPLETED);
        c.setSubject(new Reference("Patient/p-1"));
        c.setSender(new Reference("Organization/org-1").setDisplay("Pflegedienst Sonnenschein"));
        c.addRecipient(new Reference("Organization/org-2"));
        c.setSent(Date.from(Instant.parse("2024-05-02T08:15:00Z")));
        c.addPayload().setContent(new StringType(text));
        return c;
    }

    private static Patient patient() {
        Patient p = new Patient();
        p.setId("Patient/p-1");
        p.addIdentifier().setSystem("https://pflegedienst-sonnenschein.example/sid/patient").setValue("P-4711");
        p.addIdentifier().setSystem(Systems.KVNR).setValue(KVNR);
        p.addName(new HumanName().setUse(HumanName.NameUse.OFFICIAL).setFamily("Müller")
                .addGiven("Erika").addGiven("Maria").addPrefix("Dr."));
        p.setBirthDateElement(new DateType("1950-03-12"));
        p.setGender(AdministrativeGender.FEMALE);
        p.addAddress(new Address().setUse(Address.AddressUse.HOME).addLine("Hauptstraße 5")
                .setCity("Köln").setPostalCode("50667").setCountry("DE"));
        p.addTelecom(new ContactPoint().setSystem(ContactPoint.ContactPointSystem.PHONE)
                .setUse(ContactPoint.ContactPointUse.HOME).setValue("+49 221 123456"));
        return p;
    }

    private static List<OBX> obx(MDM_T02 mdm) throws Exception {
        List<OBX> result = new ArrayList<>();
        for (MDM_T02_OBSERVATION observation : mdm.getOBSERVATIONAll()) {
            result.add(observation.getOBX());
        }
        return result;
    }

    /** The TX lines of {@code obx}, joined with {@code \n}. */
    private static String textOf(List<OBX> obx) {
        List<String> lines = new ArrayList<>();
        for (OBX o : obx) {
            if ("TX".equals(o.getValueType().getValue())) {
                lines.add(o.getObservationValueReps() == 0 ? ""
                        : ((ca.uhn.hl7v2.model.Primitive) o.getObservationValue(0).getData()).getValue());
            }
        }
        return String.join("\n", lines);
    }

    private static byte[] pdfBytes() {
        byte[] data = new byte[300];
        byte[] header = "%PDF-1.4\n".getBytes(java.nio.charset.StandardCharsets.US_ASCII);
        System.arraycopy(header, 0, data, 0, header.length);
        for (int i = header.length; i < data.length; i++) {
            data[i] = (byte) i;
        }
        return data;
    }
}
