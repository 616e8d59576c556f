package org.carerelay.gateway.metrics;

import io.micrometer.core.instrument.Gauge;
import io.micrometer.core.instrument.MeterRegistry;
import java.util.List;
import org.apache.camel.CamelContext;
import org.apache.camel.Route;
import org.apache.camel.ServiceStatus;
import org.apache.camel.component.mllp.MllpEndpoint;
import org.apache.camel.component.mllp.MllpTcpServerConsumer;

/**
 * {@code carerelay_mllp_listener_up{listener}}: 1 while an MLLP listener route runs and its
 * server socket is bound, 0 otherwise. A started route alone says too little: camel-mllp binds in
 * the background and keeps retrying a taken port while the route counts as started.
 */
public final class MllpListeners {

    private MllpListeners() {
    }

    /** The ids of the routes that listen for MLLP connections. */
    public static List<String> listenerRoutes(CamelContext camel) {
        return camel.getRoutes().stream()
                .filter(route -> route.getEndpoint() instanceof MllpEndpoint)
                .map(Route::getRouteId)
                .toList();
    }

    /** True while the route is started and its consumer has a bound server socket. */
    public static boolean up(CamelContext camel, String routeId) {
        Route route = camel.getRoute(routeId);
        ServiceStatus status = camel.getRouteController().getRouteStatus(routeId);
        return route != null && status != null && status.isStarted()
                && route.getConsumer() instanceof MllpTcpServerConsumer consumer
                && consumer.isStarted() && consumer.getLocalPort() > 0;
    }

    /** One gauge per listener route of {@code camel}. */
    public static void register(CamelContext camel, MeterRegistry registry) {
        for (String routeId : listenerRoutes(camel)) {
            Gauge.builder(MetricNames.MLLP_LISTENER_UP, camel, c -> up(c, routeId) ? 1 : 0)
                    .description("1 while the MLLP listener's route runs and its port is bound")
                    .tag("listener", routeId)
                    .strongReference(true)
                    .register(registry);
        }
    }
}
