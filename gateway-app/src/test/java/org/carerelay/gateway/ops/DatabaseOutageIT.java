package org.carerelay.gateway.ops;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.catchThrowableOfType;
import static org.awaitility.Awaitility.await;

import ca.uhn.fhir.context.FhirContext;
import ca.uhn.fhir.rest.client.api.IGenericClient;
import ca.uhn.fhir.rest.server.exceptions.BaseServerResponseException;
import ca.uhn.hl7v2.util.Terser;
import io.zonky.test.db.postgres.embedded.EmbeddedPostgres;
import java.io.IOException;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.sql.Connection;
import java.sql.PreparedStatement;
import java.sql.ResultSet;
import java.sql.SQLException;
import java.time.Duration;
import java.util.ArrayList;
import java.util.HashSet;
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
import org.carerelay.gateway.Conversations;
import org.carerelay.gateway.FakeMllpRecipient;
import org.carerelay.gateway.GatewayProcess;
import org.carerelay.gateway.Mllp;
import org.carerelay.gateway.Participants;
import org.carerelay.gateway.PortForwarder;
import org.carerelay.gateway.hl7.Hl7InboundIT;
import org.hl7.fhir.r4.model.Communication;
import org.hl7.fhir.r4.model.OperationOutcome;
import org.hl7.fhir.r4.model.Patient;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.parallel.Execution;
import org.junit.jupiter.api.parallel.ExecutionMode;

/**
 * The database goes away under load and comes back, while the gateway keeps running
 * in a JVM of its own ({@link GatewayProcess}). The database is a PostgreSQL server this test
 * starts, reached through a {@link PortForwarder} the test cuts and restores.
 *
 * <p>While the database is unreachable: FHIR reads, creates and attachment uploads get
 * {@code 503 service-unavailable} with {@code Retry-After} within seconds, MLLP senders an
 * {@code AR} with ERR {@code service-unavailable} (never {@code AA}), readiness is DOWN. After it
 * returns the same gateway accepts again, every {@code 201} is stored with its message-accepted event and
 * delivered, and a refused HL7 message sent again is accepted once.
 */
@Execution(ExecutionMode.CONCURRENT) // beside the other classes: see junit-platform.properties
class DatabaseOutageIT {

    private static final FhirContext FHIR = FhirContext.forR4Cached();
    private static final HttpClient HTTP = HttpClient.newBuilder().version(HttpClient.Version.HTTP_1_1)
            .connectTimeout(Duration.ofSeconds(5)).build();
    static final int LOAD_THREADS = 3;

    /** The outcome of one create under load, with its start and end (for requests in flight at the cut). */
    record Attempt(long startNanos, long endNanos, int status, String code, String id) {
    }

    @Test
    void databaseCutUnderLoad_apiAnswers503WithRetryAfter_mllpGetsNoAA_andTheSameGatewayServesAgain() throws Exception {
        Map<String, AtomicInteger> delivered = new ConcurrentHashMap<>();
        ExecutorService pool = Executors.newFixedThreadPool(LOAD_THREADS);
        AtomicBoolean loadRunning = new AtomicBoolean(true);
        try (EmbeddedPostgres postgres = EmbeddedPostgres.builder().start();
                PortForwarder line = new PortForwarder(postgres.getPort());
                FakeMllpRecipient recipientSystem = new FakeMllpRecipient(message -> {
                    delivered.computeIfAbsent(new Terser(message).get("/TXA-12-1"), k -> new AtomicInteger()).incrementAndGet();
                    return message.generateACK();
                })) {
            GatewayProcess gateway = new GatewayProcess("db-outage", "-Xmx512m " + GatewayProcess.TEST_JVM_OPTIONS,
                    "--carerelay.db.url=jdbc:postgresql://127.0.0.1:" + line.port() + "/postgres",
                    "--carerelay.db.user=postgres", "--carerelay.db.password=unused");
            try {
                gateway.start();
                gateway.awaitUp(Duration.ofMinutes(5)); // slow on a busy build machine
                IGenericClient admin = gateway.client(gateway.adminToken);
                Participants.Registered sender = gateway.register("Praxis Ausfall", randomFax("4940"));
                Participants.Registered recipient = gateway.register("Pflegedienst Ausfall", randomFax("4930"));
                Participants.addEndpoint(admin, recipient.organizationId(), "hl7v2-mllp", recipientSystem.address(), null);
                String senderAlias = "DBO" + UUID.randomUUID().toString().substring(0, 6).toUpperCase();
                String recipientAlias = "DBR" + UUID.randomUUID().toString().substring(0, 6).toUpperCase();
                Participants.addHl7Alias(admin, sender.organizationId(), senderAlias);
                Participants.addHl7Alias(admin, recipient.organizationId(), recipientAlias);
                IGenericClient senderClient = gateway.client(sender.token());
                String kvnr = Conversations.kvnr();
                String patientId = Conversations.createPatient(senderClient, Conversations.patient("Ausfall", "Anna", kvnr));
                Conversations.uploadConsent(senderClient, patientId, sender.organizationId(), recipient.organizationId());

                List<Attempt> attempts = new ArrayList<>();
                List<Future<?>> load = new ArrayList<>();
                for (int i = 0; i < LOAD_THREADS; i++) {
                    load.add(pool.submit(() -> sendUntilStopped(gateway, sender.token(), patientId,
                            recipient.organizationId(), loadRunning, attempts)));
                }
                await().atMost(Duration.ofSeconds(60)).until(() -> accepted(attempts).size() >= 5);

                // --- the database goes away
                line.cut();
                long cutAt = System.nanoTime();

                // FHIR read, plain HTTP: 503, Retry-After, an OperationOutcome with the stable code, within seconds
                long t0 = System.nanoTime();
                HttpResponse<String> read = HTTP.send(get(gateway, "/fhir/Patient/" + patientId, sender.token()),
                        HttpResponse.BodyHandlers.ofString());
                double readSeconds = (System.nanoTime() - t0) / 1e9;
                assertUnavailable(read);
                assertThat(readSeconds).as("503 within a few seconds, not after a 30 s pool timeout").isLessThan(12);

                // FHIR create, plain HTTP
                HttpResponse<String> create = HTTP.send(HttpRequest.newBuilder(URI.create(gateway.baseUrl() + "/fhir/Communication"))
                        .header("Authorization", "Bearer " + sender.token())
                        .header("Content-Type", "application/fhir+json")
                        .timeout(Duration.ofSeconds(60))
                        .POST(HttpRequest.BodyPublishers.ofString(FHIR.newJsonParser().encodeResourceToString(
                                Conversations.message(patientId, "Während des Ausfalls", recipient.organizationId()))))
                        .build(), HttpResponse.BodyHandlers.ofString());
                assertUnavailable(create);

                // FHIR read with HAPI's client
                BaseServerResponseException refused = catchThrowableOfType(BaseServerResponseException.class,
                        () -> senderClient.read().resource(Patient.class).withId(patientId).execute());
                assertThat(refused.getStatusCode()).isEqualTo(503);
                assertThat(codeOf((OperationOutcome) refused.getOperationOutcome())).isEqualTo("service-unavailable");

                // an attachment upload is authenticated by a filter before HAPI: the same 503, not an error page
                HttpResponse<String> upload = HTTP.send(HttpRequest.newBuilder(URI.create(gateway.baseUrl() + "/fhir/Binary"))
                        .header("Authorization", "Bearer " + sender.token())
                        .header("Content-Type", "application/pdf")
                        .timeout(Duration.ofSeconds(60))
                        .POST(HttpRequest.BodyPublishers.ofByteArray(Conversations.signedScan()))
                        .build(), HttpResponse.BodyHandlers.ofString());
                assertUnavailable(upload);

                // MLLP: an ADT and an MDM get AR with ERR service-unavailable, never AA
                String adtControlId = "ADO" + UUID.randomUUID().toString().substring(0, 8);
                String mdmControlId = "MDO" + UUID.randomUUID().toString().substring(0, 8);
                String adt = Hl7InboundIT.adt(senderAlias, adtControlId, Conversations.kvnr());
                String adtAck = Mllp.exchange(gateway.hl7Port, adt.getBytes(Hl7InboundIT.LATIN1), Hl7InboundIT.LATIN1, 60_000);
                String mdm = Hl7InboundIT.mdm(senderAlias, recipientAlias, mdmControlId, kvnr, null);
                String mdmAck = Mllp.exchange(gateway.hl7Port, mdm.getBytes(Hl7InboundIT.LATIN1), Hl7InboundIT.LATIN1, 60_000);
                for (String[] ack : new String[][] {{adtAck, adtControlId}, {mdmAck, mdmControlId}}) {
                    assertThat(ack[0]).as("an ACK, not a closed connection").isNotNull();
                    assertThat(Mllp.field(ack[0], "MSA", 1)).isEqualTo("AR");
                    assertThat(Mllp.field(ack[0], "MSA", 2)).isEqualTo(ack[1]);
                    assertThat(Mllp.field(ack[0], "ERR", 5)).startsWith("service-unavailable^");
                    // the refusal leaves its trace for the operator: sender and MSH-10, no patient data
                    assertThat(gateway.output()).contains("HL7 message MSH-10 " + ack[1] + " from sender " + senderAlias);
                }
                assertThat(gateway.output()).doesNotContain("Müßig");

                // readiness DOWN (a load balancer stops sending), liveness UP (nothing restarts the gateway)
                long readinessPollFrom = System.nanoTime();
                await().atMost(Duration.ofSeconds(30)).pollInterval(Duration.ofMillis(500))
                        .until(() -> status(gateway, "/actuator/health/readiness") == 503);
                double readinessDownSeconds = (System.nanoTime() - readinessPollFrom) / 1e9;
                assertThat(status(gateway, "/actuator/health/liveness")).isEqualTo(200);

                // the load meets the outage too
                await().atMost(Duration.ofSeconds(60)).until(() -> refusedDuring(attempts, cutAt) >= LOAD_THREADS);

                // --- the database comes back
                line.restore();
                long restoredAt = System.nanoTime();
                await().atMost(Duration.ofSeconds(60)).pollInterval(Duration.ofMillis(250))
                        .until(() -> status(gateway, "/actuator/health/readiness") == 200);
                double readyAgainSeconds = (System.nanoTime() - restoredAt) / 1e9;
                await().atMost(Duration.ofSeconds(60)).until(() -> acceptedAfter(attempts, restoredAt) >= 5);
                double firstCreateSeconds = (firstAcceptedAfter(attempts, restoredAt) - restoredAt) / 1e9;

                // the refused MDM, sent again with the same MSH-10, is accepted once; the ADT too
                String mdmAgain = Mllp.exchange(gateway.hl7Port, mdm.getBytes(Hl7InboundIT.LATIN1), Hl7InboundIT.LATIN1, 60_000);
                assertThat(Mllp.field(mdmAgain, "MSA", 1)).isEqualTo("AA");
                String adtAgain = Mllp.exchange(gateway.hl7Port, adt.getBytes(Hl7InboundIT.LATIN1), Hl7InboundIT.LATIN1, 60_000);
                assertThat(Mllp.field(adtAgain, "MSA", 1)).isEqualTo("AA");

                loadRunning.set(false);
                for (Future<?> f : load) {
                    f.get(2, TimeUnit.MINUTES);
                }

                List<Attempt> all;
                synchronized (attempts) {
                    all = List.copyOf(attempts);
                }
                Set<String> acceptedIds = accepted(all);
                List<Attempt> otherFailures = all.stream().filter(a -> a.status() != 201 && a.status() != 503).toList();
                assertThat(otherFailures).as("no 500 or other error, only 201 or 503").isEmpty();
                assertThat(all.stream().filter(a -> a.status() == 503))
                        .allMatch(a -> "service-unavailable".equals(a.code()));

                try (Connection db = postgres.getPostgresDatabase().getConnection()) {
                    Set<String> stored = strings(db, "select id from message where sender_org = ? and subject_patient = ?",
                            sender.organizationId(), patientId);
                    // every 201 is stored; besides, at most the requests in flight at the cut (a commit whose
                    // answer was lost on the cut line is stored and still answered 503), plus the MDM
                    long inFlightAtCut = all.stream().filter(a -> a.startNanos() < cutAt && a.endNanos() > cutAt
                            && a.status() != 201).count();
                    assertThat(stored).containsAll(acceptedIds);
                    assertThat(stored.size()).isBetween(acceptedIds.size() + 1, acceptedIds.size() + 1 + (int) inFlightAtCut);
                    // every stored message is handed to the pipeline: its event publication (stored with it)
                    // is completed, and fan-out has written its ledger
                    await().atMost(Duration.ofMinutes(2)).pollInterval(Duration.ofMillis(500)).until(() -> strings(db,
                            "select m.id from message m where m.sender_org = ? and not exists "
                                    + "(select 1 from delivery d where d.message_id = m.id)", sender.organizationId()).isEmpty());
                    assertThat(count(db, "select count(*) from hl7_inbound where control_id = ?", mdmControlId)).isEqualTo(1);
                    assertThat(count(db, "select count(*) from hl7_inbound where control_id = ?", adtControlId)).isEqualTo(1);
                    await().atMost(Duration.ofMinutes(2)).pollInterval(Duration.ofMillis(500))
                            .until(() -> delivered.keySet().containsAll(stored));
                }
                long duplicates = delivered.values().stream().filter(n -> n.get() > 1).count();
                System.out.printf("db-outage: accepted=%d refused-503=%d delivered=%d; a read got its 503 after %.1f s; "
                                + "readiness DOWN %.1f s after it was asked, UP %.1f s after the database returned, first 201 after %.1f s%n",
                        acceptedIds.size(), all.stream().filter(a -> a.status() == 503).count(), delivered.size(),
                        readSeconds, readinessDownSeconds, readyAgainSeconds, firstCreateSeconds);
                assertThat(duplicates).isZero();
                assertThat(gateway.logTail(20000)).doesNotContain("Unexpected server error");
            } finally {
                loadRunning.set(false);
                pool.shutdownNow();
                gateway.stop();
            }
        }
    }

    /** Creates messages until {@code running} is cleared, recording every answer. */
    static void sendUntilStopped(GatewayProcess gateway, String token, String patientId, String recipient,
            AtomicBoolean running, List<Attempt> attempts) {
        String json = FHIR.newJsonParser().encodeResourceToString(Conversations.message(patientId, "Nachricht", recipient));
        while (running.get()) {
            long start = System.nanoTime();
            Attempt attempt;
            try {
                HttpResponse<String> response = HTTP.send(HttpRequest.newBuilder(URI.create(gateway.baseUrl() + "/fhir/Communication"))
                        .header("Authorization", "Bearer " + token)
                        .header("Content-Type", "application/fhir+json")
                        .timeout(Duration.ofSeconds(60))
                        .POST(HttpRequest.BodyPublishers.ofString(json)).build(), HttpResponse.BodyHandlers.ofString());
                String id = null;
                String code = null;
                if (response.statusCode() == 201) {
                    id = FHIR.newJsonParser().parseResource(Communication.class, response.body()).getIdElement().getIdPart();
                } else {
                    try {
                        code = codeOf(FHIR.newJsonParser().parseResource(OperationOutcome.class, response.body()));
                    } catch (RuntimeException e) {
                        code = "not an OperationOutcome";
                    }
                }
                attempt = new Attempt(start, System.nanoTime(), response.statusCode(), code, id);
            } catch (IOException e) {
                attempt = new Attempt(start, System.nanoTime(), -1, e.toString(), null);
            } catch (InterruptedException e) {
                return;
            }
            synchronized (attempts) {
                attempts.add(attempt);
            }
            if (attempt.status() != 201) {
                try {
                    Thread.sleep(200); // as a client honouring Retry-After would, only quicker
                } catch (InterruptedException e) {
                    return;
                }
            }
        }
    }

    static Set<String> accepted(List<Attempt> attempts) {
        synchronized (attempts) {
            Set<String> ids = new HashSet<>();
            attempts.stream().filter(a -> a.status() == 201).forEach(a -> ids.add(a.id()));
            return ids;
        }
    }

    static long acceptedAfter(List<Attempt> attempts, long since) {
        synchronized (attempts) {
            return attempts.stream().filter(a -> a.status() == 201 && a.startNanos() >= since).count();
        }
    }

    private static long firstAcceptedAfter(List<Attempt> attempts, long since) {
        synchronized (attempts) {
            return attempts.stream().filter(a -> a.status() == 201 && a.startNanos() >= since)
                    .mapToLong(Attempt::endNanos).min().orElse(since);
        }
    }

    private static long refusedDuring(List<Attempt> attempts, long since) {
        synchronized (attempts) {
            return attempts.stream().filter(a -> a.status() == 503 && a.startNanos() >= since).count();
        }
    }

    private static void assertUnavailable(HttpResponse<String> response) {
        assertThat(response.statusCode()).as(response.body()).isEqualTo(503);
        String retryAfter = response.headers().firstValue("Retry-After").orElse("");
        assertThat(retryAfter).matches("[1-9][0-9]*");
        assertThat(response.headers().firstValue("Content-Type").orElse("")).startsWith("application/fhir+json");
        OperationOutcome outcome = FHIR.newJsonParser().parseResource(OperationOutcome.class, response.body());
        assertThat(codeOf(outcome)).isEqualTo("service-unavailable");
        assertThat(outcome.getIssueFirstRep().getCode()).isEqualTo(OperationOutcome.IssueType.TRANSIENT);
    }

    private static String codeOf(OperationOutcome outcome) {
        return outcome.getIssueFirstRep().getDetails().getCodingFirstRep().getCode();
    }

    private static HttpRequest get(GatewayProcess gateway, String path, String token) {
        HttpRequest.Builder request = HttpRequest.newBuilder(URI.create(gateway.baseUrl() + path)).timeout(Duration.ofSeconds(60));
        if (token != null) {
            request.header("Authorization", "Bearer " + token);
        }
        return request.GET().build();
    }

    static int status(GatewayProcess gateway, String path) {
        try {
            return HTTP.send(get(gateway, path, null), HttpResponse.BodyHandlers.discarding()).statusCode();
        } catch (IOException e) {
            return -1;
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            return -1;
        }
    }

    static String randomFax(String prefix) {
        return prefix + (100_000_000 + (long) (Math.random() * 800_000_000));
    }

    private static Set<String> strings(Connection db, String sql, Object... params) throws SQLException {
        try (PreparedStatement statement = db.prepareStatement(sql)) {
            for (int i = 0; i < params.length; i++) {
                statement.setObject(i + 1, params[i]);
            }
            Set<String> out = new HashSet<>();
            try (ResultSet rs = statement.executeQuery()) {
                while (rs.next()) {
                    out.add(rs.getString(1));
                }
            }
            return out;
        }
    }

    private static long count(Connection db, String sql, Object... params) throws SQLException {
        try (PreparedStatement statement = db.prepareStatement(sql)) {
            for (int i = 0; i < params.length; i++) {
                statement.setObject(i + 1, params[i]);
            }
            try (ResultSet rs = statement.executeQuery()) {
                rs.next();
                return rs.getLong(1);
            }
        }
    }
}
