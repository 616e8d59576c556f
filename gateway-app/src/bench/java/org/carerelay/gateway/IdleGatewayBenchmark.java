package org.carerelay.gateway;

import static org.assertj.core.api.Assertions.assertThat;

import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.Comparator;
import java.util.List;
import java.util.Locale;
import java.util.Optional;
import java.util.UUID;
import java.util.concurrent.TimeUnit;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import org.junit.jupiter.api.Tag;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;

/**
 * Idle gateway benchmark, not a test: a gateway in a JVM of its own is started as the README's
 * {@code java -jar} line starts it ({@link GatewayProcess} with the unpacked application of the
 * package phase, {@code target/carerelay/carerelay.jar}, the JVM options of the documented command
 * and systemd unit, {@link GatewayProcess#DOCUMENTED_JVM_OPTIONS}, and the class-data archive that
 * the shipped {@code carerelay-cds.sh} writes first; embedded PostgreSQL and Artemis as shipped, its
 * own data directory); the time from the start of the {@code java}
 * process to {@code /actuator/health} UP is the time to ready. After {@code bench.idle-seconds}
 * (30) without requests, the memory it holds is read from {@code /proc/<pid>/smaps_rollup}: the
 * JVM's RSS, and the PSS of the embedded PostgreSQL (the postmaster named in
 * {@code <data-dir>/postgres/postmaster.pid} and all its processes; PSS, because they share their
 * code and shared buffers). Runs early in a bench run (the classes run in alphabetical order),
 * before the throughput benchmarks load the machine. Linux only (without {@code /proc} it reports
 * the time to ready alone). The same again after {@code bench.idle-late-seconds} (90), when the
 * start's leftovers are gone. After the memory figures, as diagnostics: the JVM's thread count
 * ({@code /proc/<pid>/status}) and its live heap ({@code jcmd <pid> GC.run}, then
 * {@code GC.heap_info}). Then it is stopped and started again on the same data directory, and the
 * time to ready of that restart is the second start figure: the first start also unpacks
 * PostgreSQL, creates its cluster, runs every migration and makes the keys. Last, the same restart
 * without {@code -XX:SharedArchiveFile}: what the archive saves.
 *
 * <p>Options: {@code -Dbench.idle-seconds} (30), {@code -Dbench.idle-late-seconds} (90; not above
 * {@code bench.idle-seconds}: no second reading), {@code -Dbench.idle-jvm-options} (the documented
 * options, separated by spaces).
 */
@Tag("benchmark")
class IdleGatewayBenchmark {

    private static final Duration IDLE = BenchmarkSupport.seconds("bench.idle-seconds", 30);
    /**
     * A second reading, once the start's leftovers are gone: the JIT compilers still work for a
     * minute or so after health UP, and the JDK keeps the temporary direct buffers of a first
     * start's PostgreSQL extraction until its I/O pool threads end, 60 s after their last use.
     */
    private static final Duration IDLE_LATE = BenchmarkSupport.seconds("bench.idle-late-seconds", 90);
    private static final String JVM_OPTIONS = System.getProperty("bench.idle-jvm-options", GatewayProcess.DOCUMENTED_JVM_OPTIONS);

    /** The unpacked application of the package phase (the bench profile runs the benchmarks after it). */
    private static final Path EXTRACTED = Path.of(System.getProperty("extracted.dir", "target/carerelay")).toAbsolutePath();

    @Test
    @Timeout(value = 10, unit = TimeUnit.MINUTES)
    void idleGateway() throws Exception {
        BenchmarkSupport.summaryStart();
        Path dataDir = Path.of("target", "idle-bench", UUID.randomUUID().toString()).toAbsolutePath();
        Files.createDirectories(dataDir);
        String jar = EXTRACTED.resolve("carerelay.jar").toString();
        assertThat(Path.of(jar)).as("the package phase's unpacked application").isRegularFile();
        Path archive = dataDir.resolve("carerelay.jsa");
        double archiveSeconds = classDataArchive(archive, jar);
        String options = JVM_OPTIONS + " -XX:SharedArchiveFile=" + archive;
        GatewayProcess gateway = new GatewayProcess("idle-bench", options, dataDir.resolve("node"), TestPorts.free(),
                TestPorts.free()).fromJar(jar);
        try {
            long start = System.nanoTime();
            gateway.start();
            gateway.awaitUp(Duration.ofMinutes(3));
            double ready = (System.nanoTime() - start) / 1e9;
            Thread.sleep(IDLE.toMillis());
            Memory early = Memory.of(gateway);
            Thread.sleep(Math.max(0, IDLE_LATE.minus(IDLE).toMillis()));
            Memory late = IDLE_LATE.compareTo(IDLE) > 0 ? Memory.of(gateway) : null;

            String liveHeap = liveHeap(gateway.pid());
            String report = String.format(Locale.ROOT,
                    "CareRelay idle gateway (java %s -jar %s; the archive written by carerelay-cds.sh in %.1f s before): ready (health UP)"
                            + " %.1f s after the java process started; %s%s; heap after a full GC %s%n",
                    options, jar, archiveSeconds, ready, early.describe(IDLE), late == null ? "" : "; " + late.describe(IDLE_LATE), liveHeap);
            System.out.println(report);
            BenchmarkSupport.results(report);
            BenchmarkSupport.summaryRow("idle gateway: start → health UP (the documented java -jar line, with its class-data archive)", String.format(Locale.ROOT, "%.1f s", ready), "", "",
                    "", "");
            early.summaryRow(IDLE, liveHeap);
            if (late != null) {
                late.summaryRow(IDLE_LATE, liveHeap);
            }

            // a restart: the data directory is there (PostgreSQL's binaries, its cluster, the schema, keys, journal)
            List<String> stopped = gateway.stop();
            stopped.forEach(p -> System.out.println("[bench] idle gateway, stop before the restart: " + p));
            long restart = System.nanoTime();
            gateway.start();
            gateway.awaitUp(Duration.ofMinutes(3));
            double readyAgain = (System.nanoTime() - restart) / 1e9;
            String restartReport = String.format(Locale.ROOT,
                    "CareRelay idle gateway, restarted on its data directory: ready (health UP) %.1f s after the java process started%n",
                    readyAgain);
            System.out.println(restartReport);
            BenchmarkSupport.results(restartReport);
            BenchmarkSupport.summaryRow("idle gateway: restart on its data directory → health UP", String.format(Locale.ROOT, "%.1f s", readyAgain),
                    "", "", "", "");

            // the same restart without the class-data archive: what the archive saves
            gateway.stop().forEach(p -> System.out.println("[bench] idle gateway, stop before the restart without CDS: " + p));
            GatewayProcess plain = new GatewayProcess("idle-bench", JVM_OPTIONS, dataDir.resolve("node"), TestPorts.free(),
                    TestPorts.free()).fromJar(jar);
            gateway = plain;
            long restartPlain = System.nanoTime();
            plain.start();
            plain.awaitUp(Duration.ofMinutes(3));
            double readyPlain = (System.nanoTime() - restartPlain) / 1e9;
            String plainReport = String.format(Locale.ROOT,
                    "CareRelay idle gateway, restarted without -XX:SharedArchiveFile: ready (health UP) %.1f s after the java process"
                            + " started; the archive saves %.1f s (%.0f%%)%n",
                    readyPlain, readyPlain - readyAgain, 100 * (readyPlain - readyAgain) / readyPlain);
            System.out.println(plainReport);
            BenchmarkSupport.results(plainReport);
            BenchmarkSupport.summaryRow("idle gateway: the same restart without the class-data archive (-XX:SharedArchiveFile left out)",
                    String.format(Locale.ROOT, "%.1f s", readyPlain), "", "", "", "");
            assertThat(ready).isPositive();
        } finally {
            List<String> problems = gateway.stop();
            problems.forEach(p -> System.out.println("[bench] idle gateway: " + p));
            gateway.deleteDataDir();
            try (var paths = Files.walk(dataDir)) {
                for (Path path : paths.sorted(Comparator.reverseOrder()).toList()) {
                    Files.deleteIfExists(path);
                }
            }
        }
    }

    /** Runs the shipped {@code carerelay-cds.sh} as the README does; returns the seconds it took. */
    private static double classDataArchive(Path archive, String jar) throws IOException, InterruptedException {
        List<String> command = new ArrayList<>(List.of(EXTRACTED.resolve("carerelay-cds.sh").toString(), archive.toString(), jar));
        command.addAll(List.of(JVM_OPTIONS.split(" ")));
        ProcessBuilder builder = new ProcessBuilder(command).redirectErrorStream(true);
        builder.environment().put("JAVA", Path.of(System.getProperty("java.home"), "bin", "java").toString());
        long start = System.nanoTime();
        Process process = builder.start();
        String out = new String(process.getInputStream().readAllBytes(), StandardCharsets.UTF_8);
        if (process.waitFor() != 0 || !Files.isRegularFile(archive)) {
            throw new IOException("carerelay-cds.sh failed: " + out);
        }
        double seconds = (System.nanoTime() - start) / 1e9;
        // the JVM falls back silently on an archive it does not take: make sure the start measured uses it
        List<String> check = new ArrayList<>(List.of(Path.of(System.getProperty("java.home"), "bin", "java").toString()));
        check.addAll(List.of(JVM_OPTIONS.split(" ")));
        check.addAll(List.of("-Xshare:on", "-XX:SharedArchiveFile=" + archive, "-cp", jar, "-version"));
        Process strict = new ProcessBuilder(check).redirectErrorStream(true).start();
        String checked = new String(strict.getInputStream().readAllBytes(), StandardCharsets.UTF_8);
        if (strict.waitFor() != 0) {
            throw new IOException("the JVM does not take the archive: " + checked);
        }
        return seconds;
    }

    /** What the idle gateway holds at one moment (kB figures; empty where {@code /proc} has none). */
    record Memory(Optional<Long> jvmRss, Optional<Long> jvmPss, long pgPss, int pgProcesses, Optional<Long> threads) {

        static Memory of(GatewayProcess gateway) throws IOException {
            List<Long> postgres = postgresProcesses(gateway.dataDir);
            long pgPss = postgres.stream().mapToLong(pid -> kib(pid, "Pss").orElse(0L)).sum();
            return new Memory(kib(gateway.pid(), "Rss"), kib(gateway.pid(), "Pss"), pgPss, postgres.size(),
                    status(gateway.pid(), "Threads"));
        }

        String describe(Duration idle) {
            return String.format(Locale.ROOT, "after %d s idle: JVM RSS %s, JVM PSS %s, embedded PostgreSQL PSS %s (%d processes), "
                            + "sum (JVM RSS + PostgreSQL PSS) %s, JVM threads %s",
                    idle.toSeconds(), mb(jvmRss), mb(jvmPss), pgProcesses == 0 ? "–" : mb(Optional.of(pgPss)), pgProcesses,
                    mb(jvmRss.map(rss -> rss + pgPss)), threads.map(String::valueOf).orElse("–"));
        }

        void summaryRow(Duration idle, String liveHeap) {
            if (jvmRss.isEmpty()) {
                return;
            }
            BenchmarkSupport.summaryRow(String.format(Locale.ROOT, "idle gateway memory after %d s: JVM RSS + PostgreSQL PSS", idle.toSeconds()),
                    mb(Optional.of(jvmRss.get() + pgPss)), "", "", String.format(Locale.ROOT,
                            "JVM RSS %s, PostgreSQL PSS %s (%d processes); %s JVM threads, heap after full GC (at the end) %s",
                            mb(jvmRss), mb(Optional.of(pgPss)), pgProcesses, threads.map(String::valueOf).orElse("–"), liveHeap),
                    "");
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

    /** A field of {@code /proc/<pid>/status} (e.g. {@code Threads}); empty where there is none. */
    static Optional<Long> status(long pid, String field) {
        try {
            for (String line : Files.readAllLines(Path.of("/proc", Long.toString(pid), "status"))) {
                if (line.startsWith(field + ":")) {
                    return Optional.of(Long.parseLong(line.substring(field.length() + 1).strip()));
                }
            }
        } catch (IOException | RuntimeException e) {
            // not Linux, or the process is gone
        }
        return Optional.empty();
    }

    /**
     * The heap in use after a full collection, as {@code jcmd <pid> GC.heap_info} reports it after
     * {@code jcmd <pid> GC.run} (read after the memory figures: the collection changes them); "–"
     * when jcmd is not there.
     */
    static String liveHeap(long pid) {
        try {
            jcmd(pid, "GC.run");
            String info = jcmd(pid, "GC.heap_info");
            long usedKib = 0;
            Matcher used = Pattern.compile("used (\\d+)K").matcher(info);
            // serial: def new generation … used …K, tenured generation … used …K (metaspace lines say "used …K" too)
            for (String line : info.lines().toList()) {
                if (!line.contains("Metaspace") && !line.contains("class space") && used.reset(line).find()) {
                    usedKib += Long.parseLong(used.group(1));
                    if (line.contains("garbage-first heap")) {
                        break; // G1: one line for the whole heap, regions follow
                    }
                }
            }
            return usedKib == 0 ? "–" : mb(Optional.of(usedKib));
        } catch (IOException | RuntimeException e) {
            return "–";
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            return "–";
        }
    }

    private static String jcmd(long pid, String command) throws IOException, InterruptedException {
        Process jcmd = new ProcessBuilder(Path.of(System.getProperty("java.home"), "bin", "jcmd").toString(), Long.toString(pid), command)
                .redirectErrorStream(true).start();
        String out = new String(jcmd.getInputStream().readAllBytes(), java.nio.charset.StandardCharsets.UTF_8);
        if (!jcmd.waitFor(60, TimeUnit.SECONDS) || jcmd.exitValue() != 0) {
            throw new IOException("jcmd " + command + " failed: " + out);
        }
        return out;
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
