package org.carerelay.gateway;

import ca.uhn.fhir.context.FhirContext;
import ca.uhn.fhir.rest.client.api.IRestfulClientFactory;
import ca.uhn.fhir.rest.server.exceptions.BaseServerResponseException;
import com.zaxxer.hikari.HikariDataSource;
import com.zaxxer.hikari.HikariPoolMXBean;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.lang.management.ManagementFactory;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardOpenOption;
import java.time.Instant;
import java.sql.Connection;
import java.sql.PreparedStatement;
import java.sql.ResultSet;
import java.sql.SQLException;
import java.sql.Statement;
import java.time.Duration;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.TreeMap;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.atomic.AtomicLong;
import java.util.concurrent.atomic.LongAdder;
import javax.sql.DataSource;
import org.HdrHistogram.Histogram;

/**
 * What {@link MessageThroughputBenchmark} and {@link PipelineThroughputBenchmark} share: the
 * closed-loop runner ({@link #THREADS} clients, a warm-up, then a measured phase bounded by time and
 * by an operation cap, sampling the connection pool and the CPU), the INSERT-commit baseline,
 * latency histograms in microseconds, error kinds, and the environment the report names.
 */
final class BenchmarkSupport {

    static final int THREADS = Integer.getInteger("bench.threads", 8);
    static final Path RESULTS = Path.of("target", "benchmark-results.txt");
    private static final Long MAX_OPS = Long.getLong("bench.max-ops");

    /** About 500 characters of a typical hand-over note (no HL7 delimiters in it). */
    static final String TEXT = fit("Überleitung Frau M., 85 J.: Entlassung aus der stationären Behandlung morgen "
            + "gegen 10 Uhr. Diagnosen: Oberschenkelhalsfraktur links, operativ versorgt (DHS), Diabetes mellitus Typ 2, "
            + "arterielle Hypertonie. Wundversorgung: Klammerentfernung am 12. postoperativen Tag, bis dahin Verbandwechsel "
            + "alle zwei Tage, Wunde reizlos. Mobilisation mit Rollator unter Vollbelastung. Medikation laut beiliegendem "
            + "Plan, Insulin unverändert. Bitte Blutzucker zweimal täglich und Blutdruck täglich kontrollieren und bei "
            + "Werten über 180 mmHg systolisch die Hausarztpraxis informieren. ", 500);

    private BenchmarkSupport() {
    }

    /** {@code bench.max-ops} when set, otherwise the scenario's own cap. */
    static long maxOps(long scenarioDefault) {
        return MAX_OPS != null ? MAX_OPS : scenarioDefault;
    }

    /**
     * The JIT compilers are taken as quiet once their threads used less than this share of all cores
     * during a warm-up round ({@code bench.jit-quiet-percent}, 5).
     */
    static final double JIT_QUIET = Double.parseDouble(System.getProperty("bench.jit-quiet-percent", "5")) / 100;
    /** No further warm-up round starts after this much warm-up ({@code bench.warmup-limit-seconds}, 300). */
    static final Duration WARMUP_LIMIT = seconds("bench.warmup-limit-seconds", 300);

    /** One warm-up round (numbered from 1): load, then the pipeline drained. */
    @FunctionalInterface
    interface WarmUpRound {
        void run(int round) throws Exception;
    }

    /**
     * Runs {@code round} until the JIT compilers are quiet: again as long as their threads took at
     * least {@link #JIT_QUIET} of all cores during the last round and {@link #WARMUP_LIMIT} has not
     * passed. A JVM as big as the gateway's still compiles for minutes under load (thousands of
     * methods reach the optimising compiler one after the other), and a scenario measured meanwhile
     * measures the compilers and the code not yet compiled. Returns a line for the report; where the
     * compilers' CPU time cannot be read, one round.
     */
    static String warmUp(String what, WarmUpRound round) throws Exception {
        long start = System.nanoTime();
        int rounds = 0;
        double share;
        do {
            rounds++;
            CpuSampler cpu = new CpuSampler();
            round.run(rounds);
            cpu.end();
            share = cpu.jit();
            System.out.printf(Locale.ROOT, "[bench] warm-up round %d (%s): JIT compilers %.1f%% of all cores, %.0f s of warm-up so far%n",
                    rounds, what, 100 * share, (System.nanoTime() - start) / 1e9);
        } while (!Double.isNaN(share) && share >= JIT_QUIET && System.nanoTime() - start < WARMUP_LIMIT.toNanos());
        double seconds = (System.nanoTime() - start) / 1e9;
        String count = rounds + " round" + (rounds == 1 ? "" : "s");
        String line = Double.isNaN(share)
                ? String.format(Locale.ROOT, "warm-up: %s (each: %s) in %.0f s; the JIT compilers' CPU time is not readable here",
                        count, what, seconds)
                : share < JIT_QUIET
                        ? String.format(Locale.ROOT, "warm-up: %s (each: %s) in %.0f s, until the JIT compilers took less than %.0f%% "
                                + "of all cores (last round: %.1f%%)", count, what, seconds, 100 * JIT_QUIET, 100 * share)
                        : String.format(Locale.ROOT, "warm-up: %s (each: %s) in %.0f s; limit of %d s reached, the JIT compilers still "
                                + "took %.1f%% of all cores in the last round (quiet: below %.0f%%)", count, what, seconds,
                                WARMUP_LIMIT.toSeconds(), 100 * share, 100 * JIT_QUIET);
        summaryFact("warm-up " + what, line);
        return line;
    }

    static Duration seconds(String property, long defaultSeconds) {
        return Duration.ofSeconds(Long.getLong(property, defaultSeconds));
    }

    /** Enough pooled HTTP connections in HAPI's client for {@link #THREADS} concurrent clients. */
    static void widenClientPool(FhirContext fhir) {
        IRestfulClientFactory factory = fhir.getRestfulClientFactory();
        if (factory.getPoolMaxPerRoute() < THREADS) {
            factory.setPoolMaxPerRoute(THREADS);
            factory.setPoolMaxTotal(Math.max(THREADS, factory.getPoolMaxTotal()));
        }
    }

    // --- histograms: microseconds, up to 10 minutes

    static Histogram newHistogram() {
        return new Histogram(Duration.ofMinutes(10).toNanos() / 1000, 3);
    }

    static long micros(long nanos) {
        return Math.max(1, nanos / 1000);
    }

    static double ms(long micros) {
        return micros / 1000.0;
    }

    static String fmt(long micros) {
        return String.format(Locale.ROOT, "%.2f", ms(micros));
    }

    private static String fit(String text, int length) {
        StringBuilder b = new StringBuilder(text);
        while (b.length() < length) {
            b.append(text);
        }
        return b.substring(0, length);
    }

    // --- the operations

    /** One operation of one benchmark thread; {@code parts} says whether it is measured and takes the timings of its sub-steps. */
    interface BenchClient extends AutoCloseable {
        void execute(long seq, Parts parts) throws Exception;

        @Override
        default void close() throws Exception {
        }
    }

    @FunctionalInterface
    interface ClientFactory {
        BenchClient create(int thread) throws Exception;
    }

    /** Timings of an operation's sub-steps; only operations started in the measured phase count. */
    static final class Parts {
        final Histogram[] histograms;
        boolean measured;

        Parts(int count) {
            histograms = new Histogram[count];
            for (int i = 0; i < count; i++) {
                histograms[i] = newHistogram();
            }
        }

        void record(int part, long nanos) {
            if (measured) {
                histograms[part].recordValue(micros(nanos));
            }
        }
    }

    /** Baseline: one row, one transaction (autocommit), on a connection owned by the thread. */
    static final class InsertClient implements BenchClient {
        private final Connection connection;
        private final PreparedStatement insert;

        InsertClient(DataSource dataSource, String table) {
            try {
                connection = dataSource.getConnection();
                connection.setAutoCommit(true);
                insert = connection.prepareStatement("insert into " + table + " (payload) values (?)");
            } catch (SQLException e) {
                throw new IllegalStateException(e);
            }
        }

        @Override
        public void execute(long seq, Parts parts) throws Exception {
            insert.setString(1, TEXT);
            if (insert.executeUpdate() != 1) {
                throw new IllegalStateException("insert did not insert one row");
            }
        }

        @Override
        public void close() throws Exception {
            insert.close();
            connection.close();
        }
    }

    static void createBaselineTable(DataSource dataSource, String table) throws SQLException {
        try (Connection c = dataSource.getConnection(); Statement s = c.createStatement()) {
            s.execute("drop table if exists " + table);
            s.execute("create table " + table + " (id bigserial primary key, payload text)");
        }
    }

    static void dropBaselineTable(DataSource dataSource, String table) throws SQLException {
        try (Connection c = dataSource.getConnection(); Statement s = c.createStatement()) {
            s.execute("drop table if exists " + table);
        }
    }

    /** A failure that names its own kind for the error table (e.g. {@code HTTP 503 (Binary)}, {@code MSA-1 AE}). */
    static class KindedException extends RuntimeException {
        final String kind;

        KindedException(String kind, String message, boolean withStackTrace) {
            super(message, null, false, withStackTrace);
            this.kind = kind;
        }
    }

    static String kindOf(Throwable e) {
        if (e instanceof BaseServerResponseException fhir) {
            String code;
            try {
                var errorCode = GatewayIntegrationTest.errorCodeOf(fhir);
                code = errorCode == null ? "?" : errorCode.code();
            } catch (RuntimeException ignored) {
                code = "?";
            }
            return "HTTP " + fhir.getStatusCode() + " " + code;
        }
        if (e instanceof KindedException kinded) {
            return kinded.kind;
        }
        return e.getClass().getSimpleName();
    }

    // --- the runner

    /**
     * One scenario's figures. {@code ok} = successful operations started in the measured phase;
     * {@code seconds} = measured phase start to the end of the last of them; {@code errorKinds} and
     * {@code firstErrors} (the first message of each kind) include the warm-up; the nano times are
     * {@link System#nanoTime()}: measured phase start and end, and when every client had stopped.
     */
    record Phase(String name, long ok, Map<String, Long> errorKinds, Map<String, String> firstErrors, long warmupOps,
            double seconds, Histogram latency, List<String> partNames, List<Histogram> parts, int maxPoolActive,
            int maxPoolWaiting, double machineCpu, double jvmCpu, double jitCpu, double loadAverage, long measureStart, long measureEnd,
            long stopped, DbWork db) {
        double opsPerSecond() {
            return ok / seconds;
        }

        long errors() {
            return errorKinds.values().stream().mapToLong(Long::longValue).sum();
        }
    }

    /**
     * Runs {@link #THREADS} clients in a closed loop: {@code warmup}, then a measured phase of at most
     * {@code measure} and {@code maxOps} operations; an operation that throws counts as an error of
     * its {@link #kindOf kind}. Samples the Hikari pool every 20 ms and the CPU load every 500 ms.
     */
    static Phase run(DataSource dataSource, String name, Duration warmup, Duration measure, long maxOps, ClientFactory factory,
            String... partNames) throws Exception {
        System.out.printf(Locale.ROOT, "%n[bench] %s: %d threads, warm-up %d s, measuring up to %d s or %d operations%n",
                name, THREADS, warmup.toSeconds(), measure.toSeconds(), maxOps);
        List<BenchClient> clients = new ArrayList<>();
        for (int i = 0; i < THREADS; i++) {
            clients.add(factory.create(i));
        }
        AtomicLong sequence = new AtomicLong();
        AtomicLong tickets = new AtomicLong();
        LongAdder warmupOps = new LongAdder();
        Map<String, LongAdder> errorKinds = new ConcurrentHashMap<>();
        Map<String, String> firstErrors = new ConcurrentHashMap<>();
        CountDownLatch go = new CountDownLatch(1);
        var state = new Object() {
            volatile boolean measuring;
            volatile boolean stop;
        };
        List<Histogram> latencies = new ArrayList<>();
        List<Parts> parts = new ArrayList<>();
        long[] lastEnd = new long[THREADS];
        long[] ok = new long[THREADS];
        List<Thread> threads = new ArrayList<>();
        for (int t = 0; t < THREADS; t++) {
            int index = t;
            Histogram latency = newHistogram();
            Parts part = new Parts(partNames.length);
            latencies.add(latency);
            parts.add(part);
            BenchClient client = clients.get(t);
            Thread thread = new Thread(() -> {
                try {
                    go.await();
                } catch (InterruptedException e) {
                    return;
                }
                while (!state.stop) {
                    boolean measured = state.measuring;
                    if (measured && tickets.incrementAndGet() > maxOps) {
                        state.stop = true;
                        break;
                    }
                    long seq = sequence.getAndIncrement();
                    recordOne(client, seq, part, measured, System.nanoTime(), latency, ok, lastEnd, index,
                            warmupOps, errorKinds, firstErrors);
                }
            }, "bench-" + t);
            thread.setDaemon(true);
            threads.add(thread);
            thread.start();
        }

        HikariPoolMXBean pool = dataSource.isWrapperFor(HikariDataSource.class)
                ? dataSource.unwrap(HikariDataSource.class).getHikariPoolMXBean() : null;
        int maxActive = 0;
        int maxWaiting = 0;

        go.countDown();
        Thread.sleep(warmup.toMillis());
        DbWork.Counters dbStart = DbWork.read(dataSource);
        long measureStart = System.nanoTime();
        state.measuring = true;
        long deadline = measureStart + measure.toNanos();
        long nextCpuSample = System.nanoTime() + 500_000_000L;
        CpuSampler cpu = new CpuSampler();
        while (!state.stop && System.nanoTime() < deadline) {
            Thread.sleep(20);
            if (pool != null) {
                maxActive = Math.max(maxActive, pool.getActiveConnections());
                maxWaiting = Math.max(maxWaiting, pool.getThreadsAwaitingConnection());
            }
            if (System.nanoTime() >= nextCpuSample) {
                cpu.sample();
                nextCpuSample += 500_000_000L;
            }
        }
        long measureEnd = System.nanoTime();
        state.stop = true; // no operation starts after the measured phase; those running finish and count
        cpu.end();
        DbWork.Counters dbEnd = DbWork.read(dataSource);
        double loadAverage = ManagementFactory.getOperatingSystemMXBean().getSystemLoadAverage();
        for (Thread thread : threads) {
            thread.join(Duration.ofSeconds(120).toMillis());
        }
        long stopped = System.nanoTime();
        for (BenchClient client : clients) {
            client.close();
        }

        Histogram latency = newHistogram();
        latencies.forEach(latency::add);
        List<Histogram> mergedParts = new ArrayList<>();
        for (int p = 0; p < partNames.length; p++) {
            Histogram merged = newHistogram();
            for (Parts part : parts) {
                merged.add(part.histograms[p]);
            }
            mergedParts.add(merged);
        }
        long end = measureStart;
        long total = 0;
        for (int t = 0; t < THREADS; t++) {
            end = Math.max(end, lastEnd[t]);
            total += ok[t];
        }
        double seconds = Math.max(1e-9, (end - measureStart) / 1e9);
        Map<String, Long> errors = new TreeMap<>();
        errorKinds.forEach((k, v) -> errors.put(k, v.sum()));
        Phase phase = new Phase(name, total, errors, new TreeMap<>(firstErrors), warmupOps.sum(), seconds, latency,
                List.of(partNames), mergedParts, maxActive, maxWaiting, cpu.machine(), cpu.jvm(), cpu.jit(), loadAverage, measureStart,
                measureEnd, stopped, DbWork.per(dbStart, dbEnd, total));
        System.out.printf(Locale.ROOT, "[bench] %s: %d ops in %.1f s = %.1f ops/s, p50 %.2f ms, p99 %.2f ms, errors %s, load %.2f%n",
                name, total, seconds, phase.opsPerSecond(), ms(latency.getValueAtPercentile(50)),
                ms(latency.getValueAtPercentile(99)), errors, loadAverage);
        phase.firstErrors().forEach((k, v) -> System.out.println("[bench]   first " + k + ": " + v));
        return phase;
    }

    /** The error kind of {@link #runPaced} for operations that started late: every client was still busy. */
    static final String LATE_STARTS = "started > 100 ms after its due time (the offered load fell behind)";

    /**
     * One operation of a client thread: its latency from {@code from} (its start, or its due time)
     * when measured, otherwise a warm-up count; a failure counted by kind, the first message kept.
     */
    private static void recordOne(BenchClient client, long seq, Parts part, boolean measured, long from, Histogram latency,
            long[] ok, long[] lastEnd, int index, LongAdder warmupOps, Map<String, LongAdder> errorKinds,
            Map<String, String> firstErrors) {
        part.measured = measured;
        try {
            client.execute(seq, part);
            long end = System.nanoTime();
            if (measured) {
                latency.recordValue(micros(end - from));
                ok[index]++;
                lastEnd[index] = end;
            } else {
                warmupOps.increment();
            }
        } catch (Exception | AssertionError e) {
            String kind = (measured ? "" : "warm-up ") + kindOf(e);
            errorKinds.computeIfAbsent(kind, k -> new LongAdder()).increment();
            firstErrors.putIfAbsent(kind, String.valueOf(e.getMessage()));
            if (!measured) {
                warmupOps.increment();
            }
        }
    }

    /**
     * Runs {@link #THREADS} clients in an open loop at a fixed offered rate: operation {@code k} is due
     * at {@code start + k / rate}; a free client takes the next due operation and waits for its due
     * time, so a slow operation does not slow the offered load down (only when all clients are busy
     * do operations start late). {@code warmup} at the same rate, then {@code measure} measured. The
     * latency histogram runs from each operation's due time to its end (late starts included). No
     * operation cap: the number offered is {@code rate × seconds}.
     */
    static Phase runPaced(DataSource dataSource, String name, double rate, Duration warmup, Duration measure, ClientFactory factory)
            throws Exception {
        System.out.printf(Locale.ROOT, "%n[bench] %s: %.1f operations/s offered by up to %d threads, warm-up %d s, measuring %d s%n",
                name, rate, THREADS, warmup.toSeconds(), measure.toSeconds());
        List<BenchClient> clients = new ArrayList<>();
        for (int i = 0; i < THREADS; i++) {
            clients.add(factory.create(i));
        }
        long period = Math.round(1e9 / rate);
        long warmupOpsDue = Math.round(warmup.toNanos() / (double) period);
        long measuredOpsDue = Math.round(measure.toNanos() / (double) period);
        AtomicLong sequence = new AtomicLong();
        LongAdder warmupOps = new LongAdder();
        LongAdder lateStarts = new LongAdder();
        Map<String, LongAdder> errorKinds = new ConcurrentHashMap<>();
        Map<String, String> firstErrors = new ConcurrentHashMap<>();
        List<Histogram> latencies = new ArrayList<>();
        long[] lastEnd = new long[THREADS];
        long[] ok = new long[THREADS];
        List<Thread> threads = new ArrayList<>();
        long origin = System.nanoTime() + 100_000_000L;
        long measureStart = origin + warmupOpsDue * period;
        long measureEnd = measureStart + measuredOpsDue * period;
        for (int t = 0; t < THREADS; t++) {
            int index = t;
            Histogram latency = newHistogram();
            Parts part = new Parts(0);
            latencies.add(latency);
            BenchClient client = clients.get(t);
            Thread thread = new Thread(() -> {
                while (true) {
                    long seq = sequence.getAndIncrement();
                    if (seq >= warmupOpsDue + measuredOpsDue) {
                        break;
                    }
                    long due = origin + seq * period;
                    long wait;
                    while ((wait = due - System.nanoTime()) > 0) {
                        java.util.concurrent.locks.LockSupport.parkNanos(wait);
                    }
                    if (-wait > 100_000_000L) {
                        lateStarts.increment();
                    }
                    boolean measured = seq >= warmupOpsDue;
                    recordOne(client, seq, part, measured, due, latency, ok, lastEnd, index, warmupOps, errorKinds, firstErrors);
                }
            }, "bench-" + t);
            thread.setDaemon(true);
            threads.add(thread);
            thread.start();
        }

        HikariPoolMXBean pool = dataSource.isWrapperFor(HikariDataSource.class)
                ? dataSource.unwrap(HikariDataSource.class).getHikariPoolMXBean() : null;
        int maxActive = 0;
        int maxWaiting = 0;
        while (System.nanoTime() < measureStart) {
            Thread.sleep(20);
        }
        DbWork.Counters dbStart = DbWork.read(dataSource);
        long nextCpuSample = System.nanoTime() + 500_000_000L;
        CpuSampler cpu = new CpuSampler();
        while (System.nanoTime() < measureEnd) {
            Thread.sleep(20);
            if (pool != null) {
                maxActive = Math.max(maxActive, pool.getActiveConnections());
                maxWaiting = Math.max(maxWaiting, pool.getThreadsAwaitingConnection());
            }
            if (System.nanoTime() >= nextCpuSample) {
                cpu.sample();
                nextCpuSample += 500_000_000L;
            }
        }
        cpu.end();
        DbWork.Counters dbEnd = DbWork.read(dataSource);
        double loadAverage = ManagementFactory.getOperatingSystemMXBean().getSystemLoadAverage();
        for (Thread thread : threads) {
            thread.join(Duration.ofSeconds(120).toMillis());
        }
        long stopped = System.nanoTime();
        for (BenchClient client : clients) {
            client.close();
        }
        Histogram latency = newHistogram();
        latencies.forEach(latency::add);
        long total = 0;
        for (int t = 0; t < THREADS; t++) {
            total += ok[t];
        }
        // the offered rate over the measured window; operations still running at its end finish after it
        double seconds = Math.max(1e-9, (measureEnd - measureStart) / 1e9);
        Map<String, Long> errors = new TreeMap<>();
        errorKinds.forEach((k, v) -> errors.put(k, v.sum()));
        if (lateStarts.sum() > 0) {
            errors.put(LATE_STARTS, lateStarts.sum());
        }
        Phase phase = new Phase(name, total, errors, new TreeMap<>(firstErrors), warmupOps.sum(), seconds, latency,
                List.of(), List.of(), maxActive, maxWaiting, cpu.machine(), cpu.jvm(), cpu.jit(), loadAverage, measureStart, measureEnd, stopped,
                DbWork.per(dbStart, dbEnd, total));
        System.out.printf(Locale.ROOT, "[bench] %s: %d ops in %.1f s = %.1f ops/s, p50 %.2f ms, p99 %.2f ms, errors %s, load %.2f%n",
                name, total, seconds, phase.opsPerSecond(), ms(latency.getValueAtPercentile(50)),
                ms(latency.getValueAtPercentile(99)), errors, loadAverage);
        phase.firstErrors().forEach((k, v) -> System.out.println("[bench]   first " + k + ": " + v));
        return phase;
    }

    /** The cells every results table has: scenario, ops, errors, ops/s, p50/p99/max ms, ÷ baseline, pool max, cpu m/jvm/jit. */
    static List<Object> tableCells(Phase p, double baseline) {
        return new ArrayList<>(List.of(p.name(), p.ok(), p.errors(), String.format(Locale.ROOT, "%.1f", p.opsPerSecond()),
                fmt(p.latency().getValueAtPercentile(50)), fmt(p.latency().getValueAtPercentile(99)),
                fmt(p.latency().getMaxValue()), String.format(Locale.ROOT, "%.4f", p.opsPerSecond() / baseline),
                p.maxPoolActive() + "/" + p.maxPoolWaiting(),
                String.format(Locale.ROOT, "%.0f/%.0f/%.0f%%", 100 * p.machineCpu(), 100 * p.jvmCpu(), 100 * p.jitCpu())));
    }

    /**
     * What the database did per successful operation of a measured phase, from PostgreSQL's
     * cumulative statistics ({@code pg_stat_database}, {@code pg_stat_wal}) at its start and end:
     * transactions (read-only ones included), WAL flushes, rows written and WAL bytes. Everything the
     * database did meanwhile counts, the pipeline's work for earlier operations too. PostgreSQL
     * publishes a backend's counts up to about a second late, at both ends alike. Null where the
     * statistics cannot be read; NaN figures without a successful operation.
     */
    record DbWork(double transactions, double walFlushes, double rowsInserted, double rowsUpdated, double rowsDeleted,
            double walBytes) {

        record Counters(long commits, long rollbacks, long inserted, long updated, long deleted, long walSyncs, long walBytes) {
        }

        static Counters read(DataSource dataSource) {
            try (Connection c = dataSource.getConnection(); Statement s = c.createStatement();
                    var rs = s.executeQuery("""
                            select d.xact_commit, d.xact_rollback, d.tup_inserted, d.tup_updated, d.tup_deleted, w.wal_sync, w.wal_bytes
                            from pg_stat_database d, pg_stat_wal w where d.datname = current_database()""")) {
                return rs.next() ? new Counters(rs.getLong(1), rs.getLong(2), rs.getLong(3), rs.getLong(4), rs.getLong(5),
                        rs.getLong(6), rs.getLong(7)) : null;
            } catch (SQLException e) {
                return null;
            }
        }

        static DbWork per(Counters start, Counters end, long operations) {
            if (start == null || end == null) {
                return null;
            }
            if (operations <= 0) {
                return new DbWork(Double.NaN, Double.NaN, Double.NaN, Double.NaN, Double.NaN, Double.NaN);
            }
            double n = operations;
            return new DbWork((end.commits - start.commits + end.rollbacks - start.rollbacks) / n, (end.walSyncs - start.walSyncs) / n,
                    (end.inserted - start.inserted) / n, (end.updated - start.updated) / n, (end.deleted - start.deleted) / n,
                    (end.walBytes - start.walBytes) / n);
        }

        /** One report line: {@code name} and the figures per operation. */
        static String line(String name, DbWork db) {
            return db == null ? String.format(Locale.ROOT, "%-38s not read", name)
                    : Double.isNaN(db.transactions) ? String.format(Locale.ROOT, "%-38s no operations", name)
                    : String.format(Locale.ROOT, "%-38s %6.2f transactions, %5.2f WAL flushes, rows %5.2f inserted / %5.2f updated / "
                            + "%5.2f deleted, %,7.0f WAL bytes", name, db.transactions, db.walFlushes, db.rowsInserted, db.rowsUpdated,
                            db.rowsDeleted, db.walBytes);
        }
    }

    /**
     * Mean machine-wide and JVM CPU load over the samples taken since it was made (NaN without
     * samples), and the share of the machine the JIT compilers took meanwhile: the CPU time of this
     * JVM's compiler threads ({@code /proc/self/task}, Linux) over the elapsed time of all cores. A
     * JVM still compiling much of its code measures the compilers as well as the gateway.
     */
    static final class CpuSampler {
        private final com.sun.management.OperatingSystemMXBean os =
                ManagementFactory.getOperatingSystemMXBean() instanceof com.sun.management.OperatingSystemMXBean sun ? sun : null;
        private final long startNanos = System.nanoTime();
        private final long startCompilerTicks = compilerTicks();
        private long endNanos;
        private long endCompilerTicks = -1;
        private double machine;
        private double jvm;
        private int samples;

        CpuSampler() {
            if (os != null) {
                os.getCpuLoad(); // starts the interval
                os.getProcessCpuLoad();
            }
        }

        void sample() {
            compilerTicks(); // keeps the count of a compiler thread that retires before the end
            if (os == null) {
                return;
            }
            double m = os.getCpuLoad();
            double p = os.getProcessCpuLoad();
            if (m >= 0 && p >= 0) {
                machine += m;
                jvm += p;
                samples++;
            }
        }

        /** Whether a thread (by id) is one of the JIT compiler threads: its name is read once, not at every sample. */
        private static final Map<String, Boolean> IS_COMPILER_THREAD = new HashMap<>();
        /** The last CPU time read of every compiler thread seen, by thread id: a retired thread keeps its count. */
        private static final Map<String, Long> COMPILER_THREAD_TICKS = new HashMap<>();

        /**
         * User + system CPU time of the JIT compiler threads in clock ticks (1/100 s), including what
         * threads retired since they were seen took until then (the JVM adds and retires compiler
         * threads with the load); -1 where unknown.
         */
        static synchronized long compilerTicks() {
            Path tasks = Path.of("/proc/self/task");
            if (!Files.isDirectory(tasks)) {
                return -1;
            }
            try (var list = Files.list(tasks)) {
                for (Path task : list.toList()) {
                    String id = task.getFileName().toString();
                    try {
                        Boolean compiler = IS_COMPILER_THREAD.get(id);
                        if (compiler == null) {
                            compiler = Files.readString(task.resolve("comm")).strip().matches("C[12] CompilerThre.*");
                            IS_COMPILER_THREAD.put(id, compiler);
                        }
                        if (!compiler) {
                            continue;
                        }
                        String stat = Files.readString(task.resolve("stat"));
                        String[] fields = stat.substring(stat.lastIndexOf(')') + 2).trim().split(" ");
                        COMPILER_THREAD_TICKS.put(id, Long.parseLong(fields[11]) + Long.parseLong(fields[12])); // utime, stime
                    } catch (IOException | RuntimeException gone) {
                        // the thread ended meanwhile: its last count stays
                    }
                }
            } catch (IOException e) {
                return -1;
            }
            return COMPILER_THREAD_TICKS.values().stream().mapToLong(Long::longValue).sum();
        }

        /**
         * Ends the interval {@link #jit()} covers (the compiler threads are read at its start, at every
         * {@link #sample()} and at its end).
         */
        void end() {
            endNanos = System.nanoTime();
            endCompilerTicks = compilerTicks();
        }

        /** The JIT compilers' share of all cores between creation and {@link #end()}; NaN if unknown. */
        double jit() {
            if (startCompilerTicks < 0 || endCompilerTicks < 0 || endNanos == startNanos) {
                return Double.NaN;
            }
            double coreTicks = (endNanos - startNanos) / 1e7 * Runtime.getRuntime().availableProcessors();
            return Math.max(0, endCompilerTicks - startCompilerTicks) / coreTicks;
        }

        double machine() {
            return samples == 0 ? Double.NaN : machine / samples;
        }

        double jvm() {
            return samples == 0 ? Double.NaN : jvm / samples;
        }
    }

    // --- the summary table of a run (RunSummary prints it after the last benchmark)

    /** Rows and facts for the summary, one tab-separated line each; written anew by each JVM (one run). */
    static final Path SUMMARY = Path.of("target", "bench-summary.tsv");
    private static boolean summaryStarted;

    /**
     * One line of the summary table: the path measured, its rate with unit, p50 and p99 (empty
     * where none), the baseline measured in the same run (with its name and unit) and the ratio.
     */
    static void summaryRow(String path, String rate, String p50, String p99, String baseline, String ratio) {
        summary("row", path, rate, p50, p99, baseline, ratio);
    }

    /** A fact the summary names once (durability settings, machine, the options of the run); the last value wins. */
    static void summaryFact(String key, String value) {
        summary("fact", key, value);
    }

    static String rate(double value, String unit) {
        return String.format(Locale.ROOT, value >= 100 ? "%,.0f %s" : "%.1f %s", value, unit);
    }

    static String ratio(double measured, double baseline) {
        if (!(baseline > 0) || Double.isNaN(measured)) {
            return "";
        }
        double r = measured / baseline;
        return r >= 0.01 ? String.format(Locale.ROOT, "%.3f", r) : String.format(Locale.ROOT, "%.4f (1 : %,.0f)", r, 1 / r);
    }

    /** {@code /proc/loadavg} (1, 5, 15 minutes, runnable/all tasks), or the JVM's 1-minute figure elsewhere. */
    static String loadAverage() {
        try {
            return Files.readString(Path.of("/proc/loadavg")).strip();
        } catch (IOException | RuntimeException e) {
            return String.format(Locale.ROOT, "%.2f", ManagementFactory.getOperatingSystemMXBean().getSystemLoadAverage());
        }
    }

    private static boolean resultsStarted;

    /** A benchmark's detailed report into {@link #RESULTS}: the first of a run (JVM) replaces the file, the others append. */
    static synchronized void results(String report) throws IOException {
        Files.createDirectories(RESULTS.toAbsolutePath().getParent());
        if (resultsStarted) {
            Files.writeString(RESULTS, report + "\n", StandardCharsets.UTF_8, StandardOpenOption.CREATE, StandardOpenOption.APPEND);
        } else {
            resultsStarted = true;
            Files.writeString(RESULTS, report + "\n", StandardCharsets.UTF_8);
        }
    }

    private static synchronized void summary(String... cells) {
        StringBuilder line = new StringBuilder();
        for (String cell : cells) {
            line.append(line.isEmpty() ? "" : "\t").append(cell == null ? "" : cell.replace('\t', ' ').replace('\n', ' '));
        }
        line.append('\n');
        try {
            Files.createDirectories(SUMMARY.toAbsolutePath().getParent());
            if (!summaryStarted) {
                summaryStarted = true;
                Files.writeString(SUMMARY, "fact\tstarted\t" + Instant.now() + "\nfact\tload average at start\t" + loadAverage() + "\n",
                        StandardCharsets.UTF_8);
            }
            Files.writeString(SUMMARY, line, StandardCharsets.UTF_8, StandardOpenOption.CREATE, StandardOpenOption.APPEND);
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        }
    }

    /** The load average at the start of the run: the first benchmark calls this before it measures. */
    static void summaryStart() {
        summary("fact", "machine", Runtime.getRuntime().availableProcessors() + " cores, " + System.getProperty("java.vm.name") + " "
                + System.getProperty("java.version"));
    }

    // --- the environment

    record Environment(String postgres, String settings, int cores, String jvm) {
        /** The report's machine and PostgreSQL lines. */
        String describe() {
            return "machine: " + cores + " cores; " + jvm + "\nPostgreSQL " + postgres + " (embedded, same server for all rows): "
                    + settings + "\n";
        }
    }

    static Environment environment(DataSource dataSource) throws SQLException {
        try (Connection c = dataSource.getConnection(); Statement s = c.createStatement()) {
            String version = single(s, "show server_version");
            StringBuilder settings = new StringBuilder();
            for (String name : List.of("synchronous_commit", "fsync", "wal_sync_method", "shared_buffers", "max_connections")) {
                settings.append(settings.isEmpty() ? "" : ", ").append(name).append('=').append(single(s, "show " + name));
            }
            summaryFact("PostgreSQL", "PostgreSQL " + version + " (embedded, the gateway's own): fsync=" + single(s, "show fsync") + ", synchronous_commit="
                    + single(s, "show synchronous_commit") + ", wal_sync_method=" + single(s, "show wal_sync_method"));
            return new Environment(version, settings.toString(), Runtime.getRuntime().availableProcessors(),
                    System.getProperty("java.vm.name") + " " + System.getProperty("java.version") + ", -Xmx"
                            + Runtime.getRuntime().maxMemory() / 1_048_576 + "m");
        }
    }

    /** The first column of the first row. */
    static String single(Statement s, String sql) throws SQLException {
        try (ResultSet rs = s.executeQuery(sql)) {
            rs.next();
            return rs.getString(1);
        }
    }
}
