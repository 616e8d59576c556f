package org.carerelay.gateway;

import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Instant;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.TreeMap;
import org.junit.jupiter.api.Tag;
import org.junit.jupiter.api.Test;

/**
 * The one table of a bench run: runs after every benchmark (the bench profile runs the classes
 * in alphabetical order, and this name sorts after theirs), reads the rows they left in
 * {@link BenchmarkSupport#SUMMARY}, and prints them as one Markdown table with the durability settings of the database, the
 * machine and its load average at the start and at the end; the same text goes to
 * {@code target/bench-report.md}. Each row's baseline was measured in the same run.
 */
@Tag("benchmark")
class RunSummary {

    static final Path REPORT = Path.of("target", "bench-report.md");

    @Test
    void report() throws IOException {
        if (!Files.isRegularFile(BenchmarkSupport.SUMMARY)) {
            System.out.println("[bench] no benchmark left a summary row in " + BenchmarkSupport.SUMMARY.toAbsolutePath());
            return;
        }
        Map<String, String> facts = new LinkedHashMap<>();
        List<String[]> rows = new ArrayList<>();
        for (String line : Files.readAllLines(BenchmarkSupport.SUMMARY, StandardCharsets.UTF_8)) {
            String[] cells = line.split("\t", -1);
            if (cells[0].equals("fact") && cells.length >= 3) {
                facts.put(cells[1], cells[2]);
            } else if (cells[0].equals("row") && cells.length >= 7) {
                rows.add(cells);
            }
        }
        String report = markdown(facts, rows);
        System.out.println("\n" + report);
        Files.writeString(REPORT, report, StandardCharsets.UTF_8);
        System.out.println("[bench] written to " + REPORT.toAbsolutePath());
    }

    static String markdown(Map<String, String> facts, List<String[]> rows) {
        StringBuilder out = new StringBuilder();
        out.append("# CareRelay benchmarks, ").append(facts.getOrDefault("started", "?")).append(" – ").append(Instant.now()).append("\n\n");
        out.append("| path | rate | p50 | p99 | baseline (same run) | ratio |\n");
        out.append("|---|---|---|---|---|---|\n");
        for (String[] r : rows) {
            out.append("| ").append(String.join(" | ", r[1], r[2], r[3], r[4], r[5], r[6])).append(" |\n");
        }
        out.append('\n');
        out.append("- durability: ").append(facts.getOrDefault("PostgreSQL", "not read (no database benchmark ran)"))
                .append('\n');
        out.append("- machine: ").append(facts.getOrDefault("machine", "?")).append('\n');
        facts.forEach((key, value) -> {
            if (key.startsWith("warm-up ")) {
                out.append("- ").append(value).append('\n');
            }
        });
        out.append("- load average (/proc/loadavg: 1, 5, 15 min, runnable/all tasks): start ")
                .append(facts.getOrDefault("load average at start", "?")).append(", end ").append(BenchmarkSupport.loadAverage()).append('\n');
        Map<String, String> options = new TreeMap<>();
        System.getProperties().forEach((k, v) -> {
            if (k.toString().startsWith("bench.")) {
                options.put(k.toString(), v.toString());
            }
        });
        out.append("- options: ").append(options.isEmpty() ? "defaults" : options.toString()).append('\n');
        out.append("- ratio = rate ÷ baseline; FHIR and MLLP rows: INSERT = single-row INSERT commits on the same embedded PostgreSQL "
                + "at the same concurrency; HL7 rows: HAPI's PipeParser over the very messages sent; CMS rows: openssl on this machine.\n");
        return out.toString();
    }
}
