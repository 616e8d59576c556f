package org.carerelay.gateway.infra;

import java.io.IOException;
import java.net.BindException;
import java.net.InetSocketAddress;
import java.net.ServerSocket;

/**
 * Tries a listener's address and port before anything starts (the port is let go at once), so a
 * taken port or a wrong address stops the start within seconds, with the setting to change, instead
 * of after the database and the broker came up. The listener itself binds later; should another
 * program take the port in between, {@link OperatorFailureAnalyzer} reports that bind failure alike.
 */
final class PortCheck {

    private PortCheck() {
    }

    /**
     * @param listener    e.g. "HTTP", "HL7", "HL7 TLS"
     * @param host        address to bind, null or blank for every address
     * @param portSetting e.g. {@code CARERELAY_HTTP_PORT (server.port)}
     * @param hostSetting e.g. {@code CARERELAY_HL7_HOST (carerelay.hl7.host)}
     */
    static void requireFree(String listener, String host, int port, String portSetting, String hostSetting) {
        if (port <= 0) {
            return; // a random port is chosen when the listener starts
        }
        boolean anyAddress = host == null || host.isBlank();
        String where = anyAddress ? "port " + port : host + " port " + port;
        try (ServerSocket probe = new ServerSocket()) {
            probe.setReuseAddress(true); // as the listeners do: a port left in TIME_WAIT is free
            probe.bind(anyAddress ? new InetSocketAddress(port) : new InetSocketAddress(host, port));
        } catch (BindException e) {
            String reason = e.getMessage() == null ? "" : e.getMessage();
            if (!anyAddress && reason.contains("assign")) {
                throw new StartupFailure("The " + listener + " listener cannot use " + host + ": it is not an address of this machine.",
                        "Set " + hostSetting + " to one of its addresses, or to 0.0.0.0 for all of them.");
            }
            if (port < 1024 && reason.contains("denied")) {
                throw new StartupFailure("The " + listener + " listener may not use " + where + ": ports below 1024 need privileges.",
                        "Set " + portSetting + " to a port above 1023.");
            }
            throw new StartupFailure("The " + listener + " listener cannot use " + where
                    + ": the port is already in use by another program.",
                    "Stop that program, or set " + portSetting + " to a free port.");
        } catch (IOException | IllegalArgumentException | SecurityException e) {
            // e.g. an unresolvable host name: the listener reports it when it starts
        }
    }
}
