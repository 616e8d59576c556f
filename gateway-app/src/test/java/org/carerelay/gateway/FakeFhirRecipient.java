package org.carerelay.gateway;

import com.sun.net.httpserver.HttpExchange;
import com.sun.net.httpserver.HttpServer;
import java.io.IOException;
import java.net.InetSocketAddress;
import java.nio.charset.StandardCharsets;
import java.util.List;
import java.util.UUID;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.concurrent.atomic.AtomicInteger;
import org.hl7.fhir.r4.model.Communication;

/**
 * A partner's FHIR server for tests, on a real socket: accepts POST Binary and Communication
 * (honouring If-None-Exist on the Communication identifier), can be told to fail with 503, and
 * records what it received and which Authorization header came with it.
 */
final class FakeFhirRecipient implements AutoCloseable {

    final List<Communication> communications = new CopyOnWriteArrayList<>();
    final List<String> authorizations = new CopyOnWriteArrayList<>();
    final AtomicInteger binaries = new AtomicInteger();
    /** Binaries received (FHIR JSON bodies, or raw bytes with their content type). */
    final List<org.hl7.fhir.r4.model.Binary> binaryResources = new CopyOnWriteArrayList<>();
    final AtomicInteger requests = new AtomicInteger();
    volatile int failNext;
    volatile boolean down;
    private final HttpServer server;

    FakeFhirRecipient() throws IOException {
        server = HttpServer.create(new InetSocketAddress("127.0.0.1", 0), 0);
        server.createContext("/fhir", this::handle);
        server.start();
    }

    String baseUrl() {
        return "http://127.0.0.1:" + server.getAddress().getPort() + "/fhir";
    }

    private void handle(HttpExchange exchange) throws IOException {
        requests.incrementAndGet();
        byte[] body = exchange.getRequestBody().readAllBytes();
        if (down || failNext > 0) {
            if (failNext > 0) {
                failNext--;
            }
            respond(exchange, 503, null);
            return;
        }
        String path = exchange.getRequestURI().getPath();
        authorizations.add(String.valueOf(exchange.getRequestHeaders().getFirst("Authorization")));
        if (path.endsWith("/Binary")) {
            binaries.incrementAndGet();
            String type = exchange.getRequestHeaders().getFirst("Content-Type");
            if (type != null && type.contains("fhir+json")) {
                binaryResources.add(GatewayIntegrationTest.FHIR.newJsonParser()
                        .parseResource(org.hl7.fhir.r4.model.Binary.class, new String(body, StandardCharsets.UTF_8)));
            } else { // HAPI's client posts a Binary as its raw bytes with their content type
                binaryResources.add(new org.hl7.fhir.r4.model.Binary().setContentType(type).setData(body));
            }
            respond(exchange, 201, "Binary/" + UUID.randomUUID());
        } else if (path.endsWith("/Communication")) {
            Communication c = GatewayIntegrationTest.FHIR.newJsonParser()
                    .parseResource(Communication.class, new String(body, StandardCharsets.UTF_8));
            String ifNoneExist = exchange.getRequestHeaders().getFirst("If-None-Exist");
            boolean exists = ifNoneExist != null && communications.stream().anyMatch(x -> x.getIdentifier().stream()
                    .anyMatch(i -> ifNoneExist.endsWith("|" + i.getValue())));
            if (exists) {
                respond(exchange, 200, "Communication/existing");
                return;
            }
            communications.add(c);
            respond(exchange, 201, "Communication/" + UUID.randomUUID());
        } else {
            respond(exchange, 404, null);
        }
    }

    private void respond(HttpExchange exchange, int status, String location) throws IOException {
        if (location != null) {
            exchange.getResponseHeaders().add("Location", baseUrl() + "/" + location + "/_history/1");
        }
        exchange.sendResponseHeaders(status, -1);
        exchange.close();
    }

    @Override
    public void close() {
        server.stop(0);
    }
}
