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

    private static DigestCalculatorProvider jca() throws Exception {
        return new JcaDigestCalculatorProviderBuilder().build();
    }

    @ParameterizedTest
    @ValueSource(ints = {0, 1, 8191, 8192, 8193, 32 * 1024 + 1, BLOCK - 1, BLOCK, BLOCK + 1, 5 * BLOCK, 20_000_000})
    void sameDigestAsTheJdk_whateverTheWriteSizes(int size) throws Exception {
        byte[] content = data(size, size);
        byte[] expected = MessageDigest.getInstance("SHA-256").digest(content);
        Random random = new Random(size);
        for (DigestCalculatorProvider provider : List.of(OverlappedDigests.overlapping(jca()),
                OverlappedDigests.overlapping(jca(), Executors.newSingleThreadExecutor()))) {
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
        DigestCalculator calculator = OverlappedDigests.overlapping(jca()).get(SHA256);
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
        DigestCalculator calculator = OverlappedDigests.overlapping(jca(), submitted::add).get(SHA256);
        byte[] content = data(BLOCK - 1, 3);
        calculator.getOutputStream().write(content);
        assertThat(calculator.getDigest()).isEqualTo(MessageDigest.getInstance("SHA-256").digest(content));
        assertThat(submitted).isEmpty();
    }

    @Test
    void aWriterWaitsWhenTheWorkerFallsBehind_holdingAtMostTheBlocksInFlight() throws Exception {
        LinkedBlockingQueue<Runnable> held = new LinkedBlockingQueue<>();
        DigestCalculator calculator = OverlappedDigests.overlapping(jca(), held::add).get(SHA256);
        byte[] content = data((OverlappedDigests.BLOCKS_IN_FLIGHT + 2) * BLOCK, 11);
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
            // nothing runs the workers' tasks: the writer hands over the blocks it may have, then waits
            Thread.sleep(500);
            assertThat(writing).isNotDone();
            assertThat(written.get()).isEqualTo((long) OverlappedDigests.BLOCKS_IN_FLIGHT * BLOCK);
            // let the worker run: the writer goes on, and the digest is right
            while (!writing.isDone()) {
                Runnable task = held.poll(100, TimeUnit.MILLISECONDS);
                if (task != null) {
                    task.run();
                }
            }
            writing.get();
            Thread finisher = new Thread(() -> {
                try {
                    while (true) {
                        held.take().run();
                    }
                } catch (InterruptedException e) {
                    Thread.currentThread().interrupt();
                }
            });
            finisher.start();
            try {
                assertThat(calculator.getDigest()).isEqualTo(MessageDigest.getInstance("SHA-256").digest(content));
            } finally {
                finisher.interrupt();
            }
        } finally {
            writer.shutdownNow();
        }
    }

    @Test
    void aFailingDigest_failsGetDigest_andNeverBlocksTheWriter() throws Exception {
        DigestCalculatorProvider failing = algorithm -> new DigestCalculator() {
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
                            throw new IOException("digest broke");
                        }
                    }
                };
            }

            @Override
            public byte[] getDigest() {
                return new byte[32];
            }
        };
        DigestCalculator calculator = OverlappedDigests.overlapping(failing).get(SHA256);
        byte[] content = data(20 * BLOCK, 5);
        calculator.getOutputStream().write(content);
        assertThatThrownBy(calculator::getDigest).isInstanceOf(IllegalStateException.class).hasMessageContaining("digest broke");
    }

    @Test
    void writingAfterTheDigest_isRefused() throws Exception {
        DigestCalculator calculator = OverlappedDigests.overlapping(jca()).get(SHA256);
        calculator.getOutputStream().write(1);
        calculator.getDigest();
        assertThatThrownBy(() -> calculator.getOutputStream().write(2)).isInstanceOf(IOException.class);
    }
}
