package org.carerelay.gateway.hl7;

import static org.assertj.core.api.Assertions.assertThat;
import static org.awaitility.Awaitility.await;

import java.net.Socket;
import java.net.http.HttpResponse;
import java.time.Duration;
import org.apache.camel.CamelContext;
import org.carerelay.gateway.GatewayIntegrationTest;
import org.junit.jupiter.api.Test;
import org.springframework.beans.factory.annotation.Autowired;

/**
 * A gateway whose MLLP listener is gone (its route stopped after the start) must not report itself
 * healthy or ready: load balancers and orchestrators would keep sending care software to it.
 */
class MllpListenerHealthIT extends GatewayIntegrationTest {

    @Autowired
    CamelContext camel;

    @Test
    void mllpListenerStoppedAfterTheStart_healthAndReadinessAreDown() throws Exception {
        assertThat(http("GET", "/actuator/health/readiness", null, null, null).statusCode()).isEqualTo(200);
        try {
            camel.getRouteController().stopRoute("mllp-inbound");
            await("the listener is really gone").atMost(Duration.ofSeconds(10)).until(() -> !portAccepts(HL7_PORT));

            HttpResponse<String> readiness = http("GET", "/actuator/health/readiness", null, null, null);
            HttpResponse<String> health = http("GET", "/actuator/health", null, null, null);
            assertThat(readiness.statusCode()).isEqualTo(503);
            assertThat(readiness.body()).contains("\"DOWN\"");
            assertThat(health.statusCode()).isEqualTo(503);
            assertThat(health.body()).contains("\"DOWN\"");
        } finally {
            camel.getRouteController().startRoute("mllp-inbound");
        }
        await().atMost(Duration.ofSeconds(10)).until(() -> http("GET", "/actuator/health/readiness", null, null, null).statusCode() == 200);
        assertThat(portAccepts(HL7_PORT)).isTrue();
        assertThat(http("GET", "/actuator/health", null, null, null).statusCode()).isEqualTo(200);
    }

    @Test
    void tlsListenerStopped_healthIsDownToo() throws Exception {
        try {
            camel.getRouteController().stopRoute("mllp-inbound-tls");
            assertThat(http("GET", "/actuator/health/readiness", null, null, null).statusCode()).isEqualTo(503);
        } finally {
            camel.getRouteController().startRoute("mllp-inbound-tls");
        }
        await().atMost(Duration.ofSeconds(10)).until(() -> http("GET", "/actuator/health/readiness", null, null, null).statusCode() == 200);
    }

    private static boolean portAccepts(int port) {
        try (Socket socket = new Socket("127.0.0.1", port)) {
            return true;
        } catch (java.io.IOException e) {
            return false;
        }
    }
}
