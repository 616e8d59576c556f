package org.carerelay.routes.mllp;

import org.apache.camel.builder.RouteBuilder;
import org.apache.camel.component.mllp.MllpConstants;

/**
 * The MLLP listener for care software. Every frame is handed to the {@link Hl7Receiver}, whose
 * acknowledgement is sent back (camel-mllp's own ACK generation is off). Frames are bounded in
 * size and time, so a frame that never ends or a 50 MB message ends in a closed connection, not a
 * hung thread or an exhausted heap. PHI logging of the component is off.
 */
public class MllpInboundRoute extends RouteBuilder {

    public record Settings(String host, int port, int maxFrameBytes, int receiveTimeoutMs, int readTimeoutMs,
            int idleTimeoutMs, int maxConcurrentConsumers) {
    }

    private final Hl7Receiver receiver;
    private final Settings settings;
    private final String routeId;

    public MllpInboundRoute(String routeId, Hl7Receiver receiver, Settings settings) {
        this.routeId = routeId;
        this.receiver = receiver;
        this.settings = settings;
    }

    public String uri() {
        return "mllp://" + settings.host() + ":" + settings.port()
                + "?autoAck=false&hl7Headers=false&validatePayload=false&stringPayload=false&requireEndOfData=false"
                + "&maxBufferSize=" + settings.maxFrameBytes()
                + "&receiveTimeout=" + settings.receiveTimeoutMs()
                + "&readTimeout=" + settings.readTimeoutMs()
                + "&idleTimeout=" + settings.idleTimeoutMs()
                + "&maxConcurrentConsumers=" + settings.maxConcurrentConsumers()
                + "&exchangePattern=InOnly&lenientBind=true";
    }

    @Override
    public void configure() {
        getContext().getComponent("mllp", org.apache.camel.component.mllp.MllpComponent.class).setLogPhi(false);
        from(uri()).routeId(routeId)
                .process(exchange -> {
                    byte[] frame = exchange.getIn().getBody(byte[].class);
                    String remote = exchange.getIn().getHeader(MllpConstants.MLLP_REMOTE_ADDRESS, String.class);
                    byte[] ack = receiver.receive(frame == null ? new byte[0] : frame, remote);
                    exchange.setProperty(MllpConstants.MLLP_ACKNOWLEDGEMENT, ack);
                }).id(routeId + "-receive");
    }
}
