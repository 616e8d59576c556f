package org.carerelay.routes.crypto;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;
import static org.carerelay.routes.crypto.TestPki.data;

import java.io.IOException;
import java.io.OutputStream;
import java.security.MessageDigest;
import java.util.ArrayList;
import java.util.List;
import java.util.Random;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.Future;
import java.util.concurrent.LinkedBlockingQueue;
import java.util.concurrent.Semaphore;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicLong;
import org.bouncycastle.asn1.nist.NISTObjectIdentifiers;
import org.bouncycastle.asn1.x509.AlgorithmIdentifier;
import org.bouncycastle.operator.DigestCalculator;
import org.bouncycastle.operator.DigestCalculatorProvider;
import org.bouncycastle.operator.jcajce.JcaDigestCalculatorProviderBuilder;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.ValueSource;

@Timeout(60)
class OverlappedDigestsTest {

    private static final int BLOCK = OverlappedDigests.BLOCK_BYTES;
    private static final AlgorithmIdentifier SHA256 = new AlgorithmIdentifier(NISTObjectIdentifiers.id_sha256);

    /** A pool of its own for the tests, so that they overlap whatever the machine's cores. */
    private static final ExecutorService POOL = Executors.newFixedThreadPool(2, task -> {
        Thread thread = new Thread(task, "test-digest");
        thread.setDaemon(true);
        return thread;
    });

    private static DigestCalculatorProvider jca() throws Exception {
        return new JcaDigestCalculatorProviderBuilder().build();
    }

    private static DigestCalculatorProvider overlapping(DigestCalculatorProvider delegate) {
        return OverlappedDigests.overlapping(delegate, POOL, new Semaphore(8));
    }

    @ParameterizedTest
    @ValueSource(ints = {0, 1, 8191, 8192, 8193, 32 * 1024 + 1, BLOCK - 1, BLOCK, BLOCK + 1, 5 * BLOCK, 20_000_000})
    void sameDigestAsTheJdk_whateverTheWriteSizes(int size) throws Exception {
        byte[] content = data(size, size);
        byte[] expected = MessageDigest.getInstance("SHA-256").digest(content);
        Random random = new Random(size);
        for (DigestCalculatorProvider provider : List.of(OverlappedDigests.overlapping(jca()), overlapping(jca()),
                OverlappedDigests.overlapping(jca(), POOL, new Semaphore(1)))) {
            DigestCalculator calculator = provider.get(SHA256);
            assertThat(calculator.getAlgorithmIdentifier()).isEqualTo(SHA256);
            OutputStream out = calculator.getOutputStream();
            int off = 0;
            while (off < size) {
                int n = random.nextInt(4) == 0 ? 1 : Math.min(size - off, 1 + random.nextInt(3 * BLOCK / 2));
                if (n == 1) {
                    out.write(content[off]);
                } else {
                    out.write(content, off, n);
                }
                off += n;
            }
            assertThat(calculator.getDigest()).as("size %d", size).isEqualTo(expected);
        }
    }

    @Test
    void theCallersBufferMayBeReusedRightAfterTheWrite() throws Exception {
        byte[] content = data(3 * BLOCK + 17, 7);
        byte[] expected = MessageDigest.getInstance("SHA-256").digest(content);
        DigestCalculator calculator = overlapping(jca()).get(SHA256);
        byte[] buffer = new byte[BLOCK];
        for (int off = 0; off < content.length; off += buffer.length) {
            int n = Math.min(buffer.length, content.length - off);
            System.arraycopy(content, off, buffer, 0, n);
            calculator.getOutputStream().write(buffer, 0, n);
            java.util.Arrays.fill(buffer, (byte) 0x5a); // overwritten while the worker may still be hashing
        }
        assertThat(calculator.getDigest()).isEqualTo(expected);
    }

    @Test
    void smallContent_isHashedOnTheCallingThread() throws Exception {
        List<Runnable> submitted = new ArrayList<>();
        DigestCalculator calculator = OverlappedDigests.overlapping(jca(), submitted::add, new Semaphore(8)).get(SHA256);
        byte[] content = data(BLOCK - 1, 3);
        calculator.getOutputStream().write(content);
        assertThat(calculator.getDigest()).isEqualTo(MessageDigest.getInstance("SHA-256").digest(content));
        assertThat(submitted).isEmpty();
    }

    @Test
    void theBudgetBoundsTheBlocksInFlight_beyondItAStreamHashesItself() throws Exception {
        int permits = 3;
        Semaphore budget = new Semaphore(permits);
        LinkedBlockingQueue<Runnable> held = new LinkedBlockingQueue<>();
        DigestCalculator calculator = OverlappedDigests.overlapping(jca(), held::add, budget).get(SHA256);
        byte[] content = data((permits + 3) * BLOCK, 11);
        ExecutorService writer = Executors.newSingleThreadExecutor();
        AtomicLong written = new AtomicLong();
        try {
            Future<?> writing = writer.submit(() -> {
                for (int off = 0; off < content.length; off += BLOCK) {
                    calculator.getOutputStream().write(content, off, BLOCK);
                    written.addAndGet(BLOCK);
                }
                return null;
            });
            // nothing runs the workers' tasks: the writer hands over as many blocks as there are permits,
            // then waits for them before it hashes the next block itself
            Thread.sleep(500);
            assertThat(writing).isNotDone();
            assertThat(written.get()).isEqualTo((long) permits * BLOCK);
            assertThat(budget.availablePermits()).isZero();
            assertThat(held).hasSize(1); // a stream's blocks are chained: one task queued at a time
            while (!writing.isDone()) {
                Runnable task = held.poll(100, TimeUnit.MILLISECONDS);
                if (task != null) {
                    task.run();
                }
            }
            writing.get();
            while (!held.isEmpty()) {
                held.take().run();
            }
            assertThat(calculator.getDigest()).isEqualTo(MessageDigest.getInstance("SHA-256").digest(content));
            assertThat(budget.availablePermits()).isEqualTo(permits);
        } finally {
            writer.shutdownNow();
        }
    }

    @Test
    void anAbandonedStream_givesItsPermitsBack() throws Exception {
        Semaphore budget = new Semaphore(4);
        DigestCalculator calculator = OverlappedDigests.overlapping(jca(), POOL, budget).get(SHA256);
        calculator.getOutputStream().write(data(3 * BLOCK + 5, 13)); // never completed, as after a broken upload
        long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(10);
        while (budget.availablePermits() < 4 && System.nanoTime() < deadline) {
            Thread.sleep(10);
        }
        assertThat(budget.availablePermits()).isEqualTo(4);
    }

    @Test
    void aRefusingExecutor_failsTheDigestOfABlockItDidNotRun_andGivesThePermitBack() throws Exception {
        Semaphore budget = new Semaphore(4);
        LinkedBlockingQueue<Runnable> held = new LinkedBlockingQueue<>();
        boolean[] refuse = {false};
        DigestCalculator calculator = OverlappedDigests.overlapping(jca(), task -> {
            if (refuse[0]) {
                throw new java.util.concurrent.RejectedExecutionException("shut down");
            }
            held.add(task);
        }, budget).get(SHA256);
        byte[] content = data(2 * BLOCK, 17);
        calculator.getOutputStream().write(content); // the first block queued, the second chained behind it
        refuse[0] = true;
        held.take().run(); // the chained block is refused when its turn comes
        assertThatThrownBy(calculator::getDigest).isInstanceOf(IllegalStateException.class).hasMessageContaining("could not be hashed");
        assertThatThrownBy(calculator::getDigest).isInstanceOf(IllegalStateException.class);
        assertThat(budget.availablePermits()).isEqualTo(4);
    }

    @Test
    void anExecutorRefusingRightAway_leavesTheHashingToTheWriter() throws Exception {
        Semaphore budget = new Semaphore(4);
        DigestCalculator calculator = OverlappedDigests.overlapping(jca(), task -> {
            throw new java.util.concurrent.RejectedExecutionException("shut down");
        }, budget).get(SHA256);
        byte[] content = data(3 * BLOCK + 1, 19);
        calculator.getOutputStream().write(content);
        assertThat(calculator.getDigest()).isEqualTo(MessageDigest.getInstance("SHA-256").digest(content));
        assertThat(budget.availablePermits()).isEqualTo(4);
    }

    /** SHA-256 whose stream fails with {@code failure} once more than two blocks were written to it. */
    private static DigestCalculatorProvider failingAfterTwoBlocks(java.util.function.Supplier<Throwable> failure) {
        return algorithm -> new DigestCalculator() {
            private long seen;

            @Override
            public AlgorithmIdentifier getAlgorithmIdentifier() {
                return algorithm;
            }

            @Override
            public OutputStream getOutputStream() {
                return new OutputStream() {
                    @Override
                    public void write(int b) throws IOException {
                        write(new byte[] {(byte) b}, 0, 1);
                    }

                    @Override
                    public void write(byte[] b, int off, int len) throws IOException {
                        seen += len;
                        if (seen > 2L * BLOCK) {
                            Throwable t = failure.get();
                            if (t instanceof IOException io) {
                                throw io;
                            }
                            throw (Error) t;
                        }
                    }
                };
            }

            @Override
            public byte[] getDigest() {
                return new byte[32];
            }
        };
    }

    @Test
    void aFailingDigest_failsGetDigest_andNeverBlocksTheWriter() throws Exception {
        for (int blocks : new int[] {3, 20}) {
            Semaphore budget = new Semaphore(2);
            DigestCalculator calculator = OverlappedDigests.overlapping(failingAfterTwoBlocks(() -> new IOException("digest broke")), POOL,
                    budget).get(SHA256);
            try {
                calculator.getOutputStream().write(data(blocks * BLOCK, 5));
            } catch (IOException e) {
                assertThat(e).hasMessageContaining("digest broke"); // the writer met the failure while hashing a block itself
            }
            assertThatThrownBy(calculator::getDigest).isInstanceOf(IllegalStateException.class).hasMessageContaining("digest broke");
            assertThatThrownBy(calculator::getDigest).as("the failure stays").isInstanceOf(IllegalStateException.class)
                    .hasMessageContaining("digest broke");
            assertThat(budget.availablePermits()).isEqualTo(2);
        }
    }

    @Test
    void anErrorOnAWorker_failsGetDigest_andGivesThePermitsBack() throws Exception {
        Semaphore budget = new Semaphore(100); // every block goes to a worker
        DigestCalculator calculator = OverlappedDigests.overlapping(failingAfterTwoBlocks(() -> new AssertionError("digest broke badly")),
                POOL, budget).get(SHA256);
        calculator.getOutputStream().write(data(20 * BLOCK, 5));
        assertThatThrownBy(calculator::getDigest).isInstanceOf(IllegalStateException.class).hasMessageContaining("digest broke badly");
        assertThat(budget.availablePermits()).isEqualTo(100);
    }

    @Test
    void writingAfterTheDigest_isRefused() throws Exception {
        DigestCalculator calculator = overlapping(jca()).get(SHA256);
        calculator.getOutputStream().write(1);
        calculator.getDigest();
        assertThatThrownBy(() -> calculator.getOutputStream().write(2)).isInstanceOf(IOException.class);
    }
}
