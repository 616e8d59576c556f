package org.carerelay.gateway.pipeline;

import java.io.IOException;
import java.io.OutputStream;
import java.nio.ByteBuffer;
import java.util.Arrays;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.Executor;
import java.util.concurrent.Flow;
import java.util.concurrent.SubmissionPublisher;

/**
 * An HTTP request body written by a producer into an {@link OutputStream}, published with
 * back-pressure (a few 64 KiB chunks in flight). A producer failure is signalled with
 * {@code onError}, which makes the HTTP client abort the request: the JDK's
 * {@code BodyPublishers.ofInputStream} would instead treat a read error as the end of the body
 * and send a truncated attachment as if it were complete.
 */
final class StreamingBody implements Flow.Publisher<ByteBuffer> {

    /** Writes the body. */
    interface Writer {
        void writeTo(OutputStream out) throws Exception;
    }

    private static final int CHUNK = 64 * 1024;
    private static final int CHUNKS_IN_FLIGHT = 16;

    private final Writer writer;
    private final Executor executor;
    /** Completes when the producer finished, exceptionally with its failure. */
    final CompletableFuture<Void> done = new CompletableFuture<>();
    /** Whether the HTTP client asked for the body at all (it does not when the connection fails). */
    volatile boolean subscribed;

    StreamingBody(Writer writer, Executor executor) {
        this.writer = writer;
        this.executor = executor;
    }

    @Override
    public void subscribe(Flow.Subscriber<? super ByteBuffer> subscriber) {
        subscribed = true;
        SubmissionPublisher<ByteBuffer> publisher = new SubmissionPublisher<>(executor, CHUNKS_IN_FLIGHT);
        publisher.subscribe(subscriber);
        executor.execute(() -> {
            try {
                try (OutputStream out = new ChunkingOutput(publisher)) {
                    writer.writeTo(out);
                }
                publisher.close();
                done.complete(null);
            } catch (Throwable e) {
                publisher.closeExceptionally(e);
                done.completeExceptionally(e);
            }
        });
    }

    private static final class ChunkingOutput extends OutputStream {
        private final SubmissionPublisher<ByteBuffer> publisher;
        private final byte[] buffer = new byte[CHUNK];
        private int filled;

        ChunkingOutput(SubmissionPublisher<ByteBuffer> publisher) {
            this.publisher = publisher;
        }

        @Override
        public void write(int b) throws IOException {
            if (filled == buffer.length) {
                emit();
            }
            buffer[filled++] = (byte) b;
        }

        @Override
        public void write(byte[] b, int off, int len) throws IOException {
            while (len > 0) {
                if (filled == buffer.length) {
                    emit();
                }
                int n = Math.min(len, buffer.length - filled);
                System.arraycopy(b, off, buffer, filled, n);
                filled += n;
                off += n;
                len -= n;
            }
        }

        private void emit() throws IOException {
            if (publisher.getNumberOfSubscribers() == 0) {
                throw new IOException("The request was abandoned");
            }
            publisher.submit(ByteBuffer.wrap(Arrays.copyOf(buffer, filled)));
            filled = 0;
        }

        @Override
        public void close() throws IOException {
            if (filled > 0) {
                emit();
            }
        }
    }
}
