package org.carerelay.routes.mllp;

import java.security.KeyStore;
import java.util.List;
import org.apache.camel.Exchange;
import org.apache.camel.builder.RouteBuilder;
import org.apache.camel.component.mllp.MllpComponent;
import org.apache.camel.component.mllp.MllpConstants;
import org.apache.camel.component.mllp.MllpEndpoint;
import org.apache.camel.support.jsse.ClientAuthentication;
import org.apache.camel.support.jsse.KeyManagersParameters;
import org.apache.camel.support.jsse.KeyStoreParameters;
import org.apache.camel.support.jsse.SSLContextParameters;
import org.apache.camel.support.jsse.SSLContextServerParameters;
import org.apache.camel.support.jsse.SecureSocketProtocolsParameters;
import org.apache.camel.support.jsse.TrustManagersParameters;

/**
 * The MLLP listener for care software: accepts frames and hands each one, with the
 * {@link MllpConnection} it came on (exchange property {@link #CONNECTION}), to the route at
 * {@code target}, which answers by calling {@link #reply} (camel-mllp's own ACK generation is off).
 * Frames are bounded in size and time, so a frame that never ends or a 50 MB message ends in a
 * closed connection, not a hung thread or an exhausted heap. PHI logging of the component is off.
 *
 * <p>With {@link SSLContextParameters} (see {@link #mutualTls}) the listener speaks TLS and
 * requires a client certificate; the subject of the verified certificate is part of the connection.
 */
public class MllpInboundRoute extends RouteBuilder {

    public record Settings(String host, int port, int maxFrameBytes, int receiveTimeoutMs, int readTimeoutMs,
            int idleTimeoutMs, int maxConcurrentConsumers) {
    }

    /** Exchange property with the {@link MllpConnection} of the frame. */
    public static final String CONNECTION = "CareRelayMllpConnection";

    /** Frames shorter than this ({@code MSH|} is four bytes) are answered by closing the connection. */
    static final int MIN_ANSWERABLE_FRAME = 4;

    /** How long a start waits for the port (e.g. held briefly by a gateway just stopped). */
    static final int BIND_TIMEOUT_MS = 3000;
    static final int BIND_RETRY_MS = 500;

    private final String target;
    private final Settings settings;
    private final String routeId;
    private final SSLContextParameters tls;

    public MllpInboundRoute(String routeId, String target, Settings settings) {
        this(routeId, target, settings, null);
    }

    /** A listener with TLS when {@code tls} is not null. */
    public MllpInboundRoute(String routeId, String target, Settings settings, SSLContextParameters tls) {
        this.routeId = routeId;
        this.target = target;
        this.settings = settings;
        this.tls = tls;
    }

    /**
     * Sends the message body (the encoded acknowledgement) back on the connection; a {@code null}
     * body sends nothing (an in-only exchange without acknowledgement).
     */
    public static void reply(Exchange exchange) {
        byte[] ack = exchange.getMessage().getBody(byte[].class);
        if (ack != null) {
            exchange.setProperty(MllpConstants.MLLP_ACKNOWLEDGEMENT, ack);
        }
    }

    /**
     * Server side of mutual TLS: the server key and certificate from {@code keyStore}, client
     * certificates required and verified against the CA certificates in {@code trustStore};
     * TLS 1.2 and 1.3 only.
     */
    public static SSLContextParameters mutualTls(KeyStore keyStore, String keyPassword, KeyStore trustStore) {
        KeyStoreParameters keys = new KeyStoreParameters();
        keys.setKeyStore(keyStore);
        KeyManagersParameters keyManagers = new KeyManagersParameters();
        keyManagers.setKeyStore(keys);
        keyManagers.setKeyPassword(keyPassword);
        KeyStoreParameters trusted = new KeyStoreParameters();
        trusted.setKeyStore(trustStore);
        TrustManagersParameters trustManagers = new TrustManagersParameters();
        trustManagers.setKeyStore(trusted);
        SSLContextServerParameters server = new SSLContextServerParameters();
        server.setClientAuthentication(ClientAuthentication.REQUIRE.name());
        SecureSocketProtocolsParameters protocols = new SecureSocketProtocolsParameters();
        protocols.setSecureSocketProtocol(List.of("TLSv1.3", "TLSv1.2"));
        SSLContextParameters parameters = new SSLContextParameters();
        parameters.setSecureSocketProtocol("TLS");
        parameters.setSecureSocketProtocols(protocols);
        parameters.setKeyManagers(keyManagers);
        parameters.setTrustManagers(trustManagers);
        parameters.setServerParameters(server);
        return parameters;
    }

    public String uri() {
        return "mllp://" + settings.host() + ":" + settings.port()
                + "?autoAck=false&hl7Headers=false&validatePayload=false&stringPayload=false&requireEndOfData=false"
                + "&maxBufferSize=" + settings.maxFrameBytes()
                + "&receiveTimeout=" + settings.receiveTimeoutMs()
                + "&readTimeout=" + settings.readTimeoutMs()
                + "&idleTimeout=" + settings.idleTimeoutMs()
                + "&maxConcurrentConsumers=" + settings.maxConcurrentConsumers()
                + "&exchangePattern=InOnly"
                // bind while the route starts, so a taken port stops the start instead of leaving the
                // gateway running without a listener (camel-mllp's lenient bind retries in the background)
                + "&lenientBind=false&bindTimeout=" + BIND_TIMEOUT_MS + "&bindRetryInterval=" + BIND_RETRY_MS
                + "&reuseAddress=true";
    }

    public String routeId() {
        return routeId;
    }

    public Settings settings() {
        return settings;
    }

    @Override
    public void configure() {
        getContext().getComponent("mllp", MllpComponent.class).setLogPhi(false);
        MllpEndpoint endpoint = getContext().getEndpoint(uri(), MllpEndpoint.class);
        if (tls != null) {
            endpoint.setSslContextParameters(tls);
        }
        from(endpoint).routeId(routeId)
                .choice()
                    // camel-mllp reads the field separator at byte 3 of the frame before it writes any
                    // acknowledgement, and fails with an exception on a shorter one: such a frame (no
                    // HL7 message can be this short) gets a closed connection instead of an ACK
                    .when(MllpInboundRoute::unanswerable)
                        .setProperty(MllpConstants.MLLP_CLOSE_CONNECTION_BEFORE_SEND, constant(true))
                    .otherwise()
                        .process(exchange -> exchange.setProperty(CONNECTION, connection(exchange)))
                        .to(target).id(routeId + "-receive")
                .end();
    }

    private static boolean unanswerable(Exchange exchange) {
        byte[] frame = exchange.getIn().getBody(byte[].class);
        return frame == null || frame.length < MIN_ANSWERABLE_FRAME;
    }

    private MllpConnection connection(Exchange exchange) {
        String remote = exchange.getIn().getHeader(MllpConstants.MLLP_REMOTE_ADDRESS, String.class);
        return tls == null ? MllpConnection.plain(remote)
                : MllpConnection.tls(remote, exchange.getIn().getHeader(MllpConstants.MLLP_SSL_CLIENT_CERT_SUBJECT_NAME, String.class));
    }
}
