package org.carerelay.gateway.ops;

import static org.assertj.core.api.Assertions.assertThat;

import java.io.IOException;
import java.io.Reader;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.HashSet;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.concurrent.TimeUnit;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import java.util.stream.Stream;
import org.carerelay.gateway.GatewayIntegrationTest;
import org.junit.jupiter.api.Assumptions;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.yaml.snakeyaml.Yaml;

/**
 * The deployment files in {@code deploy/}: the Kubernetes manifests parse, fit together, name only
 * settings the gateway knows, and their probes answer on the running gateway; the systemd unit
 * passes {@code systemd-analyze verify} where that tool exists.
 */
class DeployManifestsIT extends GatewayIntegrationTest {

    private static final Path DEPLOY = Path.of("..", "deploy");
    private static final List<Map<String, Object>> DOCUMENTS = new ArrayList<>();

    @BeforeAll
    @SuppressWarnings("unchecked")
    static void parse() throws IOException {
        try (Stream<Path> files = Files.list(DEPLOY.resolve("kubernetes"))) {
            for (Path file : files.filter(f -> f.toString().endsWith(".yaml")).sorted().toList()) {
                try (Reader reader = Files.newBufferedReader(file)) {
                    for (Object doc : new Yaml().loadAll(reader)) {
                        assertThat(doc).as(file.toString()).isInstanceOf(Map.class);
                        DOCUMENTS.add((Map<String, Object>) doc);
                    }
                }
            }
        }
        assertThat(DOCUMENTS).extracting(d -> d.get("kind"))
                .contains("Deployment", "Service", "PodDisruptionBudget", "ConfigMap", "Secret");
    }

    @Test
    void deploymentProbes_areTheActuatorGroups_andAnswerOnTheRunningGateway() throws Exception {
        Map<String, Object> container = container();
        List<String> paths = new ArrayList<>();
        for (String probe : List.of("startupProbe", "livenessProbe", "readinessProbe")) {
            Map<String, Object> httpGet = map(map(container, probe), "httpGet");
            assertThat(httpGet.get("port")).as(probe).isEqualTo("http");
            paths.add((String) httpGet.get("path"));
        }
        assertThat(paths).contains("/actuator/health/readiness", "/actuator/health/liveness");
        HttpClient http = HttpClient.newHttpClient();
        for (String path : paths) {
            HttpResponse<String> response = http.send(HttpRequest.newBuilder(URI.create("http://127.0.0.1:" + port + path)).build(),
                    HttpResponse.BodyHandlers.ofString());
            assertThat(response.statusCode()).as(path).isEqualTo(200);
            assertThat(response.body()).contains("\"UP\"");
        }
        List<Map<String, Object>> ports = list(container, "ports");
        assertThat(ports).extracting(p -> p.get("name") + ":" + p.get("containerPort"))
                .containsExactlyInAnyOrder("http:8080", "mllp:2575", "mllps:2576");
    }

    @Test
    void deploymentRunsNonRootWithMemoryLimitsAndTheSettingsObjects() {
        Map<String, Object> pod = map(map(document("Deployment"), "spec"), "template");
        Map<String, Object> security = map(map(pod, "spec"), "securityContext");
        assertThat(security.get("runAsNonRoot")).isEqualTo(true);
        assertThat((Integer) security.get("runAsUser")).isPositive();
        Map<String, Object> resources = map(container(), "resources");
        assertThat(map(resources, "requests")).containsKeys("cpu", "memory");
        assertThat(map(resources, "limits").get("memory")).isEqualTo(map(resources, "requests").get("memory"));
        Set<String> refs = new HashSet<>();
        for (Map<String, Object> from : list(container(), "envFrom")) {
            from.forEach((kind, ref) -> refs.add(kind + ":" + ((Map<?, ?>) ref).get("name")));
        }
        assertThat(refs).containsExactlyInAnyOrder("configMapRef:" + name(document("ConfigMap")),
                "secretRef:" + name(document("Secret")));
        Set<String> secrets = new HashSet<>();
        DOCUMENTS.stream().filter(d -> "Secret".equals(d.get("kind"))).forEach(d -> secrets.add(name(d)));
        for (Map<String, Object> volume : list(map(pod, "spec"), "volumes")) {
            if (volume.get("secret") != null) {
                assertThat(secrets).contains((String) map(volume, "secret").get("secretName"));
            }
        }
        // the PDB and the Service select the Deployment's pods
        Object podLabels = map(pod, "metadata").get("labels");
        assertThat(map(map(document("PodDisruptionBudget"), "spec"), "selector").get("matchLabels")).isEqualTo(podLabels);
        assertThat(map(document("Service"), "spec").get("selector")).isEqualTo(podLabels);
    }

    @Test
    void configMapAndSecret_nameOnlySettingsTheGatewayKnows() throws IOException {
        Set<String> known = knownVariables();
        Set<String> named = new HashSet<>();
        for (Map<String, Object> doc : DOCUMENTS) {
            if ("ConfigMap".equals(doc.get("kind"))) {
                named.addAll(map(doc, "data").keySet());
            } else if ("Secret".equals(doc.get("kind")) && doc.get("stringData") != null) {
                named.addAll(map(doc, "stringData").keySet());
            }
        }
        for (String line : Files.readAllLines(DEPLOY.resolve("systemd").resolve("carerelay.env"))) {
            if (!line.isBlank() && !line.startsWith("#")) {
                named.add(line.substring(0, line.indexOf('=')));
            }
        }
        assertThat(named).contains("CARERELAY_DATA_KEY", "CARERELAY_ADMIN_TOKEN", "CARERELAY_DB_PASSWORD",
                "CARERELAY_PUBLIC_BASE_URL");
        assertThat(named).allSatisfy(variable -> assertThat(known).as("a setting of the gateway").contains(variable));
    }

    @Test
    void systemdUnit_passesSystemdAnalyzeVerify() throws Exception {
        Path unit = DEPLOY.resolve("systemd").resolve("carerelay.service").toAbsolutePath();
        String unitText = Files.readString(unit);
        assertThat(unitText).contains("User=carerelay", "EnvironmentFile=", "TimeoutStopSec=", "NoNewPrivileges=yes");
        Process which = new ProcessBuilder("sh", "-c", "command -v systemd-analyze").start();
        Assumptions.assumeTrue(which.waitFor() == 0, "systemd-analyze is not installed");
        Process verify = new ProcessBuilder("systemd-analyze", "verify", unit.toString()).redirectErrorStream(true).start();
        String output = new String(verify.getInputStream().readAllBytes(), StandardCharsets.UTF_8);
        assertThat(verify.waitFor(60, TimeUnit.SECONDS)).isTrue();
        assertThat(verify.exitValue()).as(output).isZero();
        assertThat(output).as("warnings about the unit").doesNotContain(unit.getFileName().toString());
    }

    /** Environment variables the bundled and production configuration read, plus the JVM's and Spring's. */
    private static Set<String> knownVariables() throws IOException {
        Set<String> known = new HashSet<>(Set.of("SPRING_PROFILES_ACTIVE", "JAVA_TOOL_OPTIONS"));
        Pattern variable = Pattern.compile("\\$\\{([A-Z][A-Z0-9_]+)");
        for (Path yml : List.of(Path.of("src", "main", "resources", "application.yml"),
                Path.of("..", "config", "application-production.yml"))) {
            Matcher m = variable.matcher(Files.readString(yml));
            while (m.find()) {
                known.add(m.group(1));
            }
        }
        return known;
    }

    private static Map<String, Object> container() {
        List<Map<String, Object>> containers = list(map(map(map(document("Deployment"), "spec"), "template"), "spec"), "containers");
        assertThat(containers).hasSize(1);
        return containers.get(0);
    }

    private static Map<String, Object> document(String kind) {
        return DOCUMENTS.stream().filter(d -> kind.equals(d.get("kind"))).findFirst().orElseThrow();
    }

    private static String name(Map<String, Object> doc) {
        return (String) map(doc, "metadata").get("name");
    }

    @SuppressWarnings("unchecked")
    private static Map<String, Object> map(Map<String, Object> parent, String key) {
        Object value = parent.get(key);
        assertThat(value).as(key).isInstanceOf(Map.class);
        return (Map<String, Object>) value;
    }

    @SuppressWarnings("unchecked")
    private static List<Map<String, Object>> list(Map<String, Object> parent, String key) {
        Object value = parent.get(key);
        assertThat(value).as(key).isInstanceOf(List.class);
        return (List<Map<String, Object>>) value;
    }
}
