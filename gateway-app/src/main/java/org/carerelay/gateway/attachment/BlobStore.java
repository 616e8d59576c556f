package org.carerelay.gateway.attachment;

import java.io.IOException;
import java.io.InputStream;
import java.io.OutputStream;
import java.util.Arrays;
import java.util.Optional;
import org.springframework.jdbc.core.simple.JdbcClient;
import org.springframework.stereotype.Component;

/**
 * Sealed attachment bytes in PostgreSQL, as numbered chunks of {@value #CHUNK_BYTES} bytes, so that
 * an attachment of any size is written and read with one chunk in memory. Writes join the caller's
 * transaction: an attachment is complete or absent.
 */
@Component
public class BlobStore {

    static final int CHUNK_BYTES = 1 << 20;

    private final JdbcClient jdbc;

    public BlobStore(JdbcClient jdbc) {
        this.jdbc = jdbc;
    }

    /** A stream that stores what is written as the chunks of {@code binaryId}; call within a transaction. */
    public CountingOutput create(String binaryId) {
        return new CountingOutput(binaryId);
    }

    /** The stored chunks of {@code binaryId} as one stream, fetched a chunk at a time. */
    public InputStream open(String binaryId) {
        return new ChunkInput(binaryId);
    }

    public final class CountingOutput extends OutputStream {
        private final String binaryId;
        private final byte[] buffer = new byte[CHUNK_BYTES];
        private int filled;
        private int seq;
        private long total;
        private boolean closed;

        private CountingOutput(String binaryId) {
            this.binaryId = binaryId;
        }

        public long total() {
            return total;
        }

        @Override
        public void write(int b) throws IOException {
            if (filled == buffer.length) {
                flushChunk();
            }
            buffer[filled++] = (byte) b;
            total++;
        }

        @Override
        public void write(byte[] b, int off, int len) throws IOException {
            while (len > 0) {
                if (filled == buffer.length) {
                    flushChunk();
                }
                int n = Math.min(len, buffer.length - filled);
                System.arraycopy(b, off, buffer, filled, n);
                filled += n;
                off += n;
                len -= n;
                total += n;
            }
        }

        private void flushChunk() {
            if (filled == 0) {
                return;
            }
            byte[] chunk = filled == buffer.length ? buffer : Arrays.copyOf(buffer, filled);
            jdbc.sql("insert into binary_chunk (binary_id, seq, data) values (?, ?, ?)")
                    .params(binaryId, seq++, chunk).update();
            filled = 0;
        }

        @Override
        public void close() {
            if (!closed) {
                closed = true;
                flushChunk();
            }
        }
    }

    private final class ChunkInput extends InputStream {
        private final String binaryId;
        private byte[] chunk = new byte[0];
        private int pos;
        private int seq;
        private boolean end;

        ChunkInput(String binaryId) {
            this.binaryId = binaryId;
        }

        private boolean fill() {
            while (pos >= chunk.length && !end) {
                Optional<byte[]> next = jdbc.sql("select data from binary_chunk where binary_id = ? and seq = ?")
                        .params(binaryId, seq).query(byte[].class).optional();
                if (next.isEmpty()) {
                    end = true;
                } else {
                    chunk = next.get();
                    pos = 0;
                    seq++;
                }
            }
            return pos < chunk.length;
        }

        @Override
        public int read() {
            return fill() ? chunk[pos++] & 0xFF : -1;
        }

        @Override
        public int read(byte[] b, int off, int len) {
            if (len == 0) {
                return 0;
            }
            if (!fill()) {
                return -1;
            }
            int n = Math.min(len, chunk.length - pos);
            System.arraycopy(chunk, pos, b, off, n);
            pos += n;
            return n;
        }

        @Override
        public void close() {
            end = true;
            chunk = new byte[0];
        }
    }
}
