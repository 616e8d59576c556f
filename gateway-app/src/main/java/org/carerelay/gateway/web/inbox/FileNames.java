package org.carerelay.gateway.web.inbox;

import java.text.Normalizer;
import java.util.Locale;

/** Safe file names for attachments: no paths, no control or quote characters, a known extension. */
public final class FileNames {

    private static final int MAX = 100;

    private FileNames() {
    }

    /** The name sent with the attachment, made safe; else {@code anhang-<id>} with the type's extension. */
    public static String of(String title, String binaryId, String contentType) {
        String name = title == null ? "" : title;
        int slash = Math.max(name.lastIndexOf('/'), name.lastIndexOf('\\'));
        name = name.substring(slash + 1);
        name = Normalizer.normalize(name, Normalizer.Form.NFKD).replaceAll("\\p{M}", "");
        name = name.replaceAll("[^A-Za-z0-9._ -]", "_").replaceAll("\\s+", " ").strip();
        name = name.replaceAll("^[.\\s]+", "");
        if (name.length() > MAX) {
            int dot = name.lastIndexOf('.');
            String ext = dot > 0 && name.length() - dot <= 10 ? name.substring(dot) : "";
            name = name.substring(0, MAX - ext.length()) + ext;
        }
        if (name.isBlank()) {
            name = "anhang-" + (binaryId == null ? "" : binaryId.replaceAll("[^A-Za-z0-9-]", "")) + extension(contentType);
        }
        return name;
    }

    static String extension(String contentType) {
        String type = contentType == null ? "" : contentType.toLowerCase(Locale.ROOT);
        int semi = type.indexOf(';');
        if (semi >= 0) {
            type = type.substring(0, semi).strip();
        }
        return switch (type) {
            case "application/pdf" -> ".pdf";
            case "image/jpeg" -> ".jpg";
            case "image/png" -> ".png";
            case "image/tiff" -> ".tif";
            case "text/plain" -> ".txt";
            case "application/dicom" -> ".dcm";
            case "text/xml", "application/xml", "application/hl7-cda+xml" -> ".xml";
            default -> ".bin";
        };
    }
}
