package org.carerelay.gateway.metrics;

import static org.assertj.core.api.Assertions.assertThat;
import static org.awaitility.Awaitility.await;

import io.micrometer.core.instrument.simple.SimpleMeterRegistry;
import java.net.InetAddress;
import java.net.ServerSocket;
import java.time.Duration;
import org.apache.camel.CamelContext;
import org.apache.camel.builder.RouteBuilder;
import org.apache.camel.impl.DefaultCamelContext;
import org.junit.jupiter.api.Test;

/** The listener gauge follows the bound port, not only the route's status. */
class MllpListenersTest {

    @Test
    void takenHl7Port_showsTheListenerDown_whileAFreeOneShowsItUp() throws Exception {
        try (ServerSocket taken = new ServerSocket(0, 50, InetAddress.getLoopbackAddress());
                CamelContext camel = new DefaultCamelContext()) {
            int free;
            try (ServerSocket probe = new ServerSocket(0, 50, InetAddress.getLoopbackAddress())) {
                free = probe.getLocalPort();
            }
            camel.addRoutes(new RouteBuilder() {
                @Override
                public void configure() {
                    from("mllp://127.0.0.1:" + free + "?lenientBind=true").routeId("listener-free").log("frame");
                    from("mllp://127.0.0.1:" + taken.getLocalPort() + "?lenientBind=true&bindTimeout=60000")
                            .routeId("listener-taken").log("frame");
                    from("timer:tick?period=60000").routeId("not-a-listener").log("tick");
                }
            });
            camel.start();
            SimpleMeterRegistry registry = new SimpleMeterRegistry();
            MllpListeners.register(camel, registry);

            assertThat(MllpListeners.listenerRoutes(camel)).containsExactlyInAnyOrder("listener-free", "listener-taken");
            await().atMost(Duration.ofSeconds(10)).until(() -> gauge(registry, "listener-free") == 1.0);
            // camel-mllp counts the route as started while it keeps trying to bind the taken port
            assertThat(camel.getRouteController().getRouteStatus("listener-taken").isStarted()).isTrue();
            assertThat(gauge(registry, "listener-taken")).isEqualTo(0.0);

            camel.getRouteController().stopRoute("listener-free");
            assertThat(gauge(registry, "listener-free")).isEqualTo(0.0);
        }
    }

    private static double gauge(SimpleMeterRegistry registry, String listener) {
        return registry.get(MetricNames.MLLP_LISTENER_UP).tag("listener", listener).gauge().value();
    }
}
