package org.carerelay.routes.crypto;

import java.io.IOException;
import java.io.InterruptedIOException;
import java.io.OutputStream;
import java.util.Arrays;
import java.util.Objects;
import java.util.concurrent.ArrayBlockingQueue;
import java.util.concurrent.BlockingQueue;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.CompletionException;
import java.util.concurrent.Executor;
import java.util.concurrent.LinkedBlockingQueue;
import java.util.concurrent.ThreadPoolExecutor;
import java.util.concurrent.TimeUnit;
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
 * <p>Each stream has at most {@value #BLOCKS_IN_FLIGHT} blocks in flight (a writer waits for a
 * free one), so it holds at most {@value #BLOCKS_IN_FLIGHT} × {@value #BLOCK_BYTES} bytes, and at
 * most one task of a stream is queued for the workers at any time. The workers are shared daemon
 * threads, as many as the machine has cores, that end after {@value #IDLE_SECONDS} s without work.
 * On a machine with one core there is nothing to overlap, and the wrapped calculators are returned as they are.
 */
final class OverlappedDigests implements DigestCalculatorProvider {

    static final int BLOCK_BYTES = 256 * 1024;
    static final int BLOCKS_IN_FLIGHT = 4;
    static final int IDLE_SECONDS = 30;
    private static final int FIRST_BLOCK_BYTES = 8 * 1024;

    private static final class Workers {
        static final ThreadPoolExecutor POOL = pool();

        private static ThreadPoolExecutor pool() {
            int threads = Math.max(1, Runtime.getRuntime().availableProcessors());
            AtomicInteger number = new AtomicInteger();
            ThreadPoolExecutor pool = new ThreadPoolExecutor(threads, threads, IDLE_SECONDS, TimeUnit.SECONDS, new LinkedBlockingQueue<>(),
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

    private OverlappedDigests(DigestCalculatorProvider delegate, Executor executor) {
        this.delegate = Objects.requireNonNull(delegate, "delegate");
        this.executor = Objects.requireNonNull(executor, "executor");
    }

    /** {@code delegate}'s calculators overlapped on the shared workers, or {@code delegate} itself on a one-core machine. */
    static DigestCalculatorProvider overlapping(DigestCalculatorProvider delegate) {
        if (Runtime.getRuntime().availableProcessors() < 2) {
            return delegate;
        }
        return new OverlappedDigests(delegate, Workers.POOL);
    }

    /** {@code delegate}'s calculators overlapped on {@code executor} (for tests). */
    static DigestCalculatorProvider overlapping(DigestCalculatorProvider delegate, Executor executor) {
        return new OverlappedDigests(delegate, executor);
    }

    @Override
    public DigestCalculator get(AlgorithmIdentifier algorithm) throws OperatorCreationException {
        return new Overlapped(delegate.get(algorithm), executor);
    }

    private static final class Overlapped implements DigestCalculator {
        private final DigestCalculator calculator;
        private final Hashing stream;

        Overlapped(DigestCalculator calculator, Executor executor) {
            this.calculator = calculator;
            this.stream = new Hashing(calculator.getOutputStream(), executor);
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

    /** Copies what is written into blocks and hands each full block, in order, to the worker. */
    private static final class Hashing extends OutputStream {
        private final OutputStream target;
        private final Executor executor;
        private final BlockingQueue<byte[]> free = new ArrayBlockingQueue<>(BLOCKS_IN_FLIGHT);
        private int allocated;
        private byte[] block;
        private int filled;
        /** Completes when every block handed over so far has been hashed. */
        private CompletableFuture<Void> tail = CompletableFuture.completedFuture(null);
        /** The worker's failure; later blocks are then skipped, but still given back. */
        private volatile IOException failure;
        private boolean finished;

        Hashing(OutputStream target, Executor executor) {
            this.target = target;
            this.executor = executor;
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
                    block = nextBlock();
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

        /** A free full-size block, or a small first one: content that stays small is never copied into a large block. */
        private byte[] nextBlock() throws IOException {
            if (allocated == 0) {
                allocated++;
                return new byte[FIRST_BLOCK_BYTES];
            }
            byte[] reused = free.poll();
            if (reused != null) {
                return reused;
            }
            if (allocated < BLOCKS_IN_FLIGHT) {
                allocated++;
                return new byte[BLOCK_BYTES];
            }
            try {
                return free.take();
            } catch (InterruptedException e) {
                Thread.currentThread().interrupt();
                throw new InterruptedIOException("Interrupted while waiting for the digest to catch up");
            }
        }

        private void handOver() {
            byte[] full = block;
            block = null;
            tail = tail.thenRunAsync(() -> {
                try {
                    if (failure == null) {
                        target.write(full, 0, full.length);
                    }
                } catch (IOException | RuntimeException e) {
                    failure = e instanceof IOException io ? io : new IOException(e.getMessage(), e);
                } finally {
                    free.offer(full);
                }
            }, executor);
        }

        /** Waits for the worker, then hashes the partial block here. */
        void finish() throws IOException {
            if (finished) {
                return;
            }
            finished = true;
            try {
                tail.join();
            } catch (CompletionException e) {
                throw new IOException("The digest failed: " + e.getCause(), e.getCause());
            }
            if (failure != null) {
                throw failure;
            }
            if (block != null && filled > 0) {
                target.write(block, 0, filled);
            }
            block = null;
        }
    }
}
