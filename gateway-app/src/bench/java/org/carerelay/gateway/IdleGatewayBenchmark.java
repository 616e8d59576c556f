package org.carerelay.gateway;

import static org.assertj.core.api.Assertions.assertThat;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Locale;
import java.util.Optional;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.Tag;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;

/**
 * Idle gateway benchmark, not a test: a gateway in a JVM of its own ({@link GatewayProcess}, the
 * heap limit of the documented {@code java -jar} command, embedded PostgreSQL and Artemis as
 * shipped, its own data directory) is started; the time from the start of the {@code java}
 * process to {@code /actuator/health} UP is the time to ready. After {@code bench.idle-seconds}
 * (30) without requests, the memory it holds is read from {@code /proc/<pid>/smaps_rollup}: the
 * JVM's RSS, and the PSS of the embedded PostgreSQL (the postmaster named in
 * {@code <data-dir>/postgres/postmaster.pid} and all its processes; PSS, because they share their
 * code and shared buffers). Runs early in a bench run (the classes run in alphabetical order),
 * before the throughput benchmarks load the machine. Linux only (without {@code /proc} it reports
 * the time to ready alone).
 *
 * <p>Options: {@code -Dbench.idle-seconds} (30), {@code -Dbench.idle-xmx} ({@code -Xmx1g}).
 */
@Tag("benchmark")
class IdleGatewayBenchmark {

    private static final Duration IDLE = BenchmarkSupport.seconds("bench.idle-seconds", 30);
    private static final String XMX = System.getProperty("bench.idle-xmx", "-Xmx1g");

    @Test
    @Timeout(value = 10, unit = TimeUnit.MINUTES)
    void idleGateway() throws Exception {
        BenchmarkSupport.summaryStart();
        GatewayProcess gateway = new GatewayProcess("idle-bench", XMX);
        try {
            long start = System.nanoTime();
            gateway.start();
            gateway.awaitUp(Duration.ofMinutes(3));
            double ready = (System.nanoTime() - start) / 1e9;
            Thread.sleep(IDLE.toMillis());

            Optional<Long> jvmRss = kib(gateway.pid(), "Rss");
            Optional<Long> jvmPss = kib(gateway.pid(), "Pss");
            List<Long> postgres = postgresProcesses(gateway.dataDir);
            long pgPss = 0;
            for (long pid : postgres) {
                pgPss += kib(pid, "Pss").orElse(0L);
            }
            String report = String.format(Locale.ROOT,
                    "CareRelay idle gateway (%s): ready (health UP) %.1f s after the java process started; after %d s idle: "
                            + "JVM RSS %s, JVM PSS %s, embedded PostgreSQL PSS %s (%d processes)%n",
                    XMX, ready, IDLE.toSeconds(), mb(jvmRss), mb(jvmPss), postgres.isEmpty() ? "–" : mb(Optional.of(pgPss)),
                    postgres.size());
            System.out.println(report);
            BenchmarkSupport.results(report);
            BenchmarkSupport.summaryRow("idle gateway: start → health UP (" + XMX + ")", String.format(Locale.ROOT, "%.1f s", ready), "", "",
                    "", "");
            if (jvmRss.isPresent()) {
                long total = jvmRss.get() + pgPss;
                BenchmarkSupport.summaryRow(String.format(Locale.ROOT, "idle gateway memory after %d s: JVM RSS + PostgreSQL PSS",
                                IDLE.toSeconds()),
                        mb(Optional.of(total)), "", "", String.format(Locale.ROOT, "JVM RSS %s, PostgreSQL PSS %s (%d processes)",
                                mb(jvmRss), mb(Optional.of(pgPss)), postgres.size()), "");
            }
            assertThat(ready).isPositive();
        } finally {
            List<String> problems = gateway.stop();
            problems.forEach(p -> System.out.println("[bench] idle gateway: " + p));
            gateway.deleteDataDir();
        }
    }

    /** A {@code kB} field of {@code /proc/<pid>/smaps_rollup}; empty where there is none. */
    static Optional<Long> kib(long pid, String field) {
        try {
            for (String line : Files.readAllLines(Path.of("/proc", Long.toString(pid), "smaps_rollup"))) {
                if (line.startsWith(field + ":")) {
                    return Optional.of(Long.parseLong(line.substring(field.length() + 1).replace("kB", "").strip()));
                }
            }
        } catch (IOException | RuntimeException e) {
            // not Linux, or the process is gone
        }
        return Optional.empty();
    }

    /** The postmaster of the gateway's data directory and every process under it. */
    static List<Long> postgresProcesses(Path dataDir) throws IOException {
        List<Long> pids = new ArrayList<>();
        Path pidFile = dataDir.resolve("postgres").resolve("postmaster.pid");
        if (!Files.isRegularFile(pidFile)) {
            return pids;
        }
        long postmaster = Long.parseLong(Files.readAllLines(pidFile).get(0).strip());
        ProcessHandle.of(postmaster).ifPresent(handle -> {
            pids.add(handle.pid());
            handle.descendants().forEach(child -> pids.add(child.pid()));
        });
        return pids;
    }

    private static String mb(Optional<Long> kib) {
        return kib.map(k -> String.format(Locale.ROOT, "%.0f MiB", k / 1024.0)).orElse("–");
    }
}
