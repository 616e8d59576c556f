import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Base64;
import java.util.Comparator;
import java.util.List;
import java.util.Optional;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import java.util.stream.Stream;
import java.util.zip.DataFormatException;
import java.util.zip.Inflater;

/**
 * Prints the one-time registration code from the newest letter in the mail outbox (the embedded
 * default writes outbound mail as .eml files to ./data/outbox instead of sending it). Needs only
 * the JDK:
 *
 * <pre>java config/PrintCode.java [outbox directory]</pre>
 *
 * The code is in the PDF letter attached to the mail (a fax letter) or in the mail text.
 */
public class PrintCode {

    private static final String CODE = "[A-Z2-9]{5}-[A-Z2-9]{5}";
    private static final Pattern IN_PDF = Pattern.compile("\\((" + CODE + ")\\)\\s*Tj");
    private static final Pattern IN_TEXT = Pattern.compile("Einmalcode:\\s*(" + CODE + ")");
    private static final Pattern PDF_PART = Pattern.compile(
            "Content-Type:\\s*application/pdf.*?\\r?\\n\\r?\\n([A-Za-z0-9+/=\\r\\n]+)", Pattern.DOTALL | Pattern.CASE_INSENSITIVE);

    public static void main(String[] args) throws IOException {
        Path outbox = Path.of(args.length > 0 ? args[0] : "data/outbox");
        if (!Files.isDirectory(outbox)) {
            System.err.println(outbox + " does not exist: run from the repository root, or name the outbox");
            System.exit(1);
        }
        List<Path> newestFirst;
        try (Stream<Path> files = Files.list(outbox)) {
            newestFirst = files.filter(f -> f.toString().endsWith(".eml"))
                    .sorted(Comparator.comparingLong((Path f) -> f.toFile().lastModified())
                            .thenComparing(Path::getFileName).reversed())
                    .toList();
        }
        // the newest mail with a code: registration letters and invitations, not notifications
        for (Path file : newestFirst) {
            String mail = Files.readString(file, StandardCharsets.ISO_8859_1);
            Optional<String> code = inPdf(mail).or(() -> find(IN_TEXT, mail));
            if (code.isPresent()) {
                System.out.println(code.get());
                return;
            }
        }
        System.err.println("no registration code in the .eml files of " + outbox);
        System.exit(1);
    }

    /** The code shown in the attached letter: PDF content streams are deflated text operators. */
    private static Optional<String> inPdf(String mail) {
        Matcher part = PDF_PART.matcher(mail);
        while (part.find()) {
            byte[] pdf = Base64.getMimeDecoder().decode(part.group(1));
            String raw = new String(pdf, StandardCharsets.ISO_8859_1);
            int at = 0;
            while ((at = raw.indexOf("stream", at)) >= 0) {
                int start = at + "stream".length();
                start += raw.startsWith("\r\n", start) ? 2 : raw.startsWith("\n", start) ? 1 : 0;
                int end = raw.indexOf("endstream", start);
                if (end < 0) {
                    break;
                }
                Optional<String> code = find(IN_PDF, inflate(pdf, start, end - start));
                if (code.isPresent()) {
                    return code;
                }
                at = end + "endstream".length();
            }
        }
        return Optional.empty();
    }

    private static String inflate(byte[] data, int offset, int length) {
        Inflater inflater = new Inflater();
        inflater.setInput(data, offset, length);
        ByteArrayOutputStream out = new ByteArrayOutputStream();
        byte[] buffer = new byte[8192];
        try {
            while (!inflater.finished()) {
                int n = inflater.inflate(buffer);
                if (n == 0 && (inflater.needsInput() || inflater.needsDictionary())) {
                    break;
                }
                out.write(buffer, 0, n);
            }
        } catch (DataFormatException e) {
            return ""; // not a deflated stream (e.g. an image or a font)
        } finally {
            inflater.end();
        }
        return out.toString(StandardCharsets.ISO_8859_1);
    }

    private static Optional<String> find(Pattern pattern, String text) {
        Matcher m = pattern.matcher(text);
        return m.find() ? Optional.of(m.group(1)) : Optional.empty();
    }
}
