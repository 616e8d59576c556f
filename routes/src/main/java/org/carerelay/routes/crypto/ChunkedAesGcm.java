package org.carerelay.routes.crypto;

import java.io.IOException;
import java.io.InputStream;
import java.io.OutputStream;
import java.nio.ByteBuffer;
import java.security.GeneralSecurityException;
import java.security.SecureRandom;
import java.util.Objects;
import javax.crypto.AEADBadTagException;
import javax.crypto.Cipher;
import javax.crypto.SecretKey;
import javax.crypto.spec.GCMParameterSpec;

/**
 * AES-256-GCM over a stream cut into chunks of {@value #CHUNK_BYTES} plaintext bytes, each chunk
 * encrypted and authenticated whole by the JDK's {@code AES/GCM/NoPadding}. A chunk is stored as
 * its fresh random 12-byte nonce, its ciphertext and its 16-byte tag. Its associated data is
 * the object id, the chunk's index and whether it is the last chunk, so chunks cannot be altered,
 * reordered, moved to another object or cut off at the end without the tag failing. Every stream
 * ends with a chunk flagged last (empty only when the whole plaintext is).
 *
 * <p>Memory: one chunk per stream. Plaintext is released a chunk at a time, each after its tag
 * verified; a stream is verified as a whole only when its end has been read. After a failure a
 * stream stays failed: a writer writes nothing more (no last chunk, so the object never looks
 * whole), a reader gets the same error again (never a later chunk).
 */
final class ChunkedAesGcm {

    static final int CHUNK_BYTES = 1 << 20;
    static final int NONCE_BYTES = 12;
    static final int TAG_BYTES = 16;
    static final int SEALED_CHUNK_BYTES = NONCE_BYTES + CHUNK_BYTES + TAG_BYTES;
    private static final String TRANSFORMATION = "AES/GCM/NoPadding";

    private ChunkedAesGcm() {
    }

    /**
     * A stream that encrypts what is written into {@code sink}; closing it writes the last chunk but
     * leaves the sink open. After a failed write it writes nothing more, and closing it fails.
     */
    static OutputStream encrypting(OutputStream sink, SecretKey key, byte[] objectId, SecureRandom random) {
        return new Encrypting(sink, key, objectId, random);
    }

    /** The plaintext of the chunks read from {@code source}; a chunk that does not verify is an {@link IntegrityException}. */
    static InputStream decrypting(InputStream source, SecretKey key, byte[] objectId) {
        return new Decrypting(source, key, objectId);
    }

    static byte[] associatedData(byte[] objectId, long index, boolean last) {
        return ByteBuffer.allocate(4 + objectId.length + 8 + 1)
                .putInt(objectId.length).put(objectId).putLong(index).put((byte) (last ? 1 : 0))
                .array();
    }

    private static Cipher cipher() {
        try {
            return Cipher.getInstance(TRANSFORMATION);
        } catch (GeneralSecurityException e) {
            throw new IllegalStateException("The JDK's AES-GCM is not available", e);
        }
    }

    private static final class Encrypting extends OutputStream {
        private final OutputStream sink;
        private final SecretKey key;
        private final byte[] objectId;
        private final SecureRandom random;
        private final Cipher cipher = cipher();
        private final byte[] plain = new byte[CHUNK_BYTES];
        private final byte[] sealed = new byte[SEALED_CHUNK_BYTES];
        private final byte[] nonce = new byte[NONCE_BYTES];
        private int filled;
        private long index;
        private boolean closed;
        /** Set when a chunk could not be encrypted or written: nothing more is written, not even a last chunk. */
        private IOException failure;

        Encrypting(OutputStream sink, SecretKey key, byte[] objectId, SecureRandom random) {
            this.sink = Objects.requireNonNull(sink, "sink");
            this.key = Objects.requireNonNull(key, "key");
            this.objectId = objectId.clone();
            this.random = random;
        }

        @Override
        public void write(int b) throws IOException {
            write(new byte[] {(byte) b}, 0, 1);
        }

        @Override
        public void write(byte[] b, int off, int len) throws IOException {
            Objects.checkFromIndexSize(off, len, b.length);
            if (closed) {
                throw new IOException("Stream closed");
            }
            if (failure != null) {
                throw new IOException("An earlier write failed: " + failure.getMessage(), failure);
            }
            while (len > 0) {
                if (filled == CHUNK_BYTES) {
                    writeChunk(false); // more follows, so this one is not the last
                }
                int n = Math.min(len, CHUNK_BYTES - filled);
                System.arraycopy(b, off, plain, filled, n);
                filled += n;
                off += n;
                len -= n;
            }
        }

        private void writeChunk(boolean last) throws IOException {
            try {
                encryptAndWrite(last);
            } catch (IOException e) {
                failure = e;
                throw e;
            } catch (RuntimeException | Error e) {
                // a sink in the database fails unchecked (Spring's DataAccessException)
                failure = new IOException("Cannot write chunk " + index + ": " + e, e);
                throw e;
            }
        }

        private void encryptAndWrite(boolean last) throws IOException {
            random.nextBytes(nonce);
            System.arraycopy(nonce, 0, sealed, 0, NONCE_BYTES);
            try {
                cipher.init(Cipher.ENCRYPT_MODE, key, new GCMParameterSpec(TAG_BYTES * 8, nonce));
                cipher.updateAAD(associatedData(objectId, index, last));
                int n = cipher.doFinal(plain, 0, filled, sealed, NONCE_BYTES);
                sink.write(sealed, 0, NONCE_BYTES + n);
            } catch (GeneralSecurityException e) {
                throw new IOException("Cannot encrypt chunk " + index + ": " + e.getMessage(), e);
            }
            index++;
            filled = 0;
        }

        @Override
        public void flush() throws IOException {
            sink.flush();
        }

        /** Writes the last chunk; after a failed write nothing more (so a broken stream never ends like a whole one), and fails. */
        @Override
        public void close() throws IOException {
            if (closed) {
                return;
            }
            closed = true;
            if (failure != null) {
                throw new IOException("Not completed: an earlier write failed", failure);
            }
            writeChunk(true);
            sink.flush();
        }
    }

    private static final class Decrypting extends InputStream {
        private final InputStream source;
        private final SecretKey key;
        private final byte[] objectId;
        private final Cipher cipher = cipher();
        private final byte[] sealed = new byte[SEALED_CHUNK_BYTES];
        private final byte[] plain = new byte[CHUNK_BYTES];
        private int plainLength;
        private int position;
        /** The index the next chunk read from the source gets. */
        private long index;
        /** The first byte of the next chunk, read to learn whether the current one is the last; -1 if none. */
        private int lookahead = -1;
        private boolean lastSeen;
        /** Thrown again on every later read, so that no chunk after a failed one is ever handed out. */
        private IOException failure;

        Decrypting(InputStream source, SecretKey key, byte[] objectId) {
            this.source = Objects.requireNonNull(source, "source");
            this.key = Objects.requireNonNull(key, "key");
            this.objectId = objectId.clone();
        }

        @Override
        public int read() throws IOException {
            byte[] one = new byte[1];
            int n;
            do {
                n = read(one, 0, 1);
            } while (n == 0);
            return n < 0 ? -1 : one[0] & 0xff;
        }

        @Override
        public int read(byte[] b, int off, int len) throws IOException {
            Objects.checkFromIndexSize(off, len, b.length);
            if (len == 0) {
                return 0;
            }
            while (position == plainLength) {
                if (lastSeen) {
                    return -1;
                }
                if (failure != null) {
                    throw failure;
                }
                try {
                    nextChunk();
                } catch (IOException e) {
                    failure = e;
                    throw e;
                } catch (RuntimeException e) {
                    failure = new IOException("Cannot read chunk " + index + ": " + e, e);
                    throw e;
                }
            }
            int n = Math.min(len, plainLength - position);
            System.arraycopy(plain, position, b, off, n);
            position += n;
            return n;
        }

        @Override
        public int available() {
            return plainLength - position;
        }

        private void nextChunk() throws IOException {
            int length = 0;
            if (lookahead >= 0) {
                sealed[length++] = (byte) lookahead;
                lookahead = -1;
            }
            length += source.readNBytes(sealed, length, SEALED_CHUNK_BYTES - length);
            boolean last = true;
            if (length == SEALED_CHUNK_BYTES) {
                lookahead = source.read();
                last = lookahead < 0;
            }
            if (length < NONCE_BYTES + TAG_BYTES) {
                throw new IntegrityException("The stored object ends inside chunk " + index);
            }
            try {
                cipher.init(Cipher.DECRYPT_MODE, key, new GCMParameterSpec(TAG_BYTES * 8, sealed, 0, NONCE_BYTES));
                cipher.updateAAD(associatedData(objectId, index, last));
                plainLength = cipher.doFinal(sealed, NONCE_BYTES, length - NONCE_BYTES, plain, 0);
            } catch (AEADBadTagException e) {
                throw new IntegrityException("The authentication tag of chunk " + index + " does not verify", e);
            } catch (GeneralSecurityException e) {
                throw new IntegrityException("Cannot decrypt chunk " + index + ": " + e.getMessage(), e);
            }
            position = 0;
            index++;
            lastSeen = last;
        }

        @Override
        public void close() throws IOException {
            source.close();
        }
    }
}
