package org.carerelay.gateway.infra;

import static org.assertj.core.api.Assertions.assertThat;

import java.net.BindException;
import org.apache.camel.RuntimeCamelException;
import org.junit.jupiter.api.Test;
import org.springframework.boot.diagnostics.FailureAnalysis;
import org.springframework.boot.web.server.PortInUseException;
import org.springframework.mock.env.MockEnvironment;

/** The bind failures that slip past the early port check (another program took the port meanwhile). */
class OperatorFailureAnalyzerTest {

    final MockEnvironment environment = new MockEnvironment()
            .withProperty("carerelay.hl7.port", "2575")
            .withProperty("carerelay.hl7.tls.enabled", "true")
            .withProperty("carerelay.hl7.tls.port", "2576");
    final OperatorFailureAnalyzer analyzer = new OperatorFailureAnalyzer(environment);

    @Test
    void mllpPortTakenWhileStarting_namesThePortAndItsSetting() {
        FailureAnalysis plain = analyzer.analyze(new RuntimeCamelException(new BindException("Failed to bind to port 2575")));
        FailureAnalysis tls = analyzer.analyze(new RuntimeCamelException(new BindException("Failed to bind to port 2576")));

        assertThat(plain.getDescription()).isEqualTo("The HL7 listener cannot use port 2575 on 0.0.0.0: the port is already in use by another program.");
        assertThat(plain.getAction()).contains("CARERELAY_HL7_PORT");
        assertThat(tls.getDescription()).startsWith("The HL7 TLS listener cannot use port 2576");
        assertThat(tls.getAction()).contains("CARERELAY_HL7_TLS_PORT");
    }

    @Test
    void httpPortTakenWhileStarting_namesTheSetting() {
        FailureAnalysis http = analyzer.analyze(new IllegalStateException(new PortInUseException(8080)));

        assertThat(http.getDescription()).isEqualTo("The HTTP listener cannot use port 8080: the port is already in use by another program.");
        assertThat(http.getAction()).contains("CARERELAY_HTTP_PORT");
    }

    @Test
    void otherFailures_areLeftToSpringBoot() {
        assertThat(analyzer.analyze(new BindException("Failed to bind to port 9999"))).isNull();
        assertThat(analyzer.analyze(new IllegalStateException("something else"))).isNull();
    }
}
