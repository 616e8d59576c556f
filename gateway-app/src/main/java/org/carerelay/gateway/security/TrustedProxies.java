package org.carerelay.gateway.security;

import java.net.InetAddress;
import java.util.ArrayList;
import java.util.List;
import org.apache.catalina.Valve;
import org.apache.catalina.util.NetMask;
import org.apache.catalina.valves.RemoteIpValve;
import org.carerelay.gateway.config.CareRelayProperties;
import org.springframework.boot.tomcat.servlet.TomcatServletWebServerFactory;
import org.springframework.boot.web.server.WebServerFactoryCustomizer;
import org.springframework.core.Ordered;
import org.springframework.core.env.Environment;
import org.springframework.stereotype.Component;

/**
 * Which peers may tell the client's address: only the reverse proxies named in
 * {@code carerelay.security.trusted-proxies} (addresses or CIDR ranges; none by default). For a
 * request from one of them, Tomcat's {@link RemoteIpValve} takes the client address from
 * {@code X-Forwarded-For}, read from the right and skipping the listed proxies, and the scheme from
 * {@code X-Forwarded-Proto}; from every other peer both headers are ignored, so a client cannot
 * choose the address that rate limits count and the audit trail records.
 *
 * <p>Spring Boot's own forward-header support would trust every private and loopback address
 * (Tomcat's default {@code internalProxies}; switched on by {@code server.forward-headers-strategy}
 * or automatically on a detected cloud platform), so any {@code RemoteIpValve} it added is
 * replaced here, and {@code server.forward-headers-strategy=framework} (a filter that believes
 * every peer) is refused at start.
 */
@Component
public class TrustedProxies implements WebServerFactoryCustomizer<TomcatServletWebServerFactory>, Ordered {

    private final List<String> ranges;

    public TrustedProxies(CareRelayProperties props, Environment environment) {
        if ("framework".equalsIgnoreCase(environment.getProperty("server.forward-headers-strategy", "").trim())) {
            throw new IllegalStateException("server.forward-headers-strategy=framework would trust X-Forwarded-For "
                    + "from every client; name the reverse proxies in carerelay.security.trusted-proxies instead");
        }
        this.ranges = cidrs(props.security().trustedProxies());
    }

    /** Runs after Boot's Tomcat customizer, which may have added a RemoteIpValve of its own. */
    @Override
    public int getOrder() {
        return Ordered.LOWEST_PRECEDENCE;
    }

    @Override
    public void customize(TomcatServletWebServerFactory factory) {
        List<Valve> valves = new ArrayList<>(factory.getEngineValves());
        valves.removeIf(RemoteIpValve.class::isInstance);
        if (!ranges.isEmpty()) {
            RemoteIpValve valve = new RemoteIpValve();
            valve.setInternalProxies(String.join(",", ranges));
            valve.setTrustedProxies(null);
            valve.setRemoteIpHeader("X-Forwarded-For");
            valve.setProxiesHeader("X-Forwarded-By");
            valve.setProtocolHeader("X-Forwarded-Proto");
            valves.add(0, valve);
        }
        factory.setEngineValves(valves);
    }

    /**
     * The configured entries as CIDR ranges ({@code 10.0.0.5} becomes {@code 10.0.0.5/32}); a
     * wrong entry stops the start instead of silently trusting nothing or too much.
     */
    static List<String> cidrs(List<String> configured) {
        List<String> out = new ArrayList<>();
        if (configured == null) {
            return out;
        }
        for (String entry : configured) {
            String value = entry == null ? "" : entry.trim();
            if (value.isEmpty()) {
                continue;
            }
            String cidr = value.contains("/") ? value : value + (value.contains(":") ? "/128" : "/32");
            try {
                String host = cidr.substring(0, cidr.indexOf('/'));
                if (!host.matches("[0-9A-Fa-f:.]+")) {
                    throw new IllegalArgumentException("not an IP address");
                }
                InetAddress.getByName(host); // a literal: no name lookup
                new NetMask(cidr);
            } catch (Exception e) {
                throw new IllegalStateException("carerelay.security.trusted-proxies: '" + value
                        + "' is not an IP address or CIDR range", e);
            }
            out.add(cidr);
        }
        return out;
    }
}
