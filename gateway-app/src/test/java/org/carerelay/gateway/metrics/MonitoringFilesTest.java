package org.carerelay.gateway.metrics;

import static org.assertj.core.api.Assertions.assertThat;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import java.io.Reader;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.HashSet;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.TreeSet;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import org.junit.jupiter.api.Test;
import org.yaml.snakeyaml.Yaml;

/**
 * The alert rules and the Grafana dashboard in {@code deploy/monitoring} may only query series the
 * gateway exports ({@link MetricNames#PROMETHEUS_SERIES}, which {@code MetricsIT} checks against a
 * real scrape), so renaming a meter cannot silently break an alert.
 */
class MonitoringFilesTest {

    private static final Set<String> PROMQL_WORDS = Set.of("sum", "max", "min", "avg", "count", "rate", "irate",
            "increase", "histogram_quantile", "by", "without", "on", "ignoring", "group_left", "group_right", "and", "or",
            "unless", "bool", "offset", "abs", "clamp_min", "clamp_max", "label_values", "topk", "bottomk", "time",
            "vector", "absent", "humanizeDuration");
    /** Label names of the gateway's series, Spring's HTTP timer and Prometheus' own target labels. */
    private static final Set<String> LABELS = Set.of("channel", "outcome", "stage", "route", "listener", "le", "status",
            "uri", "method", "instance", "job");
    /** Made by Prometheus itself for every target. */
    private static final Set<String> PROMETHEUS_OWN = Set.of("up");
    private static final Pattern IDENTIFIER = Pattern.compile("[a-zA-Z_:][a-zA-Z0-9_:]*");

    static Path monitoring() {
        Path fromModule = Path.of("..", "deploy", "monitoring");
        return Files.isDirectory(fromModule) ? fromModule : Path.of("deploy", "monitoring");
    }

    /** The series names a PromQL expression reads; fails on a word that is neither function, label nor series. */
    static Set<String> seriesIn(String expression) {
        String bare = expression.replaceAll("\"(?:[^\"\\\\]|\\\\.)*\"", " ") // label values
                .replaceAll("\\[[^\\]]*\\]", " ") // ranges
                .replaceAll("\\$\\{?\\w+\\}?", " ") // dashboard variables
                .replaceAll("\\b\\d+(\\.\\d+)?[a-z]*\\b", " "); // numbers and durations
        Set<String> series = new TreeSet<>();
        Matcher m = IDENTIFIER.matcher(bare);
        while (m.find()) {
            String word = m.group();
            if (PROMQL_WORDS.contains(word) || LABELS.contains(word)) {
                continue;
            }
            series.add(word);
        }
        return series;
    }

    @SuppressWarnings("unchecked")
    static List<String> alertExpressions() throws Exception {
        try (Reader reader = Files.newBufferedReader(monitoring().resolve("alerts.yml"))) {
            Map<String, Object> root = new Yaml().load(reader);
            List<String> expressions = new ArrayList<>();
            for (Map<String, Object> group : (List<Map<String, Object>>) root.get("groups")) {
                for (Map<String, Object> rule : (List<Map<String, Object>>) group.get("rules")) {
                    assertThat(rule).containsKeys("alert", "expr");
                    expressions.add(String.valueOf(rule.get("expr")));
                }
            }
            return expressions;
        }
    }

    @SuppressWarnings("unchecked")
    static List<String> alertNames() throws Exception {
        try (Reader reader = Files.newBufferedReader(monitoring().resolve("alerts.yml"))) {
            Map<String, Object> root = new Yaml().load(reader);
            return ((List<Map<String, Object>>) root.get("groups")).stream()
                    .flatMap(g -> ((List<Map<String, Object>>) g.get("rules")).stream())
                    .map(r -> String.valueOf(r.get("alert"))).toList();
        }
    }

    static JsonNode dashboard() throws Exception {
        return new ObjectMapper().readTree(monitoring().resolve("grafana-dashboard.json").toFile());
    }

    static List<String> dashboardExpressions(JsonNode dashboard) {
        List<String> expressions = new ArrayList<>();
        dashboard.findValues("expr").forEach(e -> expressions.add(e.asText()));
        for (JsonNode variable : dashboard.path("templating").path("list")) {
            if (variable.path("query").has("query")) {
                expressions.add(variable.path("query").path("query").asText());
            }
        }
        return expressions;
    }

    @Test
    void everySeriesTheAlertRulesQuery_isOneTheGatewayExports() throws Exception {
        List<String> expressions = alertExpressions();
        assertThat(expressions).hasSizeGreaterThanOrEqualTo(5);
        Set<String> used = new TreeSet<>();
        expressions.forEach(e -> used.addAll(seriesIn(e)));
        assertThat(used).isNotEmpty();
        assertThat(used).allSatisfy(name -> assertThat(name).as("series in alerts.yml")
                .isIn(union(MetricNames.PROMETHEUS_SERIES, PROMETHEUS_OWN)));
        assertThat(used).contains("carerelay_dead_letters", "carerelay_delivery_oldest_queued_age_seconds",
                "carerelay_mllp_listener_up", "carerelay_health_up", "up", "http_server_requests_seconds_count");
        assertThat(alertNames()).doesNotHaveDuplicates();
    }

    @Test
    void grafanaDashboard_isValidJson_queriesOnlyExportedSeries_throughTheDatasourceVariable() throws Exception {
        JsonNode dashboard = dashboard();
        List<String> expressions = dashboardExpressions(dashboard);
        assertThat(expressions).hasSizeGreaterThanOrEqualTo(10);
        Set<String> used = new TreeSet<>();
        expressions.forEach(e -> used.addAll(seriesIn(e)));
        assertThat(used).allSatisfy(name -> assertThat(name).as("series in grafana-dashboard.json")
                .isIn(MetricNames.PROMETHEUS_SERIES));
        assertThat(used).contains("carerelay_deliveries_total", "carerelay_delivery_latency_seconds_bucket",
                "carerelay_queue_messages", "carerelay_dead_letters", "carerelay_delivery_oldest_queued_age_seconds",
                "carerelay_route_exchanges_total", "carerelay_mllp_listener_up");

        JsonNode datasourceVariable = null;
        for (JsonNode variable : dashboard.path("templating").path("list")) {
            if ("datasource".equals(variable.path("type").asText())) {
                datasourceVariable = variable;
            }
        }
        assertThat(datasourceVariable).as("a Prometheus datasource variable").isNotNull();
        assertThat(datasourceVariable.path("query").asText()).isEqualTo("prometheus");
        String uid = "${" + datasourceVariable.path("name").asText() + "}";
        Set<Integer> ids = new HashSet<>();
        for (JsonNode panel : dashboard.path("panels")) {
            assertThat(ids.add(panel.path("id").asInt())).as("unique panel id").isTrue();
            if (!"row".equals(panel.path("type").asText())) {
                assertThat(panel.path("datasource").path("uid").asText()).as(panel.path("title").asText()).isEqualTo(uid);
            }
        }
    }

    @Test
    void expressionParser_findsSeries_andRejectsWhatItDoesNotKnow() {
        assertThat(seriesIn("sum by (channel) (rate(carerelay_deliveries_total{outcome=\"retry\"}[5m])) > 0"))
                .containsExactly("carerelay_deliveries_total");
        assertThat(seriesIn("max by (stage) (carerelay_dead_lettres) > 30 * 60")).containsExactly("carerelay_dead_lettres")
                .allSatisfy(name -> assertThat(MetricNames.PROMETHEUS_SERIES).doesNotContain(name));
    }

    private static Set<String> union(List<String> a, Set<String> b) {
        Set<String> all = new HashSet<>(a);
        all.addAll(b);
        return all;
    }
}
