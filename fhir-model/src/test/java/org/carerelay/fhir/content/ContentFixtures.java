package org.carerelay.fhir.content;

import java.awt.image.BufferedImage;
import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.charset.StandardCharsets;
import java.util.Arrays;
import java.util.List;
import java.util.Random;
import javax.imageio.ImageIO;

/** Test inputs shared by the content tests, plus helpers. */
final class ContentFixtures {

    static final byte[] PNG = image("png");
    static final byte[] JPEG = image("jpeg");
    static final byte[] GIF = image("gif");
    static final byte[] PDF = latin1("%PDF-1.7\n%\u00e2\u00e3\u00cf\u00d3\n1 0 obj\n<< /Type /Catalog >>\nendobj\n");
    static final byte[] DICOM = dicom();
    static final byte[] TIFF_LITTLE_ENDIAN = {'I', 'I', 0x2A, 0x00, 0x08, 0x00, 0x00, 0x00};
    static final byte[] TIFF_BIG_ENDIAN = {'M', 'M', 0x00, 0x2A, 0x00, 0x00, 0x00, 0x08};
    static final byte[] ZIP = {'P', 'K', 0x03, 0x04, 0x14, 0x00, 0x00, 0x00, 0x08, 0x00};
    static final byte[] ZIP_EMPTY = {'P', 'K', 0x05, 0x06, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0};
    static final byte[] GIF87 = latin1("GIF87a\u0001\u0000\u0001\u0000");
    static final byte[] TEXT_UTF8 = "Befund: Kalium erhöht – bitte Rückruf.\r\n\tDanke \uD83D\uDE00".getBytes(StandardCharsets.UTF_8);
    static final byte[] TEXT_LATIN1 = "Größe: 180 cm, Gewicht: 75 kg\f".getBytes(StandardCharsets.ISO_8859_1);

    /** The binary fixtures, by the type they are. */
    static final List<Fixture> BINARY = List.of(
            new Fixture(ContentTypes.PNG, PNG),
            new Fixture(ContentTypes.JPEG, JPEG),
            new Fixture(ContentTypes.GIF, GIF),
            new Fixture(ContentTypes.GIF, GIF87),
            new Fixture(ContentTypes.PDF, PDF),
            new Fixture(ContentTypes.DICOM, DICOM),
            new Fixture(ContentTypes.TIFF, TIFF_LITTLE_ENDIAN),
            new Fixture(ContentTypes.TIFF, TIFF_BIG_ENDIAN),
            new Fixture(ContentTypes.ZIP, ZIP),
            new Fixture(ContentTypes.ZIP, ZIP_EMPTY));

    record Fixture(String type, byte[] data) {
    }

    private ContentFixtures() {
    }

    /**
     * Feeds {@code data} to a new inspector in random chunks of 1 to {@code maxChunk} bytes (now and
     * then an empty one), each passed at its offset in {@code data} or copied into a padded buffer.
     */
    static ContentInspector feed(String declared, byte[] data, Random rnd, int maxChunk) {
        ContentInspector inspector = new ContentInspector(declared);
        int pos = 0;
        while (pos < data.length) {
            if (rnd.nextInt(20) == 0) {
                inspector.update(data, pos, 0);
            }
            int len = Math.min(data.length - pos, 1 + rnd.nextInt(maxChunk));
            if (rnd.nextBoolean()) {
                inspector.update(data, pos, len);
            } else {
                int pad = rnd.nextInt(4);
                byte[] buffer = new byte[pad + len + rnd.nextInt(4)];
                Arrays.fill(buffer, (byte) 0); // NULs around the chunk must not be read
                System.arraycopy(data, pos, buffer, pad, len);
                inspector.update(buffer, pad, len);
            }
            pos += len;
        }
        return inspector;
    }

    static byte[] latin1(String s) {
        return s.getBytes(StandardCharsets.ISO_8859_1);
    }

    static byte[] utf8(String s) {
        return s.getBytes(StandardCharsets.UTF_8);
    }

    static byte[] concat(byte[]... parts) {
        int length = 0;
        for (byte[] part : parts) {
            length += part.length;
        }
        byte[] result = new byte[length];
        int pos = 0;
        for (byte[] part : parts) {
            System.arraycopy(part, 0, result, pos, part.length);
            pos += part.length;
        }
        return result;
    }

    private static byte[] image(String format) {
        BufferedImage image = new BufferedImage(1, 1, BufferedImage.TYPE_INT_RGB);
        image.setRGB(0, 0, 0xCC3300);
        try (ByteArrayOutputStream out = new ByteArrayOutputStream()) {
            if (!ImageIO.write(image, format, out)) {
                throw new IllegalStateException("no ImageIO writer for " + format);
            }
            return out.toByteArray();
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        }
    }

    /** 128-byte zero preamble, "DICM", then the start of the file meta group (0002,0000) UL. */
    private static byte[] dicom() {
        byte[] tail = {'D', 'I', 'C', 'M', 0x02, 0x00, 0x00, 0x00, 'U', 'L', 0x04, 0x00};
        return concat(new byte[128], tail);
    }
}
