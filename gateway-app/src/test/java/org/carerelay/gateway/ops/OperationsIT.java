package org.carerelay.gateway.ops;

import static org.assertj.core.api.Assertions.assertThat;
import static org.awaitility.Awaitility.await;

import ca.uhn.fhir.rest.client.api.IGenericClient;
import java.net.InetSocketAddress;
import java.net.ServerSocket;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.time.Duration;
import java.util.List;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicInteger;
import org.carerelay.gateway.Conversations;
import org.carerelay.gateway.FakeMllpRecipient;
import org.carerelay.gateway.GatewayProcess;
import org.carerelay.gateway.Participants;
import org.carerelay.gateway.TestPorts;
import org.junit.jupiter.api.Test;

/**
 * How the gateway starts and stops as an operator meets it, each in a JVM of its own
 * ({@link GatewayProcess}): a start that cannot succeed ends quickly with one sentence naming what
 * to change and no stack trace; SIGTERM ends the process within a container runtime's 10 s grace
 * period, also while deliveries are in flight. Prints the measured times.
 */
class OperationsIT {

    /** A start that fails must say why in a sentence, not in a stack trace. */
    private static void assertOneSentenceNoStackTrace(String output, String... mustName) {
        assertThat(output).contains("APPLICATION FAILED TO START");
        for (String name : mustName) {
            assertThat(output).contains(name);
        }
        assertThat(output.lines().filter(line -> line.startsWith("\tat ") || line.matches("^\\s+at [a-z].*")).toList())
                .as("stack trace lines in the output").isEmpty();
        assertThat(output).doesNotContain("Caused by:");
    }

    /** The failure came before any bean: neither the embedded database nor the web server had started. */
    private static void assertFailedBeforeAnythingStarted(String output) {
        assertThat(output).doesNotContain("Embedded PostgreSQL started").doesNotContain("Tomcat initialized")
                .doesNotContain("epg-lock");
    }

    private static String descriptionIn(String output) {
        List<String> lines = output.lines().toList();
        int i = lines.indexOf("Description:");
        return i < 0 || i + 2 >= lines.size() ? "(none)" : lines.get(i + 2);
    }

    @Test
    void takenHl7Port_stopsTheStartNamingThePortAndItsSetting() throws Exception {
        try (ServerSocket squatter = new ServerSocket()) {
            squatter.bind(new InetSocketAddress(0));
            int taken = squatter.getLocalPort();
            GatewayProcess gateway = new GatewayProcess("ops-hl7-port", "-Xmx512m " + GatewayProcess.TEST_JVM_OPTIONS,
                    java.nio.file.Path.of("target", "ops-hl7-port", java.util.UUID.randomUUID().toString()),
                    TestPorts.free(), taken);
            try {
                long start = System.nanoTime();
                gateway.start();
                int status = gateway.awaitExit(Duration.ofSeconds(180));
                double seconds = (System.nanoTime() - start) / 1e9;
                String output = gateway.output();
                System.out.printf("taken HL7 port %d: exit %d after %.1f s: %s%n", taken, status, seconds, descriptionIn(output));
                assertThat(status).isNotZero();
                assertOneSentenceNoStackTrace(output, "The HL7 listener cannot use port " + taken + ": the port is already in use",
                        "CARERELAY_HL7_PORT");
                assertFailedBeforeAnythingStarted(output);
                gateway.stop();
                gateway.deleteDataDir(); // kept for reading when an assertion failed
            } finally {
                gateway.stop();
            }
        }
    }

    @Test
    void takenHttpPort_stopsTheStartNamingThePortAndItsSetting() throws Exception {
        try (ServerSocket squatter = new ServerSocket()) {
            squatter.bind(new InetSocketAddress(0));
            int taken = squatter.getLocalPort();
            GatewayProcess gateway = new GatewayProcess("ops-http-port", "-Xmx512m " + GatewayProcess.TEST_JVM_OPTIONS,
                    java.nio.file.Path.of("target", "ops-http-port", java.util.UUID.randomUUID().toString()),
                    taken, TestPorts.free());
            try {
                long start = System.nanoTime();
                gateway.start();
                int status = gateway.awaitExit(Duration.ofSeconds(180));
                double seconds = (System.nanoTime() - start) / 1e9;
                String output = gateway.output();
                System.out.printf("taken HTTP port %d: exit %d after %.1f s: %s%n", taken, status, seconds, descriptionIn(output));
                assertThat(status).isNotZero();
                assertOneSentenceNoStackTrace(output, "The HTTP listener cannot use port " + taken + ": the port is already in use",
                        "CARERELAY_HTTP_PORT");
                assertFailedBeforeAnythingStarted(output);
                gateway.stop();
                gateway.deleteDataDir(); // kept for reading when an assertion failed
            } finally {
                gateway.stop();
            }
        }
    }

    @Test
    void productionProfileWithoutItsSettings_namesEveryMissingVariableInOneSentence() throws Exception {
        GatewayProcess gateway = new GatewayProcess("ops-production", "-Xmx512m " + GatewayProcess.TEST_JVM_OPTIONS,
                "--spring.profiles.active=production",
                // the production profile as shipped, from the working directory's config/ as for java -jar
                "--spring.config.additional-location=file:../config/application-production.yml");
        try {
            long start = System.nanoTime();
            gateway.start();
            int status = gateway.awaitExit(Duration.ofSeconds(60));
            double seconds = (System.nanoTime() - start) / 1e9;
            String output = gateway.output();
            System.out.printf("production profile without settings: exit %d after %.1f s: %s%n", status, seconds, descriptionIn(output));
            assertThat(status).isNotZero();
            // admin token and fax domain are given by the test; everything else the profile requires is missing
            assertOneSentenceNoStackTrace(output, "CARERELAY_DB_URL", "CARERELAY_DB_USER", "CARERELAY_DB_PASSWORD",
                    "CARERELAY_MAIL_FROM", "CARERELAY_MAIL_SMTP_HOST", "CARERELAY_DATA_KEY", "CARERELAY_CRYPTO_KEYSTORE",
                    "CARERELAY_CRYPTO_KEYSTORE_PASSWORD");
            assertThat(descriptionIn(output)).contains("CARERELAY_MAIL_FROM").doesNotContain("CARERELAY_ADMIN_TOKEN");
            assertThat(output).doesNotContain("Missing final '@domain'");
            assertFailedBeforeAnythingStarted(output);
            assertThat(seconds).as("seconds until the failed start ended").isLessThan(60);
            gateway.stop();
            gateway.deleteDataDir(); // kept for reading when an assertion failed
        } finally {
            gateway.stop();
        }
    }

    @Test
    void secondGatewayOnTheSameDataDirectory_stopsAtOnceAndLeavesTheFirstRunning() throws Exception {
        GatewayProcess first = new GatewayProcess("ops-data-dir", "-Xmx512m " + GatewayProcess.TEST_JVM_OPTIONS);
        GatewayProcess second = new GatewayProcess("ops-data-dir", "-Xmx512m " + GatewayProcess.TEST_JVM_OPTIONS, first.dataDir, TestPorts.free(),
                TestPorts.free());
        try {
            first.start();
            first.awaitUp(Duration.ofSeconds(180));

            long start = System.nanoTime();
            second.start();
            int status = second.awaitExit(Duration.ofSeconds(60));
            double seconds = (System.nanoTime() - start) / 1e9;
            String output = second.output();
            System.out.printf("second gateway on the same data directory: exit %d after %.1f s: %s%n", status, seconds,
                    descriptionIn(output));
            assertThat(status).isNotZero();
            assertOneSentenceNoStackTrace(output, "The data directory " + first.dataDir + " is in use by another CareRelay gateway",
                    "CARERELAY_DATA_DIR");
            // before: the second gateway stopped the first one's PostgreSQL as a left-over and died ~40 s later
            assertFailedBeforeAnythingStarted(output);
            assertThat(output).doesNotContain("PostgreSQL");
            assertThat(seconds).as("seconds until the second gateway gave up (JVM start included)").isLessThan(60);
            // the first gateway and its database were not disturbed
            HttpResponse<String> health = HttpClient.newHttpClient().send(
                    HttpRequest.newBuilder(URI.create(first.baseUrl() + "/actuator/health")).build(),
                    HttpResponse.BodyHandlers.ofString());
            assertThat(health.body()).contains("\"UP\"");
            Participants.create(first.client(first.adminToken), Participants.newOrganization("Praxis Nachher", "+49301234567", null));
            second.stop();
            first.stop();
            first.deleteDataDir(); // kept for reading when an assertion failed
        } finally {
            second.stop();
            first.stop();
        }
    }

    @Test
    void sigterm_exitsWithinTenSecondsIdleAndWithDeliveriesInFlight() throws Exception {
        CountDownLatch release = new CountDownLatch(1);
        AtomicInteger framesReceived = new AtomicInteger();
        // a partner system that takes its time: every delivery is in flight when SIGTERM comes
        FakeMllpRecipient slowPartner = new FakeMllpRecipient(message -> {
            framesReceived.incrementAndGet();
            release.await(20, TimeUnit.SECONDS);
            return message.generateACK();
        });
        // long response timeout, so the deliveries are still waiting for their ACK at SIGTERM
        GatewayProcess gateway = new GatewayProcess("ops-shutdown", "-Xmx768m " + GatewayProcess.TEST_JVM_OPTIONS, "--carerelay.pipeline.response-timeout=60s");
        try {
            gateway.start();
            gateway.awaitUp(Duration.ofSeconds(180));
            Duration idle = gateway.terminate(Duration.ofSeconds(30));
            String idleOutput = gateway.output();

            gateway.start();
            gateway.awaitUp(Duration.ofSeconds(180));
            Participants.Registered recipient = gateway.register("Pflegedienst Langsam", "4930" + (100_000_000 + (long) (Math.random() * 800_000_000)));
            Participants.addEndpoint(gateway.client(gateway.adminToken), recipient.organizationId(), "hl7v2-mllp",
                    slowPartner.address(), null);
            Participants.Registered sender = gateway.register("Praxis Eilig", "4940" + (100_000_000 + (long) (Math.random() * 800_000_000)));
            IGenericClient client = gateway.client(sender.token());
            String patientId = Conversations.createPatient(client, Conversations.patient("Abschied", "Anna", Conversations.kvnr()));
            Conversations.uploadConsent(client, patientId, sender.organizationId(), recipient.organizationId());
            for (int i = 0; i < 6; i++) {
                Conversations.send(client, Conversations.message(patientId, "Nachricht " + i, recipient.organizationId()));
            }
            await().atMost(Duration.ofSeconds(60)).until(() -> framesReceived.get() >= 2);
            Duration busy = gateway.terminate(Duration.ofSeconds(30));
            String busyOutput = gateway.output();

            System.out.printf("SIGTERM to exit: idle %.1f s, with %d deliveries in flight %.1f s%n",
                    idle.toMillis() / 1000.0, framesReceived.get(), busy.toMillis() / 1000.0);
            assertThat(idle).isLessThan(Duration.ofSeconds(10));
            assertThat(busy).isLessThan(Duration.ofSeconds(10));
            for (String output : List.of(idleOutput, busyOutput)) {
                assertThat(output.lines().filter(line -> line.startsWith("\tat ")).toList())
                        .as("stack trace lines while stopping").isEmpty();
                assertThat(output).doesNotContain("Connection is not available").doesNotContain("ERROR");
                // routes first, then the broker, then the pool, then the embedded database
                String stopping = output.substring(output.indexOf("Commencing graceful shutdown"));
                assertThat(stopping.indexOf("Routes stopped")).isPositive()
                        .isLessThan(stopping.indexOf("Artemis Message Broker version"));
                assertThat(stopping.indexOf("Artemis Message Broker version"))
                        .isLessThan(stopping.indexOf("carerelay - Shutdown completed"));
                assertThat(stopping.indexOf("carerelay - Shutdown completed")).isLessThan(stopping.indexOf("server stopped"));
            }
            // the embedded PostgreSQL went down with the gateway
            assertThat(gateway.stop()).isEmpty();
            gateway.deleteDataDir(); // kept for reading when an assertion failed
        } finally {
            release.countDown();
            gateway.stop();
            slowPartner.close();
        }
    }
}
