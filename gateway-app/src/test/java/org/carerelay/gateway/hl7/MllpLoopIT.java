package org.carerelay.gateway.hl7;

import static org.assertj.core.api.Assertions.assertThat;
import static org.awaitility.Awaitility.await;

import java.nio.charset.StandardCharsets;
import java.time.Duration;
import java.util.List;
import java.util.UUID;
import java.util.concurrent.CopyOnWriteArrayList;
import org.carerelay.gateway.Conversations;
import org.carerelay.gateway.FakeMllpRecipient;
import org.carerelay.gateway.GatewayIntegrationTest;
import org.carerelay.gateway.Mllp;
import org.carerelay.gateway.Participants;
import org.carerelay.gateway.PortForwarder;
import org.hl7.fhir.r4.model.Bundle;
import org.hl7.fhir.r4.model.Communication;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;

/**
 * A delivery must not come back in as a new message: frames the gateway sent are recognised on
 * its own MLLP listener and refused with {@code AR looped-message}. Sender and recipient both have
 * HL7 aliases and allow-list 127.0.0.1, so without that recognition the frame would be accepted
 * as a new message from the sender.
 */
class MllpLoopIT extends GatewayIntegrationTest {

    static Participants.Registered clinic;
    static String clinicAlias;

    @BeforeEach
    void participants() {
        if (clinic == null) {
            clinic = Participants.registerNew(this, "Klinik Schleife");
            clinicAlias = "KSL" + UUID.randomUUID().toString().substring(0, 6).toUpperCase();
            Participants.addHl7Alias(admin(), clinic.organizationId(), clinicAlias);
        }
    }

    private Participants.Registered mllpRecipient(String name, String address) {
        Participants.Registered care = Participants.registerNew(this, name);
        Participants.addHl7Alias(admin(), care.organizationId(), "PSL" + UUID.randomUUID().toString().substring(0, 6).toUpperCase());
        Participants.addEndpoint(admin(), care.organizationId(), "hl7v2-mllp", address, null);
        return care;
    }

    private String patientBoundMessage(String text, String recipient) {
        String patientId = Conversations.createPatient(client(clinic.token()),
                Conversations.patient("Schleife", "Sabine", Conversations.kvnr()));
        Conversations.uploadConsent(client(clinic.token()), patientId, clinic.organizationId(), recipient);
        return Conversations.send(client(clinic.token()), Conversations.message(patientId, text, recipient));
    }

    private int messagesVisibleTo(String token) {
        Bundle bundle = client(token).search().forResource(Communication.class).count(500).returnBundle(Bundle.class).execute();
        return bundle.getEntry().size();
    }

    /**
     * The egress policy refuses the gateway's own ports when it can see them (a local address); a
     * forwarded port (NAT, a load balancer) hides them, and then the loop must be caught inbound.
     */
    @Test
    void endpointPointingAtTheGatewaysOwnMllpPortThroughAForwarder_oneMessage_isOneFailedDelivery_notALoop() throws Exception {
        try (PortForwarder forwarder = new PortForwarder(HL7_PORT)) {
            oneMessageThroughALoop("mllp://127.0.0.1:" + forwarder.port());
        }
    }

    private void oneMessageThroughALoop(String address) throws Exception {
        Participants.Registered care = mllpRecipient("Pflegedienst Schleife", address);
        String careMailbox = "kontakt@" + care.organizationId() + ".example.org";
        String clinicMailbox = "kontakt@" + clinic.organizationId() + ".example.org";
        int careMailsBefore = mailsTo(careMailbox).size();
        int clinicMailsBefore = mailsTo(clinicMailbox).size();
        int clinicMessagesBefore = messagesVisibleTo(clinic.token());

        String id = patientBoundMessage("Bitte Rückruf.", care.organizationId());

        await().atMost(Duration.ofSeconds(30)).until(() ->
                "failed".equals(Conversations.deliveryStates(client(clinic.token()), id).get(care.organizationId())));
        Thread.sleep(3000); // a loop would have produced further messages and mails by now
        assertThat(Conversations.deliveryPart(client(clinic.token()), id, "attempts")).isEqualTo("1");
        assertThat(messagesVisibleTo(care.token())).as("messages the recipient has").isEqualTo(1);
        assertThat(messagesVisibleTo(clinic.token())).as("messages of the sender").isEqualTo(clinicMessagesBefore + 1);
        assertThat(mailsTo(careMailbox).size() - careMailsBefore).as("mails to the recipient").isLessThanOrEqualTo(1);
        assertThat(mailsTo(clinicMailbox).size() - clinicMailsBefore).as("mails to the sender").isLessThanOrEqualTo(1);
    }

    @Test
    void frameTheGatewaySent_replayedToItsListener_getsARLoopedMessage() throws Exception {
        List<String> frames = new CopyOnWriteArrayList<>();
        try (FakeMllpRecipient partner = new FakeMllpRecipient(message -> {
            frames.add(message.encode());
            return message.generateACK();
        })) {
            Participants.Registered care = mllpRecipient("Pflegedienst Echo", partner.address());
            String id = patientBoundMessage("Verbandwechsel morgen.", care.organizationId());
            await().atMost(Duration.ofSeconds(30)).until(() ->
                    "delivered".equals(Conversations.deliveryStates(client(clinic.token()), id).get(care.organizationId())));
            assertThat(frames).hasSize(1);
            String frame = frames.get(0);
            int before = messagesVisibleTo(care.token());

            String ack = Mllp.exchange(HL7_PORT, frame.getBytes(StandardCharsets.UTF_8), StandardCharsets.UTF_8, 30_000);

            assertThat(Mllp.field(ack, "MSA", 1)).as(ack).isEqualTo("AR");
            assertThat(Mllp.field(ack, "MSA", 2)).isEqualTo(Mllp.field(frame, "MSH", 10));
            assertThat(Mllp.field(ack, "ERR", 5)).startsWith("looped-message^");
            assertThat(messagesVisibleTo(care.token())).isEqualTo(before);

            // a frame with a control id the gateway never sent, otherwise the same, is an ordinary message
            String fresh = frame.replace("|" + Mllp.field(frame, "MSH", 10) + "|", "|EXT" + UUID.randomUUID().toString().substring(0, 8) + "|");
            String accepted = Mllp.exchange(HL7_PORT, fresh.getBytes(StandardCharsets.UTF_8), StandardCharsets.UTF_8, 30_000);
            assertThat(Mllp.field(accepted, "MSA", 1)).as(accepted).isEqualTo("AA");
        }
    }
}
