package org.carerelay.gateway;

import static org.assertj.core.api.Assertions.assertThat;

import java.io.ByteArrayInputStream;
import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.io.InputStream;
import java.io.OutputStream;
import java.lang.invoke.MethodHandles;
import java.lang.invoke.VarHandle;
import java.lang.management.ManagementFactory;
import java.lang.management.MemoryMXBean;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.ByteOrder;
import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.security.MessageDigest;
import java.security.SecureRandom;
import java.time.Duration;
import java.time.Instant;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.HexFormat;
import java.util.List;
import java.util.Locale;
import java.util.Optional;
import java.util.UUID;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.Future;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.TimeoutException;
import java.util.concurrent.atomic.AtomicBoolean;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.concurrent.atomic.AtomicLong;
import java.util.concurrent.atomic.AtomicReference;
import java.util.concurrent.locks.LockSupport;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import javax.crypto.Cipher;
import javax.crypto.KeyGenerator;
import javax.crypto.SecretKey;
import javax.crypto.spec.GCMParameterSpec;
import org.carerelay.routes.crypto.AttachmentCrypto;
import org.carerelay.routes.crypto.CmsAttachmentCrypto;
import org.carerelay.routes.crypto.Origin;
import org.carerelay.routes.crypto.Pkcs12GatewayKeys;
import org.junit.jupiter.api.Tag;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;

/**
 * Attachment streaming benchmark, not a test: it measures and prints, and asserts nothing about
 * speed (only that what came back is what was sent).
 *
 * <ol>
 * <li><b>Baselines</b>: {@code openssl speed -evp aes-256-gcm -seconds 2} (16384-byte blocks), and in
 * this JVM on the same 20 MB buffer the JDK's {@code AES/GCM/NoPadding} encryption (SunJCE) and
 * {@code SHA-256} (median and best of 5 after a warm-up).</li>
 * <li><b>CMS in-process</b>: {@link CmsAttachmentCrypto} with keys from
 * {@link Pkcs12GatewayKeys#createIfAbsent} (EC P-256): after ~300 MB sealed and ~300 MB opened as a
 * warm-up, 5 × seal of 20 MB into a counting sink and 5 × open + read to the end; then the heap
 * growth of one seal and one open (heap used sampled every 1 ms against a baseline taken after
 * {@code System.gc()}) and the bytes allocated by the working thread.</li>
 * <li><b>Gateway end to end</b>: a separate gateway JVM ({@code -Xmx512m}, attachments up to
 * 250 MB, own data directory under {@code target/attachment-bench}), one organisation registered
 * through the fax letter, then raw {@code POST /fhir/Binary} of 20 MB and 200 MiB of
 * {@code application/dicom} generated on the fly (never held in this JVM) and raw
 * {@code GET /fhir/Binary/{id}} of each, SHA-256 compared; the gateway's heap ({@code jvm.memory.used},
 * area heap, via the actuator) is sampled every 50 ms during each transfer after a
 * {@code jcmd GC.run}.</li>
 * </ol>
 *
 * <p>In the {@code src/bench} source set, which only the {@code bench} profile compiles (not
 * {@code ./mvnw verify}); run it with
 * {@code ./mvnw -B -pl gateway-app -am verify -Pbench -Dgroups=benchmark -Dsurefire.failIfNoSpecifiedTests=false
 * -Dtest=AttachmentStreamingBenchmark}. Results go to the console and are appended to
 * {@code target/benchmark-results.txt}. MB = 10^6 bytes, MiB = 2^20 bytes.
 */
@Tag("benchmark")
class AttachmentStreamingBenchmark {

    private static final int SIZE = 20_000_000;
    private static final long LARGE = 200L << 20;
    private static final int RUNS = 5;
    private static final int WARMUP_ROUNDS = 15; // 15 × 20 MB = 300 MB sealed and 300 MB opened
    private static final int CHUNK = 64 * 1024;
    private static final Origin ORIGIN = new Origin("bench-org", "Benchmark Praxis");
    private static final String OBJECT_ID = "bench-object";
    private static final Duration STARTUP_TIMEOUT = Duration.ofSeconds(180);
    private static final Duration TRANSFER_TIMEOUT = Duration.ofMinutes(10);
    private static final long MAX_ATTACHMENT_BYTES = 262_144_000L;
    private static final String GATEWAY_XMX = "-Xmx512m";
    private static final Pattern METRIC_VALUE = Pattern.compile("\"value\"\\s*:\\s*(-?[0-9.]+(?:[eE][-+]?[0-9]+)?)");
    private static final Pattern BINARY_ID = Pattern.compile("/Binary/([A-Za-z0-9\\-.]{1,64})");
    private static final Pattern JSON_ID = Pattern.compile("\"id\"\\s*:\\s*\"([A-Za-z0-9\\-.]{1,64})\"");

    /** A row of the table; NaN where a column does not apply. */
    record Row(String name, long bytes, int runs, double medianMbps, double bestMbps, double heapBaseMb, double heapGrowthMb,
            double allocatedMb, String note) {
    }

    private final List<Row> rows = new ArrayList<>();
    private final List<String> notes = new ArrayList<>();
    private double opensslMbps = Double.NaN;
    private String opensslVersion = "";
    private double sealMedian = Double.NaN;
    private double sealBest = Double.NaN;
    private double openMedian = Double.NaN;
    private double jdkGcmMedian = Double.NaN;
    private String gatewayJvm = "not started";

    /** The gateway JVM of the end-to-end part. */
    private GatewayProcess gateway;

    @Test
    @Timeout(value = 45, unit = TimeUnit.MINUTES)
    void attachmentStreaming() throws Throwable {
        BenchmarkSupport.summaryStart();
        long started = System.nanoTime();
        byte[] data = new byte[SIZE];
        try (InputStream in = new GeneratingInputStream(SIZE, 1)) {
            assertThat(in.readNBytes(data, 0, SIZE)).isEqualTo(SIZE);
        }

        opensslBaseline();
        jdkBaselines(data);
        cms(data);
        data = null; // not needed by the gateway part

        Throwable gatewayFailure = null;
        try {
            gatewayEndToEnd();
        } catch (Throwable t) {
            gatewayFailure = t;
            notes.add("GATEWAY PART FAILED: " + t);
            String tail = gateway == null ? "" : gateway.logTail(80);
            if (!tail.isEmpty()) {
                System.out.println("---- last lines of the gateway log " + gateway.log() + " ----\n" + tail + "---- end of the gateway log ----");
            }
        }

        String report = report((System.nanoTime() - started) / 1e9);
        System.out.println(report);
        BenchmarkSupport.results(report);
        if (gatewayFailure != null) {
            throw gatewayFailure;
        }
    }

    // ------------------------------------------------------------------------------ baselines

    private void opensslBaseline() {
        try {
            Optional<Double> kbps = openssl(true);
            if (kbps.isEmpty()) {
                notes.add("openssl speed: no result with -seconds 2, retried without -seconds");
                kbps = openssl(false);
            }
            if (kbps.isPresent()) {
                opensslMbps = kbps.get() * 1000 / 1e6;
                rows.add(new Row("openssl speed -evp aes-256-gcm, 16 KiB blocks", -1, 1, opensslMbps, Double.NaN, Double.NaN,
                        Double.NaN, Double.NaN, opensslVersion));
            } else {
                notes.add("openssl speed: no AES-256-GCM line in its output");
            }
        } catch (IOException e) {
            notes.add("openssl is not available (" + e.getMessage() + "): no OpenSSL baseline");
            System.out.println("openssl is not available: " + e.getMessage());
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            throw new IllegalStateException(e);
        }
    }

    /** The 16384-byte column of {@code openssl speed -evp aes-256-gcm} in 1000s of bytes per second. */
    private Optional<Double> openssl(boolean withSeconds) throws IOException, InterruptedException {
        List<String> command = new ArrayList<>(List.of("openssl", "speed", "-evp", "aes-256-gcm"));
        if (withSeconds) {
            command.addAll(List.of("-seconds", "2"));
        }
        String output = run(command, Duration.ofSeconds(120));
        try {
            opensslVersion = run(List.of("openssl", "version"), Duration.ofSeconds(10)).strip();
        } catch (IOException e) {
            opensslVersion = "";
        }
        for (String line : output.split("\\R")) {
            String trimmed = line.strip();
            if (trimmed.toUpperCase(Locale.ROOT).startsWith("AES-256-GCM")) {
                String[] tokens = trimmed.split("\\s+");
                String last = tokens[tokens.length - 1];
                if (last.endsWith("k")) {
                    last = last.substring(0, last.length() - 1);
                }
                try {
                    return Optional.of(Double.parseDouble(last));
                } catch (NumberFormatException e) {
                    return Optional.empty();
                }
            }
        }
        return Optional.empty();
    }

    private void jdkBaselines(byte[] data) throws Exception {
        SecureRandom random = new SecureRandom();
        KeyGenerator keyGenerator = KeyGenerator.getInstance("AES");
        keyGenerator.init(256);
        byte[] out = new byte[CHUNK + 64];
        String[] provider = new String[1];
        java.util.function.IntFunction<Operation> gcmWithUpdatesOf = chunk -> () -> {
            SecretKey key = keyGenerator.generateKey(); // a fresh key and IV per run: GCM refuses a reused pair
            byte[] iv = new byte[12];
            random.nextBytes(iv);
            Cipher cipher = Cipher.getInstance("AES/GCM/NoPadding", "SunJCE");
            provider[0] = cipher.getProvider().getName();
            cipher.init(Cipher.ENCRYPT_MODE, key, new GCMParameterSpec(128, iv));
            for (int off = 0; off < data.length; off += chunk) {
                cipher.update(data, off, Math.min(chunk, data.length - off), out, 0);
            }
            cipher.doFinal(out, 0);
            return data.length;
        };
        // The GCM intrinsics need C2-compiled callers: 64 KiB updates alone do not call the JDK's
        // methods often enough in a short warm-up (it then stays near 70 MB/s), so warm up with
        // 4 KiB updates first (5 × 4883 calls), then with the measured 64 KiB updates.
        Operation small = gcmWithUpdatesOf.apply(4096);
        for (int i = 0; i < 5; i++) {
            small.run();
        }
        double[] gcm = measure(5, gcmWithUpdatesOf.apply(CHUNK));
        jdkGcmMedian = gcm[0];
        rows.add(new Row("JDK AES/GCM/NoPadding encrypt, 64 KiB updates", SIZE, RUNS, gcm[0], gcm[1], Double.NaN, Double.NaN,
                Double.NaN, provider[0]));
        MessageDigest[] digest = new MessageDigest[1];
        double[] sha = measure(10, () -> {
            MessageDigest sha256 = MessageDigest.getInstance("SHA-256");
            digest[0] = sha256;
            sha256.update(data);
            sha256.digest();
            return data.length;
        });
        rows.add(new Row("JDK SHA-256 MessageDigest", SIZE, RUNS, sha[0], sha[1], Double.NaN, Double.NaN, Double.NaN,
                digest[0].getProvider().getName()));
    }

    interface Operation {
        long run() throws Exception;
    }

    /** Runs {@code op} {@code warmups} times, then {@link #RUNS} times; returns {median, best, worst} MB/s. */
    private static double[] measure(int warmups, Operation op) throws Exception {
        for (int i = 0; i < warmups; i++) {
            op.run();
        }
        double[] mbps = new double[RUNS];
        for (int i = 0; i < RUNS; i++) {
            long t0 = System.nanoTime();
            long bytes = op.run();
            mbps[i] = bytes / 1e6 / ((System.nanoTime() - t0) / 1e9);
        }
        Arrays.sort(mbps);
        return new double[] {mbps[RUNS / 2], mbps[RUNS - 1], mbps[0]};
    }

    // ------------------------------------------------------------------------------ CMS in-process

    /** A summary row: median rate of the {@link #RUNS} runs, time per 20 MB at the median and at the slowest run. */
    private void summariseCms(String name, double[] mbps) {
        BenchmarkSupport.summaryRow(name, BenchmarkSupport.rate(mbps[0], "MB/s"),
                String.format(Locale.ROOT, "%.0f ms", SIZE / 1e6 / mbps[0] * 1000),
                String.format(Locale.ROOT, "max %.0f ms (%d runs)", SIZE / 1e6 / mbps[2] * 1000, RUNS),
                Double.isNaN(opensslMbps) ? "openssl not available"
                        : "openssl speed -evp aes-256-gcm, 16 KiB: " + BenchmarkSupport.rate(opensslMbps, "MB/s"),
                BenchmarkSupport.ratio(mbps[0], opensslMbps));
    }

    private void cms(byte[] data) throws Exception {
        Path keyDir = Path.of("target", "bench-keys-" + UUID.randomUUID()).toAbsolutePath();
        long keyStart = System.nanoTime();
        Pkcs12GatewayKeys keys = Pkcs12GatewayKeys.createIfAbsent(keyDir.resolve("gateway.p12"), keyDir.resolve("gateway.password"),
                "Attachment Benchmark");
        double keyMs = (System.nanoTime() - keyStart) / 1e6;
        AttachmentCrypto crypto = new CmsAttachmentCrypto(keys);

        // correctness once, and the sealed bytes for the open runs
        ByteArrayOutputStream sealedOut = new ByteArrayOutputStream(SIZE + 64 * 1024);
        seal(crypto, data, sealedOut);
        byte[] sealed = sealedOut.toByteArray();
        sealedOut = null;
        MessageDigest openedDigest = MessageDigest.getInstance("SHA-256");
        AttachmentCrypto.OpenedAttachment check = crypto.open(new ByteArrayInputStream(sealed), OBJECT_ID);
        long opened = readToEnd(check, openedDigest);
        check.close();
        assertThat(opened).as("bytes out of open").isEqualTo(SIZE);
        assertThat(HexFormat.of().formatHex(openedDigest.digest()))
                .as("SHA-256 of the opened attachment").isEqualTo(HexFormat.of().formatHex(MessageDigest.getInstance("SHA-256").digest(data)));
        assertThat(check.origin()).as("origin of the verified signature").isEqualTo(ORIGIN);

        // warm-up: ~300 MB each way
        for (int i = 0; i < WARMUP_ROUNDS; i++) {
            seal(crypto, data, new CountingSink());
            open(crypto, sealed);
        }
        CountingSink lastSink = new CountingSink();
        double[] seal = measure(0, () -> {
            CountingSink sink = new CountingSink();
            seal(crypto, data, sink);
            lastSink.count = sink.count;
            return data.length;
        });
        double[] open = measure(0, () -> open(crypto, sealed));
        sealMedian = seal[0];
        sealBest = seal[1];
        openMedian = open[0];
        summariseCms("CMS seal, 20 MB (AES-256-GCM, signed)", seal);
        summariseCms("CMS open, 20 MB (verify, decrypt, read)", open);

        HeapGrowth sealHeap = heapGrowth(() -> {
            seal(crypto, data, new CountingSink());
            return data.length;
        });
        HeapGrowth openHeap = heapGrowth(() -> open(crypto, sealed));
        String storage = keys.currentStorageKey().certificate().getPublicKey().getAlgorithm();
        rows.add(new Row("CMS seal (sign + AES-256-GCM) → counting sink", SIZE, RUNS, seal[0], seal[1], sealHeap.baselineMb(),
                sealHeap.growthMb(), sealHeap.allocatedMb(), "sealed " + lastSink.count + " B"));
        rows.add(new Row("CMS open (decrypt + verify), read to end", SIZE, RUNS, open[0], open[1], openHeap.baselineMb(),
                openHeap.growthMb(), openHeap.allocatedMb(), "from a byte[]"));
        notes.add(String.format(Locale.ROOT,
                "CMS keys: Pkcs12GatewayKeys.createIfAbsent under %s (%s signing and storage keys, created in %.0f ms); warm-up %d × 20 MB "
                        + "seal + %d × 20 MB open before the measured runs",
                Path.of("target").toAbsolutePath().relativize(keyDir), storage, keyMs, WARMUP_ROUNDS, WARMUP_ROUNDS));
        notes.add(String.format(Locale.ROOT,
                "in-process heap: baseline after 3 × System.gc() (input %d B and sealed %d B already allocated); growth = peak of heap used "
                        + "sampled every 1 ms (%d / %d samples during seal / open) minus the baseline, includes garbage not yet collected; "
                        + "alloc = bytes allocated by the working thread (ThreadMXBean), the total garbage produced, not retained heap",
                SIZE, sealed.length, sealHeap.samples(), openHeap.samples()));
    }

    private static void seal(AttachmentCrypto crypto, byte[] data, OutputStream sink) throws IOException {
        try (OutputStream out = crypto.seal(sink, ORIGIN, OBJECT_ID)) {
            for (int off = 0; off < data.length; off += CHUNK) {
                out.write(data, off, Math.min(CHUNK, data.length - off));
            }
        }
    }

    private static long open(AttachmentCrypto crypto, byte[] sealed) throws IOException {
        try (InputStream in = crypto.open(new ByteArrayInputStream(sealed), OBJECT_ID)) {
            long n = readToEnd(in, null);
            if (n != SIZE) {
                throw new IllegalStateException("open yielded " + n + " bytes instead of " + SIZE);
            }
            return n;
        }
    }

    private static long readToEnd(InputStream in, MessageDigest digest) throws IOException {
        byte[] buffer = new byte[CHUNK];
        long total = 0;
        int n;
        while ((n = in.read(buffer)) != -1) {
            if (digest != null) {
                digest.update(buffer, 0, n);
            }
            total += n;
        }
        return total;
    }

    record HeapGrowth(double baselineMb, double growthMb, double allocatedMb, int samples) {
    }

    private static HeapGrowth heapGrowth(Operation op) throws Exception {
        MemoryMXBean memory = ManagementFactory.getMemoryMXBean();
        com.sun.management.ThreadMXBean threads = (com.sun.management.ThreadMXBean) ManagementFactory.getThreadMXBean();
        if (threads.isThreadAllocatedMemorySupported() && !threads.isThreadAllocatedMemoryEnabled()) {
            threads.setThreadAllocatedMemoryEnabled(true);
        }
        for (int i = 0; i < 3; i++) {
            System.gc();
            Thread.sleep(100);
        }
        long baseline = memory.getHeapMemoryUsage().getUsed();
        AtomicLong peak = new AtomicLong(baseline);
        AtomicInteger samples = new AtomicInteger();
        AtomicBoolean stop = new AtomicBoolean();
        Thread sampler = new Thread(() -> {
            while (!stop.get()) {
                long used = memory.getHeapMemoryUsage().getUsed();
                peak.accumulateAndGet(used, Math::max);
                samples.incrementAndGet();
                LockSupport.parkNanos(1_000_000);
            }
        }, "heap-sampler");
        sampler.setDaemon(true);
        sampler.start();
        long thread = Thread.currentThread().getId();
        long allocatedBefore = threads.getThreadAllocatedBytes(thread);
        long allocated;
        try {
            op.run();
            allocated = threads.getThreadAllocatedBytes(thread) - allocatedBefore;
            peak.accumulateAndGet(memory.getHeapMemoryUsage().getUsed(), Math::max);
        } finally {
            stop.set(true);
            sampler.join(2000);
        }
        return new HeapGrowth(baseline / 1e6, (peak.get() - baseline) / 1e6, allocated / 1e6, samples.get());
    }

    static final class CountingSink extends OutputStream {
        long count;

        @Override
        public void write(int b) {
            count++;
        }

        @Override
        public void write(byte[] b, int off, int len) {
            count += len;
        }
    }

    // ------------------------------------------------------------------------------ gateway end to end

    private void gatewayEndToEnd() throws Exception {
        gateway = new GatewayProcess("attachment-bench", GATEWAY_XMX, "--carerelay.attachments.max-bytes=" + MAX_ATTACHMENT_BYTES);
        HttpClient http = HttpClient.newBuilder().version(HttpClient.Version.HTTP_1_1).connectTimeout(Duration.ofSeconds(10)).build();
        HttpClient metricsHttp = HttpClient.newBuilder().version(HttpClient.Version.HTTP_1_1).connectTimeout(Duration.ofSeconds(5)).build();
        ExecutorService worker = Executors.newSingleThreadExecutor(r -> {
            Thread t = new Thread(r, "attachment-transfer");
            t.setDaemon(true);
            return t;
        });
        boolean passed = false;
        try {
            long startAt = System.nanoTime();
            gateway.start();
            gateway.awaitUp(STARTUP_TIMEOUT);
            double startupSeconds = (System.nanoTime() - startAt) / 1e9;
            gatewayJvm = GATEWAY_XMX + ", " + gcName(gateway.pid()) + String.format(Locale.ROOT, ", UP after %.1f s", startupSeconds);

            String token = gateway.register("Bench-Attachment-Praxis", "4930" + (100_000_000 + (long) (Math.random() * 800_000_000)))
                    .token();

            for (long size : new long[] {SIZE, LARGE}) {
                String label = size == LARGE ? "200 MiB" : "20 MB";
                long seed = size * 31 + 7;

                GatewaySampler uploadHeap = new GatewaySampler(metricsHttp, "upload " + label);
                Upload upload = inTime(worker, "upload " + label, () -> {
                    uploadHeap.start();
                    try {
                        return upload(http, token, size, seed);
                    } finally {
                        uploadHeap.stop();
                    }
                });
                rows.add(new Row("gateway POST /fhir/Binary " + label + " (raw)", size, 1, upload.mbps(), Double.NaN,
                        uploadHeap.baselineMb(), uploadHeap.growthMb(), Double.NaN,
                        "HTTP " + upload.status() + ", " + uploadHeap.samples() + " heap samples" + uploadHeap.problems()));

                GatewaySampler downloadHeap = new GatewaySampler(metricsHttp, "download " + label);
                Download download = inTime(worker, "download " + label, () -> {
                    downloadHeap.start();
                    try {
                        return download(http, token, upload.id(), size);
                    } finally {
                        downloadHeap.stop();
                    }
                });
                assertThat(download.sha256()).as("SHA-256 of the %s downloaded (Binary/%s) vs. uploaded", label, upload.id())
                        .isEqualTo(upload.sha256());
                rows.add(new Row("gateway GET /fhir/Binary/{id} " + label + " (raw)", size, 1, download.mbps(), Double.NaN,
                        downloadHeap.baselineMb(), downloadHeap.growthMb(), Double.NaN,
                        String.format(Locale.ROOT, "HTTP %d, 1st byte %.2f s, %d heap samples%s", download.status(),
                                download.firstByteSeconds(), downloadHeap.samples(), downloadHeap.problems())));
                notes.add(String.format(Locale.ROOT, "gateway %s: Binary/%s, SHA-256 %s… equal both ways; upload %.2f s, download %.2f s",
                        label, upload.id(), upload.sha256().substring(0, 16), upload.seconds(), download.seconds()));
            }
            passed = true;
        } finally {
            worker.shutdownNow();
            notes.addAll(gateway.stop());
            if (passed) { // a failed run keeps its data directory (and the gateway log) for inspection
                gateway.deleteDataDir();
            }
        }
    }

    private <T> T inTime(ExecutorService worker, String what, java.util.concurrent.Callable<T> task) throws Exception {
        Future<T> future = worker.submit(task);
        try {
            return future.get(TRANSFER_TIMEOUT.plusMinutes(1).toSeconds(), TimeUnit.SECONDS);
        } catch (TimeoutException e) {
            future.cancel(true);
            throw new AssertionError(what + " did not finish within " + TRANSFER_TIMEOUT.plusMinutes(1), e);
        } catch (java.util.concurrent.ExecutionException e) {
            throw new AssertionError(what + " failed: " + e.getCause(), e.getCause());
        }
    }

    record Upload(String id, String sha256, int status, double seconds, double mbps) {
    }

    private Upload upload(HttpClient http, String token, long size, long seed) throws Exception {
        AtomicReference<GeneratingInputStream> body = new AtomicReference<>();
        AtomicInteger subscriptions = new AtomicInteger();
        HttpRequest request = HttpRequest.newBuilder(URI.create(gateway.baseUrl() + "/fhir/Binary"))
                .timeout(TRANSFER_TIMEOUT)
                .header("Authorization", "Bearer " + token)
                .header("Content-Type", "application/dicom")
                .header("Accept", "application/fhir+json")
                .POST(HttpRequest.BodyPublishers.fromPublisher(HttpRequest.BodyPublishers.ofInputStream(() -> {
                    subscriptions.incrementAndGet();
                    GeneratingInputStream in = new GeneratingInputStream(size, seed);
                    body.set(in);
                    return in;
                }), size))
                .build();
        long t0 = System.nanoTime();
        HttpResponse<String> response = http.send(request, HttpResponse.BodyHandlers.ofString());
        double seconds = (System.nanoTime() - t0) / 1e9;
        if (response.statusCode() != 201) {
            throw new AssertionError("upload of " + size + " bytes: HTTP " + response.statusCode() + " instead of 201: "
                    + abbreviate(response.body()));
        }
        GeneratingInputStream sent = body.get();
        assertThat(subscriptions.get()).as("times the upload body was produced").isEqualTo(1);
        assertThat(sent.position()).as("bytes sent").isEqualTo(size);
        String location = response.headers().firstValue("Location").orElse("");
        Matcher m = BINARY_ID.matcher(location);
        String id;
        if (m.find()) {
            id = m.group(1);
        } else {
            Matcher json = JSON_ID.matcher(response.body());
            if (!json.find()) {
                throw new AssertionError("upload: no Binary id in Location '" + location + "' or body " + abbreviate(response.body()));
            }
            id = json.group(1);
        }
        return new Upload(id, sent.sha256Hex(), response.statusCode(), seconds, size / 1e6 / seconds);
    }

    record Download(String sha256, int status, double firstByteSeconds, double seconds, double mbps) {
    }

    private Download download(HttpClient http, String token, String id, long size) throws Exception {
        HttpRequest request = HttpRequest.newBuilder(URI.create(gateway.baseUrl() + "/fhir/Binary/" + id))
                .timeout(TRANSFER_TIMEOUT)
                .header("Authorization", "Bearer " + token)
                .GET()
                .build();
        long t0 = System.nanoTime();
        HttpResponse<InputStream> response = http.send(request, HttpResponse.BodyHandlers.ofInputStream());
        double headers = (System.nanoTime() - t0) / 1e9;
        MessageDigest sha256 = MessageDigest.getInstance("SHA-256");
        long n;
        try (InputStream in = response.body()) {
            if (response.statusCode() != 200) {
                byte[] error = in.readNBytes(4096);
                throw new AssertionError("download of Binary/" + id + ": HTTP " + response.statusCode() + " instead of 200: "
                        + abbreviate(new String(error, StandardCharsets.UTF_8)));
            }
            n = readToEnd(in, sha256);
        }
        double seconds = (System.nanoTime() - t0) / 1e9;
        assertThat(n).as("bytes downloaded from Binary/%s", id).isEqualTo(size);
        response.headers().firstValueAsLong("Content-Length")
                .ifPresent(length -> assertThat(length).as("Content-Length of Binary/%s", id).isEqualTo(size));
        return new Download(HexFormat.of().formatHex(sha256.digest()), response.statusCode(), headers, seconds, size / 1e6 / seconds);
    }

    /** Heap used of the gateway (actuator), sampled every 50 ms after a {@code jcmd GC.run}. */
    private final class GatewaySampler {
        private final HttpClient http;
        private final String what;
        private final AtomicLong peak = new AtomicLong(Long.MIN_VALUE);
        private final AtomicInteger samples = new AtomicInteger();
        private final AtomicInteger failures = new AtomicInteger();
        private final AtomicReference<String> firstFailure = new AtomicReference<>();
        private final AtomicBoolean stop = new AtomicBoolean();
        private long baseline = -1;
        private String gcProblem = "";
        private Thread thread;

        GatewaySampler(HttpClient http, String what) {
            this.http = http;
            this.what = what;
        }

        void start() throws Exception {
            gcProblem = gcRun(gateway.pid());
            Thread.sleep(200);
            baseline = heapUsed();
            peak.set(baseline);
            thread = new Thread(() -> {
                long next = System.nanoTime();
                while (!stop.get()) {
                    try {
                        peak.accumulateAndGet(heapUsed(), Math::max);
                        samples.incrementAndGet();
                    } catch (Exception e) {
                        failures.incrementAndGet();
                        firstFailure.compareAndSet(null, e.toString());
                    }
                    next += 50_000_000L;
                    long wait = next - System.nanoTime();
                    if (wait > 0) {
                        LockSupport.parkNanos(wait);
                    } else {
                        next = System.nanoTime();
                    }
                }
            }, "gateway-heap-sampler");
            thread.setDaemon(true);
            thread.start();
        }

        void stop() {
            stop.set(true);
            if (thread != null) {
                try {
                    thread.join(10_000);
                } catch (InterruptedException e) {
                    Thread.currentThread().interrupt();
                }
            }
            try {
                peak.accumulateAndGet(heapUsed(), Math::max);
                samples.incrementAndGet();
            } catch (Exception e) {
                failures.incrementAndGet();
                firstFailure.compareAndSet(null, e.toString());
            }
        }

        long heapUsed() throws Exception {
            HttpRequest request = HttpRequest.newBuilder(URI.create(gateway.baseUrl() + "/actuator/metrics/jvm.memory.used?tag=area:heap"))
                    .timeout(Duration.ofSeconds(5))
                    .header("Authorization", "Bearer " + gateway.adminToken)
                    .build();
            HttpResponse<String> response = http.send(request, HttpResponse.BodyHandlers.ofString());
            if (response.statusCode() != 200) {
                throw new IllegalStateException("metrics: HTTP " + response.statusCode() + " " + abbreviate(response.body()));
            }
            Matcher m = METRIC_VALUE.matcher(response.body());
            if (!m.find()) {
                throw new IllegalStateException("metrics: no value in " + abbreviate(response.body()));
            }
            return (long) Double.parseDouble(m.group(1));
        }

        double baselineMb() {
            return baseline / 1e6;
        }

        double growthMb() {
            return (peak.get() - baseline) / 1e6;
        }

        int samples() {
            return samples.get();
        }

        String problems() {
            String result = gcProblem.isEmpty() ? "" : "; " + gcProblem;
            if (failures.get() > 0) {
                result += "; " + failures.get() + " failed samples (" + firstFailure.get() + ")";
                notes.add(what + ": " + failures.get() + " heap samples failed, first: " + firstFailure.get());
            }
            return result;
        }
    }

    private static Path jcmd() {
        return Path.of(System.getProperty("java.home"), "bin", "jcmd");
    }

    /** {@code jcmd <pid> GC.run}; the empty string on success, otherwise what went wrong. */
    private String gcRun(long pid) {
        try {
            String out = run(List.of(jcmd().toString(), Long.toString(pid), "GC.run"), Duration.ofSeconds(60));
            if (out.contains("Command executed successfully")) {
                return "";
            }
            notes.add("jcmd " + pid + " GC.run answered: " + abbreviate(out.strip()));
            return "GC.run unconfirmed";
        } catch (Exception e) {
            notes.add("jcmd GC.run failed: " + e);
            return "GC.run failed";
        }
    }

    private String gcName(long pid) {
        try {
            String flags = run(List.of(jcmd().toString(), Long.toString(pid), "VM.flags"), Duration.ofSeconds(30));
            Matcher m = Pattern.compile("-XX:\\+Use(\\w+)GC\\b").matcher(flags);
            return m.find() ? m.group(1) + " GC" : "GC unknown";
        } catch (Exception e) {
            return "GC unknown (" + e.getMessage() + ")";
        }
    }

    // ------------------------------------------------------------------------------ helpers

    /** Runs a command, returns stdout and stderr together; fails on a timeout. */
    private static String run(List<String> command, Duration timeout) throws IOException, InterruptedException {
        Process process = new ProcessBuilder(command).redirectErrorStream(true).start();
        ByteArrayOutputStream output = new ByteArrayOutputStream();
        Thread reader = new Thread(() -> {
            try (InputStream in = process.getInputStream()) {
                in.transferTo(output);
            } catch (IOException ignored) {
                // the process went away
            }
        }, "command-output");
        reader.setDaemon(true);
        reader.start();
        if (!process.waitFor(timeout.toSeconds(), TimeUnit.SECONDS)) {
            process.destroyForcibly();
            throw new IOException(String.join(" ", command) + " did not finish within " + timeout);
        }
        reader.join(5000);
        return output.toString(StandardCharsets.UTF_8);
    }

    private static String abbreviate(String text) {
        String oneLine = text.replaceAll("\\s+", " ");
        return oneLine.length() > 400 ? oneLine.substring(0, 400) + "…" : oneLine;
    }

    /**
     * {@code length} bytes of a DICOM-looking stream: a 128-byte zero preamble, "DICM", then
     * pseudo-random bytes (xorshift64*), generated as read and hashed with SHA-256 as handed out.
     */
    static final class GeneratingInputStream extends InputStream {
        private static final VarHandle LONGS = MethodHandles.byteArrayViewVarHandle(long[].class, ByteOrder.LITTLE_ENDIAN);
        private static final byte[] HEADER = new byte[132];

        static {
            System.arraycopy("DICM".getBytes(StandardCharsets.US_ASCII), 0, HEADER, 128, 4);
        }

        private final long length;
        private final MessageDigest sha256;
        private final byte[] block = new byte[CHUNK];
        private int blockPosition = CHUNK;
        private long position;
        private long state;

        GeneratingInputStream(long length, long seed) {
            this.length = length;
            this.state = seed * 0x9E3779B97F4A7C15L | 1;
            try {
                this.sha256 = MessageDigest.getInstance("SHA-256");
            } catch (Exception e) {
                throw new IllegalStateException(e);
            }
        }

        @Override
        public int read() throws IOException {
            byte[] one = new byte[1];
            return read(one, 0, 1) == -1 ? -1 : one[0] & 0xff;
        }

        @Override
        public int read(byte[] b, int off, int len) {
            if (len == 0) {
                return 0;
            }
            if (position >= length) {
                return -1;
            }
            if (blockPosition == block.length) {
                for (int i = 0; i < block.length; i += 8) {
                    long x = state;
                    x ^= x >>> 12;
                    x ^= x << 25;
                    x ^= x >>> 27;
                    state = x;
                    LONGS.set(block, i, x * 0x2545F4914F6CDD1DL);
                }
                blockPosition = 0;
            }
            int n = (int) Math.min(Math.min(len, block.length - blockPosition), length - position);
            System.arraycopy(block, blockPosition, b, off, n);
            for (long p = position; p < HEADER.length && p < position + n; p++) {
                b[off + (int) (p - position)] = HEADER[(int) p];
            }
            sha256.update(b, off, n);
            blockPosition += n;
            position += n;
            return n;
        }

        @Override
        public int available() {
            return (int) Math.min(Integer.MAX_VALUE, length - position);
        }

        long position() {
            return position;
        }

        String sha256Hex() {
            return HexFormat.of().formatHex(sha256.digest());
        }
    }

    // ------------------------------------------------------------------------------ report

    private String report(double totalSeconds) {
        StringBuilder out = new StringBuilder();
        out.append("CareRelay attachment streaming benchmark, ").append(Instant.now()).append('\n');
        out.append(String.format(Locale.ROOT, "machine: %d cores; %s %s, test JVM -Xmx%dm; gateway JVM (separate process): %s%n",
                Runtime.getRuntime().availableProcessors(), System.getProperty("java.vm.name"), System.getProperty("java.version"),
                Runtime.getRuntime().maxMemory() / 1_048_576, gatewayJvm));
        out.append(String.format(Locale.ROOT,
                "MB = 10^6 bytes, MiB = 2^20 bytes; in-process rows: median and best of %d runs on one 20 MB buffer after a warm-up; "
                        + "gateway rows: one transfer each, client and gateway on this machine over loopback HTTP/1.1%n%n", RUNS));
        String format = "%-50s %11s %4s %10s %10s %10s %10s %10s  %s%n";
        out.append(String.format(Locale.ROOT, format, "measurement", "bytes", "runs", "MB/s med", "MB/s best", "heap base", "heap +peak",
                "alloc MB", "note"));
        out.append("-".repeat(150)).append('\n');
        for (Row r : rows) {
            out.append(String.format(Locale.ROOT, format, r.name(), r.bytes() < 0 ? "-" : Long.toString(r.bytes()), r.runs(),
                    num(r.medianMbps()), num(r.bestMbps()), num(r.heapBaseMb()), num(r.heapGrowthMb()), num(r.allocatedMb()), r.note()));
        }
        out.append('\n');
        if (!Double.isNaN(opensslMbps)) {
            out.append(String.format(Locale.ROOT,
                    "ratio sign+encrypt (CMS seal) ÷ openssl AES-256-GCM: %.3f median (%.1f / %.1f MB/s), %.3f best; "
                            + "open ÷ openssl: %.3f; JDK AES-GCM ÷ openssl: %.3f%n",
                    sealMedian / opensslMbps, sealMedian, opensslMbps, sealBest / opensslMbps, openMedian / opensslMbps,
                    jdkGcmMedian / opensslMbps));
        } else {
            out.append("ratio sign+encrypt ÷ openssl AES-256-GCM: n/a (no OpenSSL baseline)\n");
        }
        out.append("heap columns in MB: in-process rows = test JVM (see below); gateway rows = the gateway's jvm.memory.used{area=heap} "
                + "from /actuator/metrics, baseline right after jcmd GC.run, +peak = highest sample every 50 ms during the transfer minus "
                + "the baseline (sampled, includes garbage not yet collected)\n");
        for (String note : notes) {
            out.append(note).append('\n');
        }
        out.append(String.format(Locale.ROOT, "total runtime of the benchmark: %.1f s%n", totalSeconds));
        return out.toString();
    }

    private static String num(double value) {
        return Double.isNaN(value) ? "-" : String.format(Locale.ROOT, "%.1f", value);
    }
}
