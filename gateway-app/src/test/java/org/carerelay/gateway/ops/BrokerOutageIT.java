package org.carerelay.gateway.ops;

import static org.assertj.core.api.Assertions.assertThat;
import static org.awaitility.Awaitility.await;

import ca.uhn.fhir.rest.client.api.IGenericClient;
import ca.uhn.hl7v2.util.Terser;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.UUID;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.Future;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicBoolean;
import java.util.concurrent.atomic.AtomicInteger;
import org.apache.activemq.artemis.core.config.impl.ConfigurationImpl;
import org.apache.activemq.artemis.core.server.embedded.EmbeddedActiveMQ;
import org.apache.activemq.artemis.core.settings.impl.AddressSettings;
import org.carerelay.gateway.Conversations;
import org.carerelay.gateway.FakeMllpRecipient;
import org.carerelay.gateway.GatewayProcess;
import org.carerelay.gateway.Participants;
import org.carerelay.gateway.PortForwarder;
import org.carerelay.gateway.TestPorts;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.parallel.Execution;
import org.junit.jupiter.api.parallel.ExecutionMode;

/**
 * The broker goes away under load and comes back, while the gateway keeps running in a JVM of its
 * own ({@link GatewayProcess}) against an Artemis server in this JVM, reached through a
 * {@link PortForwarder} the test cuts and restores. Messages are accepted in one database
 * transaction and handed to the broker after the commit, so while the broker is unreachable they
 * are still accepted ({@code 201}, promptly) and readiness stays UP; once it is back their open
 * event publications are handed over again and every one is delivered, within seconds.
 */
@Execution(ExecutionMode.CONCURRENT) // beside the other classes: see junit-platform.properties
class BrokerOutageIT {

    @Test
    void brokerCutUnderLoad_messagesAreStillAccepted_andDeliveredWhenItReturns() throws Exception {
        Map<String, AtomicInteger> delivered = new ConcurrentHashMap<>();
        ExecutorService pool = Executors.newFixedThreadPool(DatabaseOutageIT.LOAD_THREADS);
        AtomicBoolean loadRunning = new AtomicBoolean(true);
        int brokerPort = TestPorts.free();
        Path brokerDir = Files.createDirectories(Path.of("target", "broker-outage", UUID.randomUUID().toString()));
        EmbeddedActiveMQ broker = new EmbeddedActiveMQ().setConfiguration(new ConfigurationImpl()
                .setPersistenceEnabled(true)
                .setJournalDirectory(brokerDir.resolve("journal").toString())
                .setBindingsDirectory(brokerDir.resolve("bindings").toString())
                .setLargeMessagesDirectory(brokerDir.resolve("large").toString())
                .setPagingDirectory(brokerDir.resolve("paging").toString())
                .setSecurityEnabled(false)
                .addAcceptorConfiguration("netty", "tcp://127.0.0.1:" + brokerPort)
                // the README's address settings for an external broker
                .addAddressSetting("carerelay.#", new AddressSettings()
                        .setRedeliveryDelay(300).setRedeliveryMultiplier(2.0).setMaxRedeliveryDelay(2000)
                        .setMaxDeliveryAttempts(-1).setAutoCreateQueues(true).setAutoCreateAddresses(true)));
        broker.start();
        try (PortForwarder line = new PortForwarder(brokerPort);
                FakeMllpRecipient recipientSystem = new FakeMllpRecipient(message -> {
                    delivered.computeIfAbsent(new Terser(message).get("/TXA-12-1"), k -> new AtomicInteger()).incrementAndGet();
                    return message.generateACK();
                })) {
            GatewayProcess gateway = new GatewayProcess("broker-outage", "-Xmx512m " + GatewayProcess.TEST_JVM_OPTIONS,
                    "--carerelay.broker.url=tcp://127.0.0.1:" + line.port());
            try {
                gateway.start();
                gateway.awaitUp(Duration.ofMinutes(5)); // slow on a busy build machine
                IGenericClient admin = gateway.client(gateway.adminToken);
                Participants.Registered sender = gateway.register("Praxis Brokerausfall", DatabaseOutageIT.randomFax("4940"));
                Participants.Registered recipient = gateway.register("Pflegedienst Brokerausfall", DatabaseOutageIT.randomFax("4930"));
                Participants.addEndpoint(admin, recipient.organizationId(), "hl7v2-mllp", recipientSystem.address(), null);
                IGenericClient senderClient = gateway.client(sender.token());
                String patientId = Conversations.createPatient(senderClient,
                        Conversations.patient("Brokerausfall", "Bruno", Conversations.kvnr()));
                Conversations.uploadConsent(senderClient, patientId, sender.organizationId(), recipient.organizationId());

                List<DatabaseOutageIT.Attempt> attempts = new ArrayList<>();
                List<Future<?>> load = new ArrayList<>();
                for (int i = 0; i < DatabaseOutageIT.LOAD_THREADS; i++) {
                    load.add(pool.submit(() -> DatabaseOutageIT.sendUntilStopped(gateway, sender.token(), patientId,
                            recipient.organizationId(), loadRunning, attempts)));
                }
                await().atMost(Duration.ofSeconds(60)).until(() -> DatabaseOutageIT.accepted(attempts).size() >= 5);

                line.cut();
                long cutAt = System.nanoTime();
                await().atMost(Duration.ofSeconds(60)).until(() -> DatabaseOutageIT.acceptedAfter(attempts, cutAt) >= 10);
                assertThat(DatabaseOutageIT.status(gateway, "/actuator/health/readiness")).as("still accepting: ready").isEqualTo(200);
                line.restore();
                long restoredAt = System.nanoTime();

                await().atMost(Duration.ofSeconds(30)).until(() -> DatabaseOutageIT.acceptedAfter(attempts, restoredAt) >= 5);
                loadRunning.set(false);
                for (Future<?> f : load) {
                    f.get(2, TimeUnit.MINUTES);
                }
                List<DatabaseOutageIT.Attempt> all;
                synchronized (attempts) {
                    all = List.copyOf(attempts);
                }
                Set<String> acceptedIds = DatabaseOutageIT.accepted(all);
                assertThat(all).as("every create answered 201 while the broker was away").allMatch(a -> a.status() == 201);
                long slowest = all.stream().filter(a -> a.startNanos() >= cutAt && a.startNanos() < restoredAt)
                        .mapToLong(a -> a.endNanos() - a.startNanos()).max().orElse(0);
                await().atMost(Duration.ofMinutes(2)).pollInterval(Duration.ofMillis(500))
                        .until(() -> delivered.keySet().containsAll(acceptedIds));
                double deliveredAllSeconds = (System.nanoTime() - restoredAt) / 1e9;
                System.out.printf("broker-outage: accepted=%d (%d while the broker was away, slowest %.1f s) delivered=%d, "
                                + "all delivered %.1f s after the broker returned%n",
                        acceptedIds.size(), all.stream().filter(a -> a.startNanos() >= cutAt && a.startNanos() < restoredAt).count(),
                        slowest / 1e9, delivered.size(), deliveredAllSeconds);
                assertThat(slowest / 1e9).as("a create does not wait for the broker").isLessThan(10);
                // the line drops connections it accepts, as a proxy in front of a broker that is down does: with the
                // client's default call timeout (30 s) a reconnect attempt held the connection factory that long
                assertThat(deliveredAllSeconds).as("seconds until all were delivered after the broker returned").isLessThan(25);
            } finally {
                loadRunning.set(false);
                pool.shutdownNow();
                gateway.stop();
            }
        } finally {
            broker.stop();
        }
    }

}
