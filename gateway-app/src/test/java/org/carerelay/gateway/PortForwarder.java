package org.carerelay.gateway;

import java.io.IOException;
import java.io.InputStream;
import java.io.OutputStream;
import java.net.InetAddress;
import java.net.ServerSocket;
import java.net.Socket;
import java.util.List;
import java.util.concurrent.CopyOnWriteArrayList;

/**
 * A TCP port forwarding to another local port, as a NAT rule or a load balancer in front of the
 * gateway would: the gateway behind it cannot tell from the address that a partner endpoint
 * pointing here is itself. A test can {@link #cut()} the line and {@link #restore()} it, to take a
 * database or a broker away from the gateway and give it back.
 */
public final class PortForwarder implements AutoCloseable {

    private final ServerSocket server;
    private final int targetPort;
    private final List<Socket> sockets = new CopyOnWriteArrayList<>();
    private volatile boolean cut;

    public PortForwarder(int targetPort) throws IOException {
        this.targetPort = targetPort;
        this.server = new ServerSocket(0, 50, InetAddress.getLoopbackAddress());
        Thread acceptor = new Thread(this::accept, "port-forwarder");
        acceptor.setDaemon(true);
        acceptor.start();
    }

    public int port() {
        return server.getLocalPort();
    }

    private void accept() {
        while (!server.isClosed()) {
            Socket client;
            try {
                client = server.accept();
            } catch (IOException e) {
                return; // closed
            }
            try {
                if (cut) {
                    client.close(); // like a server that is down: the connection ends at once
                    continue;
                }
                Socket target = new Socket(InetAddress.getLoopbackAddress(), targetPort);
                sockets.add(client);
                sockets.add(target);
                if (cut) { // cut while this one was being connected
                    closeQuietly(client);
                    closeQuietly(target);
                    continue;
                }
                pump(client, target);
                pump(target, client);
            } catch (IOException e) {
                closeQuietly(client); // the target is not there
            }
        }
    }

    /**
     * Cuts the line, as a server restart or a network failure would: every open connection is
     * closed, new ones are closed as soon as they are accepted, until {@link #restore()}.
     */
    public void cut() {
        cut = true;
        for (Socket s : sockets) {
            closeQuietly(s);
        }
        sockets.clear();
    }

    /** Forwards new connections again. */
    public void restore() {
        cut = false;
    }

    private static void closeQuietly(Socket socket) {
        try {
            socket.close();
        } catch (IOException ignored) {
            // already closed
        }
    }

    private static void pump(Socket from, Socket to) {
        Thread t = new Thread(() -> {
            try (InputStream in = from.getInputStream(); OutputStream out = to.getOutputStream()) {
                in.transferTo(out);
            } catch (IOException e) {
                // one side closed: close both below
            } finally {
                try {
                    to.shutdownOutput();
                } catch (IOException ignored) {
                    // already closed
                }
            }
        }, "port-forwarder-pump");
        t.setDaemon(true);
        t.start();
    }

    @Override
    public void close() throws IOException {
        server.close();
        for (Socket s : sockets) {
            s.close();
        }
    }
}
