package org.carerelay.gateway.fhir;

import static org.assertj.core.api.Assertions.assertThat;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.node.ArrayNode;
import com.fasterxml.jackson.databind.node.JsonNodeFactory;
import com.fasterxml.jackson.databind.node.ObjectNode;
import java.net.URI;
import java.net.URLEncoder;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.net.http.HttpTimeoutException;
import java.nio.charset.StandardCharsets;
import java.time.Duration;
import java.util.ArrayList;
import java.util.Iterator;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Random;
import java.util.TreeMap;
import org.carerelay.fhir.ErrorCode;
import org.carerelay.fhir.OperationOutcomes;
import org.carerelay.fhir.Systems;
import org.carerelay.gateway.Conversations;
import org.carerelay.gateway.GatewayIntegrationTest;
import org.carerelay.gateway.Participants;
import org.hl7.fhir.instance.model.api.IBaseResource;
import org.hl7.fhir.r4.model.Binary;
import org.hl7.fhir.r4.model.Endpoint;
import org.hl7.fhir.r4.model.OperationOutcome;
import org.hl7.fhir.r4.model.Practitioner;
import org.hl7.fhir.r4.model.PractitionerRole;
import org.hl7.fhir.r4.model.Reference;
import org.junit.jupiter.api.Test;

/**
 * Mutation fuzzing of the FHIR API: valid resources of every type the API creates or updates are
 * mutated structurally (deleted, duplicated and swapped elements, wrong types, nested arrays,
 * NUL and lone surrogates, huge strings and numbers, empty and null values, a foreign
 * resourceType) and sent as create and update; every search parameter of every type gets odd
 * values. For a fixed time (property {@code fhir.fuzz.seconds}, 60 by default; seed
 * {@code fhir.fuzz.seed}) every answer must come within the per-request timeout, none may be a
 * 5xx, and every error body must be an OperationOutcome with a code of the catalogue. The request
 * of each problem case is kept in {@code target/fhir-fuzz/case-N.txt}; the same seed with at least
 * as many seconds sends the same cases again.
 */
class FhirMutationIT extends GatewayIntegrationTest {

    static final long SEED = Long.getLong("fhir.fuzz.seed", System.nanoTime());
    static final long SECONDS = Long.getLong("fhir.fuzz.seconds", 60);
    static final Duration REQUEST_TIMEOUT = Duration.ofSeconds(30);
    private static final ObjectMapper JSON = new ObjectMapper();
    private static final String NUL_MARK = "\u2603NUL\u2603";
    private static final String SURROGATE_MARK = "\u2603SUR\u2603";

    /** What is sent in one interaction: method, path, who, body. */
    record Target(String method, String path, String token, String seedJson) {
    }

    private final HttpClient http = HttpClient.newBuilder().connectTimeout(Duration.ofSeconds(10)).build();

    @Test
    void mutatedResourcesAndOddSearchValues_neverGet5xxOrHang_andErrorsAreOperationOutcomes() throws Exception {
        System.out.printf("FhirMutationIT: seed %d (replay with -Dfhir.fuzz.seed=%d), %d s%n", SEED, SEED, SECONDS);
        Random random = new Random(SEED);
        List<Target> writes = seeds();
        Map<String, List<String>> searches = searchParameters();
        List<String> problems = new ArrayList<>();
        Map<Integer, Integer> statuses = new TreeMap<>();
        long deadline = System.nanoTime() + Duration.ofSeconds(SECONDS).toNanos();
        int cases = 0;
        while (System.nanoTime() < deadline) {
            cases++;
            String where;
            HttpRequest request;
            if (random.nextInt(3) < 2) {
                Target target = writes.get(random.nextInt(writes.size()));
                boolean xml = random.nextInt(5) == 0;
                String kind = xml ? XML_KINDS[random.nextInt(XML_KINDS.length)] : WRITE_KINDS[random.nextInt(WRITE_KINDS.length)];
                String body = xml ? mutateXml(kind, target.seedJson(), random) : mutate(kind, target.seedJson(), random);
                where = "case " + cases + ": " + target.method() + " " + target.path() + " (" + kind + ", "
                        + body.length() + " chars)";
                request = request(target.method(), target.path(), target.token(), body,
                        xml ? "application/fhir+xml" : "application/fhir+json");
            } else {
                List<String> types = new ArrayList<>(searches.keySet());
                String type = types.get(random.nextInt(types.size()));
                List<String> params = searches.get(type);
                StringBuilder query = new StringBuilder();
                for (int n = 1 + random.nextInt(2); n > 0; n--) {
                    String name = params.get(random.nextInt(params.size()));
                    if (random.nextInt(6) == 0) {
                        name += MODIFIERS[random.nextInt(MODIFIERS.length)];
                    }
                    query.append(query.isEmpty() ? "" : "&").append(encodeName(name)).append('=')
                            .append(oddValue(random));
                }
                String path = "/fhir/" + type + "?" + query;
                where = "case " + cases + ": GET " + abbreviate(path);
                request = request("GET", path, tokenFor(type, random), null, null);
            }
            try {
                HttpResponse<String> response = http.send(request, HttpResponse.BodyHandlers.ofString());
                statuses.merge(response.statusCode(), 1, Integer::sum);
                String problem = judge(response);
                if (problem != null) {
                    problems.add(where + " -> " + response.statusCode() + " " + problem);
                    keep(cases, request);
                }
            } catch (HttpTimeoutException e) {
                problems.add(where + " -> no answer within " + REQUEST_TIMEOUT.toSeconds() + " s");
                keep(cases, request);
            }
        }
        System.out.printf("FhirMutationIT: seed %d, %d cases, statuses %s, %d problems%n", SEED, cases, statuses,
                problems.size());
        problems.stream().limit(40).forEach(p -> System.out.println("FhirMutationIT: " + p));
        assertThat(problems).as("answers with 5xx, hangs or error bodies that are not OperationOutcomes (seed " + SEED + ")")
                .isEmpty();
    }

    /** Keeps the request of a problem case in {@code target/fhir-fuzz/} so that it can be replayed alone. */
    private void keep(int caseNumber, HttpRequest request) throws java.io.IOException {
        java.nio.file.Path dir = java.nio.file.Path.of("target", "fhir-fuzz");
        java.nio.file.Files.createDirectories(dir);
        String body = lastBody;
        java.nio.file.Files.writeString(dir.resolve("case-" + caseNumber + ".txt"),
                request.method() + " " + request.uri().getRawPath()
                        + (request.uri().getRawQuery() == null ? "" : "?" + request.uri().getRawQuery()) + "\n"
                        + request.headers().firstValue("Content-Type").orElse("") + "\n\n" + (body == null ? "" : body),
                StandardCharsets.UTF_8);
    }

    /** The body of the request built last. */
    private String lastBody;

    /** Null when the answer is acceptable, otherwise what is wrong with it. */
    private static String judge(HttpResponse<String> response) {
        int status = response.statusCode();
        if (status >= 500) {
            return "server error: " + abbreviate(response.body());
        }
        if (status < 400) {
            return null;
        }
        try {
            OperationOutcome outcome = FHIR.newJsonParser().parseResource(OperationOutcome.class, response.body());
            ErrorCode code = OperationOutcomes.codeOf(outcome);
            return code == null ? "OperationOutcome without a catalogue code" : null;
        } catch (RuntimeException e) {
            return "error body is not an OperationOutcome: " + abbreviate(response.body());
        }
    }

    private HttpRequest request(String method, String path, String token, String body, String contentType) {
        // characters a URI may not hold raw are sent percent-encoded, as any client would
        lastBody = body;
        String uri = "http://127.0.0.1:" + port + path.replace("|", "%7C").replace("\\", "%5C");
        HttpRequest.Builder builder = HttpRequest.newBuilder(URI.create(uri))
                .timeout(REQUEST_TIMEOUT)
                .header("Accept", "application/fhir+json")
                .method(method, body == null ? HttpRequest.BodyPublishers.noBody()
                        : HttpRequest.BodyPublishers.ofString(body, StandardCharsets.UTF_8));
        if (token != null) {
            builder.header("Authorization", "Bearer " + token);
        }
        if (body != null) {
            builder.header("Content-Type", contentType);
        }
        return builder.build();
    }

    // ------------------------------------------------------------------ seeds

    private Participants.Registered practice;
    private Participants.Registered careService;

    private String tokenFor(String type, Random random) {
        return "AuditEvent".equals(type) || random.nextInt(3) == 0 ? ADMIN_TOKEN : practice.token();
    }

    /** Valid resources of every type that is created or updated, as created by the party that may. */
    private List<Target> seeds() throws Exception {
        practice = Participants.registerNew(this, "Praxis Fuzz");
        careService = Participants.registerNew(this, "Pflegedienst Fuzz");
        List<Target> targets = new ArrayList<>();

        var org = Participants.newOrganization(unique("Klinik Fuzz"), "+49301234567", "klinik@fuzz.example.org");
        targets.add(new Target("POST", "/fhir/Organization", ADMIN_TOKEN, json(org)));
        String orgId = Participants.create(admin(), org);
        targets.add(new Target("PUT", "/fhir/Organization/" + orgId, ADMIN_TOKEN,
                json(admin().read().resource(org.getClass()).withId(orgId).execute())));

        Practitioner practitioner = new Practitioner();
        practitioner.setActive(true);
        practitioner.addName().setFamily("Fuzzmann").addGiven("Erika");
        practitioner.addIdentifier().setSystem("https://fhir.kbv.de/NamingSystem/KBV_NS_Base_ANR").setValue("123456601");
        targets.add(new Target("POST", "/fhir/Practitioner", ADMIN_TOKEN, json(practitioner)));
        String practitionerId = createOrNull(practitioner);
        if (practitionerId != null) {
            practitioner.setId(practitionerId);
            targets.add(new Target("PUT", "/fhir/Practitioner/" + practitionerId, ADMIN_TOKEN, json(practitioner)));
        }

        PractitionerRole role = new PractitionerRole();
        role.setActive(true);
        role.setOrganization(new Reference("Organization/" + orgId));
        if (practitionerId != null) {
            role.setPractitioner(new Reference("Practitioner/" + practitionerId));
        }
        role.addCode().addCoding().setSystem("http://terminology.hl7.org/CodeSystem/practitioner-role").setCode("doctor");
        targets.add(new Target("POST", "/fhir/PractitionerRole", ADMIN_TOKEN, json(role)));
        String roleId = createOrNull(role);
        if (roleId != null) {
            role.setId(roleId);
            targets.add(new Target("PUT", "/fhir/PractitionerRole/" + roleId, ADMIN_TOKEN, json(role)));
        }

        Endpoint endpoint = new Endpoint();
        endpoint.setStatus(Endpoint.EndpointStatus.ACTIVE);
        endpoint.getConnectionType().setSystem(Systems.ENDPOINT_CONNECTION_TYPE).setCode("hl7-fhir-rest");
        endpoint.addPayloadType().addCoding().setSystem(Systems.ENDPOINT_PAYLOAD_TYPE).setCode("any");
        endpoint.setAddress("https://fhir.fuzz.example.org/fhir");
        endpoint.getManagingOrganization().setReference("Organization/" + practice.organizationId());
        targets.add(new Target("POST", "/fhir/Endpoint", practice.token(), json(endpoint)));
        String endpointId = client(practice.token()).create().resource(endpoint).execute().getId().getIdPart();
        endpoint.setId(endpointId);
        targets.add(new Target("PUT", "/fhir/Endpoint/" + endpointId, practice.token(), json(endpoint)));

        var patient = Conversations.patient("Fuzzinger", "Hilde", Conversations.kvnr());
        patient.addAddress().addLine("Teststraße 2").setPostalCode("10115").setCity("Berlin");
        targets.add(new Target("POST", "/fhir/Patient", practice.token(), json(patient)));
        String patientId = Conversations.createPatient(client(practice.token()), patient);
        patient.setId(patientId);
        targets.add(new Target("PUT", "/fhir/Patient/" + patientId, practice.token(), json(patient)));

        var consent = Conversations.consent(patientId, "%PDF-1.4 fuzz".getBytes(StandardCharsets.US_ASCII),
                "application/pdf", practice.organizationId(), careService.organizationId());
        consent.getSourceAttachment().setData(Conversations.signedScan());
        targets.add(new Target("POST", "/fhir/Consent", practice.token(), json(consent)));
        String consentId = client(practice.token()).create().resource(consent).execute().getId().getIdPart();
        consent.setId(consentId);
        targets.add(new Target("PUT", "/fhir/Consent/" + consentId, practice.token(), json(consent)));

        targets.add(new Target("POST", "/fhir/Communication", practice.token(),
                json(Conversations.message(patientId, "Bitte um Rückruf", careService.organizationId()))));
        targets.add(new Target("POST", "/fhir/Communication", practice.token(),
                json(Conversations.message(null, "Allgemeine Frage", careService.organizationId()))));

        Binary binary = new Binary();
        binary.setContentType("text/plain");
        binary.setData("Befund: unauffällig".getBytes(StandardCharsets.UTF_8));
        targets.add(new Target("POST", "/fhir/Binary", practice.token(), json(binary)));
        return targets;
    }

    private String createOrNull(IBaseResource resource) {
        try {
            return admin().create().resource(resource).execute().getId().getIdPart();
        } catch (RuntimeException e) {
            return null;
        }
    }

    private static String json(IBaseResource resource) {
        return FHIR.newJsonParser().encodeResourceToString(resource);
    }

    /** The search parameters of the README's FHIR API table, with the common ones. */
    private static Map<String, List<String>> searchParameters() {
        Map<String, List<String>> params = new LinkedHashMap<>();
        List<String> common = List.of("_count", "_offset", "_sort", "_format", "_summary", "_elements", "_id", "_lastUpdated",
                "unknown-param");
        params.put("Organization", List.of("name", "type", "address-city", "address-postalcode", "identifier", "active",
                "registered"));
        params.put("Practitioner", List.of("name", "identifier"));
        params.put("PractitionerRole", List.of("organization", "practitioner", "identifier", "role"));
        params.put("Endpoint", List.of("organization", "connection-type", "identifier", "name", "status"));
        params.put("Patient", List.of("name", "family", "given", "birthdate", "gender", "identifier"));
        params.put("Consent", List.of("patient", "status"));
        params.put("Communication", List.of("patient", "subject", "sender", "recipient", "category", "sent", "part-of",
                "unread"));
        params.put("Task", List.of("owner", "status"));
        params.put("AuditEvent", List.of("date", "agent", "entity", "subtype", "outcome"));
        params.replaceAll((type, own) -> {
            List<String> all = new ArrayList<>(own);
            all.addAll(common);
            return all;
        });
        return params;
    }

    // ------------------------------------------------------------------ mutations

    static final String[] WRITE_KINDS = {"delete", "duplicate-into-array", "swap", "wrong-type", "nested-array",
        "nul", "lone-surrogate", "huge-string", "huge-number", "empty", "null", "foreign-type", "id-mismatch",
        "unknown-element", "primitive-extension", "several", "truncate", "none"};

    static final String[] MODIFIERS = {":exact", ":contains", ":missing", ":not", ":text", ":above", ":below",
        ":Patient", ":identifier", ":of-type", ":in", ":", ":::", ".name"};

    static String mutate(String kind, String seed, Random random) throws Exception {
        if (kind.equals("truncate")) {
            return seed.substring(0, random.nextInt(seed.length()));
        }
        ObjectNode root = (ObjectNode) JSON.readTree(seed);
        if (kind.equals("several")) {
            for (int n = 2 + random.nextInt(4); n > 0; n--) {
                mutateTree(STRUCTURAL[random.nextInt(STRUCTURAL.length)], root, random);
            }
        } else {
            mutateTree(kind, root, random);
        }
        return JSON.writeValueAsString(root)
                .replace(NUL_MARK, "\\u0000")
                .replace(SURROGATE_MARK, random.nextBoolean() ? "\\ud800" : "\\udfff");
    }

    static final String[] XML_KINDS = {"xml-nul", "xml-surrogate", "xml-truncate", "xml-unknown", "xml-self-nesting",
        "xml-huge", "xml-duplicate-root", "xml-foreign-namespace", "xml-none", "json-duplicate-keys"};

    static String mutateXml(String kind, String seedJson, Random random) {
        if (kind.equals("json-duplicate-keys")) {
            return seedJson.replaceFirst("\\{", "{\"resourceType\":\"Patient\",\"id\":\"dup\",");
        }
        String xml = FHIR.newXmlParser().encodeResourceToString(FHIR.newJsonParser().parseResource(seedJson));
        List<Integer> values = new ArrayList<>();
        for (int at = xml.indexOf("value=\""); at >= 0; at = xml.indexOf("value=\"", at + 1)) {
            values.add(at + 7);
        }
        int value = values.isEmpty() ? xml.indexOf('>') : values.get(random.nextInt(values.size()));
        int rootEnd = xml.indexOf('>') + 1;
        return switch (kind) {
            case "xml-nul" -> xml.substring(0, value) + "&#0;" + xml.substring(value);
            case "xml-surrogate" -> xml.substring(0, value) + (random.nextBoolean() ? "&#xD800;" : "&#56320;") + xml.substring(value);
            case "xml-truncate" -> xml.substring(0, random.nextInt(xml.length()));
            case "xml-unknown" -> xml.substring(0, rootEnd) + "<fuzz value=\"x\"><deeper/></fuzz>" + xml.substring(rootEnd);
            case "xml-self-nesting" -> {
                int open = xml.indexOf('<', rootEnd);
                int close = xml.indexOf('>', open);
                String tag = xml.substring(open + 1, close).split("[ />]", 2)[0];
                yield xml.substring(0, open) + "<" + tag + ">" + xml.substring(open, close + 1) + "</" + tag + ">"
                        + xml.substring(close + 1);
            }
            case "xml-huge" -> xml.substring(0, value) + "y".repeat(1 + random.nextInt(300_000)) + xml.substring(value);
            case "xml-duplicate-root" -> xml + xml;
            case "xml-foreign-namespace" -> xml.replaceFirst("http://hl7.org/fhir", "urn:fuzz");
            default -> xml;
        };
    }

    private static final String[] STRUCTURAL = {"delete", "duplicate-into-array", "swap", "wrong-type", "nested-array",
        "empty", "null", "unknown-element", "primitive-extension", "huge-number"};

    private static void mutateTree(String kind, ObjectNode root, Random random) {
        List<Slot> slots = new ArrayList<>();
        collect(root, slots, true);
        if (slots.isEmpty()) {
            return;
        }
        Slot slot = slots.get(random.nextInt(slots.size()));
        JsonNodeFactory f = JsonNodeFactory.instance;
        switch (kind) {
            case "delete" -> slot.remove();
            case "duplicate-into-array" -> {
                ArrayNode array = f.arrayNode();
                array.add(slot.get().deepCopy());
                array.add(slot.get().deepCopy());
                slot.set(array);
            }
            case "swap" -> {
                Slot other = slots.get(random.nextInt(slots.size()));
                JsonNode a = slot.get().deepCopy();
                JsonNode b = other.get().deepCopy();
                if (!isAncestor(slot.get(), other.get()) && !isAncestor(other.get(), slot.get())) {
                    slot.set(b);
                    other.set(a);
                }
            }
            case "wrong-type" -> slot.set(List.<JsonNode>of(f.numberNode(42), f.textNode("x"), f.booleanNode(true),
                    f.objectNode().put("value", "x"), f.arrayNode().add("x"), f.numberNode(-1.5e300), f.objectNode(),
                    f.textNode("2026-13-45T25:61:00Z")).get(random.nextInt(8)));
            case "nested-array" -> {
                ArrayNode outer = f.arrayNode();
                ArrayNode inner = outer.addArray();
                inner.add(slot.get().deepCopy());
                if (random.nextBoolean()) {
                    inner.addArray().addObject().put("url", "http://example.org/x").put("valueString", "y");
                }
                slot.set(outer);
            }
            case "nul", "lone-surrogate" -> {
                String mark = kind.equals("nul") ? NUL_MARK : SURROGATE_MARK;
                Slot text = textSlot(slots, random);
                if (text != null) {
                    String value = text.get().asText();
                    int at = random.nextInt(value.length() + 1);
                    text.set(f.textNode(value.substring(0, at) + mark + value.substring(at)));
                } else {
                    slot.set(f.textNode(mark));
                }
            }
            case "huge-string" -> {
                Slot text = textSlot(slots, random);
                String filler = String.valueOf((char) ('a' + random.nextInt(26))).repeat(1 + random.nextInt(400_000));
                (text != null ? text : slot).set(f.textNode(filler));
            }
            case "huge-number" -> slot.set(List.<JsonNode>of(
                    f.numberNode(new java.math.BigDecimal("1e400")),
                    f.numberNode(new java.math.BigInteger("9".repeat(40))),
                    f.numberNode(new java.math.BigDecimal("-0.000000000000000000000000000000000000001")),
                    f.numberNode(Long.MAX_VALUE), f.numberNode(Long.MIN_VALUE), f.numberNode(new java.math.BigDecimal("1e-400")))
                    .get(random.nextInt(6)));
            case "empty" -> slot.set(random.nextBoolean() ? f.objectNode() : random.nextBoolean() ? f.arrayNode()
                    : f.textNode(""));
            case "null" -> slot.set(f.nullNode());
            case "foreign-type" -> root.put("resourceType", List.of("Patient", "Consent", "Organization", "Bundle",
                    "OperationOutcome", "Parameters", "NoSuchType", "").get(random.nextInt(8)));
            case "id-mismatch" -> root.put("id", List.of("other-id", "", "../x", "a".repeat(100), "%00", "Patient/1")
                    .get(random.nextInt(6)));
            case "unknown-element" -> {
                JsonNode parent = slot.parent();
                if (parent instanceof ObjectNode object) {
                    object.put("fuzz" + random.nextInt(100), "x");
                }
            }
            case "primitive-extension" -> {
                if (slot.parent() instanceof ObjectNode object && slot.name() != null) {
                    object.set("_" + slot.name(), List.<JsonNode>of(f.objectNode().put("id", "x"), f.textNode("x"),
                            f.arrayNode().add(f.nullNode()), f.objectNode().set("extension", f.arrayNode().addArray()))
                            .get(random.nextInt(4)));
                }
            }
            default -> {
                // none: the valid resource
            }
        }
    }

    private static Slot textSlot(List<Slot> slots, Random random) {
        List<Slot> texts = slots.stream().filter(s -> s.get().isTextual() && !"resourceType".equals(s.name())).toList();
        return texts.isEmpty() ? null : texts.get(random.nextInt(texts.size()));
    }

    private static boolean isAncestor(JsonNode a, JsonNode b) {
        if (a == b) {
            return true;
        }
        for (Iterator<JsonNode> it = a.elements(); it.hasNext(); ) {
            if (isAncestor(it.next(), b)) {
                return true;
            }
        }
        return false;
    }

    /** A place in the tree: a field of an object or an item of an array. */
    record Slot(JsonNode parent, String name, int index) {
        JsonNode get() {
            return name != null ? parent.get(name) : parent.get(index);
        }

        void set(JsonNode value) {
            if (name != null) {
                ((ObjectNode) parent).set(name, value);
            } else {
                ((ArrayNode) parent).set(index, value);
            }
        }

        void remove() {
            if (name != null) {
                ((ObjectNode) parent).remove(name);
            } else {
                ((ArrayNode) parent).set(index, JsonNodeFactory.instance.nullNode());
            }
        }
    }

    private static void collect(JsonNode node, List<Slot> slots, boolean root) {
        if (node instanceof ObjectNode object) {
            for (Map.Entry<String, JsonNode> field : List.copyOf(object.properties())) {
                if (!(root && field.getKey().equals("resourceType"))) {
                    slots.add(new Slot(object, field.getKey(), -1));
                }
                collect(field.getValue(), slots, false);
            }
        } else if (node instanceof ArrayNode array) {
            for (int i = 0; i < array.size(); i++) {
                slots.add(new Slot(array, null, i));
                collect(array.get(i), slots, false);
            }
        }
    }

    // ------------------------------------------------------------------ odd search values

    static final String[] ODD_VALUES = {"%00", "a%00b", "%ED%A0%80", "%EF%BF%BF", "%C0%80", "%FF%FE", "",
        "%20", "-1", "0", "99999999999999999999999", "1e400", "NaN", "true", "maybe", "eq", "ge", "le2026", "gt",
        "ne1941-03-17", "sa2026-13-45", "1941-02-30", "19410317", "2026-12-03T25:00:00Z", "9999-12-31T23:59:59Z",
        "-0001-01-01", "|", "||", "a|b|c", "%7C%7C%7C", "http://fhir.de/sid/gkv/kvid-10%7C", "%7CA123456789",
        "Patient/", "Organization/..", "..%2F..%2Fetc%2Fpasswd", "Patient%2F1%2F_history%2F1", "'%20OR%201%3D1--",
        "%27%3B%20drop%20table%20fhir_resource%3B--", "%5C", "%25", "%25%25", "*", "%2A", "_", "%5F%25", "%E2%80%AE",
        "%F0%9F%98%80", "%C3%A4%C3%B6%C3%BC", "a,b,c", ",,,", "a%2C%2C", "null", "%7B%7D", "%5B%5D", "Organization/x%00",
        "http://x", "urn:uuid:1", "%0D%0AX-Injected:%201", "%3Cscript%3E"};

    static String oddValue(Random random) {
        if (random.nextInt(12) == 0) {
            return "x".repeat(1 + random.nextInt(3_000)); // the request line stays under the web server's 8 KiB
        }
        String value = ODD_VALUES[random.nextInt(ODD_VALUES.length)];
        return random.nextInt(8) == 0 ? value + ODD_VALUES[random.nextInt(ODD_VALUES.length)] : value;
    }

    private static String encodeName(String name) {
        return URLEncoder.encode(name, StandardCharsets.UTF_8).replace("%3A", ":");
    }

    private static String abbreviate(String text) {
        if (text == null) {
            return "";
        }
        String flat = text.replace('\n', ' ');
        return flat.length() > 300 ? flat.substring(0, 300) + "…" : flat;
    }
}
