package org.carerelay.gateway.hl7;

import static org.assertj.core.api.Assertions.assertThat;

import ca.uhn.hl7v2.DefaultHapiContext;
import ca.uhn.hl7v2.HapiContext;
import ca.uhn.hl7v2.app.Connection;
import ca.uhn.hl7v2.llp.MinLowerLayerProtocol;
import ca.uhn.hl7v2.model.Message;
import ca.uhn.hl7v2.parser.CanonicalModelClassFactory;
import ca.uhn.hl7v2.validation.impl.ValidationContextFactory;
import ch.qos.logback.classic.Level;
import ch.qos.logback.classic.Logger;
import ch.qos.logback.classic.LoggerContext;
import ch.qos.logback.classic.spi.ILoggingEvent;
import ch.qos.logback.core.read.ListAppender;
import java.io.InputStream;
import java.io.OutputStream;
import java.net.Socket;
import java.nio.charset.Charset;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.HashSet;
import java.util.List;
import java.util.Set;
import java.util.UUID;
import java.util.concurrent.CopyOnWriteArrayList;
import org.carerelay.gateway.Conversations;
import org.carerelay.gateway.FakeMllpRecipient;
import org.carerelay.gateway.GatewayIntegrationTest;
import org.carerelay.gateway.Mllp;
import org.carerelay.gateway.Participants;
import org.carerelay.gateway.TestJvmLog;
import org.hl7.fhir.r4.model.Patient;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.slf4j.LoggerFactory;

/**
 * HL7v2 as hospitals' systems send it, through HAPI's own HL7 client over MLLP (and raw frames where
 * the exact bytes matter): every HL7 version, SAP IS-H's v2.2 ADT, mislabelled character sets, the
 * enhanced acknowledgement mode and the details of the ACK.
 */
class Hl7ConformanceIT extends GatewayIntegrationTest {

    static final Charset LATIN1 = StandardCharsets.ISO_8859_1;
    static final Path SAP_ISH = Path.of("src", "test", "resources", "hl7v2-sap-ish");
    static final List<String> HL7_VERSIONS =
            List.of("2.1", "2.2", "2.3", "2.3.1", "2.4", "2.5", "2.5.1", "2.6", "2.7", "2.7.1", "2.8", "2.8.1");

    static Participants.Registered hospital;
    static String hospitalAlias;

    @BeforeEach
    void participants() {
        if (hospital == null) {
            hospital = Participants.registerNew(this, "Klinikum SAP");
            hospitalAlias = "SAP" + UUID.randomUUID().toString().substring(0, 6).toUpperCase();
            Participants.addHl7Alias(admin(), hospital.organizationId(), hospitalAlias);
        }
    }

    /** Sends {@code er7} with HAPI's HL7 client (written in {@code wire}) and returns the ACK it received. */
    static String sendWithHapi(String er7, Charset wire) throws Exception {
        try (HapiContext hapi = new DefaultHapiContext(new CanonicalModelClassFactory("2.5.1"))) {
            hapi.setValidationContext(ValidationContextFactory.noValidation());
            hapi.getParserConfiguration().setValidating(false);
            MinLowerLayerProtocol llp = new MinLowerLayerProtocol(false); // the charset below, whatever MSH-18 says
            llp.setCharset(wire);
            hapi.setLowerLayerProtocol(llp);
            Message message = hapi.getPipeParser().parse(er7);
            Connection connection = hapi.newClient("127.0.0.1", HL7_PORT, false);
            try {
                connection.getInitiator().setTimeout(30, java.util.concurrent.TimeUnit.SECONDS);
                Message ack = connection.getInitiator().sendAndReceive(message);
                return hapi.getPipeParser().encode(ack);
            } finally {
                connection.close();
            }
        }
    }

    /** The SAP IS-H sample with MSH-4 this test's sender, a fresh MSH-10 and the given version and patient number. */
    static String sapIsh(String file, String version, String patientNumber) throws Exception {
        String er7 = new String(Files.readAllBytes(SAP_ISH.resolve(file)), LATIN1);
        String[] segments = er7.split("\r");
        String[] msh = segments[0].split("\\|", -1);
        msh[3] = hospitalAlias;
        msh[9] = "S" + UUID.randomUUID().toString().replace("-", "").substring(0, 19);
        msh[11] = version;
        segments[0] = String.join("|", msh);
        return (String.join("\r", segments) + "\r").replace("0001234567", patientNumber);
    }

    static String patientNumber() {
        return String.format("%010d", (long) (Math.random() * 1_000_000_000L));
    }

    private Patient patientOf(String ack) {
        String reference = Mllp.field(ack, "MSA", 3);
        assertThat(reference).as(ack).startsWith("Patient/");
        return client(hospital.token()).read().resource(Patient.class).withId(reference.substring("Patient/".length())).execute();
    }

    // ------------------------------------------------------------------ versions

    @Test
    void sapIshV22AdmissionAndUpdate_inLatin1_areAcceptedAndUpdateTheSamePatient() throws Exception {
        String number = patientNumber();

        String admission = sendWithHapi(sapIsh("sap-ish_ADT-A01-v22-8859-1.hl7", "2.2", number), LATIN1);

        // SAP IS-H asks for enhanced acknowledgement (MSH-15 AL, MSH-16 NE): the commit ACK
        assertThat(Mllp.field(admission, "MSA", 1)).as(admission).isEqualTo("CA");
        assertThat(Mllp.field(admission, "MSH", 12)).isEqualTo("2.2");
        Patient patient = patientOf(admission);
        assertThat(patient.getNameFirstRep().getFamily()).isEqualTo("Müller");
        assertThat(patient.getNameFirstRep().getGivenAsSingleString()).isEqualTo("Jürgen");
        assertThat(patient.getAddressFirstRep().getLine().get(0).getValue()).isEqualTo("Schloßstraße 12");
        assertThat(patient.getAddressFirstRep().getCity()).isEqualTo("Köln");
        assertThat(patient.getIdentifier()).anySatisfy(id -> assertThat(id.getValue()).isEqualTo(number));

        String update = sendWithHapi(sapIsh("sap-ish_ADT-A08-v22-8859-1.hl7", "2.2", number), LATIN1);

        assertThat(Mllp.field(update, "MSA", 1)).as(update).isEqualTo("CA");
        Patient updated = patientOf(update);
        assertThat(updated.getIdElement().getIdPart()).isEqualTo(patient.getIdElement().getIdPart());
        assertThat(updated.getAddressFirstRep().getLine().get(0).getValue()).isEqualTo("Am Kölner Brett 7");
    }

    @Test
    void adtInEveryHl7VersionHapiKnows_isAcceptedThroughHapisClient() throws Exception {
        for (String version : HL7_VERSIONS) {
            String ack = sendWithHapi(sapIsh("sap-ish_ADT-A01-v22-8859-1.hl7", version, patientNumber()), LATIN1);

            assertThat(Mllp.field(ack, "MSA", 1)).as("v" + version + ": " + ack).isEqualTo("CA");
            assertThat(Mllp.field(ack, "MSH", 12)).as("v" + version).isEqualTo(version);
            assertThat(patientOf(ack).getNameFirstRep().getFamily()).as("v" + version).isEqualTo("Müller");
        }
    }

    // ------------------------------------------------------------------ character sets

    @Test
    void utf8BytesLabelled8859_1_areStoredAsWritten_notAsMojibake() throws Exception {
        String er7 = "MSH|^~\\&|PFLEGE_SW|" + hospitalAlias + "|CARERELAY|CARERELAY|20261128120000||ADT^A01^ADT_A01|U"
                + UUID.randomUUID().toString().substring(0, 8) + "|P|2.5|||||DEU|8859/1\r"
                + "EVN|A01|20261128120000\r"
                + "PID|1||" + patientNumber() + "^^^PFL^PI||Müller^Jürgen||19380412|M|||Am 5 €-Platz 1^^Görlitz^^02826^DEU\r"
                + "PV1|1|O\r";

        String ack = sendWithHapi(er7, StandardCharsets.UTF_8);

        assertThat(Mllp.field(ack, "MSA", 1)).as(ack).isEqualTo("AA");
        Patient patient = patientOf(ack);
        assertThat(patient.getNameFirstRep().getFamily()).isEqualTo("Müller");
        assertThat(patient.getAddressFirstRep().getLine().get(0).getValue()).isEqualTo("Am 5 €-Platz 1");
        assertThat(patient.getAddressFirstRep().getCity()).isEqualTo("Görlitz");
        // the ACK is written in what the message really was, and says so
        assertThat(Mllp.field(ack, "MSH", 18)).isEqualTo("UNICODE UTF-8");
    }

    // ------------------------------------------------------------------ acknowledgement modes

    private String adt(String controlId, String version, String acceptAck, String applicationAck, String charset) {
        return "MSH|^~\\&|PFLEGE_SW|" + hospitalAlias + "|CARERELAY|CARERELAY|20261128120000||ADT^A01^ADT_A01|" + controlId
                + "|P|" + version + "|||" + acceptAck + "|" + applicationAck + "|DEU|" + charset + "\r"
                + "EVN|A01|20261128120000\r"
                + "PID|1||" + patientNumber() + "^^^PFL^PI||Weiß^Günther||19380412|M\r"
                + "PV1|1|O\r";
    }

    private String merge(String controlId, String acceptAck) {
        return merge(controlId, acceptAck, acceptAck.isEmpty() ? "" : "NE");
    }

    private String merge(String controlId, String acceptAck, String applicationAck) {
        return "MSH|^~\\&|PFLEGE_SW|" + hospitalAlias + "|CARERELAY|CARERELAY|20261128120000||ADT^A40^ADT_A39|" + controlId
                + "|P|2.5|||" + acceptAck + "|" + applicationAck + "\r"
                + "EVN|A40|20261128120000\rPID|1||4711^^^PFL^PI||Weiß^Günther\rMRG|4712^^^PFL^PI\r";
    }

    static String id(String prefix) {
        return prefix + UUID.randomUUID().toString().replace("-", "").substring(0, 12).toUpperCase();
    }

    /**
     * Sends {@code silent} and waits long enough for it to be handled, then {@code answered}, on the
     * same connection, and returns the first answer that arrives: answers come in the order of the
     * frames, so it is the one for {@code answered} exactly when {@code silent} got none (one that
     * came late would arrive first).
     */
    private static String firstAnswer(String silent, String answered) throws Exception {
        try (Socket socket = new Socket("127.0.0.1", HL7_PORT)) {
            OutputStream out = socket.getOutputStream();
            InputStream in = socket.getInputStream();
            Mllp.writeFrame(out, silent.getBytes(LATIN1));
            socket.setSoTimeout(5_000);
            try {
                String early = Mllp.readFrame(in, LATIN1);
                return early;
            } catch (java.net.SocketTimeoutException e) {
                // nothing within 5 s: the expected silence
            }
            socket.setSoTimeout(30_000);
            Mllp.writeFrame(out, answered.getBytes(LATIN1));
            return Mllp.readFrame(in, LATIN1);
        }
    }

    @Test
    void enhancedModeNE_getsNoCommitAckAtAll_butTheMessageIsProcessed() throws Exception {
        String silent = id("NE");
        String answered = id("AL");

        String first = firstAnswer(adt(silent, "2.5", "NE", "NE", ""), adt(answered, "2.5", "AL", "NE", ""));

        assertThat(Mllp.field(first, "MSA", 2)).as("no ACK for the NE message").isEqualTo(answered);
        assertThat(Mllp.field(first, "MSA", 1)).isEqualTo("CA");
        // processed nonetheless: a repeat in original mode gets the ACK that was stored for it
        String repeat = Mllp.exchange(HL7_PORT, adt(silent, "2.5", "", "", "").getBytes(LATIN1), LATIN1, 30_000);
        assertThat(Mllp.field(repeat, "MSA", 2)).isEqualTo(silent);
        assertThat(Mllp.field(repeat, "MSA", 1)).isEqualTo("CA");
    }

    @Test
    void enhancedModeNeAl_asIhePcd01SendsIt_getsTheApplicationAckOnTheConnection() throws Exception {
        String controlId = id("PCD");

        String ack = sendWithHapi(adt(controlId, "2.6", "NE", "AL", "UNICODE UTF-8"), StandardCharsets.UTF_8);

        assertThat(Mllp.field(ack, "MSA", 1)).as(ack).isEqualTo("AA");
        assertThat(Mllp.field(ack, "MSA", 2)).isEqualTo(controlId);
    }

    @Test
    void enhancedModeER_answersOnlyErrors_andSU_onlySuccess() throws Exception {
        String acceptedUnderEr = id("ER");
        String refusedUnderEr = id("ER");
        String first = firstAnswer(adt(acceptedUnderEr, "2.5", "ER", "NE", ""), merge(refusedUnderEr, "ER"));
        assertThat(Mllp.field(first, "MSA", 2)).as(first).isEqualTo(refusedUnderEr);
        assertThat(Mllp.field(first, "MSA", 1)).isEqualTo("CR");
        assertThat(first).contains("ERR|");

        String acceptedUnderSu = id("SU");
        String second = Mllp.exchange(HL7_PORT, adt(acceptedUnderSu, "2.5", "SU", "NE", "").getBytes(LATIN1), LATIN1, 30_000);
        assertThat(Mllp.field(second, "MSA", 2)).as(second).isEqualTo(acceptedUnderSu);
        assertThat(Mllp.field(second, "MSA", 1)).isEqualTo("CA");
    }

    @Test
    void senderAskingForNoAnswer_stillLearnsThatItsMessageWasRefusedAndNotStored() throws Exception {
        // MSH-15 / MSH-16 → the NAK on the connection
        String[][] modes = {{"NE", "NE", "AR"}, {"NE", "", "AR"}, {"NE", "SU", "AR"}, {"SU", "NE", "CR"}, {"SU", "", "CR"}};
        for (String[] mode : modes) {
            String refused = id("RF");
            String nak = Mllp.exchange(HL7_PORT, merge(refused, mode[0], mode[1]).getBytes(LATIN1), LATIN1, 30_000);
            assertThat(nak).as("MSH-15 %s, MSH-16 '%s': a refusal is never silent", mode[0], mode[1]).isNotNull();
            assertThat(Mllp.field(nak, "MSA", 2)).isEqualTo(refused);
            assertThat(Mllp.field(nak, "MSA", 1)).as(nak).isEqualTo(mode[2]);
            assertThat(Mllp.field(nak, "ERR", 5)).startsWith("not-supported^");
        }
        // an accepted message still follows MSH-15/MSH-16 exactly: NE/NE gets nothing
        String silent = id("NE");
        String answered = id("AL");
        String first = firstAnswer(adt(silent, "2.5", "NE", "NE", ""), adt(answered, "2.5", "AL", "NE", ""));
        assertThat(Mllp.field(first, "MSA", 2)).isEqualTo(answered);
    }

    @Test
    void emptyMsh15WithMsh16AL_getsTheApplicationAck_notACommitAck() throws Exception {
        String accepted = id("AP");
        String ack = Mllp.exchange(HL7_PORT, adt(accepted, "2.5", "", "AL", "").getBytes(LATIN1), LATIN1, 30_000);
        assertThat(Mllp.field(ack, "MSA", 1)).as(ack).isEqualTo("AA");
        assertThat(Mllp.field(ack, "MSA", 2)).isEqualTo(accepted);

        String refused = id("AP");
        String nak = Mllp.exchange(HL7_PORT, merge(refused, "", "AL").getBytes(LATIN1), LATIN1, 30_000);
        assertThat(Mllp.field(nak, "MSA", 1)).as(nak).isEqualTo("AR");
    }

    @Test
    void originalMode_stillGetsAnAckForEveryMessage() throws Exception {
        String refused = id("OR");
        String first = firstAnswer(merge(refused, ""), adt(id("OR"), "2.5", "", "", ""));
        assertThat(Mllp.field(first, "MSA", 2)).isEqualTo(refused);
        assertThat(Mllp.field(first, "MSA", 1)).isEqualTo("AR");
        String accepted = id("OR");
        String ack = Mllp.exchange(HL7_PORT, adt(accepted, "2.5", "", "", "").getBytes(LATIN1), LATIN1, 30_000);
        assertThat(Mllp.field(ack, "MSA", 1)).isEqualTo("AA");
        assertThat(Mllp.field(ack, "MSA", 2)).isEqualTo(accepted);
    }

    // ------------------------------------------------------------------ outbound MDM

    @Test
    void replyDeliveredAsMdm_carriesTheCareSoftwaresDocumentNumberInTxa13_andCodedObx3() throws Exception {
        List<String> frames = new CopyOnWriteArrayList<>();
        try (FakeMllpRecipient careSystem = new FakeMllpRecipient(message -> {
            frames.add(message.encode());
            return message.generateACK();
        })) {
            Participants.Registered care = Participants.registerNew(this, "Pflegedienst Faden");
            String careAlias = "PFD" + UUID.randomUUID().toString().substring(0, 6).toUpperCase();
            Participants.addHl7Alias(admin(), care.organizationId(), careAlias);
            Participants.addEndpoint(admin(), care.organizationId(), "hl7v2-mllp", careSystem.address(), null);
            Participants.Registered clinic = Participants.registerNew(this, "Klinik Faden");
            String clinicAlias = "KFD" + UUID.randomUUID().toString().substring(0, 6).toUpperCase();
            Participants.addHl7Alias(admin(), clinic.organizationId(), clinicAlias);

            String kvnr = Conversations.kvnr();
            String admission = Hl7InboundIT.adt(careAlias, id("FA"), kvnr);
            assertThat(Mllp.field(Mllp.exchange(HL7_PORT, admission.getBytes(LATIN1), LATIN1, 30_000), "MSA", 1)).isEqualTo("AA");
            String patientId = Conversations.patientIdByKvnr(client(care.token()), kvnr);
            Conversations.uploadConsent(client(care.token()), patientId, care.organizationId(), clinic.organizationId());

            // the care software's document, with its own number in TXA-12
            String documentControlId = id("FD");
            String document = Hl7InboundIT.mdm(careAlias, clinicAlias, documentControlId, kvnr, null);
            assertThat(Mllp.field(Mllp.exchange(HL7_PORT, document.getBytes(LATIN1), LATIN1, 30_000), "MSA", 1)).isEqualTo("AA");
            org.hl7.fhir.r4.model.Communication received = (org.hl7.fhir.r4.model.Communication) client(clinic.token()).search()
                    .byUrl("Communication?patient=Patient/" + patientId).returnBundle(org.hl7.fhir.r4.model.Bundle.class)
                    .execute().getEntryFirstRep().getResource();

            // the clinic answers over FHIR; the answer reaches the care software as MDM^T02
            org.hl7.fhir.r4.model.Communication reply = Conversations.message(patientId, "Danke, Befund folgt.", care.organizationId());
            reply.addInResponseTo(new org.hl7.fhir.r4.model.Reference("Communication/" + received.getIdElement().getIdPart()));
            String replyId = Conversations.send(client(clinic.token()), reply);
            org.awaitility.Awaitility.await().atMost(java.time.Duration.ofSeconds(60)).until(() ->
                    "delivered".equals(Conversations.deliveryStates(client(clinic.token()), replyId).get(care.organizationId())));

            assertThat(frames).hasSize(1);
            String mdm = frames.get(0);
            assertThat(Mllp.field(mdm, "TXA", 12)).isEqualTo(replyId + "^CareRelay");
            assertThat(Mllp.field(mdm, "TXA", 13)).as("parent document").isEqualTo("DOC-" + documentControlId);
            assertThat(Mllp.field(mdm, "OBX", 3)).isEqualTo("11488-4^Nachricht^LN");
        }
    }

    @Test
    void replyTxa13_keepsTheNamespaceTheCareSoftwareSent_namesOnlyDocumentsTheRecipientGot() throws Exception {
        List<String> frames = new CopyOnWriteArrayList<>();
        try (FakeMllpRecipient careSystem = new FakeMllpRecipient(message -> {
            frames.add(message.encode());
            return message.generateACK();
        })) {
            Participants.Registered care = Participants.registerNew(this, "Pflegedienst Faden");
            String careAlias = "PFN" + UUID.randomUUID().toString().substring(0, 6).toUpperCase();
            Participants.addHl7Alias(admin(), care.organizationId(), careAlias);
            Participants.addEndpoint(admin(), care.organizationId(), "hl7v2-mllp", careSystem.address(), null);
            Participants.Registered clinic = Participants.registerNew(this, "Klinik Faden");
            String clinicAlias = "KFN" + UUID.randomUUID().toString().substring(0, 6).toUpperCase();
            Participants.addHl7Alias(admin(), clinic.organizationId(), clinicAlias);
            String kvnr = Conversations.kvnr();
            String admission = Hl7InboundIT.adt(careAlias, id("FA"), kvnr);
            assertThat(Mllp.field(Mllp.exchange(HL7_PORT, admission.getBytes(LATIN1), LATIN1, 30_000), "MSA", 1)).isEqualTo("AA");
            String patientId = Conversations.patientIdByKvnr(client(care.token()), kvnr);
            Conversations.uploadConsent(client(care.token()), patientId, care.organizationId(), clinic.organizationId());

            // 1. the care software numbers its document in its own namespace: the reply names it so
            String documentControlId = id("FN");
            String number = "N" + documentControlId;
            String document = Hl7InboundIT.mdm(careAlias, clinicAlias, documentControlId, kvnr, null)
                    .replace("DOC-" + documentControlId, number + "^KIS");
            assertThat(Mllp.field(Mllp.exchange(HL7_PORT, document.getBytes(LATIN1), LATIN1, 30_000), "MSA", 1)).isEqualTo("AA");
            String documentId = client(clinic.token()).search().byUrl("Communication?patient=Patient/" + patientId)
                    .returnBundle(org.hl7.fhir.r4.model.Bundle.class).execute().getEntry().stream()
                    .map(e -> (org.hl7.fhir.r4.model.Communication) e.getResource()).filter(c -> c.getIdentifier().stream().anyMatch(i -> number.equals(i.getValue())))
                    .findFirst().orElseThrow().getIdElement().getIdPart();
            assertThat(Mllp.field(deliveredReply(frames, clinic, care, patientId, documentId), "TXA", 13))
                    .isEqualTo(number + "^KIS");

            // 2. a message the care software wrote over FHIR never reached it as a document: no TXA-13
            String overFhir = Conversations.send(client(care.token()),
                    Conversations.message(patientId, "Bitte Rückruf.", clinic.organizationId()));
            assertThat(Mllp.field(deliveredReply(frames, clinic, care, patientId, overFhir), "TXA", 13))
                    .as("no number the care software never saw").isNullOrEmpty();

            // 3. a document the gateway delivered to it over MLLP: the TXA-12 it got then
            String delivered = Conversations.send(client(clinic.token()),
                    Conversations.message(patientId, "Entlassbrief folgt.", care.organizationId()));
            awaitDelivered(clinic, delivered, care);
            assertThat(Mllp.field(deliveredReply(frames, clinic, care, patientId, delivered), "TXA", 13))
                    .isEqualTo(delivered + "^CareRelay");
        }
    }

    private void awaitDelivered(Participants.Registered sender, String messageId, Participants.Registered recipient) {
        org.awaitility.Awaitility.await().atMost(java.time.Duration.ofSeconds(60)).until(() ->
                "delivered".equals(Conversations.deliveryStates(client(sender.token()), messageId).get(recipient.organizationId())));
    }

    /** The clinic replies to {@code parentId}; the MDM frame the care software got for it. */
    private String deliveredReply(List<String> frames, Participants.Registered clinic, Participants.Registered care,
            String patientId, String parentId) {
        org.hl7.fhir.r4.model.Communication reply = Conversations.message(patientId, "Antwort.", care.organizationId());
        reply.addInResponseTo(new org.hl7.fhir.r4.model.Reference("Communication/" + parentId));
        String replyId = Conversations.send(client(clinic.token()), reply);
        awaitDelivered(clinic, replyId, care);
        return frames.stream().filter(f -> (replyId + "^CareRelay").equals(Mllp.field(f, "TXA", 12)))
                .findFirst().orElseThrow();
    }

    // ------------------------------------------------------------------ ACK details

    @Test
    void ack_echoesMsh18_hasAUniqueRandomControlId_andMsa2ExactlyAsSent() throws Exception {
        Set<String> ackIds = new HashSet<>();
        for (int i = 0; i < 3; i++) {
            String controlId = "K\\Z" + i + "\\X" + UUID.randomUUID().toString().substring(0, 6); // invalid escapes
            String ack = Mllp.exchange(HL7_PORT, adt(controlId, "2.5", "", "", "8859/1").getBytes(LATIN1), LATIN1, 30_000);

            assertThat(Mllp.field(ack, "MSA", 1)).as(ack).isEqualTo("AA");
            assertThat(Mllp.field(ack, "MSA", 2)).isEqualTo(controlId);
            assertThat(Mllp.field(ack, "MSH", 18)).isEqualTo("8859/1");
            assertThat(Mllp.field(ack, "MSH", 10)).matches("[0-9A-Z]{20}");
            ackIds.add(Mllp.field(ack, "MSH", 10));
        }
        assertThat(ackIds).hasSize(3);

        // a message without MSH-18 gets an ACK without one
        String plain = Mllp.exchange(HL7_PORT, adt(id("P"), "2.5", "", "", "").getBytes(LATIN1), LATIN1, 30_000);
        assertThat(Mllp.field(plain, "MSH", 18)).isNullOrEmpty();
        // so does a refusal before parsing (version 2.9), with MSA-2 as sent
        String unsupported = "V\\Q\\" + UUID.randomUUID().toString().substring(0, 6);
        String refusal = Mllp.exchange(HL7_PORT, adt(unsupported, "2.9", "", "", "8859/1").getBytes(LATIN1), LATIN1, 30_000);
        assertThat(Mllp.field(refusal, "MSA", 1)).isEqualTo("AR");
        assertThat(Mllp.field(refusal, "MSA", 2)).isEqualTo(unsupported);
        assertThat(Mllp.field(refusal, "MSH", 18)).isEqualTo("8859/1");
        assertThat(Mllp.field(refusal, "MSH", 10)).matches("[0-9A-Z]{20}");
    }

    @Test
    void oversizedMsh3AndTrigger_areNotEchoedAtFullLength() throws Exception {
        String longName = "A".repeat(5_000);
        String er7 = adt(id("L"), "2.5", "", "", "").replace("MSH|^~\\&|PFLEGE_SW|", "MSH|^~\\&|" + longName + "^" + longName + "^ISO|");

        String ack = Mllp.exchange(HL7_PORT, er7.getBytes(LATIN1), LATIN1, 30_000);

        assertThat(Mllp.field(ack, "MSA", 1)).as(ack.length() > 400 ? ack.substring(0, 400) : ack).isEqualTo("AA");
        assertThat(Mllp.field(ack, "MSH", 5).split("\\^")[0]).hasSizeLessThanOrEqualTo(20);
        assertThat(ack.length()).isLessThan(1_000);

        String longTrigger = "A01" + "X".repeat(3_000);
        String odd = adt(id("T"), "2.5", "", "", "").replace("ADT^A01^ADT_A01", "ADT^" + longTrigger);
        String refusal = Mllp.exchange(HL7_PORT, odd.getBytes(LATIN1), LATIN1, 30_000);
        assertThat(Mllp.field(refusal, "MSA", 1)).isEqualTo("AR");
        assertThat(Mllp.field(refusal, "MSH", 9)).doesNotContain("XXXX");
    }

    @Test
    void framesUnderFourBytes_getACloseOrAnAr_andNoInternalErrorInTheLog() throws Exception {
        ListAppender<ILoggingEvent> logged = new ListAppender<>();
        logged.setContext((LoggerContext) LoggerFactory.getILoggerFactory());
        logged.start();
        Logger root = (Logger) LoggerFactory.getLogger(org.slf4j.Logger.ROOT_LOGGER_NAME);
        root.addAppender(logged);
        try {
            for (String tiny : List.of("", "M", "MS", "MSH", "\r", "|^~")) {
                String answer;
                try {
                    answer = Mllp.exchange(HL7_PORT, tiny.getBytes(LATIN1), LATIN1, 10_000);
                } catch (java.net.SocketException e) {
                    answer = null; // reset: a close
                }
                if (answer != null) {
                    assertThat(Mllp.field(answer, "MSA", 1)).as("frame '" + tiny + "'").isEqualTo("AR");
                }
            }
            // the listener still answers
            String ack = Mllp.exchange(HL7_PORT, adt(id("OK"), "2.5", "", "", "").getBytes(LATIN1), LATIN1, 30_000);
            assertThat(Mllp.field(ack, "MSA", 1)).isEqualTo("AA");
        } finally {
            root.detachAppender(logged);
        }
        // camel-mllp's own WARN "... closing connection" is fine; an error or a stack trace is not
        List<ILoggingEvent> problems = List.copyOf(logged.list).stream()
                .filter(e -> !TestJvmLog.fromServersBeside(e)) // the partner systems and brokers of tests running beside
                .filter(e -> e.getLevel().isGreaterOrEqual(Level.ERROR) || e.getThrowableProxy() != null
                        || e.getFormattedMessage().toLowerCase(java.util.Locale.ROOT).contains("internal"))
                .toList();
        assertThat(problems).extracting(ILoggingEvent::getFormattedMessage).isEmpty();
    }
}
