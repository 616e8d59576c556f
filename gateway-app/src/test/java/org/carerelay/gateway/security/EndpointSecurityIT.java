package org.carerelay.gateway.security;

import static org.assertj.core.api.Assertions.assertThat;
import static org.awaitility.Awaitility.await;

import ca.uhn.fhir.rest.server.exceptions.BaseServerResponseException;
import com.sun.net.httpserver.HttpServer;
import java.io.IOException;
import java.io.InputStream;
import java.io.OutputStream;
import java.net.InetAddress;
import java.net.InetSocketAddress;
import java.net.ServerSocket;
import java.net.Socket;
import java.nio.charset.StandardCharsets;
import java.time.Duration;
import java.util.Arrays;
import java.util.List;
import java.util.Map;
import java.util.UUID;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.function.Consumer;
import org.carerelay.fhir.ErrorCode;
import org.carerelay.fhir.Systems;
import org.carerelay.gateway.Conversations;
import org.carerelay.gateway.FakeFhirRecipient;
import org.carerelay.gateway.FakeMllpRecipient;
import org.carerelay.gateway.GatewayIntegrationTest;
import org.carerelay.gateway.Participants;
import org.carerelay.gateway.TestPorts;
import org.carerelay.gateway.directory.EndpointHeaderMigration;
import org.hl7.fhir.r4.model.Bundle;
import org.hl7.fhir.r4.model.Endpoint;
import org.hl7.fhir.r4.model.StringType;
import org.junit.jupiter.api.Test;
import org.springframework.beans.factory.annotation.Autowired;
import org.springframework.jdbc.core.simple.JdbcClient;

/**
 * Endpoints as an attack surface: the partner credentials in {@code Endpoint.header}, endpoints
 * aimed at the gateway's own or internal addresses (SSRF, port scanning, delivery loops), and a
 * participant managing its own endpoints.
 */
class EndpointSecurityIT extends GatewayIntegrationTest {

    @Autowired
    JdbcClient jdbc;
    @Autowired
    EndpointHeaderMigration headerMigration;

    private static Endpoint endpoint(String orgId, String connectionType, String address, String... headers) {
        Endpoint endpoint = new Endpoint();
        endpoint.setStatus(Endpoint.EndpointStatus.ACTIVE);
        endpoint.setName("System " + UUID.randomUUID());
        endpoint.getConnectionType().setSystem(Systems.ENDPOINT_CONNECTION_TYPE).setCode(connectionType);
        endpoint.addPayloadType().addCoding().setSystem(Systems.ENDPOINT_PAYLOAD_TYPE).setCode("any");
        endpoint.setAddress(address);
        for (String header : headers) {
            endpoint.addHeader(header);
        }
        endpoint.getManagingOrganization().setReference("Organization/" + orgId);
        return endpoint;
    }

    private String createEndpoint(String token, Endpoint endpoint) {
        return client(token).create().resource(endpoint).execute().getId().getIdPart();
    }

    private int rowsContaining(String text) {
        return jdbc.sql("select (select count(*) from fhir_resource where content::text like :t)"
                + " + (select count(*) from fhir_resource_history where content::text like :t)")
                .param("t", "%" + text + "%").query(Integer.class).single();
    }

    private static List<String> headers(Endpoint endpoint) {
        return endpoint.getHeader().stream().map(StringType::getValue).toList();
    }

    // --- a participant manages its own endpoints -------------------------------------------------

    @Test
    void participant_deactivatesItsOwnEndpoint_butNotAnotherOrganisations() {
        Participants.Registered owner = Participants.registerNew(this, "Pflegedienst Abschalten");
        Participants.Registered other = Participants.registerNew(this, "Pflegedienst Fremd");
        String id = createEndpoint(owner.token(), endpoint(owner.organizationId(), "hl7v2-mllp", "mllp://partner.example.org:2575"));

        BaseServerResponseException foreign = org.assertj.core.api.Assertions.catchThrowableOfType(
                BaseServerResponseException.class, () -> client(other.token()).delete().resourceById("Endpoint", id).execute());
        assertThat(foreign.getStatusCode()).isEqualTo(403);
        assertThat(admin().read().resource(Endpoint.class).withId(id).execute().getStatus()).isEqualTo(Endpoint.EndpointStatus.ACTIVE);

        client(owner.token()).delete().resourceById("Endpoint", id).execute();
        assertThat(client(owner.token()).read().resource(Endpoint.class).withId(id).execute().getStatus())
                .isEqualTo(Endpoint.EndpointStatus.OFF);
    }

    // --- finding: partner credentials leak --------------------------------------------------------

    @Test
    void strangerReadingOrSearchingAPartnersEndpoint_getsNoCredentials_andNoneAreStoredInPlaintext() throws Exception {
        String secret = "s3cret-" + UUID.randomUUID();
        try (FakeFhirRecipient partnerServer = new FakeFhirRecipient()) {
            Participants.Registered partner = Participants.registerNew(this, "Klinik Geheimnis");
            Participants.Registered stranger = Participants.registerNew(this, "Praxis Neugier");
            String id = createEndpoint(partner.token(),
                    endpoint(partner.organizationId(), "hl7-fhir-rest", partnerServer.baseUrl(), "Authorization: Bearer " + secret));

            // another participant: no header at all, on read and on search
            Endpoint seenByStranger = client(stranger.token()).read().resource(Endpoint.class).withId(id).execute();
            assertThat(seenByStranger.getHeader()).isEmpty();
            assertThat(seenByStranger.getAddress()).isEqualTo(partnerServer.baseUrl());
            Bundle found = client(stranger.token()).search().forResource(Endpoint.class)
                    .where(Endpoint.ORGANIZATION.hasId("Organization/" + partner.organizationId())).returnBundle(Bundle.class).execute();
            assertThat(found.getEntry()).hasSize(1);
            assertThat(((Endpoint) found.getEntryFirstRep().getResource()).getHeader()).isEmpty();
            String raw = http("GET", "/fhir/Endpoint?organization=Organization/" + partner.organizationId(), stranger.token(), null, null).body();
            assertThat(raw).doesNotContain(secret).doesNotContain("Authorization");

            // the managing organisation and the operator see that a credential is set, not what it is
            Endpoint own = client(partner.token()).read().resource(Endpoint.class).withId(id).execute();
            assertThat(headers(own)).containsExactly("Authorization: ****");
            assertThat(headers(admin().read().resource(Endpoint.class).withId(id).execute())).containsExactly("Authorization: ****");

            // sending the masked value back keeps the stored credential
            own.setName("FHIR-Server (neu)");
            client(partner.token()).update().resource(own).execute();

            // nothing in the database holds the secret, in the current version or the history
            assertThat(rowsContaining(secret)).isZero();
            assertThat(rowsContaining("Bearer")).as("not even the scheme").isZero();

            // the delivery still sends the real credential
            String messageId = Conversations.send(client(stranger.token()), Conversations.message(null, "Rückruf erbeten", partner.organizationId()));
            await().atMost(Duration.ofSeconds(30))
                    .until(() -> "delivered".equals(Conversations.deliveryStates(client(stranger.token()), messageId).get(partner.organizationId())));
            assertThat(partnerServer.authorizations).contains("Bearer " + secret);

            // a new value replaces it
            String rotated = "rotated-" + UUID.randomUUID();
            Endpoint again = client(partner.token()).read().resource(Endpoint.class).withId(id).execute();
            again.setHeader(List.of(new StringType("Authorization: Bearer " + rotated)));
            client(partner.token()).update().resource(again).execute();
            assertThat(rowsContaining(rotated)).isZero();
            String second = Conversations.send(client(stranger.token()), Conversations.message(null, "Noch eine Frage", partner.organizationId()));
            await().atMost(Duration.ofSeconds(30))
                    .until(() -> "delivered".equals(Conversations.deliveryStates(client(stranger.token()), second).get(partner.organizationId())));
            assertThat(partnerServer.authorizations).contains("Bearer " + rotated);
        }
    }

    @Test
    void maskedHeaderWithoutAStoredValue_orAHeaderSpanningLines_isRefused() {
        Participants.Registered partner = Participants.registerNew(this, "Klinik Maske");
        for (String header : List.of("Authorization: ****", "X-Key: a\r\nHost: intern", "kein Name")) {
            BaseServerResponseException e = org.assertj.core.api.Assertions.catchThrowableOfType(BaseServerResponseException.class,
                    () -> createEndpoint(partner.token(),
                            endpoint(partner.organizationId(), "hl7-fhir-rest", "https://fhir.partner.example.org/fhir", header)));
            assertThat(e).as(header).isNotNull();
            assertThat(e.getStatusCode()).isEqualTo(422);
            assertThat(errorCodeOf(e)).isEqualTo(ErrorCode.INVALID_RESOURCE);
        }
    }

    @Test
    void plaintextHeadersOfEarlierVersions_areEncryptedOnStart() {
        Participants.Registered partner = Participants.registerNew(this, "Klinik Altbestand");
        String id = createEndpoint(partner.token(),
                endpoint(partner.organizationId(), "hl7-fhir-rest", "https://fhir.altbestand.example.org/fhir", "X-Api-Key: first"));
        String old = "legacy-" + UUID.randomUUID();
        // as an earlier version stored it: the header in plaintext, in the current row and the history
        for (String table : List.of("fhir_resource", "fhir_resource_history")) {
            jdbc.sql("update " + table + " set content = jsonb_set(content, '{header}', jsonb_build_array(:h::text))"
                    + " where resource_type = 'Endpoint' and id = :id").param("h", "X-Api-Key: " + old).param("id", id).update();
        }
        assertThat(rowsContaining(old)).isEqualTo(2);

        assertThat(headerMigration.migrate()).isGreaterThanOrEqualTo(2);

        assertThat(rowsContaining(old)).isZero();
        assertThat(headers(client(partner.token()).read().resource(Endpoint.class).withId(id).execute())).containsExactly("X-Api-Key: ****");
    }

    // --- finding: SSRF, port scanning --------------------------------------------------------------

    @Test
    void endpointAimedAtMetadataServiceOrInternalAddresses_isRefusedOnWrite() {
        Participants.Registered attacker = Participants.registerNew(this, "Praxis Scanner");
        for (String address : List.of("http://169.254.169.254/latest/meta-data", "http://10.0.0.1:8080/fhir", "http://[::1]:5432/",
                "http://0.0.0.0:8080/fhir", "http://127.0.0.1:" + port + "/actuator/health", "mllp://127.0.0.1:" + HL7_PORT,
                "mllp://192.168.1.1:2575", "mllp://100.64.0.1:2575")) {
            String type = address.startsWith("mllp") ? "hl7v2-mllp" : "hl7-fhir-rest";
            BaseServerResponseException e = org.assertj.core.api.Assertions.catchThrowableOfType(BaseServerResponseException.class,
                    () -> createEndpoint(attacker.token(), endpoint(attacker.organizationId(), type, address)));
            assertThat(e).as(address).isNotNull();
            assertThat(e.getStatusCode()).as(address).isEqualTo(422);
        }
    }

    /** Sends a message from a fresh sender to {@code recipient} and waits until its delivery is final. */
    private String sendAndAwaitFailure(Participants.Registered sender, String recipient) {
        String id = Conversations.send(client(sender.token()), Conversations.message(null, "Hallo?", recipient));
        await().atMost(Duration.ofSeconds(60))
                .until(() -> "failed".equals(Conversations.deliveryStates(client(sender.token()), id).get(recipient)));
        return id;
    }

    private void pointEndpointAt(String endpointId, String address) {
        // as stored before the egress policy existed, or written under another allow-list
        for (String table : List.of("fhir_resource")) {
            jdbc.sql("update " + table + " set content = jsonb_set(content, '{address}', to_jsonb(:a::text))"
                    + " where resource_type = 'Endpoint' and id = :id").param("a", address).param("id", endpointId).update();
        }
    }

    @Test
    void endpointAimedAtTheGatewaysOwnPortsOrAnUnspecifiedAddress_failsForGood_withoutConnecting() throws Exception {
        Participants.Registered sender = Participants.registerNew(this, "Praxis Absender");
        List<String> received = new CopyOnWriteArrayList<>();
        try (FakeFhirRecipient local = new FakeFhirRecipient();
                FakeMllpRecipient localMllp = new FakeMllpRecipient(message -> {
                    received.add(message.encode());
                    return message.generateACK();
                })) {
            Participants.Registered loopFhir = Participants.registerNew(this, "Klinik Schleife HTTP");
            Participants.Registered loopMllp = Participants.registerNew(this, "Pflege Schleife MLLP");
            Participants.Registered zeroFhir = Participants.registerNew(this, "Klinik Null HTTP");
            Participants.Registered zeroMllp = Participants.registerNew(this, "Pflege Null MLLP");
            // names pass the write check; the delivery resolves them and refuses the gateway's own ports
            createEndpoint(loopFhir.token(), endpoint(loopFhir.organizationId(), "hl7-fhir-rest", "http://localhost:" + port + "/fhir"));
            createEndpoint(loopMllp.token(), endpoint(loopMllp.organizationId(), "hl7v2-mllp", "mllp://localhost:" + HL7_PORT));
            // 0.0.0.0 reaches this host's listeners; the fakes listen on loopback, so a connection would arrive there
            String zeroFhirId = createEndpoint(zeroFhir.token(), endpoint(zeroFhir.organizationId(), "hl7-fhir-rest", local.baseUrl()));
            String zeroMllpId = createEndpoint(zeroMllp.token(), endpoint(zeroMllp.organizationId(), "hl7v2-mllp", localMllp.address()));
            pointEndpointAt(zeroFhirId, local.baseUrl().replace("127.0.0.1", "0.0.0.0"));
            pointEndpointAt(zeroMllpId, localMllp.address().replace("127.0.0.1", "0.0.0.0"));

            for (Participants.Registered target : List.of(loopFhir, loopMllp, zeroFhir, zeroMllp)) {
                String id = sendAndAwaitFailure(sender, target.organizationId());
                assertThat(Conversations.deliveryPart(client(sender.token()), id, "attempts")).as("no retries").isEqualTo("1");
                assertThat(Conversations.deliveryPart(client(sender.token()), id, "detail")).isEqualTo("partner unreachable");
                assertThat(Conversations.deliveryPart(admin(), id, "detail")).startsWith("egress refused");
            }
            assertThat(local.requests).hasValue(0);
            assertThat(received).isEmpty();
            // nothing came back in through the gateway's own listeners either
            assertThat(jdbc.sql("select count(*) from message where sender_org = ?").param(sender.organizationId())
                    .query(Integer.class).single()).isEqualTo(4);
        }
    }

    @Test
    void partnerAnsweringTheDeliveryWithARedirect_isNotFollowed_andNeitherTheMessageNorItsHeadersGoElsewhere() throws Exception {
        Participants.Registered sender = Participants.registerNew(this, "Praxis Umleitung");
        List<String> atTarget = new CopyOnWriteArrayList<>();
        AtomicInteger redirected = new AtomicInteger();
        HttpServer target = HttpServer.create(new InetSocketAddress("127.0.0.1", 0), 0);
        target.createContext("/", exchange -> {
            atTarget.add(exchange.getRequestMethod() + " " + exchange.getRequestURI() + " " + exchange.getRequestHeaders().keySet());
            exchange.sendResponseHeaders(200, -1);
            exchange.close();
        });
        HttpServer redirecting = HttpServer.create(new InetSocketAddress("127.0.0.1", 0), 0);
        redirecting.createContext("/", exchange -> {
            exchange.getRequestBody().readAllBytes();
            redirected.incrementAndGet();
            // 303 turns any method into a GET of the new location: e.g. an internal service or a metadata address
            exchange.getResponseHeaders().add("Location", "http://127.0.0.1:" + target.getAddress().getPort() + "/internal/admin");
            exchange.sendResponseHeaders(303, -1);
            exchange.close();
        });
        target.start();
        redirecting.start();
        try {
            Participants.Registered partner = Participants.registerNew(this, "Klinik Umleitung");
            createEndpoint(partner.token(), endpoint(partner.organizationId(), "hl7-fhir-rest",
                    "http://127.0.0.1:" + redirecting.getAddress().getPort() + "/fhir", "X-Partner-Key: geheim-umleitung"));
            String id = sendAndAwaitFailure(sender, partner.organizationId());

            assertThat(redirected.get()).as("the partner's server was reached").isPositive();
            assertThat(atTarget).as("requests that followed the partner's redirect").isEmpty();
            assertThat(Conversations.deliveryPart(admin(), id, "detail")).contains("HTTP 303");
        } finally {
            redirecting.stop(0);
            target.stop(0);
        }
    }

    /**
     * A partner that reads the request and then answers through {@code answer}, on a raw socket:
     * what a slow or hostile HTTP server can do that a well-behaved one would not.
     */
    private static ServerSocket rawPartner(Consumer<OutputStream> answer) throws IOException {
        ServerSocket server = new ServerSocket(0, 50, InetAddress.getByName("127.0.0.1"));
        Thread acceptor = new Thread(() -> {
            while (!server.isClosed()) {
                try {
                    Socket socket = server.accept();
                    Thread handler = new Thread(() -> {
                        try (socket) {
                            InputStream in = socket.getInputStream();
                            // the request head, then as much of the body as has come
                            byte[] buffer = new byte[65536];
                            int n = in.read(buffer);
                            while (n > 0 && in.available() > 0) {
                                n = in.read(buffer);
                            }
                            answer.accept(socket.getOutputStream());
                        } catch (IOException | RuntimeException e) {
                            // the gateway closed the connection
                        }
                    });
                    handler.setDaemon(true);
                    handler.start();
                } catch (IOException e) {
                    return;
                }
            }
        });
        acceptor.setDaemon(true);
        acceptor.start();
        return server;
    }

    private String awaitOperatorDetail(String messageId, String expected) {
        await().atMost(Duration.ofSeconds(60)).pollInterval(Duration.ofMillis(500))
                .until(() -> String.valueOf(Conversations.deliveryPart(admin(), messageId, "detail")).contains(expected));
        return Conversations.deliveryPart(admin(), messageId, "detail");
    }

    @Test
    void partnerDribblingItsAnswer_aByteASecond_doesNotHoldTheAttemptPastItsLimit() throws Exception {
        Participants.Registered sender = Participants.registerNew(this, "Praxis Geduld");
        try (ServerSocket slow = rawPartner(out -> {
            try {
                // each byte well within the 2 s read timeout, so only a limit on the whole attempt ends it
                for (byte b : "HTTP/1.1 201 Created\r\nContent-Type: application/fhir+json\r\n".getBytes(StandardCharsets.US_ASCII)) {
                    out.write(b);
                    out.flush();
                    Thread.sleep(1000);
                }
            } catch (IOException | InterruptedException e) {
                // cut off
            }
        })) {
            Participants.Registered partner = Participants.registerNew(this, "Klinik Tropfen");
            createEndpoint(partner.token(), endpoint(partner.organizationId(), "hl7-fhir-rest", "http://127.0.0.1:" + slow.getLocalPort() + "/fhir"));
            String id = Conversations.send(client(sender.token()), Conversations.message(null, "Langsam?", partner.organizationId()));
            // lease 4 x 2 s response timeout, the attempt ends one response timeout before it: after 6 s
            assertThat(awaitOperatorDetail(id, "did not complete within")).contains("6000 ms");
            assertThat(Conversations.deliveryStates(client(sender.token()), id).get(partner.organizationId())).isNotEqualTo("delivered");
        }
    }

    @Test
    void partnerAnsweringWithAnEndlessErrorBody_isReadNoFurtherThanTheCap() throws Exception {
        endlessErrorBody_isCutOff(false);
    }

    @Test
    void partnerAnsweringWithAnEndlessChunkedErrorBody_isReadNoFurtherThanTheCap() throws Exception {
        // closing a chunked body normally reads it to the end, to reuse the connection
        endlessErrorBody_isCutOff(true);
    }

    private void endlessErrorBody_isCutOff(boolean chunked) throws Exception {
        Participants.Registered sender = Participants.registerNew(this, "Praxis Flut");
        byte[] junk = new byte[64 * 1024];
        Arrays.fill(junk, (byte) 'x');
        byte[] chunkHead = (Integer.toHexString(junk.length) + "\r\n").getBytes(StandardCharsets.US_ASCII);
        byte[] chunkEnd = "\r\n".getBytes(StandardCharsets.US_ASCII);
        List<Long> writtenPerConnection = new CopyOnWriteArrayList<>();
        try (ServerSocket flooding = rawPartner(out -> {
            long written = 0;
            try {
                out.write(("HTTP/1.1 500 Server Error\r\nContent-Type: application/fhir+json\r\n"
                        + (chunked ? "Transfer-Encoding: chunked\r\n\r\n" : "Connection: close\r\n\r\n"))
                        .getBytes(StandardCharsets.US_ASCII));
                while (written < 1L << 32) { // 4 GiB: more than the test JVM's heap
                    if (chunked) {
                        out.write(chunkHead);
                    }
                    out.write(junk);
                    if (chunked) {
                        out.write(chunkEnd);
                    }
                    written += junk.length;
                }
            } catch (IOException e) {
                // the gateway stopped reading and closed the connection
            } finally {
                writtenPerConnection.add(written);
            }
        })) {
            Participants.Registered partner = Participants.registerNew(this, "Klinik Flut");
            createEndpoint(partner.token(), endpoint(partner.organizationId(), "hl7-fhir-rest", "http://127.0.0.1:" + flooding.getLocalPort() + "/fhir"));
            String id = Conversations.send(client(sender.token()), Conversations.message(null, "Viel?", partner.organizationId()));

            assertThat(awaitOperatorDetail(id, "HTTP 500")).startsWith("HTTP 500");
            await().atMost(Duration.ofSeconds(10)).until(() -> !writtenPerConnection.isEmpty());
            // 4 MiB read, plus what the two sockets' buffers hold on the way
            assertThat(writtenPerConnection).as("bytes the partner got rid of per connection").allMatch(n -> n < 64L << 20);
        }
    }

    @Test
    void deliveryStatusDetail_isTheSameForConnectionRefusedTimeoutAndRefusedByPolicy() throws Exception {
        Participants.Registered sender = Participants.registerNew(this, "Praxis Portscan");
        AtomicInteger accepted = new AtomicInteger();
        try (ServerSocket silent = new ServerSocket(0, 50, InetAddress.getByName("127.0.0.1"))) {
            Thread acceptor = new Thread(() -> {
                List<Socket> open = new CopyOnWriteArrayList<>();
                while (!silent.isClosed()) {
                    try {
                        open.add(silent.accept()); // never answers: the gateway runs into its response timeout
                        accepted.incrementAndGet();
                    } catch (IOException e) {
                        return;
                    }
                }
            });
            acceptor.setDaemon(true);
            acceptor.start();
            int closedPort = TestPorts.free();

            Participants.Registered closed = Participants.registerNew(this, "Ziel geschlossen");
            Participants.Registered timeout = Participants.registerNew(this, "Ziel stumm");
            Participants.Registered policy = Participants.registerNew(this, "Ziel Richtlinie");
            createEndpoint(closed.token(), endpoint(closed.organizationId(), "hl7-fhir-rest", "http://127.0.0.1:" + closedPort + "/fhir"));
            createEndpoint(timeout.token(), endpoint(timeout.organizationId(), "hl7-fhir-rest",
                    "http://127.0.0.1:" + silent.getLocalPort() + "/fhir"));
            createEndpoint(policy.token(), endpoint(policy.organizationId(), "hl7v2-mllp", "mllp://localhost:" + HL7_PORT));

            Map<String, String> ids = Map.of(
                    "closed", sendAndAwaitFailure(sender, closed.organizationId()),
                    "timeout", sendAndAwaitFailure(sender, timeout.organizationId()),
                    "policy", sendAndAwaitFailure(sender, policy.organizationId()));
            assertThat(accepted.get()).as("the silent partner was tried").isPositive();

            String closedDetail = Conversations.deliveryPart(client(sender.token()), ids.get("closed"), "detail");
            String timeoutDetail = Conversations.deliveryPart(client(sender.token()), ids.get("timeout"), "detail");
            String policyDetail = Conversations.deliveryPart(client(sender.token()), ids.get("policy"), "detail");
            assertThat(closedDetail).isEqualTo(timeoutDetail).isEqualTo(policyDetail).isEqualTo("partner unreachable");
            for (String detail : List.of(closedDetail, timeoutDetail, policyDetail)) {
                assertThat(detail.toLowerCase()).doesNotContain("refused").doesNotContain("timeout").doesNotContain("timed out")
                        .doesNotContain("connect").doesNotContain("127.0.0.1");
            }
            // the operator sees what happened
            assertThat(Conversations.deliveryPart(admin(), ids.get("closed"), "detail")).contains("dead-lettered").contains("connection failed");
            assertThat(Conversations.deliveryPart(admin(), ids.get("timeout"), "detail")).containsIgnoringCase("timeout");
            assertThat(Conversations.deliveryPart(admin(), ids.get("policy"), "detail")).contains("egress refused");
        }
    }
}
