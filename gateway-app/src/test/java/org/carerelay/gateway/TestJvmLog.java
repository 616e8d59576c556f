package org.carerelay.gateway;

import ch.qos.logback.classic.spi.ILoggingEvent;
import java.util.List;

/**
 * What this test JVM logs comes from more than the test that reads it: the classes that run beside
 * the others (junit-platform.properties) run servers in this JVM as well, and those log the
 * connections their tests break on purpose (a partner system closing in the middle of a frame, a
 * broker whose line is cut), at times as errors with a stack trace. A test that fails on any error in
 * the log leaves out what those servers log; they are libraries the gateway itself does not log
 * through on its own paths.
 */
public final class TestJvmLog {

    /**
     * Logger names of those servers: HAPI's HL7 server with its MLLP framing (the partner systems of
     * {@link FakeMllpRecipient}), GreenMail (SMTP servers) and an Artemis server (the broker
     * {@code BrokerOutageIT} runs in this JVM, whose line it cuts). The gateway runs no HL7 server of
     * HAPI's and no GreenMail; its MLLP sender frames with HAPI's classes and its own embedded broker
     * logs under the Artemis server's name, and a test that leaves those lines out does not see theirs
     * either.
     */
    static final List<String> SERVERS_BESIDE = List.of("ca.uhn.hl7v2.app.", "ca.uhn.hl7v2.llp.", "ca.uhn.hl7v2.protocol.",
            "com.icegreen.greenmail.", "org.apache.activemq.artemis.core.server");

    private TestJvmLog() {
    }

    /** Whether {@code event} was logged by one of the servers that test classes beside this one run. */
    public static boolean fromServersBeside(ILoggingEvent event) {
        String logger = event.getLoggerName();
        return SERVERS_BESIDE.stream().anyMatch(logger::startsWith);
    }
}
