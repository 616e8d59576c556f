package org.carerelay.gateway;

import ca.uhn.fhir.parser.DataFormatException;
import ca.uhn.fhir.parser.IParser;
import com.sun.net.httpserver.HttpExchange;
import com.sun.net.httpserver.HttpServer;
import java.io.IOException;
import java.net.InetSocketAddress;
import java.net.URLDecoder;
import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.UUID;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.concurrent.atomic.AtomicInteger;
import org.hl7.fhir.r4.model.Communication;
import org.hl7.fhir.r4.model.Identifier;
import org.hl7.fhir.r4.model.OperationOutcome;

/**
 * A partner's FHIR server for tests, on a real socket, as strict as a real one where the gateway
 * relies on it: accepts POST Binary (raw bytes with their content type, or a FHIR Binary) and POST
 * Communication (FHIR JSON or XML only, otherwise 415). A conditional create is honoured as FHIR
 * defines it: {@code If-None-Exist} must be the bare search query ({@code identifier=system|value},
 * no URL, no resource type, otherwise 400); one match answers 200 with the existing resource and
 * creates nothing, several matches 412. Errors come as OperationOutcomes. Can be told to fail with
 * 503, and records what it received, which Authorization header came with it and what it refused.
 */
public final class FakeFhirRecipient implements AutoCloseable {

    public final List<Communication> communications = new CopyOnWriteArrayList<>();
    public final List<String> authorizations = new CopyOnWriteArrayList<>();
    final AtomicInteger binaries = new AtomicInteger();
    /** Binaries received (FHIR JSON bodies, or raw bytes with their content type). */
    public final List<org.hl7.fhir.r4.model.Binary> binaryResources = new CopyOnWriteArrayList<>();
    public final AtomicInteger requests = new AtomicInteger();
    /** The {@code If-None-Exist} headers received, as sent. */
    public final List<String> ifNoneExistHeaders = new CopyOnWriteArrayList<>();
    /** Requests answered with a 4xx, as "status: reason". */
    public final List<String> refusals = new CopyOnWriteArrayList<>();
    public volatile int failNext;
    /** Statuses (503, 422, …) to answer the next Communication creates with, in turn, after reading them. */
    public final java.util.Queue<Integer> communicationFailures = new java.util.concurrent.ConcurrentLinkedQueue<>();
    /** The {@code Binary/<id>} of every Binary accepted, in the order of {@link #binaryResources}. */
    public final List<String> binaryIds = new CopyOnWriteArrayList<>();
    public volatile boolean down;
    /** The server's id of each received Communication, by position in {@link #communications}. */
    private final List<String> communicationIds = new CopyOnWriteArrayList<>();
    private final Map<String, Object> locks = new ConcurrentHashMap<>();
    private final HttpServer server;

    public FakeFhirRecipient() throws IOException {
        server = HttpServer.create(new InetSocketAddress("127.0.0.1", 0), 0);
        server.createContext("/fhir", this::handle);
        server.start();
    }

    public String baseUrl() {
        return "http://127.0.0.1:" + server.getAddress().getPort() + "/fhir";
    }

    private void handle(HttpExchange exchange) throws IOException {
        requests.incrementAndGet();
        byte[] body = exchange.getRequestBody().readAllBytes();
        if (down || failNext > 0) {
            if (failNext > 0) {
                failNext--;
            }
            respond(exchange, 503, null, null);
            return;
        }
        String path = exchange.getRequestURI().getPath();
        authorizations.add(String.valueOf(exchange.getRequestHeaders().getFirst("Authorization")));
        String type = exchange.getRequestHeaders().getFirst("Content-Type");
        if (!"POST".equals(exchange.getRequestMethod())) {
            refuse(exchange, 405, "not-supported", "Only POST (create) is supported here.");
        } else if (path.endsWith("/Binary")) {
            if (type == null || type.isBlank()) {
                refuse(exchange, 400, "invalid", "A Binary upload needs a Content-Type.");
                return;
            }
            binaries.incrementAndGet();
            if (type.contains("fhir+json")) {
                binaryResources.add(GatewayIntegrationTest.FHIR.newJsonParser()
                        .parseResource(org.hl7.fhir.r4.model.Binary.class, new String(body, StandardCharsets.UTF_8)));
            } else { // HAPI's client posts a Binary as its raw bytes with their content type
                binaryResources.add(new org.hl7.fhir.r4.model.Binary().setContentType(type).setData(body));
            }
            String binaryId = "Binary/" + UUID.randomUUID();
            binaryIds.add(binaryId);
            respond(exchange, 201, binaryId, null);
        } else if (path.endsWith("/Communication")) {
            Integer failure = communicationFailures.poll();
            if (failure != null) {
                if (failure >= 500) {
                    respond(exchange, failure, null, null);
                } else {
                    refuse(exchange, failure, "invalid", "Told to refuse this Communication.");
                }
                return;
            }
            createCommunication(exchange, type, body);
        } else {
            refuse(exchange, 404, "not-found", "Unknown resource type.");
        }
    }

    private void createCommunication(HttpExchange exchange, String type, byte[] body) throws IOException {
        IParser parser = parserFor(type);
        if (parser == null) {
            refuse(exchange, 415, "not-supported", "Content-Type " + type + " is not a FHIR format.");
            return;
        }
        Communication c;
        try {
            c = parser.parseResource(Communication.class, new String(body, StandardCharsets.UTF_8));
        } catch (DataFormatException | ClassCastException e) {
            refuse(exchange, 400, "structure", "The body is not a Communication.");
            return;
        }
        // as a real server: a relative reference must resolve on this server (or to a contained resource)
        for (org.hl7.fhir.r4.model.Reference reference : GatewayIntegrationTest.FHIR.newTerser()
                .getAllPopulatedChildElementsOfType(c, org.hl7.fhir.r4.model.Reference.class)) {
            String value = reference.getReference();
            if (value != null && !value.startsWith("#") && !value.contains("://") && !value.startsWith("urn:")
                    && !communicationIds.contains(new org.hl7.fhir.r4.model.IdType(value).getIdPart())) {
                refuse(exchange, 422, "processing", "Reference " + value + " does not resolve on this server.");
                return;
            }
        }
        String ifNoneExist = exchange.getRequestHeaders().getFirst("If-None-Exist");
        Identifier wanted = null;
        if (ifNoneExist != null) {
            ifNoneExistHeaders.add(ifNoneExist);
            wanted = identifierQuery(ifNoneExist);
            if (wanted == null) {
                refuse(exchange, 400, "invalid", "If-None-Exist must be a search query such as identifier=system|value.");
                return;
            }
        }
        synchronized (locks.computeIfAbsent("Communication", k -> new Object())) {
            if (wanted != null) {
                List<String> matches = matching(wanted);
                if (matches.size() > 1) {
                    refuse(exchange, 412, "duplicate", "If-None-Exist matches more than one Communication.");
                    return;
                }
                if (matches.size() == 1) {
                    Communication existing = communications.get(communicationIds.indexOf(matches.get(0))).copy();
                    existing.setId("Communication/" + matches.get(0));
                    respond(exchange, 200, "Communication/" + matches.get(0), existing);
                    return;
                }
            }
            String id = UUID.randomUUID().toString();
            communications.add(c);
            communicationIds.add(id);
            Communication created = c.copy();
            created.setId("Communication/" + id);
            respond(exchange, 201, "Communication/" + id, created);
        }
    }

    private static IParser parserFor(String contentType) {
        String mime = contentType == null ? "" : contentType.split(";", 2)[0].trim().toLowerCase(Locale.ROOT);
        return switch (mime) {
            case "application/fhir+json", "application/json+fhir", "application/json" -> GatewayIntegrationTest.FHIR.newJsonParser();
            case "application/fhir+xml", "application/xml+fhir", "application/xml" -> GatewayIntegrationTest.FHIR.newXmlParser();
            default -> null;
        };
    }

    /**
     * The identifier an {@code If-None-Exist} value asks for, or {@code null} if the value is not a
     * bare query with exactly one parameter {@code identifier=system|value} (a URL, a resource type
     * before {@code ?}, another parameter are all refused).
     */
    static Identifier identifierQuery(String ifNoneExist) {
        String query = ifNoneExist.trim();
        if (query.isEmpty() || query.contains("?") || query.contains("#") || query.startsWith("/")
                || query.contains("&")) {
            return null;
        }
        int eq = query.indexOf('=');
        if (eq <= 0 || !"identifier".equals(query.substring(0, eq))) {
            return null;
        }
        String token = URLDecoder.decode(query.substring(eq + 1), StandardCharsets.UTF_8);
        int bar = token.indexOf('|');
        if (bar <= 0 || bar == token.length() - 1) {
            return null;
        }
        return new Identifier().setSystem(token.substring(0, bar)).setValue(token.substring(bar + 1));
    }

    private List<String> matching(Identifier wanted) {
        List<String> ids = new ArrayList<>();
        for (int i = 0; i < communications.size(); i++) {
            if (communications.get(i).getIdentifier().stream().anyMatch(x -> wanted.getSystem().equals(x.getSystem())
                    && wanted.getValue().equals(x.getValue()))) {
                ids.add(communicationIds.get(i));
            }
        }
        return ids;
    }

    private void refuse(HttpExchange exchange, int status, String issueType, String text) throws IOException {
        refusals.add(status + ": " + text);
        OperationOutcome outcome = new OperationOutcome();
        outcome.addIssue().setSeverity(OperationOutcome.IssueSeverity.ERROR)
                .setCode(OperationOutcome.IssueType.fromCode(issueType)).setDiagnostics(text);
        respond(exchange, status, null, outcome);
    }

    private void respond(HttpExchange exchange, int status, String location, org.hl7.fhir.r4.model.Resource resource)
            throws IOException {
        if (location != null) {
            exchange.getResponseHeaders().add("Location", baseUrl() + "/" + location + "/_history/1");
        }
        if (resource == null) {
            exchange.sendResponseHeaders(status, -1);
        } else {
            byte[] json = GatewayIntegrationTest.FHIR.newJsonParser().encodeResourceToString(resource).getBytes(StandardCharsets.UTF_8);
            exchange.getResponseHeaders().add("Content-Type", "application/fhir+json;charset=UTF-8");
            exchange.sendResponseHeaders(status, json.length);
            exchange.getResponseBody().write(json);
        }
        exchange.close();
    }

    @Override
    public void close() {
        server.stop(0);
    }
}
