package org.carerelay.gateway.hl7;

import static org.assertj.core.api.Assertions.assertThat;

import java.io.IOException;
import java.net.SocketTimeoutException;
import java.nio.charset.Charset;
import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.util.UUID;
import javax.net.ssl.SSLContext;
import javax.net.ssl.SSLParameters;
import javax.net.ssl.SSLSocket;
import org.carerelay.fhir.Systems;
import org.carerelay.gateway.Conversations;
import org.carerelay.gateway.GatewayIntegrationTest;
import org.carerelay.gateway.Mllp;
import org.carerelay.gateway.Participants;
import org.carerelay.gateway.TestPki;
import org.hl7.fhir.r4.model.Bundle;
import org.hl7.fhir.r4.model.Patient;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;

/**
 * The MLLP listener with mutual TLS: the client certificate must be issued by the configured CA
 * and name the organisation that MSH-4 names. The gateway's server key and CA come from the
 * test base ({@link GatewayIntegrationTest#PKI}); client certificates are issued here.
 */
class Hl7TlsIT extends GatewayIntegrationTest {

    static final Charset LATIN1 = StandardCharsets.ISO_8859_1;
    static Participants.Registered careSoftware;
    static Participants.Registered otherCareSoftware;
    static String senderAlias;
    static String otherAlias;
    static Path senderCertificate;
    static Path otherCertificate;

    @BeforeEach
    void participants() {
        if (careSoftware == null) {
            careSoftware = Participants.registerNew(this, "Pflegedienst TLS");
            otherCareSoftware = Participants.registerNew(this, "Pflegedienst TLS andere");
            senderAlias = "TLS" + UUID.randomUUID().toString().substring(0, 6).toUpperCase();
            otherAlias = "TLO" + UUID.randomUUID().toString().substring(0, 6).toUpperCase();
            Participants.addHl7Alias(admin(), careSoftware.organizationId(), senderAlias);
            Participants.addHl7Alias(admin(), otherCareSoftware.organizationId(), otherAlias);
            senderCertificate = PKI.clientKeystore("CN=" + senderAlias + ", O=Pflegedienst TLS, C=DE");
            otherCertificate = PKI.clientKeystore("CN=" + otherAlias + ", O=Pflegedienst TLS andere, C=DE");
        }
    }

    /** One MLLP frame over TLS (server certificate checked against the test CA and 127.0.0.1); the ACK or null. */
    static String sendTls(SSLContext context, String er7) throws IOException {
        try (SSLSocket socket = (SSLSocket) context.getSocketFactory().createSocket("127.0.0.1", HL7_TLS_PORT)) {
            SSLParameters parameters = socket.getSSLParameters();
            parameters.setEndpointIdentificationAlgorithm("HTTPS");
            socket.setSSLParameters(parameters);
            socket.setSoTimeout(30_000);
            socket.startHandshake();
            Mllp.writeFrame(socket.getOutputStream(), er7.getBytes(LATIN1));
            return Mllp.readFrame(socket.getInputStream(), LATIN1);
        }
    }

    /** Sends expecting the gateway to refuse the connection: a failed handshake or a close, never an ACK, never a hang. */
    static void assertRefused(SSLContext context, String er7) {
        try {
            String ack = sendTls(context, er7);
            assertThat(ack).as("no ACK on a refused connection").isNull();
        } catch (SocketTimeoutException e) {
            throw new AssertionError("the gateway neither answered nor closed the connection", e);
        } catch (IOException e) {
            // the handshake failed or the connection was reset: refused
        }
    }

    static String controlId() {
        return "T" + UUID.randomUUID().toString().substring(0, 8);
    }

    private Bundle patientsByKvnr(String token, String kvnr) {
        return client(token).search().forResource(Patient.class)
                .where(Patient.IDENTIFIER.exactly().systemAndCode(Systems.KVNR, kvnr)).returnBundle(Bundle.class).execute();
    }

    @Test
    void certificateOfTheSendingOrganisation_getsAA() throws Exception {
        String kvnr = Conversations.kvnr();
        String controlId = controlId();
        String ack = sendTls(PKI.clientContext(senderCertificate), Hl7InboundIT.adt(senderAlias, controlId, kvnr));
        assertThat(Mllp.field(ack, "MSA", 1)).isEqualTo("AA");
        assertThat(Mllp.field(ack, "MSA", 2)).isEqualTo(controlId);
        assertThat(patientsByKvnr(careSoftware.token(), kvnr).getEntry()).hasSize(1);
    }

    @Test
    void certificateNamingTheSenderInAnotherSubjectValue_getsAA() throws Exception {
        Path certificate = PKI.clientKeystore("CN=Pflegedienst TLS Standort Nord, OU=" + senderAlias + ", O=Pflegedienst TLS, C=DE");
        String ack = sendTls(PKI.clientContext(certificate), Hl7InboundIT.adt(senderAlias, controlId(), Conversations.kvnr()));
        assertThat(Mllp.field(ack, "MSA", 1)).isEqualTo("AA");
    }

    @Test
    void certificateOfAnotherOrganisation_getsARUnknownSender_andNothingIsStored() throws Exception {
        String kvnr = Conversations.kvnr();
        String controlId = controlId();
        String ack = sendTls(PKI.clientContext(otherCertificate), Hl7InboundIT.adt(senderAlias, controlId, kvnr));
        assertThat(Mllp.field(ack, "MSA", 1)).isEqualTo("AR");
        assertThat(Mllp.field(ack, "MSA", 2)).isEqualTo(controlId);
        assertThat(Mllp.field(ack, "ERR", 3)).startsWith("204^");
        assertThat(Mllp.field(ack, "ERR", 5)).startsWith("unknown-sender^");
        assertThat(Mllp.field(ack, "ERR", 8)).contains("client certificate does not belong to the sending organisation");
        assertThat(patientsByKvnr(careSoftware.token(), kvnr).getEntry()).isEmpty();

        // the same message with the right certificate afterwards is processed: the reject was not remembered
        String again = sendTls(PKI.clientContext(senderCertificate), Hl7InboundIT.adt(senderAlias, controlId, kvnr));
        assertThat(Mllp.field(again, "MSA", 1)).isEqualTo("AA");
    }

    @Test
    void certificateNamingNoDirectoryOrganisation_getsARUnknownSender() throws Exception {
        Path certificate = PKI.clientKeystore("CN=Niemand " + UUID.randomUUID().toString().substring(0, 6) + ", O=Unbekannt, C=DE");
        String ack = sendTls(PKI.clientContext(certificate), Hl7InboundIT.adt(senderAlias, controlId(), Conversations.kvnr()));
        assertThat(Mllp.field(ack, "MSA", 1)).isEqualTo("AR");
        assertThat(Mllp.field(ack, "ERR", 5)).startsWith("unknown-sender^");
    }

    @Test
    void unknownSenderOverTls_getsARUnknownSender() throws Exception {
        String ack = sendTls(PKI.clientContext(senderCertificate), Hl7InboundIT.adt("NIEMAND", controlId(), Conversations.kvnr()));
        assertThat(Mllp.field(ack, "MSA", 1)).isEqualTo("AR");
        assertThat(Mllp.field(ack, "ERR", 5)).startsWith("unknown-sender^");
    }

    @Test
    void noClientCertificate_theHandshakeIsRefused() {
        assertRefused(PKI.clientContext(null), Hl7InboundIT.adt(senderAlias, controlId(), Conversations.kvnr()));
    }

    @Test
    void certificateOfAnotherCa_theHandshakeIsRefused() {
        TestPki foreign = TestPki.create(Path.of("target", "it-pki", "foreign-" + UUID.randomUUID()), "Fremde CA");
        // the client trusts the gateway's CA but presents a certificate the gateway does not trust
        Path certificate = foreign.clientKeystore("CN=" + senderAlias + ", O=Pflegedienst TLS, C=DE");
        SSLContext context = PKI.clientContext(certificate);
        assertRefused(context, Hl7InboundIT.adt(senderAlias, controlId(), Conversations.kvnr()));
    }

    @Test
    void plainMllpToTheTlsPort_getsNoAck() throws Exception {
        String ack;
        try {
            ack = Mllp.exchange(HL7_TLS_PORT, Hl7InboundIT.adt(senderAlias, controlId(), Conversations.kvnr()).getBytes(LATIN1),
                    LATIN1, 30_000);
        } catch (SocketTimeoutException e) {
            throw new AssertionError("the gateway neither answered nor closed the connection", e);
        } catch (IOException e) {
            ack = null;
        }
        assertThat(ack).isNull();
    }

    @Test
    void thePlainListenerStillWorks() throws Exception {
        String controlId = controlId();
        String ack = Mllp.exchange(HL7_PORT, Hl7InboundIT.adt(senderAlias, controlId, Conversations.kvnr()).getBytes(LATIN1),
                LATIN1, 30_000);
        assertThat(Mllp.field(ack, "MSA", 1)).isEqualTo("AA");
        assertThat(Mllp.field(ack, "MSA", 2)).isEqualTo(controlId);
    }
}
