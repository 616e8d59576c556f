package org.carerelay.gateway;

import ca.uhn.hl7v2.DefaultHapiContext;
import ca.uhn.hl7v2.HapiContext;
import ca.uhn.hl7v2.app.Connection;
import ca.uhn.hl7v2.app.ConnectionListener;
import ca.uhn.hl7v2.app.HL7Service;
import ca.uhn.hl7v2.model.Message;
import ca.uhn.hl7v2.protocol.ReceivingApplication;
import java.io.IOException;
import java.net.ServerSocket;
import java.util.Map;
import java.util.concurrent.Executors;
import java.util.concurrent.atomic.AtomicInteger;

/**
 * A partner's HL7v2 system for tests: a HAPI MLLP server on a free (or given) local port that
 * answers every message with what {@code handler} returns (typically {@code message.generateACK()}),
 * and counts the connections it accepted.
 */
public final class FakeMllpRecipient implements AutoCloseable {

    @FunctionalInterface
    public interface Handler {
        Message answer(Message message) throws Exception;
    }

    public final int port;
    private final HapiContext hapi = new DefaultHapiContext();
    private final HL7Service server;

    private final AtomicInteger connections = new AtomicInteger();

    public FakeMllpRecipient(Handler handler) throws IOException, InterruptedException {
        this(TestPorts.free(), handler);
    }

    /** On {@code port}, e.g. the port of a recipient stopped before: the same system restarted. */
    public FakeMllpRecipient(int port, Handler handler) throws InterruptedException {
        this.port = port;
        // its own threads: closing the context must not stop HAPI's shared default executor
        hapi.setExecutorService(Executors.newCachedThreadPool());
        server = hapi.newServer(port, false);
        server.registerConnectionListener(new ConnectionListener() {
            @Override
            public void connectionReceived(Connection connection) {
                connections.incrementAndGet();
            }

            @Override
            public void connectionDiscarded(Connection connection) {
                // counted when received
            }
        });
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

    /** Connections accepted since start. */
    public int connections() {
        return connections.get();
    }

    /** Closes the open connections, as a system does that drops idle ones. */
    public void closeConnections() throws IOException {
        for (Connection connection : server.getRemoteConnections()) {
            connection.close();
        }
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
