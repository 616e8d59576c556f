package org.carerelay.gateway.hl7;

import org.carerelay.gateway.config.CareRelayProperties;
import org.carerelay.routes.mllp.MllpInboundRoute;
import org.springframework.boot.autoconfigure.condition.ConditionalOnProperty;
import org.springframework.context.annotation.Bean;
import org.springframework.context.annotation.Configuration;

/**
 * The MLLP listener (port 2575 by default), on unless {@code carerelay.hl7.enabled=false}. The
 * TLS listener is configured separately ({@link MllpTlsConfiguration}).
 */
@Configuration(proxyBeanMethods = false)
@ConditionalOnProperty(prefix = "carerelay.hl7", name = "enabled", havingValue = "true", matchIfMissing = true)
public class MllpInboundConfiguration {

    @Bean
    MllpInboundRoute mllpInboundRoute(CareRelayProperties props) {
        var h = props.hl7();
        return new MllpInboundRoute("mllp-inbound", Hl7InboundRoute.ENDPOINT, settings(h, h.port()));
    }

    /** Listener settings shared by the plain and the TLS listener. */
    static MllpInboundRoute.Settings settings(CareRelayProperties.Hl7 h, int port) {
        // camel-mllp's buffer is larger than the frame limit, so an oversized frame is still read
        // completely and answered with an AR by the receiver instead of leaving the socket dangling
        int buffer = (int) Math.min(Integer.MAX_VALUE - 8L, Math.max(64L * 1024 * 1024, 2L * h.maxFrameBytes()));
        return new MllpInboundRoute.Settings(h.host(), port, buffer,
                (int) h.receiveTimeout().toMillis(), (int) h.readTimeout().toMillis(), (int) h.idleTimeout().toMillis(),
                h.maxConnections());
    }
}
