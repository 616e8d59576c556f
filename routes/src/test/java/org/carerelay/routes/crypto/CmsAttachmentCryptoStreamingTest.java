package org.carerelay.routes.crypto;

import static org.assertj.core.api.Assertions.assertThat;

import java.nio.file.Path;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * Seals and opens a 200 MB attachment in a child JVM limited to a 64 MB heap: only a streaming
 * implementation (including a streaming GCM decryption) gets through.
 */
class CmsAttachmentCryptoStreamingTest {

    private static final int MEGABYTES = 200;

    @TempDir
    Path dir;

    @Test
    void twoHundredMegabytes_sealAndOpen_inA64MegabyteHeap() throws Exception {
        Path java = Path.of(System.getProperty("java.home"), "bin", "java");
        TestPki.Result result = TestPki.run(dir, java.toString(), "-Xmx64m", "-cp", System.getProperty("java.class.path"),
                StreamingSealOpenMain.class.getName(), dir.toString(), Integer.toString(MEGABYTES));

        System.out.println("[streaming " + MEGABYTES + " MB, -Xmx64m] " + result.stdout().strip());
        assertThat(result.exitCode()).as(result.describe()).isZero();
        Matcher matcher = Pattern.compile("in=(\\w+) out=(\\w+) bytes=(\\d+)").matcher(result.stdout());
        assertThat(matcher.find()).as(result.describe()).isTrue();
        assertThat(matcher.group(2)).isEqualTo(matcher.group(1));
        assertThat(Long.parseLong(matcher.group(3))).isEqualTo((long) MEGABYTES << 20);
    }
}
