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
     * Logger names of those servers: HAPI's HL7 server and its MLLP framing (the partner systems of
     * {@link FakeMllpRecipient}), GreenMail (SMTP servers), an Artemis server (the broker
     * {@code BrokerOutageIT} runs in this JVM) and the PostgreSQL driver (the outage tests' own
     * queries, through Spring's bridge of java.util.logging).
     */
    static final List<String> SERVERS_BESIDE = List.of("ca.uhn.hl7v2.app.", "ca.uhn.hl7v2.llp.", "com.icegreen.greenmail.",
            "org.apache.activemq.artemis.core.server", "org.postgresql.");

    private TestJvmLog() {
    }

    /** Whether {@code event} was logged by one of the servers that test classes beside this one run. */
    public static boolean fromServersBeside(ILoggingEvent event) {
        String logger = event.getLoggerName();
        return SERVERS_BESIDE.stream().anyMatch(logger::startsWith);
    }
}
