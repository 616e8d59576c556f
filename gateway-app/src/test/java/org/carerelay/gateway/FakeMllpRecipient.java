package org.carerelay.gateway;

import ca.uhn.hl7v2.DefaultHapiContext;
import ca.uhn.hl7v2.HapiContext;
import ca.uhn.hl7v2.app.HL7Service;
import ca.uhn.hl7v2.model.Message;
import ca.uhn.hl7v2.protocol.ReceivingApplication;
import java.io.IOException;
import java.net.ServerSocket;
import java.util.Map;

/**
 * A partner's HL7v2 system for tests: a HAPI MLLP server on a free local port that answers every
 * message with what {@code handler} returns (typically {@code message.generateACK()}).
 */
public final class FakeMllpRecipient implements AutoCloseable {

    @FunctionalInterface
    public interface Handler {
        Message answer(Message message) throws Exception;
    }

    public final int port;
    private final HapiContext hapi = new DefaultHapiContext();
    private final HL7Service server;

    public FakeMllpRecipient(Handler handler) throws IOException, InterruptedException {
        try (ServerSocket s = new ServerSocket(0)) {
            port = s.getLocalPort();
        }
        server = hapi.newServer(port, false);
        server.registerApplication("*", "*", new ReceivingApplication<Message>() {
            @Override
            public Message processMessage(Message message, Map<String, Object> metadata) {
                try {
                    return handler.answer(message);
                } catch (Exception e) {
                    throw new IllegalStateException(e);
                }
            }

            @Override
            public boolean canProcess(Message message) {
                return true;
            }
        });
        server.startAndWait();
    }

    /** The endpoint address for {@link Participants#addEndpoint}. */
    public String address() {
        return "mllp://127.0.0.1:" + port;
    }

    @Override
    public void close() throws IOException {
        server.stopAndWait();
        hapi.close();
    }
}
