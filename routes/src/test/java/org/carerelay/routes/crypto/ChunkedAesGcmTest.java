package org.carerelay.routes.crypto;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;
import static org.assertj.core.api.Assertions.catchThrowable;
import static org.carerelay.routes.crypto.TestPki.data;

import java.io.ByteArrayInputStream;
import java.io.ByteArrayOutputStream;
import java.io.FilterOutputStream;
import java.io.IOException;
import java.io.InputStream;
import java.io.OutputStream;
import java.io.UncheckedIOException;
import java.nio.charset.StandardCharsets;
import java.security.SecureRandom;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.Collections;
import java.util.List;
import java.util.concurrent.atomic.AtomicInteger;
import javax.crypto.KeyGenerator;
import javax.crypto.SecretKey;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.ValueSource;

class ChunkedAesGcmTest {

    private static final int MIB = 1 << 20;
    private static final int SEALED_CHUNK = ChunkedAesGcm.SEALED_CHUNK_BYTES;
    private static final byte[] ID = "Binary/a".getBytes(StandardCharsets.UTF_8);
    private static final byte[] OTHER_ID = "Binary/b".getBytes(StandardCharsets.UTF_8);
    private static final SecureRandom RANDOM = new SecureRandom();

    private static SecretKey key;

    @BeforeAll
    static void key() throws Exception {
        key = newKey();
    }

    private static SecretKey newKey() throws Exception {
        KeyGenerator generator = KeyGenerator.getInstance("AES");
        generator.init(256);
        return generator.generateKey();
    }

    @ParameterizedTest
    @ValueSource(ints = {0, 1, MIB - 1, MIB, MIB + 1, 3 * MIB, 20_000_000})
    void roundTrip(int size) throws Exception {
        byte[] plain = data(size, size);
        byte[] sealed = encrypt(plain, key, ID);

        int chunks = Math.max(1, (size + MIB - 1) / MIB);
        assertThat(sealed).hasSize(size + chunks * (ChunkedAesGcm.NONCE_BYTES + ChunkedAesGcm.TAG_BYTES));
        assertThat(decrypt(sealed, key, ID)).isEqualTo(plain);
    }

    @Test
    void sameContentTwice_differs() throws Exception {
        byte[] plain = data(1000, 1);
        assertThat(encrypt(plain, key, ID)).isNotEqualTo(encrypt(plain, key, ID));
    }

    @Test
    void smallWritesAndSingleByteReads_roundTrip() throws Exception {
        byte[] plain = data(MIB + 3, 2);
        ByteArrayOutputStream sink = new ByteArrayOutputStream();
        try (OutputStream out = ChunkedAesGcm.encrypting(sink, key, ID, RANDOM)) {
            for (byte b : plain) {
                out.write(b);
            }
        }
        InputStream in = ChunkedAesGcm.decrypting(new ByteArrayInputStream(sink.toByteArray()), key, ID);
        for (byte b : plain) {
            assertThat(in.read()).isEqualTo(b & 0xff);
        }
        assertThat(in.read()).isEqualTo(-1);
    }

    @ParameterizedTest
    @ValueSource(ints = {0, 1, 2})
    void flippedByteInChunk_fails(int chunk) throws Exception {
        byte[] sealed = encrypt(data(2 * MIB + 100, 3), key, ID);
        sealed[chunk * SEALED_CHUNK + 50] ^= 0x04;

        assertThatThrownBy(() -> decrypt(sealed, key, ID))
                .isInstanceOf(IntegrityException.class)
                .hasMessageContaining("chunk " + chunk);
    }

    @Test
    void swappedChunks_fail() throws Exception {
        List<byte[]> chunks = split(encrypt(data(3 * MIB + 100, 4), key, ID));
        Collections.swap(chunks, 0, 1);

        assertThatThrownBy(() -> decrypt(join(chunks), key, ID))
                .isInstanceOf(IntegrityException.class)
                .hasMessageContaining("chunk 0");
    }

    @Test
    void droppedLastChunk_fails() throws Exception {
        List<byte[]> chunks = split(encrypt(data(2 * MIB + 100, 5), key, ID));
        chunks.remove(chunks.size() - 1);

        assertThatThrownBy(() -> decrypt(join(chunks), key, ID))
                .isInstanceOf(IntegrityException.class)
                .hasMessageContaining("chunk 1");
    }

    @Test
    void droppedLastChunkOfExactMultiple_fails() throws Exception {
        List<byte[]> chunks = split(encrypt(data(2 * MIB, 6), key, ID));
        assertThat(chunks).hasSize(2);
        chunks.remove(1);

        assertThatThrownBy(() -> decrypt(join(chunks), key, ID)).isInstanceOf(IntegrityException.class);
    }

    @Test
    void appendedChunk_fails() throws Exception {
        byte[] plain = data(MIB, 7);
        List<byte[]> chunks = split(encrypt(plain, key, ID));
        chunks.add(split(encrypt(plain, key, ID)).get(0));

        assertThatThrownBy(() -> decrypt(join(chunks), key, ID)).isInstanceOf(IntegrityException.class);
    }

    @Test
    void chunkMovedToAnotherObject_fails_evenUnderTheSameKey() throws Exception {
        byte[] plain = data(2 * MIB + 10, 8);
        List<byte[]> a = split(encrypt(plain, key, ID));
        List<byte[]> b = split(encrypt(plain, key, OTHER_ID));
        a.set(1, b.get(1));

        assertThatThrownBy(() -> decrypt(join(a), key, ID))
                .isInstanceOf(IntegrityException.class)
                .hasMessageContaining("chunk 1");
    }

    @Test
    void wholeObjectUnderAnotherId_orKey_fails() throws Exception {
        byte[] sealed = encrypt(data(100, 9), key, ID);

        assertThatThrownBy(() -> decrypt(sealed, key, OTHER_ID)).isInstanceOf(IntegrityException.class);
        assertThatThrownBy(() -> decrypt(sealed, newKey(), ID)).isInstanceOf(IntegrityException.class);
    }

    @Test
    void truncatedInsideAChunk_orEmpty_fails() throws Exception {
        byte[] sealed = encrypt(data(MIB + 100, 10), key, ID);

        for (int length : new int[] {0, 1, 27, SEALED_CHUNK - 1, SEALED_CHUNK + 27, sealed.length - 1}) {
            assertThatThrownBy(() -> decrypt(Arrays.copyOf(sealed, length), key, ID))
                    .as("%d of %d bytes", length, sealed.length)
                    .isInstanceOf(IntegrityException.class);
        }
    }

    @Test
    void plaintextIsReleasedOnlyChunkByVerifiedChunk() throws Exception {
        byte[] plain = data(2 * MIB, 11);
        byte[] sealed = encrypt(plain, key, ID);
        sealed[sealed.length - 1] ^= 1; // tag of the second chunk

        InputStream in = ChunkedAesGcm.decrypting(new ByteArrayInputStream(sealed), key, ID);
        assertThat(in.readNBytes(MIB)).isEqualTo(Arrays.copyOf(plain, MIB));
        assertThatThrownBy(in::read).isInstanceOf(IntegrityException.class).hasMessageContaining("chunk 1");
    }

    @ParameterizedTest
    @ValueSource(booleans = {true, false})
    void afterAFailedWrite_nothingMoreReachesTheSink_soTheObjectNeverLooksWhole(boolean unchecked) throws Exception {
        ByteArrayOutputStream written = new ByteArrayOutputStream();
        AtomicInteger writes = new AtomicInteger();
        OutputStream sink = new FilterOutputStream(written) {
            @Override
            public void write(byte[] b, int off, int len) throws IOException {
                if (writes.incrementAndGet() == 2) {
                    // a sink in the database fails unchecked
                    if (unchecked) {
                        throw new UncheckedIOException(new IOException("disk full"));
                    }
                    throw new IOException("disk full");
                }
                out.write(b, off, len);
            }
        };
        OutputStream out = ChunkedAesGcm.encrypting(sink, key, ID, RANDOM);
        byte[] plain = data(4 * MIB, 13);
        assertThatThrownBy(() -> out.write(plain)).hasMessageContaining("disk full");
        int before = written.size();
        assertThatThrownBy(() -> out.write(1)).isInstanceOf(IOException.class).hasMessageContaining("earlier write failed");
        assertThatThrownBy(out::close).isInstanceOf(IOException.class).hasMessageContaining("earlier write failed");
        assertThat(written.size()).isEqualTo(before).isEqualTo(SEALED_CHUNK);
        assertThatThrownBy(() -> decrypt(written.toByteArray(), key, ID)).isInstanceOf(IntegrityException.class);
    }

    @Test
    void afterAChunkFailed_everyLaterReadFailsTheSameWay_andNoLaterChunkIsHandedOut() throws Exception {
        byte[] plain = data(3 * MIB, 14);
        byte[] sealed = encrypt(plain, key, ID);
        sealed[SEALED_CHUNK + 50] ^= 0x04; // chunk 1 of 0, 1, 2

        InputStream in = ChunkedAesGcm.decrypting(new ByteArrayInputStream(sealed), key, ID);
        assertThat(in.readNBytes(MIB)).isEqualTo(Arrays.copyOf(plain, MIB));
        Throwable first = catchThrowable(() -> in.read(new byte[MIB]));
        assertThat(first).isInstanceOf(IntegrityException.class).hasMessageContaining("chunk 1 does not verify");
        for (int attempt = 0; attempt < 3; attempt++) {
            assertThat(catchThrowable(() -> in.read(new byte[MIB]))).isSameAs(first);
        }
    }

    private static byte[] encrypt(byte[] plain, SecretKey key, byte[] id) throws IOException {
        ByteArrayOutputStream sink = new ByteArrayOutputStream(plain.length + 4096);
        try (OutputStream out = ChunkedAesGcm.encrypting(sink, key, id, RANDOM)) {
            for (int off = 0; off < plain.length; off += 100_000) {
                out.write(plain, off, Math.min(100_000, plain.length - off));
            }
        }
        return sink.toByteArray();
    }

    private static byte[] decrypt(byte[] sealed, SecretKey key, byte[] id) throws IOException {
        try (InputStream in = ChunkedAesGcm.decrypting(new ByteArrayInputStream(sealed), key, id)) {
            return in.readAllBytes();
        }
    }

    private static List<byte[]> split(byte[] sealed) {
        List<byte[]> chunks = new ArrayList<>();
        for (int off = 0; off < sealed.length; off += SEALED_CHUNK) {
            chunks.add(Arrays.copyOfRange(sealed, off, Math.min(sealed.length, off + SEALED_CHUNK)));
        }
        return chunks;
    }

    private static byte[] join(List<byte[]> chunks) {
        ByteArrayOutputStream out = new ByteArrayOutputStream();
        chunks.forEach(out::writeBytes);
        return out.toByteArray();
    }
}
