package org.carerelay.gateway.infra;

import java.net.BindException;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import org.springframework.boot.diagnostics.FailureAnalysis;
import org.springframework.boot.diagnostics.FailureAnalyzer;
import org.springframework.boot.web.server.PortInUseException;
import org.springframework.core.Ordered;
import org.springframework.core.env.Environment;

/**
 * Start failures an operator can fix, told in one sentence with the setting to change, instead of
 * a stack trace: a {@link StartupFailure}, a taken HTTP port (before Spring Boot's own analysis,
 * which does not name the setting) and a taken MLLP port (camel-mllp reports it as
 * {@code BindException: Failed to bind to port N}).
 */
public class OperatorFailureAnalyzer implements FailureAnalyzer, Ordered {

    private static final Pattern PORT = Pattern.compile("port (\\d+)");
    private final Environment environment;

    public OperatorFailureAnalyzer(Environment environment) {
        this.environment = environment;
    }

    @Override
    public int getOrder() {
        return Ordered.HIGHEST_PRECEDENCE;
    }

    @Override
    public FailureAnalysis analyze(Throwable failure) {
        for (Throwable t = failure; t != null; t = t.getCause() == t ? null : t.getCause()) {
            if (t instanceof StartupFailure startup) {
                return new FailureAnalysis(startup.getMessage(), startup.action(), failure);
            }
            if (t instanceof PortInUseException http) {
                return new FailureAnalysis("The HTTP listener cannot use port " + http.getPort()
                        + ": the port is already in use by another program.",
                        "Stop that program, or set CARERELAY_HTTP_PORT (server.port) to a free port.", failure);
            }
            if (t instanceof BindException bind && bind.getMessage() != null) {
                FailureAnalysis mllp = mllpPortTaken(bind.getMessage(), failure);
                if (mllp != null) {
                    return mllp;
                }
            }
        }
        return null;
    }

    private FailureAnalysis mllpPortTaken(String message, Throwable failure) {
        Matcher m = PORT.matcher(message);
        if (environment == null || !m.find()) {
            return null;
        }
        int port = Integer.parseInt(m.group(1));
        String host = environment.getProperty("carerelay.hl7.host", "0.0.0.0");
        boolean tls = environment.getProperty("carerelay.hl7.tls.enabled", Boolean.class, false)
                && port == environment.getProperty("carerelay.hl7.tls.port", Integer.class, -1);
        boolean plain = environment.getProperty("carerelay.hl7.enabled", Boolean.class, true)
                && port == environment.getProperty("carerelay.hl7.port", Integer.class, -1);
        if (!tls && !plain) {
            return null;
        }
        String setting = tls ? "CARERELAY_HL7_TLS_PORT (carerelay.hl7.tls.port)" : "CARERELAY_HL7_PORT (carerelay.hl7.port)";
        return new FailureAnalysis("The HL7 " + (tls ? "TLS " : "") + "listener cannot use port " + port + " on " + host
                + ": the port is already in use by another program.",
                "Stop that program, or set " + setting + " to a free port.", failure);
    }
}
