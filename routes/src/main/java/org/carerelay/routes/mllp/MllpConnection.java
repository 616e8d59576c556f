package org.carerelay.routes.mllp;

/**
 * Where an inbound frame came from: the remote address and, on the TLS listener, the subject of the
 * client certificate the TLS handshake verified (as camel-mllp reports it, the
 * {@code X500Principal} string, e.g. {@code CN=PFL123, O=Pflegedienst, C=DE}).
 */
public record MllpConnection(String remoteAddress, boolean tls, String clientCertificateSubject) {

    public static MllpConnection plain(String remoteAddress) {
        return new MllpConnection(remoteAddress, false, null);
    }

    public static MllpConnection tls(String remoteAddress, String clientCertificateSubject) {
        return new MllpConnection(remoteAddress, true, clientCertificateSubject);
    }
}
