package org.carerelay.gateway;

import java.io.IOException;
import java.net.InetSocketAddress;
import java.net.ServerSocket;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.concurrent.atomic.AtomicInteger;

/**
 * Ports for the servers the tests start, whether in this JVM or in a process of their own (a
 * gateway node, a broker, a PostgreSQL, a partner). A port taken from the kernel ({@code new
 * ServerSocket(0)}) and closed again is free only at that moment: the kernel may hand it out again to
 * the next caller, so two test classes running side by side could be given the same one. These come
 * from below the kernel's ephemeral range (Linux: 32768–60999; macOS and Windows: from 49152), which
 * it never hands out for a {@code bind(0)} or an outgoing connection, and this JVM hands out each one
 * once. A port some other program listens on is skipped.
 */
public final class TestPorts {

    private static final int FIRST = 20_000;
    private static final int COUNT = Math.min(12_000, Math.max(1_000, ephemeralStart() - FIRST));
    /** Where this JVM starts, apart from a second test JVM's start (surefire and failsafe run one after the other). */
    private static final AtomicInteger NEXT = new AtomicInteger((int) (ProcessHandle.current().pid() * 1_009 % COUNT));

    private TestPorts() {
    }

    /** A port nobody listens on, not handed out before by this JVM. */
    public static int free() {
        for (int i = 0; i < COUNT; i++) {
            int port = FIRST + Math.floorMod(NEXT.getAndIncrement(), COUNT);
            if (bindable(port)) {
                return port;
            }
        }
        throw new IllegalStateException("no free port in " + FIRST + "-" + (FIRST + COUNT - 1));
    }

    /** The first port of the kernel's ephemeral range (Linux), 32768 where it cannot be read. */
    private static int ephemeralStart() {
        try {
            return Integer.parseInt(Files.readString(Path.of("/proc/sys/net/ipv4/ip_local_port_range")).trim().split("\\s+")[0]);
        } catch (IOException | RuntimeException e) {
            return 32_768;
        }
    }

    private static boolean bindable(int port) {
        try (ServerSocket socket = new ServerSocket()) {
            socket.bind(new InetSocketAddress(port)); // the wildcard address: conflicts with a listener on any address
            return true;
        } catch (IOException e) {
            return false;
        }
    }
}
