package org.carerelay.gateway.directory;

import java.net.URI;
import org.carerelay.fhir.ErrorCode;
import org.carerelay.gateway.fhir.GatewayException;
import org.carerelay.routes.egress.EgressPolicy;
import org.springframework.stereotype.Component;

/**
 * The cheap part of the egress policy, when an endpoint is saved: an address whose host is an IP
 * literal the policy refuses is refused at once ({@code 422}). Names are not resolved here; the
 * decisive check is made at every delivery, after resolution.
 */
@Component
public class EndpointAddressCheck {

    private final EgressPolicy egress;

    public EndpointAddressCheck(EgressPolicy egress) {
        this.egress = egress;
    }

    /** @param address an endpoint address already checked for its form (http(s) URL or mllp://host:port) */
    public void check(String address) {
        URI uri;
        try {
            uri = URI.create(address.strip());
        } catch (IllegalArgumentException e) {
            throw new GatewayException(ErrorCode.INVALID_RESOURCE, "Endpoint.address is not a valid URI.");
        }
        if (uri.getHost() == null) {
            return;
        }
        int port = uri.getPort() != -1 ? uri.getPort() : "https".equalsIgnoreCase(uri.getScheme()) ? 443 : 80;
        egress.refusalOfLiteral(uri.getHost(), port).ifPresent(reason -> {
            throw new GatewayException(ErrorCode.INVALID_RESOURCE,
                    "Endpoint.address is not allowed: partner systems must be reachable outside the gateway's own and private networks.");
        });
    }
}
