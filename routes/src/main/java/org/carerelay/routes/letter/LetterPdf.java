package org.carerelay.routes.letter;

import org.apache.pdfbox.pdmodel.PDDocument;
import org.apache.pdfbox.pdmodel.PDPage;
import org.apache.pdfbox.pdmodel.PDPageContentStream;
import org.apache.pdfbox.pdmodel.common.PDRectangle;
import org.apache.pdfbox.pdmodel.font.PDFont;
import org.apache.pdfbox.pdmodel.font.PDType1Font;
import org.apache.pdfbox.pdmodel.font.Standard14Fonts;

import java.io.IOException;
import java.io.UncheckedIOException;
import java.time.LocalDate;
import java.time.ZoneId;
import java.time.format.DateTimeFormatter;
import java.util.List;
import java.util.Objects;

/**
 * Renders a plain A4 business letter (German, DIN 5008 like layout: address field for window envelopes) as PDF
 * with real text (Standard 14 Helvetica, WinAnsiEncoding). Characters outside WinAnsi are replaced by {@code ?}.
 */
public final class LetterPdf {

    /**
     * Content of a letter.
     *
     * @param senderBlock    multi-line operator name and address (printed top right and as return line)
     * @param recipientBlock multi-line recipient address
     * @param subject        subject line (bold)
     * @param paragraphs     body paragraphs; long paragraphs are wrapped, {@code \n} forces a line break
     * @param highlighted    nullable; shown large and bold in a box (e.g. a one-time code)
     * @param closing        multi-line closing, e.g. "Mit freundlichen Grüßen\nIhr CareRelay-Team"
     */
    public record Letter(String senderBlock, String recipientBlock, String subject, List<String> paragraphs,
                         String highlighted, String closing) {

        public Letter {
            senderBlock = senderBlock == null ? "" : senderBlock;
            recipientBlock = recipientBlock == null ? "" : recipientBlock;
            subject = subject == null ? "" : subject;
            paragraphs = paragraphs == null ? List.of() : List.copyOf(paragraphs);
            closing = closing == null ? "" : closing;
        }
    }

    private static final ZoneId ZONE = ZoneId.of("Europe/Berlin");
    private static final DateTimeFormatter DATE = DateTimeFormatter.ofPattern("dd.MM.yyyy");

    private static final float MM = 72f / 25.4f;
    private static final PDRectangle PAGE = PDRectangle.A4;
    private static final float MARGIN_LEFT = 25 * MM;
    private static final float MARGIN_RIGHT = 20 * MM;
    private static final float MARGIN_TOP = 20 * MM;
    private static final float MARGIN_BOTTOM = 25 * MM;
    private static final float CONTENT_WIDTH = PAGE.getWidth() - MARGIN_LEFT - MARGIN_RIGHT;
    /** DIN 5008 form B: address field (with return line) starts 45 mm from the top, 20 mm from the left. */
    private static final float ADDRESS_TOP = 45 * MM;
    private static final float ADDRESS_LEFT = 20 * MM;
    private static final float ADDRESS_WIDTH = 85 * MM;
    private static final float BODY_START = 98.5f * MM;

    private static final float SENDER_SIZE = 9f;
    private static final float RETURN_LINE_SIZE = 7f;
    private static final float BODY_SIZE = 11f;
    private static final float SUBJECT_SIZE = 12f;
    private static final float HIGHLIGHT_SIZE = 20f;
    private static final float FOOTER_SIZE = 8f;
    private static final float LEADING = 1.35f;
    private static final float PARAGRAPH_GAP = 8f;

    private LetterPdf() {
    }

    /** Renders the letter dated today (Europe/Berlin). */
    public static byte[] render(Letter letter) {
        return render(letter, LocalDate.now(ZONE));
    }

    /** Renders the letter with the given date. */
    public static byte[] render(Letter letter, LocalDate date) {
        Objects.requireNonNull(letter, "letter");
        Objects.requireNonNull(date, "date");
        try (PDDocument document = new PDDocument()) {
            Writer writer = new Writer(document);
            writer.write(letter, date);
            return PdfText.save(document, PdfText.sanitise(letter.subject(), writer.regular));
        } catch (IOException e) {
            throw new UncheckedIOException("cannot render letter", e);
        }
    }

    /** Layout state: current page, content stream and vertical position (y measured from the bottom). */
    private static final class Writer {
        // per document: PDFBox font objects cache widths in plain maps and are not meant to be shared by threads
        private final PDFont regular = new PDType1Font(Standard14Fonts.FontName.HELVETICA);
        private final PDFont bold = new PDType1Font(Standard14Fonts.FontName.HELVETICA_BOLD);

        private final PDDocument document;
        private PDPageContentStream stream;
        private float y;

        Writer(PDDocument document) {
            this.document = document;
        }

        void write(Letter letter, LocalDate date) throws IOException {
            newPage();
            try {
                writeLetterhead(letter);
                y = PAGE.getHeight() - BODY_START;
                line("Datum: " + DATE.format(date), regular, BODY_SIZE, MARGIN_LEFT);
                y -= 2 * BODY_SIZE;
                for (String subjectLine : PdfText.wrap(letter.subject(), bold, SUBJECT_SIZE, CONTENT_WIDTH)) {
                    line(subjectLine, bold, SUBJECT_SIZE, MARGIN_LEFT);
                }
                y -= BODY_SIZE;
                for (String paragraph : letter.paragraphs()) {
                    paragraph(paragraph);
                }
                if (letter.highlighted() != null && !letter.highlighted().isBlank()) {
                    highlighted(letter.highlighted());
                }
                if (!letter.closing().isBlank()) {
                    y -= PARAGRAPH_GAP;
                    paragraph(letter.closing());
                }
            } finally {
                stream.close();
            }
            pageNumbers();
        }

        private void writeLetterhead(Letter letter) throws IOException {
            // sender block top right
            List<String> senderLines = letter.senderBlock().lines().map(String::strip)
                    .filter(s -> !s.isEmpty()).toList();
            float senderWidth = 0;
            for (int i = 0; i < senderLines.size(); i++) {
                senderWidth = Math.max(senderWidth, PdfText.width(senderLines.get(i), i == 0 ? bold : regular, SENDER_SIZE));
            }
            senderWidth = Math.min(senderWidth, CONTENT_WIDTH / 2);
            float senderX = PAGE.getWidth() - MARGIN_RIGHT - senderWidth;
            y = PAGE.getHeight() - MARGIN_TOP;
            boolean first = true;
            for (String s : senderLines) {
                for (String l : PdfText.wrap(s, first ? bold : regular, SENDER_SIZE, senderWidth)) {
                    line(l, first ? bold : regular, SENDER_SIZE, senderX);
                }
                first = false;
            }

            // return line and recipient in the window area
            y = PAGE.getHeight() - ADDRESS_TOP - 12 * MM;
            String returnLine = String.join(" \u00b7 ", senderLines);
            List<String> returnLines = PdfText.wrap(returnLine, regular, RETURN_LINE_SIZE, ADDRESS_WIDTH);
            if (!returnLines.isEmpty()) {
                line(returnLines.get(0), regular, RETURN_LINE_SIZE, ADDRESS_LEFT);
            }
            y -= RETURN_LINE_SIZE * 0.5f;
            for (String r : letter.recipientBlock().lines().toList()) {
                for (String l : PdfText.wrap(r.strip(), regular, BODY_SIZE, ADDRESS_WIDTH)) {
                    line(l, regular, BODY_SIZE, ADDRESS_LEFT);
                }
            }
        }

        private void paragraph(String text) throws IOException {
            for (String hardLine : text.split("\\R", -1)) {
                List<String> lines = PdfText.wrap(hardLine, regular, BODY_SIZE, CONTENT_WIDTH);
                if (lines.isEmpty()) {
                    y -= BODY_SIZE * LEADING;
                }
                for (String l : lines) {
                    ensureSpace(BODY_SIZE * LEADING);
                    line(l, regular, BODY_SIZE, MARGIN_LEFT);
                }
            }
            y -= PARAGRAPH_GAP;
        }

        private void highlighted(String text) throws IOException {
            List<String> lines = PdfText.wrap(text.strip(), bold, HIGHLIGHT_SIZE, CONTENT_WIDTH - 20);
            float padding = 10f;
            float lineHeight = HIGHLIGHT_SIZE * 1.25f;
            float boxHeight = lines.size() * lineHeight + 2 * padding;
            y -= PARAGRAPH_GAP;
            ensureSpace(boxHeight + PARAGRAPH_GAP);
            float top = y;
            stream.setLineWidth(1.5f);
            stream.addRect(MARGIN_LEFT, top - boxHeight, CONTENT_WIDTH, boxHeight);
            stream.stroke();
            y = top - padding;
            for (String l : lines) {
                float x = MARGIN_LEFT + (CONTENT_WIDTH - PdfText.width(l, bold, HIGHLIGHT_SIZE)) / 2;
                y -= HIGHLIGHT_SIZE;
                text(l, bold, HIGHLIGHT_SIZE, x, y);
                y -= lineHeight - HIGHLIGHT_SIZE;
            }
            y = top - boxHeight - 2 * PARAGRAPH_GAP;
        }

        /** Writes one line at the current position and advances; the baseline sits one font size below y. */
        private void line(String text, PDFont font, float size, float x) throws IOException {
            text(text, font, size, x, y - size);
            y -= size * LEADING;
        }

        private void text(String text, PDFont font, float size, float x, float baseline) throws IOException {
            PdfText.show(stream, text, font, size, x, baseline);
        }

        private void ensureSpace(float height) throws IOException {
            if (y - height < MARGIN_BOTTOM) {
                stream.close();
                newPage();
                y = PAGE.getHeight() - MARGIN_TOP;
            }
        }

        private void newPage() throws IOException {
            PDPage page = new PDPage(PAGE);
            document.addPage(page);
            stream = new PDPageContentStream(document, page);
        }

        private void pageNumbers() throws IOException {
            int total = document.getNumberOfPages();
            if (total < 2) {
                return;
            }
            for (int i = 0; i < total; i++) {
                PDPage page = document.getPage(i);
                try (PDPageContentStream footer = new PDPageContentStream(document, page,
                        PDPageContentStream.AppendMode.APPEND, true, true)) {
                    String label = "Seite " + (i + 1) + " von " + total;
                    float x = PAGE.getWidth() - MARGIN_RIGHT - PdfText.width(label, regular, FOOTER_SIZE);
                    PdfText.show(footer, label, regular, FOOTER_SIZE, x, MARGIN_BOTTOM / 2);
                }
            }
        }
    }
}
