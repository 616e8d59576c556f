package org.carerelay.gateway.egress;

import java.util.List;
import org.springframework.boot.context.properties.ConfigurationProperties;

/**
 * {@code carerelay.egress.allowed}: CIDRs, addresses and {@code host:port} entries that partner
 * endpoints may use although the egress policy would refuse them (loopback, private ranges, the
 * gateway's own ports). Empty by default.
 */
@ConfigurationProperties("carerelay.egress")
public record EgressProperties(List<String> allowed) {

    public EgressProperties {
        allowed = allowed == null ? List.of() : List.copyOf(allowed);
    }
}
