package org.carerelay.routes.letter;

import org.apache.pdfbox.pdmodel.PDDocument;
import org.apache.pdfbox.pdmodel.PDDocumentInformation;
import org.apache.pdfbox.pdmodel.PDPageContentStream;
import org.apache.pdfbox.pdmodel.font.PDFont;

import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.util.ArrayList;
import java.util.Calendar;
import java.util.List;

/** Text helpers shared by the PDF renderers of this package (Standard 14 fonts, WinAnsiEncoding). */
final class PdfText {

    private PdfText() {
    }

    /** Sets the document's title, creator (CareRelay) and creation date (now) and returns the saved PDF. */
    static byte[] save(PDDocument document, String title) throws IOException {
        PDDocumentInformation info = document.getDocumentInformation();
        info.setTitle(title);
        info.setCreator("CareRelay");
        info.setCreationDate(Calendar.getInstance());
        ByteArrayOutputStream out = new ByteArrayOutputStream();
        document.save(out);
        return out.toByteArray();
    }

    /** Shows {@code text} (sanitised for the font) with its baseline starting at (x, baseline); nothing for empty text. */
    static void show(PDPageContentStream stream, String text, PDFont font, float size, float x, float baseline) throws IOException {
        if (text.isEmpty()) {
            return;
        }
        stream.beginText();
        stream.setFont(font, size);
        stream.newLineAtOffset(x, baseline);
        stream.showText(sanitise(text, font));
        stream.endText();
    }

    /** Greedy word wrap; words wider than the line are split. Returns no lines for blank text. */
    static List<String> wrap(String text, PDFont font, float size, float maxWidth) throws IOException {
        List<String> lines = new ArrayList<>();
        String clean = sanitise(text, font).strip();
        if (clean.isEmpty()) {
            return lines;
        }
        StringBuilder current = new StringBuilder();
        for (String word : clean.split(" +")) {
            String candidate = current.isEmpty() ? word : current + " " + word;
            if (width(candidate, font, size) <= maxWidth) {
                current.setLength(0);
                current.append(candidate);
                continue;
            }
            if (!current.isEmpty()) {
                lines.add(current.toString());
                current.setLength(0);
            }
            // the word alone may still be too wide: split it
            String rest = word;
            while (width(rest, font, size) > maxWidth) {
                int cut = rest.length() - 1;
                while (cut > 1 && width(rest.substring(0, cut), font, size) > maxWidth) {
                    cut--;
                }
                lines.add(rest.substring(0, cut));
                rest = rest.substring(cut);
            }
            current.append(rest);
        }
        if (!current.isEmpty()) {
            lines.add(current.toString());
        }
        return lines;
    }

    /** Shortens the text with a trailing ellipsis so that it fits into {@code maxWidth}. */
    static String fit(String text, PDFont font, float size, float maxWidth) throws IOException {
        String clean = sanitise(text, font).strip();
        if (width(clean, font, size) <= maxWidth) {
            return clean;
        }
        String ellipsis = "\u2026";
        int end = clean.length();
        while (end > 0 && width(clean.substring(0, end) + ellipsis, font, size) > maxWidth) {
            end--;
        }
        return clean.substring(0, end).stripTrailing() + ellipsis;
    }

    static float width(String text, PDFont font, float size) throws IOException {
        return font.getStringWidth(sanitise(text, font)) / 1000f * size;
    }

    /** Replaces control characters by spaces and characters the font cannot encode by '?'. */
    static String sanitise(String text, PDFont font) {
        StringBuilder out = new StringBuilder(text.length());
        text.codePoints().forEach(cp -> {
            if (cp == '\t' || Character.isISOControl(cp) || Character.isWhitespace(cp) && cp != ' ') {
                out.append(' ');
            } else if (canEncode(cp, font)) {
                out.appendCodePoint(cp);
            } else {
                out.append('?');
            }
        });
        return out.toString();
    }

    private static boolean canEncode(int codePoint, PDFont font) {
        try {
            font.encode(new String(Character.toChars(codePoint)));
            return true;
        } catch (IllegalArgumentException | IOException e) {
            return false;
        }
    }
}
