package org.carerelay.routes.crypto;

import java.io.IOException;
import java.io.OutputStream;
import java.util.Arrays;
import java.util.Objects;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.Executor;
import java.util.concurrent.LinkedBlockingQueue;
import java.util.concurrent.Semaphore;
import java.util.concurrent.ThreadPoolExecutor;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicBoolean;
import java.util.concurrent.atomic.AtomicInteger;
import org.bouncycastle.asn1.x509.AlgorithmIdentifier;
import org.bouncycastle.operator.DigestCalculator;
import org.bouncycastle.operator.DigestCalculatorProvider;
import org.bouncycastle.operator.OperatorCreationException;

/**
 * Digest calculators whose hashing runs on another core while the caller goes on encrypting or
 * decrypting. Sealing and opening an attachment hash its content (SHA-256, for the signature) and
 * encrypt or decrypt it (AES-GCM); one after the other on one thread, the hash is two thirds of
 * the time. Here the bytes written to a calculator's stream are copied into blocks of
 * {@value #BLOCK_BYTES} bytes, and every full block is hashed on a worker thread, in order, by the
 * calculator it wraps (the same JDK digest as without this class); {@link DigestCalculator#getDigest()}
 * hashes the last, partial block on the calling thread once the worker is through and returns the
 * wrapped calculator's digest. Content smaller than one block never leaves the calling thread.
 *
 * <p>Memory: the blocks handed to the workers and not yet hashed are bounded for the whole JVM, by
 * {@value #BLOCKS_IN_FLIGHT_PER_CORE} per core. When that budget is used up (more attachments at
 * once than the workers keep up with), a stream waits for its own blocks in flight and hashes the
 * block itself, as it would without this class; it never waits for a permit. Besides, each
 * stream holds the one block it is filling. The workers are shared daemon threads, as many as the
 * machine has cores, that end after {@value #IDLE_SECONDS} s without work. On a machine with one
 * core there is nothing to overlap, and the wrapped calculators are returned as they are.
 */
final class OverlappedDigests implements DigestCalculatorProvider {

    static final int BLOCK_BYTES = 256 * 1024;
    static final int BLOCKS_IN_FLIGHT_PER_CORE = 4;
    static final int IDLE_SECONDS = 30;
    private static final int FIRST_BLOCK_BYTES = 8 * 1024;

    private static final class Shared {
        static final int CORES = Runtime.getRuntime().availableProcessors();
        static final ThreadPoolExecutor POOL = pool();
        static final Semaphore BUDGET = new Semaphore(BLOCKS_IN_FLIGHT_PER_CORE * CORES);

        private static ThreadPoolExecutor pool() {
            AtomicInteger number = new AtomicInteger();
            ThreadPoolExecutor pool = new ThreadPoolExecutor(CORES, CORES, IDLE_SECONDS, TimeUnit.SECONDS, new LinkedBlockingQueue<>(),
                    task -> {
                        Thread thread = new Thread(task, "cms-digest-" + number.incrementAndGet());
                        thread.setDaemon(true);
                        return thread;
                    });
            pool.allowCoreThreadTimeOut(true);
            return pool;
        }
    }

    private final DigestCalculatorProvider delegate;
    private final Executor executor;
    private final Semaphore budget;

    private OverlappedDigests(DigestCalculatorProvider delegate, Executor executor, Semaphore budget) {
        this.delegate = Objects.requireNonNull(delegate, "delegate");
        this.executor = Objects.requireNonNull(executor, "executor");
        this.budget = Objects.requireNonNull(budget, "budget");
    }

    /** {@code delegate}'s calculators overlapped on the shared workers, or {@code delegate} itself on a one-core machine. */
    static DigestCalculatorProvider overlapping(DigestCalculatorProvider delegate) {
        if (Runtime.getRuntime().availableProcessors() < 2) {
            return delegate;
        }
        return new OverlappedDigests(delegate, Shared.POOL, Shared.BUDGET);
    }

    /** {@code delegate}'s calculators overlapped on {@code executor}, with {@code budget} permits for blocks in flight (for tests). */
    static DigestCalculatorProvider overlapping(DigestCalculatorProvider delegate, Executor executor, Semaphore budget) {
        return new OverlappedDigests(delegate, executor, budget);
    }

    @Override
    public DigestCalculator get(AlgorithmIdentifier algorithm) throws OperatorCreationException {
        return new Overlapped(delegate.get(algorithm), executor, budget);
    }

    private static final class Overlapped implements DigestCalculator {
        private final DigestCalculator calculator;
        private final Hashing stream;

        Overlapped(DigestCalculator calculator, Executor executor, Semaphore budget) {
            this.calculator = calculator;
            this.stream = new Hashing(calculator.getOutputStream(), executor, budget);
        }

        @Override
        public AlgorithmIdentifier getAlgorithmIdentifier() {
            return calculator.getAlgorithmIdentifier();
        }

        @Override
        public OutputStream getOutputStream() {
            return stream;
        }

        @Override
        public byte[] getDigest() {
            try {
                stream.finish();
            } catch (IOException e) {
                throw new IllegalStateException("Cannot complete the digest: " + e.getMessage(), e);
            }
            return calculator.getDigest();
        }
    }

    /** Copies what is written into blocks and hands each full block, in order, to a worker. */
    private static final class Hashing extends OutputStream {
        private final OutputStream target;
        private final Executor executor;
        private final Semaphore budget;
        private byte[] block;
        private int filled;
        private boolean firstBlock = true;
        /** Completes when every block handed over so far has been hashed (or skipped after a failure). */
        private CompletableFuture<Void> tail = CompletableFuture.completedFuture(null);
        /** The first failure of the hashing; later blocks are skipped, and the digest is refused. */
        private volatile IOException failure;
        private boolean finished;

        Hashing(OutputStream target, Executor executor, Semaphore budget) {
            this.target = target;
            this.executor = executor;
            this.budget = budget;
        }

        @Override
        public void write(int b) throws IOException {
            write(new byte[] {(byte) b}, 0, 1);
        }

        @Override
        public void write(byte[] b, int off, int len) throws IOException {
            Objects.checkFromIndexSize(off, len, b.length);
            if (finished) {
                throw new IOException("The digest has been completed");
            }
            while (len > 0) {
                if (block == null) {
                    // a small first block: content that stays small is never copied into a large one
                    block = new byte[firstBlock ? FIRST_BLOCK_BYTES : BLOCK_BYTES];
                    firstBlock = false;
                    filled = 0;
                } else if (filled == block.length && block.length < BLOCK_BYTES) {
                    block = Arrays.copyOf(block, Math.min(BLOCK_BYTES, block.length * 4));
                }
                int n = Math.min(len, block.length - filled);
                System.arraycopy(b, off, block, filled, n);
                filled += n;
                off += n;
                len -= n;
                if (filled == BLOCK_BYTES) {
                    handOver();
                }
            }
        }

        /** The full block to a worker if the budget allows, else hashed here after this stream's blocks in flight. */
        private void handOver() throws IOException {
            if (!budget.tryAcquire()) {
                awaitBlocksInFlight();
                hashHere(block, filled);
                filled = 0; // the block is reused
                return;
            }
            Block task = new Block(block);
            CompletableFuture<Void> next = tail.thenRunAsync(task, executor);
            if (next.isCompletedExceptionally()) { // the executor refused it right away (the task itself never throws)
                task.release();
                awaitBlocksInFlight();
                hashHere(block, filled);
                filled = 0;
                return;
            }
            block = null;
            filled = 0;
            tail = next.exceptionally(e -> {
                task.notRun(e); // refused when its turn came: the digest cannot be completed
                return null;
            });
        }

        private void hashHere(byte[] bytes, int length) throws IOException {
            if (failure != null) {
                throw failure;
            }
            try {
                target.write(bytes, 0, length);
            } catch (IOException e) {
                failure = e;
                throw e;
            }
        }

        /** Waits until every block handed over has been hashed; throws the hashing's failure, if any. */
        private void awaitBlocksInFlight() throws IOException {
            tail.join(); // never completes exceptionally: see handOver
            if (failure != null) {
                throw failure;
            }
        }

        /** Waits for the workers, then hashes the partial block here. A failure is thrown again on every call. */
        void finish() throws IOException {
            if (!finished) {
                finished = true;
                try {
                    awaitBlocksInFlight();
                    if (block != null && filled > 0) {
                        hashHere(block, filled);
                    }
                } finally {
                    block = null;
                }
            } else if (failure != null) {
                throw failure;
            }
        }

        /** One full block for a worker; gives its permit back whether it ran or not. */
        private final class Block implements Runnable {
            final byte[] bytes;
            private final AtomicBoolean released = new AtomicBoolean();

            Block(byte[] bytes) {
                this.bytes = bytes;
            }

            @Override
            public void run() {
                try {
                    if (failure == null) {
                        target.write(bytes, 0, bytes.length);
                    }
                } catch (Throwable e) {
                    failure = e instanceof IOException io ? io : new IOException("The digest failed: " + e, e);
                } finally {
                    release();
                }
            }

            void notRun(Throwable cause) {
                if (failure == null) {
                    failure = new IOException("A block could not be hashed: " + cause, cause);
                }
                release();
            }

            void release() {
                if (released.compareAndSet(false, true)) {
                    budget.release();
                }
            }
        }
    }
}
