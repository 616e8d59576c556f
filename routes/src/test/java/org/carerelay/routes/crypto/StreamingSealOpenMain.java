package org.carerelay.routes.crypto;

import java.io.BufferedOutputStream;
import java.io.InputStream;
import java.io.OutputStream;
import java.nio.ByteBuffer;
import java.nio.file.Files;
import java.nio.file.Path;
import java.security.MessageDigest;
import java.util.HexFormat;

/**
 * Run in a child JVM with a small heap by {@link CmsAttachmentCryptoStreamingTest}: creates keys in
 * a directory, seals {@code megabytes} of generated (non-constant) data to a file, opens it again
 * and compares SHA-256 digests of what went in and what came out. Prints
 * {@code in=<hex> out=<hex> sealMs=<n> openMs=<n> sealedBytes=<n> maxHeapMb=<n>} and exits 0 when
 * the digests match, 1 when not.
 */
public final class StreamingSealOpenMain {

    private StreamingSealOpenMain() {
    }

    public static void main(String[] args) throws Exception {
        Path dir = Path.of(args[0]);
        int megabytes = Integer.parseInt(args[1]);
        Pkcs12GatewayKeys keys = Pkcs12GatewayKeys.createIfAbsent(dir.resolve("gateway.p12"), dir.resolve("gateway.pass"), "Streaming");
        CmsAttachmentCrypto crypto = new CmsAttachmentCrypto(keys);
        Path sealed = dir.resolve("sealed.cms");

        MessageDigest in = MessageDigest.getInstance("SHA-256");
        long start = System.nanoTime();
        try (OutputStream out = crypto.seal(new BufferedOutputStream(Files.newOutputStream(sealed), 1 << 16), new Origin("streaming", null), "streaming")) {
            byte[] block = new byte[1 << 16];
            ByteBuffer view = ByteBuffer.wrap(block);
            long counter = 0;
            long blocks = (long) megabytes * 16;
            for (long b = 0; b < blocks; b++) {
                view.clear();
                while (view.hasRemaining()) {
                    view.putLong(counter * 0x9E3779B97F4A7C15L + (counter >>> 7));
                    counter++;
                }
                in.update(block);
                out.write(block);
            }
        }
        long sealMs = (System.nanoTime() - start) / 1_000_000;

        MessageDigest outDigest = MessageDigest.getInstance("SHA-256");
        long opened = 0;
        start = System.nanoTime();
        try (InputStream open = crypto.open(Files.newInputStream(sealed), "streaming")) {
            byte[] buffer = new byte[1 << 16];
            int n;
            while ((n = open.read(buffer)) >= 0) {
                outDigest.update(buffer, 0, n);
                opened += n;
            }
        }
        long openMs = (System.nanoTime() - start) / 1_000_000;

        String inHex = HexFormat.of().formatHex(in.digest());
        String outHex = HexFormat.of().formatHex(outDigest.digest());
        System.out.println("in=" + inHex + " out=" + outHex + " bytes=" + opened + " sealMs=" + sealMs + " openMs=" + openMs
                + " sealedBytes=" + Files.size(sealed) + " maxHeapMb=" + Runtime.getRuntime().maxMemory() / (1 << 20));
        System.exit(inHex.equals(outHex) && opened == (long) megabytes << 20 ? 0 : 1);
    }

}
