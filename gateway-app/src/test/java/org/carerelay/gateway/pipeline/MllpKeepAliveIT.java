package org.carerelay.gateway.pipeline;

import static org.assertj.core.api.Assertions.assertThat;
import static org.awaitility.Awaitility.await;

import ca.uhn.hl7v2.util.Terser;
import java.time.Duration;
import java.util.List;
import java.util.concurrent.CopyOnWriteArrayList;
import org.carerelay.gateway.Conversations;
import org.carerelay.gateway.FakeMllpRecipient;
import org.carerelay.gateway.GatewayIntegrationTest;
import org.carerelay.gateway.Participants;
import org.junit.jupiter.api.Test;

/**
 * Deliveries to a care system over MLLP share one kept-alive connection, and a connection the care
 * system dropped (closed, or lost with a restart) is replaced before anything is written to it: the
 * next message arrives once, in its first attempt.
 */
class MllpKeepAliveIT extends GatewayIntegrationTest {

    private String deliverOne(Participants.Registered sender, Participants.Registered care, String patientId, String text) {
        String id = Conversations.send(client(sender.token()), Conversations.message(patientId, text, care.organizationId()));
        await().atMost(Duration.ofSeconds(30))
                .until(() -> "delivered".equals(Conversations.deliveryStates(client(sender.token()), id).get(care.organizationId())));
        return id;
    }

    private String attempts(Participants.Registered sender, String messageId) {
        return Conversations.deliveryPart(client(sender.token()), messageId, "attempts");
    }

    @Test
    void tenMessagesToOneCareSystem_travelOverOneConnection() throws Exception {
        List<String> received = new CopyOnWriteArrayList<>();
        try (FakeMllpRecipient careSystem = new FakeMllpRecipient(message -> {
            received.add(new Terser(message).get("/TXA-12-1"));
            return message.generateACK();
        })) {
            Participants.Registered clinic = Participants.registerNew(this, "Klinik Keep-Alive");
            Participants.Registered care = Participants.registerNew(this, "Pflegedienst Keep-Alive");
            Participants.addEndpoint(admin(), care.organizationId(), "hl7v2-mllp", careSystem.address(), null);
            String patientId = Conversations.createPatient(client(clinic.token()),
                    Conversations.patient("Keepalive", "Berta", Conversations.kvnr()));
            Conversations.uploadConsent(client(clinic.token()), patientId, clinic.organizationId(), care.organizationId());

            for (int i = 0; i < 10; i++) {
                String id = deliverOne(clinic, care, patientId, "Nachricht " + i);
                assertThat(received).last().isEqualTo(id);
            }

            assertThat(received).hasSize(10).doesNotHaveDuplicates();
            assertThat(careSystem.connections()).as("connections the care system accepted").isEqualTo(1);
        }
    }

    @Test
    void careSystemDroppingTheConnectionBetweenMessages_nextMessageArrivesOnceInItsFirstAttempt() throws Exception {
        List<String> received = new CopyOnWriteArrayList<>();
        try (FakeMllpRecipient careSystem = new FakeMllpRecipient(message -> {
            received.add(new Terser(message).get("/TXA-12-1"));
            return message.generateACK();
        })) {
            Participants.Registered clinic = Participants.registerNew(this, "Klinik Drop");
            Participants.Registered care = Participants.registerNew(this, "Pflegedienst Drop");
            Participants.addEndpoint(admin(), care.organizationId(), "hl7v2-mllp", careSystem.address(), null);
            String patientId = Conversations.createPatient(client(clinic.token()),
                    Conversations.patient("Dropper", "Clara", Conversations.kvnr()));
            Conversations.uploadConsent(client(clinic.token()), patientId, clinic.organizationId(), care.organizationId());

            deliverOne(clinic, care, patientId, "vor dem Abbruch");
            careSystem.closeConnections();
            Thread.sleep(300); // the care system's FIN reaches the gateway

            String next = deliverOne(clinic, care, patientId, "nach dem Abbruch");

            assertThat(received).filteredOn(next::equals).hasSize(1);
            assertThat(attempts(clinic, next)).isEqualTo("1");
            assertThat(careSystem.connections()).isEqualTo(2);
        }
    }

    @Test
    void careSystemRestartedBetweenMessages_nextMessageArrivesOnceInItsFirstAttempt() throws Exception {
        List<String> received = new CopyOnWriteArrayList<>();
        FakeMllpRecipient.Handler handler = message -> {
            received.add(new Terser(message).get("/TXA-12-1"));
            return message.generateACK();
        };
        Participants.Registered clinic = Participants.registerNew(this, "Klinik Neustart");
        Participants.Registered care = Participants.registerNew(this, "Pflegedienst Neustart");
        String patientId = Conversations.createPatient(client(clinic.token()),
                Conversations.patient("Restart", "Dora", Conversations.kvnr()));
        Conversations.uploadConsent(client(clinic.token()), patientId, clinic.organizationId(), care.organizationId());
        int port;
        try (FakeMllpRecipient careSystem = new FakeMllpRecipient(handler)) {
            port = careSystem.port;
            Participants.addEndpoint(admin(), care.organizationId(), "hl7v2-mllp", careSystem.address(), null);
            deliverOne(clinic, care, patientId, "vor dem Neustart");
        }
        try (FakeMllpRecipient restarted = new FakeMllpRecipient(port, handler)) {
            Thread.sleep(300);

            String next = deliverOne(clinic, care, patientId, "nach dem Neustart");

            assertThat(received).filteredOn(next::equals).hasSize(1);
            assertThat(attempts(clinic, next)).isEqualTo("1");
            assertThat(restarted.connections()).isEqualTo(1);
        }
    }
}
