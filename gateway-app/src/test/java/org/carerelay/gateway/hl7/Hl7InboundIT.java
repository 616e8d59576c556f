package org.carerelay.gateway.hl7;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;
import static org.awaitility.Awaitility.await;

import java.io.IOException;
import java.io.OutputStream;
import java.net.Socket;
import java.nio.charset.Charset;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.Base64;
import java.util.List;
import java.util.UUID;
import java.util.stream.Stream;
import org.carerelay.gateway.Conversations;
import org.carerelay.gateway.GatewayIntegrationTest;
import org.carerelay.gateway.Mllp;
import org.carerelay.gateway.Participants;
import org.hl7.fhir.r4.model.AuditEvent;
import org.hl7.fhir.r4.model.Binary;
import org.hl7.fhir.r4.model.Bundle;
import org.hl7.fhir.r4.model.Communication;
import org.hl7.fhir.r4.model.Observation;
import org.hl7.fhir.r4.model.Patient;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;

public class Hl7InboundIT extends GatewayIntegrationTest {

    public static final Charset LATIN1 = StandardCharsets.ISO_8859_1;
    static Participants.Registered careSoftware;
    static Participants.Registered clinic;
    static String senderAlias;
    static String recipientAlias;

    @BeforeEach
    void participants() {
        if (careSoftware == null) {
            careSoftware = Participants.registerNew(this, "Pflegedienst HL7");
            clinic = Participants.registerNew(this, "Klinik HL7");
            senderAlias = "PFL" + UUID.randomUUID().toString().substring(0, 6).toUpperCase();
            recipientAlias = "KLI" + UUID.randomUUID().toString().substring(0, 6).toUpperCase();
            Participants.addHl7Alias(admin(), careSoftware.organizationId(), senderAlias);
            Participants.addHl7Alias(admin(), clinic.organizationId(), recipientAlias);
        }
    }

    public static String msh(String sender, String recipient, String type, String controlId, String version, String charset) {
        return "MSH|^~\\&|PFLEGE_SW|" + sender + "|CARERELAY|" + recipient + "|20261128120000||" + type + "|" + controlId
                + "|P|" + version + "|||||DEU|" + charset + "\r";
    }

    public static String adt(String sender, String controlId, String kvnr) {
        return msh(sender, "CARERELAY", "ADT^A01^ADT_A01", controlId, "2.5", "8859/1")
                + "EVN|A01|20261128120000\r"
                + "PID|1||" + kvnr + "^^^KVNR^KVNR~4711^^^PFL^PI||Müßig^Jürgen||19380412|M|||Straße der Einheit 5^^Görlitz^^02826^DEU\r"
                + "PV1|1|O\r";
    }

    public static String mdm(String sender, String recipient, String controlId, String kvnr, byte[] pdf) {
        return msh(sender, recipient, "MDM^T02^MDM_T02", controlId, "2.5", "8859/1")
                + "EVN|T02|20261128120000\r"
                + "PID|1||" + kvnr + "^^^KVNR^KVNR||Müßig^Jürgen||19380412|M\r"
                + "PV1|1|O\r"
                + "TXA|1|CN|TX|20261128120000||||||||DOC-" + controlId + "||||||AU||AV\r"
                + "OBX|1|TX|^Nachricht||Wunde am Fuß heilt gut.||||||F\r"
                + "OBX|2|TX|^Nachricht||Verband täglich wechseln.||||||F\r"
                + (pdf == null ? "" : "OBX|3|ED|^Anhang||^AP^PDF^Base64^" + Base64.getEncoder().encodeToString(pdf) + "||||||F\r");
    }

    public static String send(String er7, Charset charset) throws IOException {
        return Mllp.exchange(HL7_PORT, er7.getBytes(charset), charset, 30_000);
    }

    private String patientIdByKvnr(String token, String kvnr) {
        return Conversations.patientIdByKvnr(client(token), kvnr);
    }

    @Test
    void unknownSender_getsARWithErr() throws Exception {
        String ack = send(adt("NIEMAND", "U1", Conversations.kvnr()), LATIN1);
        assertThat(Mllp.field(ack, "MSA", 1)).isEqualTo("AR");
        assertThat(Mllp.field(ack, "MSA", 2)).isEqualTo("U1");
        assertThat(ack).contains("ERR|");
    }

    @Test
    void germanAdtInLatin1_createsThePatientWithUmlauts_andARepeatGetsTheSameAck() throws Exception {
        String kvnr = Conversations.kvnr();
        String controlId = "A" + UUID.randomUUID().toString().substring(0, 8);
        String ack = send(adt(senderAlias, controlId, kvnr), LATIN1);
        assertThat(Mllp.field(ack, "MSA", 1)).isEqualTo("AA");
        assertThat(Mllp.field(ack, "MSA", 2)).isEqualTo(controlId);

        Patient patient = client(careSoftware.token()).read().resource(Patient.class)
                .withId(patientIdByKvnr(careSoftware.token(), kvnr)).execute();
        assertThat(patient.getNameFirstRep().getFamily()).isEqualTo("Müßig");
        assertThat(patient.getNameFirstRep().getGivenAsSingleString()).isEqualTo("Jürgen");
        assertThat(patient.getAddressFirstRep().getCity()).isEqualTo("Görlitz");

        String again = send(adt(senderAlias, controlId, kvnr), LATIN1);
        assertThat(again).isEqualTo(ack);
    }

    @Test
    void adtUpdateThatChangesNothing_keepsTheVersion_andAChangedOneMakesANewOne() throws Exception {
        String kvnr = Conversations.kvnr();
        assertThat(Mllp.field(send(adt(senderAlias, "V1" + UUID.randomUUID().toString().substring(0, 8), kvnr), LATIN1), "MSA", 1))
                .isEqualTo("AA");
        String id = patientIdByKvnr(careSoftware.token(), kvnr);
        String created = client(careSoftware.token()).read().resource(Patient.class).withId(id).execute().getMeta().getVersionId();

        // the same demographics again (another message, e.g. an A08 for the visit): acknowledged, no new version
        String same = adt(senderAlias, "V2" + UUID.randomUUID().toString().substring(0, 8), kvnr).replace("ADT^A01^", "ADT^A08^")
                .replace("EVN|A01|", "EVN|A08|");
        assertThat(Mllp.field(send(same, LATIN1), "MSA", 1)).isEqualTo("AA");
        assertThat(client(careSoftware.token()).read().resource(Patient.class).withId(id).execute().getMeta().getVersionId())
                .isEqualTo(created);

        // a new address: a new version, validated like any update
        String moved = same.replace("V2", "V3").replace("Straße der Einheit 5", "Straße der Einheit 7");
        assertThat(Mllp.field(send(moved, LATIN1), "MSA", 1)).isEqualTo("AA");
        Patient updated = client(careSoftware.token()).read().resource(Patient.class).withId(id).execute();
        assertThat(updated.getMeta().getVersionId()).isNotEqualTo(created);
        assertThat(updated.getAddressFirstRep().getLine().get(0).getValue()).isEqualTo("Straße der Einheit 7");
    }

    private List<String> patientsFound(String query) {
        return client(careSoftware.token()).search().byUrl("Patient?" + query).returnBundle(Bundle.class).execute()
                .getEntry().stream().map(e -> e.getResource().getIdElement().getIdPart()).toList();
    }

    @Test
    void adtUpdates_keepTheSearchIndexAndTheSendersIdentifiers_inStepWithTheStoredVersion() throws Exception {
        String kvnr = Conversations.kvnr();
        String family = "Quast" + UUID.randomUUID().toString().substring(0, 6).replaceAll("[0-9-]", "x");
        String married = "Rieck" + UUID.randomUUID().toString().substring(0, 6).replaceAll("[0-9-]", "x");
        String mrn = "M" + UUID.randomUUID().toString().substring(0, 8);
        String other = "N" + UUID.randomUUID().toString().substring(0, 8);
        String created = adt(senderAlias, "IX1" + UUID.randomUUID().toString().substring(0, 8), kvnr).replace("Müßig", family)
                .replace("4711^^^PFL^PI", mrn + "^^^PFL^PI");
        assertThat(Mllp.field(send(created, LATIN1), "MSA", 1)).isEqualTo("AA");
        String id = patientIdByKvnr(careSoftware.token(), kvnr);
        assertThat(patientsFound("family=" + family)).containsExactly(id);

        // another address only: a new version, the search rows stay those of the names, birth date and identifiers
        String moved = created.replace("IX1", "IX2").replace("Straße der Einheit 5", "Straße der Einheit 9")
                .replace("ADT^A01^", "ADT^A08^").replace("EVN|A01|", "EVN|A08|");
        assertThat(Mllp.field(send(moved, LATIN1), "MSA", 1)).isEqualTo("AA");
        assertThat(client(careSoftware.token()).read().resource(Patient.class).withId(id).execute()
                .getAddressFirstRep().getLine().get(0).getValue()).isEqualTo("Straße der Einheit 9");
        assertThat(patientsFound("family=" + family + "&birthdate=1938-04-12")).containsExactly(id);
        assertThat(patientsFound("identifier=" + mrn)).containsExactly(id);

        // a new name and another identifier of the sender's: the search rows follow the name ...
        String renamed = moved.replace("IX2", "IX3").replace(family, married)
                .replace(mrn + "^^^PFL^PI", mrn + "^^^PFL^PI~" + other + "^^^PFL^PI");
        assertThat(Mllp.field(send(renamed, LATIN1), "MSA", 1)).isEqualTo("AA");
        assertThat(patientsFound("family=" + married)).containsExactly(id);
        assertThat(patientsFound("family=" + family)).isEmpty();
        assertThat(patientsFound("identifier=" + other)).containsExactly(id);

        // ... and the new identifier is the sender's: a message naming the patient by it alone (no KVNR) finds it
        String byOther = msh(senderAlias, "CARERELAY", "ADT^A08^ADT_A01", "IX4" + UUID.randomUUID().toString().substring(0, 8), "2.5",
                "8859/1") + "EVN|A08|20261128120000\r"
                + "PID|1||" + other + "^^^PFL^PI||" + married + "^Jürgen||19380412|M|||Straße der Einheit 11^^Görlitz^^02826^DEU\r"
                + "PV1|1|O\r";
        assertThat(Mllp.field(send(byOther, LATIN1), "MSA", 1)).isEqualTo("AA");
        assertThat(patientsFound("family=" + married)).containsExactly(id);
        assertThat(client(careSoftware.token()).read().resource(Patient.class).withId(id).execute()
                .getAddressFirstRep().getLine().get(0).getValue()).isEqualTo("Straße der Einheit 11");
    }

    @Test
    void aMorePreciseBirthDate_isAChange_thoughItParsesToTheSameDay() throws Exception {
        String kvnr = Conversations.kvnr();
        String yearOnly = adt(senderAlias, "Y1" + UUID.randomUUID().toString().substring(0, 8), kvnr).replace("|19380412|", "|1938|");
        assertThat(Mllp.field(send(yearOnly, LATIN1), "MSA", 1)).isEqualTo("AA");
        String id = patientIdByKvnr(careSoftware.token(), kvnr);
        Patient stored = client(careSoftware.token()).read().resource(Patient.class).withId(id).execute();
        assertThat(stored.getBirthDateElement().getValueAsString()).isEqualTo("1938");

        String precise = yearOnly.replace("Y1", "Y2").replace("|1938|", "|19380101|");
        assertThat(Mllp.field(send(precise, LATIN1), "MSA", 1)).isEqualTo("AA");
        Patient updated = client(careSoftware.token()).read().resource(Patient.class).withId(id).execute();
        assertThat(updated.getBirthDateElement().getValueAsString()).isEqualTo("1938-01-01");
        assertThat(updated.getMeta().getVersionId()).isNotEqualTo(stored.getMeta().getVersionId());
    }

    @Test
    void senderWithoutMsh18_isReadInItsConfiguredCharacterSet() throws Exception {
        Participants.Registered latin9 = Participants.registerNew(this, "Pflegedienst Latin-9");
        Participants.addHl7Alias(admin(), latin9.organizationId(), "CS15SENDER");
        String kvnr = Conversations.kvnr();
        String adt = msh("CS15SENDER", "CARERELAY", "ADT^A01^ADT_A01", "L9" + UUID.randomUUID().toString().substring(0, 8), "2.5", "")
                + "EVN|A01|20261128120000\r"
                + "PID|1||" + kvnr + "^^^KVNR^KVNR||Weiß^Günther||19380412|M|||Am €-Platz 1^^Görlitz^^02826^DEU\r"
                + "PV1|1|O\r";
        Charset latin9Charset = Charset.forName("ISO-8859-15");
        String ack = send(adt, latin9Charset);
        assertThat(Mllp.field(ack, "MSA", 1)).isEqualTo("AA");
        Patient patient = client(latin9.token()).read().resource(Patient.class)
                .withId(patientIdByKvnr(latin9.token(), kvnr)).execute();
        assertThat(patient.getAddressFirstRep().getLine().get(0).getValue()).isEqualTo("Am €-Platz 1");
        assertThat(patient.getNameFirstRep().getFamily()).isEqualTo("Weiß");
    }

    @Test
    void mdmT02_withConsent_becomesACommunicationWithTextAndAttachment() throws Exception {
        String kvnr = Conversations.kvnr();
        assertThat(Mllp.field(send(adt(senderAlias, "P" + UUID.randomUUID().toString().substring(0, 8), kvnr), LATIN1), "MSA", 1))
                .isEqualTo("AA");
        String patientId = patientIdByKvnr(careSoftware.token(), kvnr);
        Conversations.uploadConsent(client(careSoftware.token()), patientId, careSoftware.organizationId(), clinic.organizationId());

        byte[] pdf = Conversations.signedScan();
        String controlId = "D" + UUID.randomUUID().toString().substring(0, 8);
        String ack = send(mdm(senderAlias, recipientAlias, controlId, kvnr, pdf), LATIN1);
        assertThat(Mllp.field(ack, "MSA", 1)).isEqualTo("AA");

        List<Communication> inbox = client(clinic.token()).search().byUrl("Communication?patient=Patient/" + patientId)
                .returnBundle(Bundle.class).execute().getEntry().stream().map(e -> (Communication) e.getResource()).toList();
        assertThat(inbox).hasSize(1);
        Communication document = inbox.get(0);
        assertThat(document.getSender().getReference()).isEqualTo("Organization/" + careSoftware.organizationId());
        assertThat(document.getPayloadFirstRep().getContentStringType().getValue())
                .contains("Wunde am Fuß heilt gut.").contains("Verband täglich wechseln.");
        String binaryUrl = document.getPayload().stream().filter(p -> p.hasContentAttachment()).findFirst().orElseThrow()
                .getContentAttachment().getUrl();
        Binary binary = client(clinic.token()).read().resource(Binary.class).withId(binaryUrl.replace("Binary/", "")).execute();
        assertThat(binary.getData()).isEqualTo(pdf);

        // the same control id again: the original ACK, no second message
        assertThat(send(mdm(senderAlias, recipientAlias, controlId, kvnr, pdf), LATIN1)).isEqualTo(ack);
        assertThat(client(clinic.token()).search().byUrl("Communication?patient=Patient/" + patientId)
                .returnBundle(Bundle.class).execute().getEntry()).hasSize(1);
    }

    @Test
    void mdmT02_withoutConsent_getsAEWithConsentMissing() throws Exception {
        String kvnr = Conversations.kvnr();
        send(adt(senderAlias, "Q" + UUID.randomUUID().toString().substring(0, 8), kvnr), LATIN1);
        String ack = send(mdm(senderAlias, recipientAlias, "E" + UUID.randomUUID().toString().substring(0, 8), kvnr, null), LATIN1);
        assertThat(Mllp.field(ack, "MSA", 1)).isEqualTo("AE");
        assertThat(ack).contains("consent-missing");
        // the gate's refusal stays in the audit trail, although the message's transaction rolled back
        String patientId = Conversations.patientIdByKvnr(client(careSoftware.token()), kvnr);
        assertThat(admin().search().forResource(AuditEvent.class).where(AuditEvent.ENTITY.hasId("Patient/" + patientId))
                .and(AuditEvent.SUBTYPE.exactly().code("consent-decision")).returnBundle(Bundle.class).execute().getEntry())
                .extracting(e -> ((AuditEvent) e.getResource()).getOutcome().toCode() + " " + ((AuditEvent) e.getResource()).getOutcomeDesc())
                .containsExactly("4 consent-missing");
    }

    @Test
    void oruR01_vitalSigns_becomeObservationsInACommunication() throws Exception {
        String kvnr = Conversations.kvnr();
        send(adt(senderAlias, "R" + UUID.randomUUID().toString().substring(0, 8), kvnr), LATIN1);
        String patientId = patientIdByKvnr(careSoftware.token(), kvnr);
        Conversations.uploadConsent(client(careSoftware.token()), patientId, careSoftware.organizationId(), clinic.organizationId());
        String oru = msh(senderAlias, recipientAlias, "ORU^R01^ORU_R01", "V" + UUID.randomUUID().toString().substring(0, 8), "2.5", "UNICODE UTF-8")
                + "PID|1||" + kvnr + "^^^KVNR^KVNR||Müßig^Jürgen||19380412|M\r"
                + "OBR|1|||VITAL^Vitalwerte|||20261128113000\r"
                + "OBX|1|NM|8867-4^Herzfrequenz^LN||72|/min|||||F\r"
                + "OBX|2|NM|8480-6^Blutdruck systolisch^LN||135|mm[Hg]|||||F\r"
                + "OBX|3|NM|8459-2^Blutdruck diastolisch^LN||85|mm[Hg]|||||F\r"
                + "OBX|4|NM|8310-5^Körpertemperatur^LN||37.2|Cel|||||F\r";
        String ack = send(oru, StandardCharsets.UTF_8);
        assertThat(Mllp.field(ack, "MSA", 1)).as(ack).isEqualTo("AA");
        Communication c = (Communication) client(clinic.token()).search().byUrl("Communication?patient=Patient/" + patientId)
                .returnBundle(Bundle.class).execute().getEntryFirstRep().getResource();
        List<Observation> observations = c.getContained().stream().filter(r -> r instanceof Observation).map(r -> (Observation) r).toList();
        assertThat(observations).extracting(o -> o.getCode().getCodingFirstRep().getCode()).contains("8867-4", "8310-5");
        assertThat(c.getPayloadFirstRep().getContentStringType().getValue()).contains("Körpertemperatur");
    }

    @Test
    void everyThirdPartySample_isAnsweredWithAnAckNamingItsControlId() throws Exception {
        Path dir = Path.of("src", "test", "resources", "hl7v2");
        try (Stream<Path> files = Files.list(dir)) {
            for (Path file : files.filter(f -> f.toString().endsWith(".hl7")).sorted().toList()) {
                Charset charset = file.getFileName().toString().contains("8859-1") ? LATIN1 : StandardCharsets.UTF_8;
                String original = new String(Files.readAllBytes(file), charset).replace("\r\n", "\r").replace("\n", "\r");
                String[] segments = original.split("\r");
                String[] msh = segments[0].split("\\|", -1);
                msh[3] = senderAlias;
                if (msh.length > 5) {
                    msh[5] = recipientAlias;
                }
                msh[9] = "S" + UUID.randomUUID().toString().substring(0, 12);
                segments[0] = String.join("|", msh);
                String frame = String.join("\r", segments) + "\r";
                boolean noAckWanted = msh.length > 14 && "NE".equals(msh[14]) && (msh.length < 16 || msh[15].isEmpty() || "NE".equals(msh[15]));
                if (noAckWanted && !msh[8].contains("A40")) {
                    // enhanced mode, MSH-15 and MSH-16 NE: no acknowledgement of an accepted message
                    // (a refused one, such as the merge, is answered all the same)
                    assertThatThrownBy(() -> Mllp.exchange(HL7_PORT, frame.getBytes(charset), charset, 5_000))
                            .as(file.getFileName().toString()).isInstanceOf(java.net.SocketTimeoutException.class);
                    continue;
                }
                String ack = send(frame, charset);
                assertThat(ack).as(file.getFileName().toString()).isNotNull();
                String code = Mllp.field(ack, "MSA", 1);
                assertThat(Mllp.field(ack, "MSA", 2)).as(file.getFileName().toString()).isEqualTo(msh[9]);
                String type = msh[8];
                if (type.startsWith("ADT") && !type.contains("A40")) {
                    assertThat(code).as(file.getFileName() + " " + ack).isIn("AA", "CA");
                } else if (type.contains("A40")) {
                    assertThat(code).as(file.getFileName().toString()).isIn("AR", "CR");
                    assertThat(ack).contains("ERR|");
                } else {
                    // documents and results about patients without an uploaded consent: AE consent-missing
                    // (CE in enhanced acknowledgement mode, when the sample sets MSH-15), for no other reason
                    assertThat(code).as(file.getFileName() + " " + ack).isIn("AA", "AE", "CA", "CE");
                    if (code.endsWith("E")) {
                        assertThat(ack).as(file.getFileName().toString()).contains("ERR|").contains("|consent-missing^");
                    }
                }
            }
        }
    }

    @Test
    void hugeRepetitionFields_andControlCharactersInMsh10_getAnAR_notAHang() throws Exception {
        String kvnr = Conversations.kvnr();
        String repetitions = "~".repeat(300_000);
        String flood = adt(senderAlias, "FLOOD1", kvnr).replace("^^^KVNR^KVNR~", "^^^KVNR^KVNR" + repetitions + "~");
        String ack = send(flood, LATIN1);
        assertThat(Mllp.field(ack, "MSA", 1)).isEqualTo("AR");

        String nul = adt(senderAlias, "A\u0000B", kvnr);
        String nulAck = send(nul, LATIN1);
        assertThat(Mllp.field(nulAck, "MSA", 1)).isEqualTo("AR");

        String noPid = msh(senderAlias, "CARERELAY", "ADT^A08^ADT_A01", "NOPID" + UUID.randomUUID().toString().substring(0, 6), "2.5", "")
                + "EVN|A08|20261128120000\rPV1|1|O\r";
        String noPidAck = send(noPid, LATIN1);
        assertThat(Mllp.field(noPidAck, "MSA", 1)).isIn("AR", "AE");
        assertThat(noPidAck).doesNotContain("internal-error");
    }

    @Test
    void garbageBytes_getARejectOrACleanClose() throws Exception {
        String ack = Mllp.exchange(HL7_PORT, "das ist kein HL7".getBytes(StandardCharsets.UTF_8), StandardCharsets.UTF_8, 30_000);
        if (ack != null) {
            assertThat(Mllp.field(ack, "MSA", 1)).isEqualTo("AR");
        }
    }

    @Test
    void frameThatNeverEnds_isClosedWithoutHangingTheListener() throws Exception {
        try (Socket socket = new Socket("127.0.0.1", HL7_PORT)) {
            socket.setSoTimeout(20_000);
            OutputStream out = socket.getOutputStream();
            out.write(Mllp.START);
            out.write(msh(senderAlias, recipientAlias, "ADT^A01", "X1", "2.5", "").getBytes(StandardCharsets.US_ASCII));
            out.flush();
            // no end of frame: the gateway gives up after its receive timeout and closes
            assertThat(Mllp.readFrame(socket.getInputStream(), StandardCharsets.UTF_8)).isNull();
        }
        // and the listener still answers
        String ack = send(adt(senderAlias, "N" + UUID.randomUUID().toString().substring(0, 8), Conversations.kvnr()), LATIN1);
        assertThat(Mllp.field(ack, "MSA", 1)).isEqualTo("AA");
    }

    @Test
    void oversizedFrame_isRefusedWithoutExhaustingTheHeap() throws Exception {
        byte[] big = new byte[24 * 1024 * 1024]; // beyond the 16 MiB frame limit
        java.util.Arrays.fill(big, (byte) 'A');
        byte[] header = adt(senderAlias, "BIG1", Conversations.kvnr()).getBytes(LATIN1);
        System.arraycopy(header, 0, big, 0, header.length);
        try (Socket socket = new Socket("127.0.0.1", HL7_PORT)) {
            socket.setSoTimeout(90_000);
            Thread writer = new Thread(() -> {
                try {
                    Mllp.writeFrame(socket.getOutputStream(), big);
                } catch (IOException e) {
                    // the gateway dropped the connection: refused
                }
            });
            writer.setDaemon(true);
            writer.start();
            String ack = null;
            boolean hung = false;
            try {
                ack = Mllp.readFrame(socket.getInputStream(), LATIN1);
            } catch (java.net.SocketTimeoutException e) {
                hung = true;
            } catch (IOException e) {
                // connection reset: refused with a clean close
            }
            assertThat(hung).as("the gateway answers or closes, it does not leave the connection hanging").isFalse();
            if (ack != null) {
                assertThat(Mllp.field(ack, "MSA", 1)).isEqualTo("AR");
                assertThat(ack).contains("payload-too-large");
            }
        }
        // the listener still answers
        await().atMost(Duration.ofSeconds(30)).ignoreExceptions().until(() -> "AA".equals(Mllp.field(
                send(adt(senderAlias, "B" + UUID.randomUUID().toString().substring(0, 8), Conversations.kvnr()), LATIN1), "MSA", 1)));
    }
}
