package org.carerelay.gateway.metrics;

import io.micrometer.core.instrument.Counter;
import io.micrometer.core.instrument.MeterRegistry;
import io.micrometer.core.instrument.Timer;
import java.util.concurrent.TimeUnit;
import org.apache.camel.CamelContext;
import org.apache.camel.Exchange;
import org.apache.camel.NamedNode;
import org.apache.camel.Route;
import org.apache.camel.spi.RoutePolicy;
import org.apache.camel.spi.RoutePolicyFactory;
import org.apache.camel.support.RoutePolicySupport;

/**
 * Exchanges and processing time per Camel route ({@code carerelay_route_exchanges_total{route,outcome}},
 * {@code carerelay_route_processing_seconds{route}}). Camel picks up a {@link RoutePolicyFactory}
 * bean and gives every route this policy. Route ids are a fixed set, so the labels stay bounded.
 */
public class RouteMetrics implements RoutePolicyFactory {

    private final MeterRegistry registry;

    public RouteMetrics(MeterRegistry registry) {
        this.registry = registry;
    }

    @Override
    public RoutePolicy createRoutePolicy(CamelContext camelContext, String routeId, NamedNode route) {
        return new Policy(routeId);
    }

    private final class Policy extends RoutePolicySupport {
        private final String startProperty;
        private final Counter completed;
        private final Counter failed;
        private final Timer processing;

        Policy(String routeId) {
            this.startProperty = "CareRelayRouteStart-" + routeId;
            this.completed = exchanges(routeId, "completed");
            this.failed = exchanges(routeId, "failed");
            this.processing = Timer.builder(MetricNames.ROUTE_PROCESSING)
                    .description("Processing time of an exchange in a Camel route")
                    .tag("route", routeId)
                    .register(registry);
        }

        private Counter exchanges(String routeId, String outcome) {
            return Counter.builder(MetricNames.ROUTE_EXCHANGES)
                    .description("Exchanges a Camel route finished, by outcome (failed: the step threw; a queued work item is then redelivered)")
                    .tag("route", routeId).tag("outcome", outcome)
                    .register(registry);
        }

        @Override
        public void onExchangeBegin(Route route, Exchange exchange) {
            exchange.setProperty(startProperty, System.nanoTime());
        }

        @Override
        public void onExchangeDone(Route route, Exchange exchange) {
            Long start = exchange.getProperty(startProperty, Long.class);
            if (start != null) {
                exchange.removeProperty(startProperty);
                processing.record(System.nanoTime() - start, TimeUnit.NANOSECONDS);
            }
            (exchange.isFailed() ? failed : completed).increment();
        }
    }
}
