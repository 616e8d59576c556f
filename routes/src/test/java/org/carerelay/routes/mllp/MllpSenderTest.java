package org.carerelay.routes.mllp;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;
import static org.junit.jupiter.api.Assumptions.assumeTrue;

import ca.uhn.hl7v2.AcknowledgmentCode;
import ca.uhn.hl7v2.DefaultHapiContext;
import ca.uhn.hl7v2.ErrorCode;
import ca.uhn.hl7v2.HL7Exception;
import ca.uhn.hl7v2.HapiContext;
import ca.uhn.hl7v2.app.HL7Service;
import ca.uhn.hl7v2.llp.MinLowerLayerProtocol;
import ca.uhn.hl7v2.model.Message;
import ca.uhn.hl7v2.parser.CanonicalModelClassFactory;
import ca.uhn.hl7v2.protocol.ReceivingApplication;
import ca.uhn.hl7v2.util.idgenerator.InMemoryIDGenerator;
import ca.uhn.hl7v2.validation.impl.ValidationContextFactory;
import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.io.InputStream;
import java.io.OutputStream;
import java.net.InetAddress;
import java.net.InetSocketAddress;
import java.net.ServerSocket;
import java.net.Socket;
import java.net.SocketTimeoutException;
import java.nio.charset.StandardCharsets;
import java.time.Duration;
import java.time.Instant;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.TimeUnit;
import org.carerelay.fhir.Systems;
import org.carerelay.fhir.hl7.CommunicationToMdm;
import org.carerelay.routes.mllp.MllpSender.Outcome;
import org.carerelay.routes.mllp.MllpSender.Result;
import org.hl7.fhir.r4.model.Communication;
import org.hl7.fhir.r4.model.Patient;
import org.hl7.fhir.r4.model.Reference;
import org.hl7.fhir.r4.model.StringType;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;

class MllpSenderTest {

    private static final Duration CONNECT_TIMEOUT = Duration.ofMillis(500);
    private static final Duration ACK_TIMEOUT = Duration.ofMillis(600);
    private static final String LOCALHOST = "127.0.0.1";

    private enum Mode { ACCEPT, ERROR, REJECT, HANG }

    private static HapiContext serverContext;
    private static HL7Service server;
    private static int serverPort;
    private static volatile Mode mode = Mode.ACCEPT;
    private static volatile CountDownLatch release = new CountDownLatch(0);
    private static final List<String> received = new ArrayList<>();

    private MllpSender sender;

    @BeforeAll
    static void startServer() throws Exception {
        serverContext = new DefaultHapiContext();
        serverContext.setModelClassFactory(new CanonicalModelClassFactory("2.5.1"));
        serverContext.setValidationContext(ValidationContextFactory.noValidation());
        serverContext.getParserConfiguration().setIdGenerator(new InMemoryIDGenerator());
        MinLowerLayerProtocol llp = new MinLowerLayerProtocol(true);
        llp.setCharset(StandardCharsets.UTF_8);
        serverContext.setLowerLayerProtocol(llp);
        serverPort = freePort();
        server = serverContext.newServer(serverPort, false);
        server.registerApplication(new ReceivingApplication<Message>() {
            @Override
            public Message processMessage(Message message, Map<String, Object> metadata) throws HL7Exception {
                synchronized (received) {
                    received.add(message.encode());
                }
                try {
                    switch (mode) {
                        case ERROR:
                            return message.generateACK(AcknowledgmentCode.AE,
                                    new HL7Exception("Patient unbekannt", ErrorCode.UNKNOWN_KEY_IDENTIFIER));
                        case REJECT:
                            return message.generateACK(AcknowledgmentCode.AR,
                                    new HL7Exception("Nachrichtentyp nicht unterstützt",
                                            ErrorCode.UNSUPPORTED_MESSAGE_TYPE));
                        case HANG:
                            release.await(10, TimeUnit.SECONDS);
                            return message.generateACK();
                        default:
                            return message.generateACK();
                    }
                } catch (IOException | InterruptedException e) {
                    throw new HL7Exception(e);
                }
            }

            @Override
            public boolean canProcess(Message message) {
                return true;
            }
        });
        server.startAndWait();
    }

    @AfterAll
    static void stopServer() throws Exception {
        release.countDown();
        server.stopAndWait();
        serverContext.close();
    }

    @BeforeEach
    void newSender() {
        mode = Mode.ACCEPT;
        release = new CountDownLatch(1);
        synchronized (received) {
            received.clear();
        }
        sender = new MllpSender(CONNECT_TIMEOUT, ACK_TIMEOUT);
    }

    @AfterEach
    void closeSender() {
        release.countDown();
        sender.close();
    }

    @Test
    void aa_isAccepted_andUmlautsArriveIntact() {
        String er7 = mdm("msg-aa");

        Result result = sender.send(LOCALHOST, serverPort, er7);

        assertThat(result.outcome()).as(String.valueOf(result.detail())).isEqualTo(Outcome.ACCEPTED);
        assertThat(result.ackCode()).isEqualTo("AA");
        assertThat(received()).singleElement().asString()
                .contains("|msg-aa|")
                .contains("Müller")
                .contains("Grüße aus Köln, Größe ß");
    }

    @Test
    void destinationRefusedByTheEgressPolicy_isNeverConnected_andFailsForGood() throws Exception {
        try (ServerSocket listener = new ServerSocket(0, 1, InetAddress.getByName(LOCALHOST));
                MllpSender guarded = new MllpSender(CONNECT_TIMEOUT, ACK_TIMEOUT,
                        new org.carerelay.routes.egress.EgressPolicy(List.of(), java.util.Set::of))) {
            listener.setSoTimeout(300);
            Result result = guarded.send(LOCALHOST, listener.getLocalPort(), mdm("msg-refused"));

            assertThat(result.outcome()).isEqualTo(Outcome.REFUSED);
            assertThat(result.detail()).contains("loopback");
            assertThatThrownBy(listener::accept).as("nothing connected").isInstanceOf(SocketTimeoutException.class);
            // allowed by the operator: delivered as before
            try (MllpSender allowed = new MllpSender(CONNECT_TIMEOUT, ACK_TIMEOUT,
                    new org.carerelay.routes.egress.EgressPolicy(List.of("127.0.0.0/8"), java.util.Set::of))) {
                assertThat(allowed.send(LOCALHOST, serverPort, mdm("msg-allowed")).outcome()).isEqualTo(Outcome.ACCEPTED);
            }
        }
    }

    @Test
    void realThirdPartyMessageWithNewlineSeparators_isAccepted() throws Exception {
        String er7;
        try (InputStream in = getClass().getResourceAsStream("/hl7v2/msft_MDM-T02-03.hl7")) {
            er7 = new String(in.readAllBytes(), StandardCharsets.US_ASCII);
        }
        assertThat(er7).contains("\n").doesNotContain("\r");

        Result result = sender.send(LOCALHOST, serverPort, er7);

        assertThat(result.outcome()).as(String.valueOf(result.detail())).isEqualTo(Outcome.ACCEPTED);
        assertThat(received()).singleElement().asString()
                .startsWith("MSH|^~\\&|SIMHOSP|SFAC|RAPP|RFAC|")
                .contains("\rOBX|29|TX|");
    }

    @Test
    void ae_isRejected_withAckTextButNoMessageContent() {
        mode = Mode.ERROR;

        Result result = sender.send(LOCALHOST, serverPort, mdm("msg-ae"));

        assertThat(result.outcome()).as(String.valueOf(result.detail())).isEqualTo(Outcome.REJECTED);
        assertThat(result.ackCode()).isEqualTo("AE");
        assertThat(result.detail()).contains("Patient unbekannt").contains("204")
                .doesNotContain("Müller").doesNotContain("Grüße");
    }

    @Test
    void ar_isRejected() {
        mode = Mode.REJECT;

        Result result = sender.send(LOCALHOST, serverPort, mdm("msg-ar"));

        assertThat(result.outcome()).as(String.valueOf(result.detail())).isEqualTo(Outcome.REJECTED);
        assertThat(result.ackCode()).isEqualTo("AR");
        assertThat(result.detail()).contains("Nachrichtentyp nicht unterstützt");
    }

    @Test
    void noAnswer_isRetry_afterAboutTheAckTimeout() {
        mode = Mode.HANG;

        long start = System.nanoTime();
        Result result = sender.send(LOCALHOST, serverPort, mdm("msg-hang"));
        long millis = TimeUnit.NANOSECONDS.toMillis(System.nanoTime() - start);

        assertThat(result.outcome()).isEqualTo(Outcome.RETRY);
        assertThat(result.ackCode()).isNull();
        assertThat(result.detail()).contains("no ACK within 600 ms");
        assertThat(millis).isBetween(ACK_TIMEOUT.toMillis() - 50, ACK_TIMEOUT.toMillis() + 1_500);
    }

    @Test
    void nothingListening_isRetry_quickly() throws Exception {
        int port = freePort();

        long start = System.nanoTime();
        Result result = sender.send(LOCALHOST, port, mdm("msg-refused"));
        long millis = TimeUnit.NANOSECONDS.toMillis(System.nanoTime() - start);

        assertThat(result.outcome()).isEqualTo(Outcome.RETRY);
        assertThat(result.detail()).contains("connection refused");
        assertThat(millis).isLessThan(CONNECT_TIMEOUT.toMillis());
    }

    /**
     * A listener that never accepts and whose backlog is full drops further SYNs (Linux), so a
     * connect hangs like one to an unreachable host; skipped where the OS refuses instead.
     */
    @Test
    void connectHanging_isRetry_afterTheConnectTimeout() throws Exception {
        List<Socket> filling = new ArrayList<>();
        try (ServerSocket full = new ServerSocket(0, 1, InetAddress.getByName(LOCALHOST))) {
            boolean hangs = false;
            for (int i = 0; i < 10 && !hangs; i++) {
                Socket socket = new Socket();
                try {
                    socket.connect(new InetSocketAddress(LOCALHOST, full.getLocalPort()), 200);
                    filling.add(socket);
                } catch (SocketTimeoutException e) {
                    hangs = true;
                    socket.close();
                } catch (IOException e) {
                    socket.close();
                    break;
                }
            }
            assumeTrue(hangs, "OS does not let connects to a full backlog hang");

            long start = System.nanoTime();
            Result result = sender.send(LOCALHOST, full.getLocalPort(), mdm("msg-connect"));
            long millis = TimeUnit.NANOSECONDS.toMillis(System.nanoTime() - start);

            assertThat(result.outcome()).isEqualTo(Outcome.RETRY);
            assertThat(result.detail()).contains("connect timeout after 500 ms");
            assertThat(millis).isBetween(CONNECT_TIMEOUT.toMillis() - 50, CONNECT_TIMEOUT.toMillis() + 1_000);
        } finally {
            for (Socket socket : filling) {
                socket.close();
            }
        }
    }

    @Test
    void peerClosingWithoutAck_isRetry() throws Exception {
        try (ServerSocket raw = new ServerSocket(0, 1, InetAddress.getByName(LOCALHOST))) {
            Thread peer = new Thread(() -> {
                try (Socket socket = raw.accept()) {
                    readFrame(socket.getInputStream());
                } catch (IOException e) {
                    // test ends
                }
            });
            peer.start();

            Result result = sender.send(LOCALHOST, raw.getLocalPort(), mdm("msg-close"));

            assertThat(result.outcome()).isEqualTo(Outcome.RETRY);
            assertThat(result.detail()).contains("closed by peer");
            peer.join(2_000);
        }
    }

    @Test
    void ackWithUnknownCode_isRetry() throws Exception {
        try (ServerSocket raw = new ServerSocket(0, 1, InetAddress.getByName(LOCALHOST))) {
            Thread peer = new Thread(() -> {
                try (Socket socket = raw.accept()) {
                    readFrame(socket.getInputStream());
                    String ack = "MSH|^~\\&|KIS|KH|CareRelay|CR|20240502102000||ACK^T02^ACK|a1|P|2.5.1\r"
                            + "MSA|XY|msg-odd\r";
                    OutputStream out = socket.getOutputStream();
                    out.write(0x0b);
                    out.write(ack.getBytes(StandardCharsets.US_ASCII));
                    out.write(new byte[] {0x1c, 0x0d});
                    out.flush();
                    socket.getInputStream().read(); // wait until the sender closes
                } catch (IOException e) {
                    // test ends
                }
            });
            peer.start();

            Result result = sender.send(LOCALHOST, raw.getLocalPort(), mdm("msg-odd"));

            assertThat(result.outcome()).isEqualTo(Outcome.RETRY);
            assertThat(result.ackCode()).isNull();
            assertThat(result.detail()).contains("unknown MSA-1 'XY'");
            peer.join(2_000);
        }
    }

    @Test
    void unparsableMessage_isIllegalArgument_withoutContent() {
        assertThatThrownBy(() -> sender.send(LOCALHOST, serverPort, "Hallo Frau Müller"))
                .isInstanceOf(IllegalArgumentException.class)
                .hasMessageNotContaining("Müller");
    }

    @Test
    void manyMessagesToOneRecipient_travelOverOneKeptConnection() throws Exception {
        try (CountingRecipient recipient = new CountingRecipient(freePort())) {
            for (int i = 0; i < 20; i++) {
                assertThat(sender.send(LOCALHOST, recipient.port, mdm("msg-keep-" + i)).outcome()).isEqualTo(Outcome.ACCEPTED);
            }

            assertThat(recipient.received()).hasSize(20);
            assertThat(recipient.connections()).as("connections the recipient accepted").isEqualTo(1);
            assertThat(sender.connectionsOpened()).isEqualTo(1);
        }
    }

    @Test
    void recipientClosingTheConnectionBetweenMessages_nextMessageGoesOverAFreshOne_once() throws Exception {
        try (CountingRecipient recipient = new CountingRecipient(freePort())) {
            assertThat(sender.send(LOCALHOST, recipient.port, mdm("msg-before-close")).outcome()).isEqualTo(Outcome.ACCEPTED);
            recipient.closeConnections();
            Thread.sleep(200); // the FIN reaches the sender's side

            Result result = sender.send(LOCALHOST, recipient.port, mdm("msg-after-close"));

            assertThat(result.outcome()).isEqualTo(Outcome.ACCEPTED);
            assertThat(recipient.received()).as("each message arrived once")
                    .filteredOn(m -> m.contains("|msg-after-close|")).hasSize(1);
            assertThat(recipient.received()).hasSize(2);
            assertThat(recipient.connections()).isEqualTo(2);
        }
    }

    @Test
    void recipientRestartedBetweenMessages_nextMessageIsDeliveredOverANewConnection() throws Exception {
        int port = freePort();
        try (CountingRecipient first = new CountingRecipient(port)) {
            assertThat(sender.send(LOCALHOST, port, mdm("msg-before-restart")).outcome()).isEqualTo(Outcome.ACCEPTED);
        }
        try (CountingRecipient restarted = new CountingRecipient(port)) {
            Thread.sleep(200);

            Result result = sender.send(LOCALHOST, port, mdm("msg-after-restart"));

            assertThat(result.outcome()).isEqualTo(Outcome.ACCEPTED);
            assertThat(restarted.received()).singleElement().asString().contains("|msg-after-restart|");
            assertThat(sender.connectionsOpened()).isEqualTo(2);
        }
    }

    @Test
    void idleConnection_isClosedAfterTheIdleTimeout() throws Exception {
        try (CountingRecipient recipient = new CountingRecipient(freePort());
                MllpSender shortIdle = new MllpSender(CONNECT_TIMEOUT, ACK_TIMEOUT, null,
                        new MllpSender.Pool(2, Duration.ofMillis(300)))) {
            assertThat(shortIdle.send(LOCALHOST, recipient.port, mdm("msg-idle-1")).outcome()).isEqualTo(Outcome.ACCEPTED);
            assertThat(recipient.open()).isEqualTo(1);

            long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(5);
            while (recipient.open() > 0 && System.nanoTime() < deadline) {
                Thread.sleep(50);
            }

            assertThat(recipient.open()).as("connections still open at the recipient").isZero();
            assertThat(shortIdle.send(LOCALHOST, recipient.port, mdm("msg-idle-2")).outcome()).isEqualTo(Outcome.ACCEPTED);
            assertThat(recipient.connections()).isEqualTo(2);
        }
    }

    @Test
    void concurrentSendsToOneRecipient_useNoMoreConnectionsThanThePoolAllows() throws Exception {
        // the bound is the point here, not the timing: a send waits for a connection at most the ACK
        // timeout, and a slow start of the recipient on a busy machine must not turn a wait into a RETRY
        try (CountingRecipient recipient = new CountingRecipient(freePort(), 100);
                MllpSender bounded = new MllpSender(CONNECT_TIMEOUT, Duration.ofSeconds(20), null,
                        new MllpSender.Pool(2, Duration.ofSeconds(60)))) {
            List<Thread> threads = new ArrayList<>();
            List<Outcome> outcomes = java.util.Collections.synchronizedList(new ArrayList<>());
            List<String> details = java.util.Collections.synchronizedList(new ArrayList<>());
            for (int i = 0; i < 6; i++) {
                String controlId = "msg-bounded-" + i;
                Thread thread = new Thread(() -> {
                    long start = System.nanoTime();
                    Result result = bounded.send(LOCALHOST, recipient.port, mdm(controlId));
                    outcomes.add(result.outcome());
                    details.add(controlId + ": " + result.outcome() + " after " + (System.nanoTime() - start) / 1_000_000 + " ms, "
                            + result.detail());
                });
                threads.add(thread);
                thread.start();
            }
            for (Thread thread : threads) {
                thread.join(60_000);
            }

            // a failure says which send waited for what, and what the recipient had by then
            assertThat(outcomes).as("%s; the recipient received %s over %d connections", details,
                    recipient.received().stream().map(m -> m.split("\r")[0].split("\\|")[9]).toList(),
                    recipient.connections()).hasSize(6).containsOnly(Outcome.ACCEPTED);
            assertThat(recipient.received()).hasSize(6);
            assertThat(recipient.connections()).isEqualTo(2);
        }
    }

    @Test
    void ackForAnotherMessage_isRetry_andTheConnectionIsNotReused() throws Exception {
        try (ServerSocket raw = new ServerSocket(0, 1, InetAddress.getByName(LOCALHOST))) {
            Thread peer = new Thread(() -> {
                try (Socket socket = raw.accept()) {
                    readFrame(socket.getInputStream());
                    String ack = "MSH|^~\\&|KIS|KH|CareRelay|CR|20240502102000||ACK^T02^ACK|a1|P|2.5.1\r"
                            + "MSA|AA|msg-earlier\r";
                    OutputStream out = socket.getOutputStream();
                    out.write(0x0b);
                    out.write(ack.getBytes(StandardCharsets.US_ASCII));
                    out.write(new byte[] {0x1c, 0x0d});
                    out.flush();
                    socket.getInputStream().read(); // wait until the sender closes
                } catch (IOException e) {
                    // test ends
                }
            });
            peer.start();

            Result result = sender.send(LOCALHOST, raw.getLocalPort(), mdm("msg-now"));

            assertThat(result.outcome()).isEqualTo(Outcome.RETRY);
            assertThat(result.detail()).contains("ACK for another message");
            peer.join(2_000);
            assertThat(peer.isAlive()).as("the sender closed the connection").isFalse();
        }
    }

    /** A HAPI MLLP server that counts the connections it accepted and keeps what it received. */
    private static final class CountingRecipient implements AutoCloseable {
        final int port;
        private final HapiContext hapi = new DefaultHapiContext();
        private final HL7Service service;
        private final java.util.concurrent.atomic.AtomicInteger connections = new java.util.concurrent.atomic.AtomicInteger();
        private final java.util.concurrent.atomic.AtomicInteger open = new java.util.concurrent.atomic.AtomicInteger();
        private final List<String> messages = java.util.Collections.synchronizedList(new ArrayList<>());

        CountingRecipient(int port) throws InterruptedException {
            this(port, 0);
        }

        CountingRecipient(int port, long answerDelayMillis) throws InterruptedException {
            this.port = port;
            // its own threads: closing the context must not stop HAPI's shared default executor
            hapi.setExecutorService(java.util.concurrent.Executors.newCachedThreadPool());
            hapi.setModelClassFactory(new CanonicalModelClassFactory("2.5.1"));
            hapi.setValidationContext(ValidationContextFactory.noValidation());
            hapi.getParserConfiguration().setIdGenerator(new InMemoryIDGenerator());
            MinLowerLayerProtocol llp = new MinLowerLayerProtocol(true);
            llp.setCharset(StandardCharsets.UTF_8);
            hapi.setLowerLayerProtocol(llp);
            service = hapi.newServer(port, false);
            service.registerConnectionListener(new ca.uhn.hl7v2.app.ConnectionListener() {
                @Override
                public void connectionReceived(ca.uhn.hl7v2.app.Connection connection) {
                    connections.incrementAndGet();
                    open.incrementAndGet();
                }

                @Override
                public void connectionDiscarded(ca.uhn.hl7v2.app.Connection connection) {
                    open.decrementAndGet();
                }
            });
            service.registerApplication(new ReceivingApplication<Message>() {
                @Override
                public Message processMessage(Message message, Map<String, Object> metadata) throws HL7Exception {
                    messages.add(message.encode());
                    try {
                        Thread.sleep(answerDelayMillis);
                        return message.generateACK();
                    } catch (IOException | InterruptedException e) {
                        throw new HL7Exception(e);
                    }
                }

                @Override
                public boolean canProcess(Message message) {
                    return true;
                }
            });
            service.startAndWait();
        }

        int connections() {
            return connections.get();
        }

        /** Connections the recipient still holds open (HAPI notices a closed one when its reader ends). */
        int open() {
            return service.getRemoteConnections().size();
        }

        List<String> received() {
            return List.copyOf(messages);
        }

        void closeConnections() throws IOException {
            for (ca.uhn.hl7v2.app.Connection connection : service.getRemoteConnections()) {
                connection.close();
            }
        }

        @Override
        public void close() throws IOException {
            service.stopAndWait();
            hapi.close();
        }
    }

    private static List<String> received() {
        synchronized (received) {
            return List.copyOf(received);
        }
    }

    /** An MDM^T02 as CareRelay sends it. */
    private static String mdm(String controlId) {
        Communication communication = new Communication();
        communication.setId("c-1");
        communication.setStatus(Communication.CommunicationStatus.COMPLETED);
        communication.setSubject(new Reference("Patient/p-1"));
        communication.addPayload().setContent(new StringType("Grüße aus Köln, Größe ß\nBlutdruck 140/90 | ok"));
        Patient patient = new Patient();
        patient.setId("p-1");
        patient.addIdentifier().setSystem(Systems.KVNR).setValue("A123456780");
        patient.addName().setFamily("Müller").addGiven("Erika");
        return CommunicationToMdm.encode(CommunicationToMdm.map(new CommunicationToMdm.Input(communication, patient,
                List.of(), "CareRelay", "CR", "KIS", "KH", controlId, Instant.parse("2024-05-02T08:20:00Z"))));
    }

    private static void readFrame(InputStream in) throws IOException {
        ByteArrayOutputStream frame = new ByteArrayOutputStream();
        int previous = -1;
        int b;
        while ((b = in.read()) >= 0) {
            frame.write(b);
            if (previous == 0x1c && b == 0x0d) {
                return;
            }
            previous = b;
        }
    }

    private static int freePort() throws IOException {
        try (ServerSocket socket = new ServerSocket(0)) {
            return socket.getLocalPort();
        }
    }
}
