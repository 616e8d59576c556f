package org.carerelay.routes.mllp;

/**
 * Handles one inbound HL7v2 frame and returns the acknowledgement to send back (already encoded),
 * or {@code null} when no acknowledgement is to be sent (enhanced acknowledgement mode, where
 * MSH-15 says when the sender wants a commit ACK). Implemented by the application; must not throw.
 */
public interface Hl7Receiver {

    byte[] receive(byte[] frame, String remoteAddress);

    /**
     * Where a frame came from: the remote address and, on the TLS listener, the subject of the
     * client certificate the TLS handshake verified (as camel-mllp reports it, the
     * {@code X500Principal} string, e.g. {@code CN=PFL123, O=Pflegedienst, C=DE}).
     */
    record Connection(String remoteAddress, boolean tls, String clientCertificateSubject) {

        public static Connection plain(String remoteAddress) {
            return new Connection(remoteAddress, false, null);
        }

        public static Connection tls(String remoteAddress, String clientCertificateSubject) {
            return new Connection(remoteAddress, true, clientCertificateSubject);
        }
    }

    /**
     * A frame from a known connection. The listeners call this one (the plain listener with a
     * {@link Connection#plain} connection); receivers that tie the sender to the client
     * certificate override it. The default ignores the certificate.
     */
    default byte[] receive(byte[] frame, Connection connection) {
        return receive(frame, connection.remoteAddress());
    }
}
