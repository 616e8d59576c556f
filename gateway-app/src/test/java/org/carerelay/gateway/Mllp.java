package org.carerelay.gateway;

import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.io.InputStream;
import java.io.OutputStream;
import java.net.Socket;
import java.nio.charset.Charset;

/** A minimal MLLP client on a real socket, for raw frames (bad input, exact bytes). */
public final class Mllp {

    public static final int START = 0x0b;
    static final int END = 0x1c;
    static final int CR = 0x0d;

    private Mllp() {
    }

    /** Sends one frame and returns the ACK text, or null when the gateway closed the connection. */
    public static String exchange(int port, byte[] payload, Charset charset, int timeoutMs) throws IOException {
        try (Socket socket = new Socket("127.0.0.1", port)) {
            socket.setSoTimeout(timeoutMs);
            writeFrame(socket.getOutputStream(), payload);
            return readFrame(socket.getInputStream(), charset);
        }
    }

    /**
     * Like {@link #exchange} but from the local address {@code from} (e.g. 127.0.0.2: every
     * 127.x.y.z is this machine on Linux, so a test can play a different network peer).
     */
    public static String exchangeFrom(String from, int port, byte[] payload, Charset charset, int timeoutMs) throws IOException {
        try (Socket socket = new Socket(java.net.InetAddress.getByName("127.0.0.1"), port, java.net.InetAddress.getByName(from), 0)) {
            socket.setSoTimeout(timeoutMs);
            writeFrame(socket.getOutputStream(), payload);
            return readFrame(socket.getInputStream(), charset);
        }
    }

    /** Writes {@code payload} as one MLLP frame and flushes. */
    public static void writeFrame(OutputStream out, byte[] payload) throws IOException {
        out.write(START);
        out.write(payload);
        out.write(END);
        out.write(CR);
        out.flush();
    }

    /** Reads up to the end of the next frame; null when the stream ends first (a timeout is thrown as is). */
    public static String readFrame(InputStream in, Charset charset) throws IOException {
        ByteArrayOutputStream buffer = new ByteArrayOutputStream();
        int b;
        boolean started = false;
        while ((b = in.read()) != -1) {
            if (!started) {
                started = b == START;
                continue;
            }
            if (b == END) {
                in.read();
                return buffer.toString(charset);
            }
            buffer.write(b);
        }
        return null;
    }

    public static String field(String er7, String segment, int index) {
        for (String line : er7.split("\r")) {
            if (line.startsWith(segment + "|")) {
                String[] fields = line.split("\\|", -1);
                int i = segment.equals("MSH") ? index - 1 : index;
                return i < fields.length ? fields[i] : "";
            }
        }
        return null;
    }
}
