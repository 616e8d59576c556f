package org.carerelay.gateway.hl7;

import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import org.apache.camel.CamelContext;
import org.apache.camel.Route;
import org.apache.camel.ServiceStatus;
import org.apache.camel.StatefulService;
import org.carerelay.routes.mllp.MllpInboundRoute;
import org.springframework.boot.health.contributor.Health;
import org.springframework.boot.health.contributor.HealthIndicator;
import org.springframework.stereotype.Component;

/**
 * {@code mllp} in {@code /actuator/health} (and in the readiness group): DOWN while an enabled MLLP
 * listener (plain or TLS) is not accepting connections — its route is not started, e.g. stopped
 * later, or its consumer is not running. A listener binds while its route starts (a taken port
 * stops the gateway's start), so a started route means a bound port.
 */
@Component
public class MllpHealthIndicator implements HealthIndicator {

    private final CamelContext camel;
    private final List<MllpInboundRoute> listeners;

    public MllpHealthIndicator(CamelContext camel, List<MllpInboundRoute> listeners) {
        this.camel = camel;
        this.listeners = listeners;
    }

    @Override
    public Health health() {
        boolean up = true;
        Map<String, Object> details = new LinkedHashMap<>();
        for (MllpInboundRoute listener : listeners) {
            ServiceStatus status = camel.getRouteController().getRouteStatus(listener.routeId());
            Route route = camel.getRoute(listener.routeId());
            boolean listening = status == ServiceStatus.Started && route != null && route.getConsumer() instanceof StatefulService consumer
                    && consumer.isStarted();
            up &= listening;
            details.put(listener.routeId(), (listening ? "listening on port " : "not listening on port ")
                    + listener.settings().port() + (status == null ? "" : " (route " + status.name().toLowerCase() + ")"));
        }
        return (up ? Health.up() : Health.down()).withDetails(details).build();
    }
}
