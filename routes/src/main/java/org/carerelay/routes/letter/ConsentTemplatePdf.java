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
import java.time.format.DateTimeFormatter;
import java.util.List;
import java.util.Objects;

/**
 * Renders the printable German consent form a patient signs before organisations may exchange messages about them
 * over CareRelay (A4, real text in Standard 14 Helvetica, WinAnsiEncoding; characters outside WinAnsi become
 * {@code ?}). The permitted partner organisations are filled in by hand.
 */
public final class ConsentTemplatePdf {

    /**
     * Data printed on the form. Blank patient name or missing birth date leave a line to fill in by hand.
     *
     * @param operatorName           operator of the CareRelay installation
     * @param operatorAddress        nullable, multi-line postal address of the operator
     * @param patientName            the patient's name
     * @param birthDate              nullable
     * @param patientIdentifier      nullable, e.g. the KVNR; printed as "Versichertennummer"
     * @param requestingOrganization nullable; the organisation that downloaded the form, printed in the footer
     * @param printedOn              date printed in the footer
     */
    public record Form(String operatorName, String operatorAddress, String patientName, LocalDate birthDate,
                       String patientIdentifier, String requestingOrganization, LocalDate printedOn) {

        public Form {
            operatorName = operatorName == null ? "" : operatorName.strip();
            operatorAddress = operatorAddress == null ? "" : operatorAddress;
            patientName = patientName == null ? "" : patientName.strip();
            patientIdentifier = patientIdentifier == null ? "" : patientIdentifier.strip();
            requestingOrganization = requestingOrganization == null ? "" : requestingOrganization.strip();
            Objects.requireNonNull(printedOn, "printedOn");
        }
    }

    static final String TITLE = "Einwilligungserklärung zur Übermittlung von Gesundheitsdaten über CareRelay";
    private static final String OPERATOR_LABEL = "Betreiber des sicheren Nachrichtendienstes CareRelay";

    /** Explanation for the patient: heading and paragraph. */
    private static final List<String[]> SECTIONS = List.of(
            new String[] {"Worum geht es?",
                    "Die Einrichtungen, die Sie behandeln, pflegen oder betreuen – zum Beispiel Arztpraxis, "
                            + "Pflegedienst, Pflegeheim, Krankenhaus oder Therapiepraxis – möchten sich schnell und "
                            + "sicher über Ihre Versorgung abstimmen. Dafür nutzen sie den verschlüsselten "
                            + "Nachrichtendienst CareRelay. Mit Ihrer Einwilligung dürfen die unten eingetragenen "
                            + "Einrichtungen darüber Nachrichten, Befunde, Vitalwerte (etwa Blutdruck, Puls oder "
                            + "Gewicht) und Bilder (etwa Wundfotos) über Sie austauschen."},
            new String[] {"Ihre Einwilligung ist freiwillig",
                    "Wenn Sie nicht einwilligen, entstehen Ihnen keine Nachteile: Ihre Behandlung und Versorgung "
                            + "gehen wie gewohnt weiter. Die Einrichtungen stimmen sich dann auf anderem Weg ab, "
                            + "zum Beispiel per Telefon, Fax oder Brief."},
            new String[] {"Sie können jederzeit widerrufen",
                    "Sie können Ihre Einwilligung jederzeit ohne Angabe von Gründen mit Wirkung für die Zukunft "
                            + "widerrufen. Es genügt, wenn Sie dies einer der eingetragenen Einrichtungen mitteilen. "
                            + "Danach werden über CareRelay keine neuen Nachrichten über Sie ausgetauscht. Frühere "
                            + "Nachrichten werden für die Beteiligten ausgeblendet, aber aufbewahrt, soweit das "
                            + "Gesetz eine Dokumentation vorschreibt. Was bis zum Widerruf übermittelt wurde, "
                            + "bleibt rechtmäßig. Ihre Behandlung und Versorgung gehen auch nach einem Widerruf "
                            + "wie gewohnt weiter."},
            new String[] {"Rechtsgrundlage",
                    "Rechtsgrundlage für die Übermittlung ist Ihre ausdrückliche Einwilligung nach Art. 6 Abs. 1 "
                            + "lit. a und Art. 9 Abs. 2 lit. a der Datenschutz-Grundverordnung (DSGVO). Sie haben "
                            + "unter anderem das Recht auf Auskunft über Ihre Daten und auf Beschwerde bei einer "
                            + "Datenschutz-Aufsichtsbehörde. Bei Fragen wenden Sie sich an die eingetragenen "
                            + "Einrichtungen."});

    private static final String PARTNER_INTRO =
            "Ich willige ein, dass folgende Einrichtungen Nachrichten über mich austauschen dürfen:";
    private static final int PARTNER_ROWS = 6;
    private static final String SIGNATURE_INTRO = "Ich habe die Informationen auf diesem Bogen gelesen und verstanden.";
    private static final List<String> SIGNATURE_LABELS = List.of("Ort, Datum:",
            "Unterschrift Patientin/Patient bzw. gesetzliche Vertretung:",
            "Name der Vertretung (falls zutreffend):");

    private static final DateTimeFormatter DATE = DateTimeFormatter.ofPattern("dd.MM.yyyy");

    private static final float MM = 72f / 25.4f;
    private static final PDRectangle PAGE = PDRectangle.A4;
    private static final float MARGIN_LEFT = 20 * MM;
    private static final float MARGIN_RIGHT = 20 * MM;
    private static final float MARGIN_TOP = 15 * MM;
    private static final float MARGIN_BOTTOM = 18 * MM;
    private static final float FOOTER_BASELINE = 10 * MM;
    private static final float CONTENT_WIDTH = PAGE.getWidth() - MARGIN_LEFT - MARGIN_RIGHT;
    private static final float RIGHT = PAGE.getWidth() - MARGIN_RIGHT;

    private static final float LABEL_SIZE = 8f;
    private static final float OPERATOR_SIZE = 9f;
    private static final float OPERATOR_NAME_SIZE = 10f;
    private static final float TITLE_SIZE = 14f;
    private static final float BODY_SIZE = 10f;
    private static final float HEADING_SIZE = 10f;
    private static final float TABLE_SIZE = 9f;
    private static final float FOOTER_SIZE = 8f;
    private static final float LEADING = 1.25f;
    private static final float PARAGRAPH_GAP = 5f;

    /** Patient block: values start in a column right of the labels. */
    private static final float VALUE_X = MARGIN_LEFT + 38 * MM;
    private static final float FILL_IN_WIDTH = 70 * MM;
    private static final float FILL_IN_HEIGHT = 7 * MM;
    private static final float NUMBER_COLUMN = 10 * MM;
    private static final float PLACE_COLUMN = 55 * MM;
    private static final float TABLE_HEADER_HEIGHT = 6 * MM;
    private static final float TABLE_ROW_HEIGHT = 8 * MM;
    private static final float SIGNATURE_ROW_HEIGHT = 10 * MM;

    private static final float LINE_GREY = 0.35f;
    private static final float HEADER_FILL_GREY = 0.9f;
    private static final float MUTED_TEXT_GREY = 0.3f;

    private ConsentTemplatePdf() {
    }

    /** Renders the consent form; one page for ordinary data, a second page only if the content needs it. */
    public static byte[] render(Form form) {
        Objects.requireNonNull(form, "form");
        try (PDDocument document = new PDDocument()) {
            new Writer(document).write(form);
            // no patient data in the metadata: it is easily overlooked when files are passed on
            return PdfText.save(document, TITLE);
        } catch (IOException e) {
            throw new UncheckedIOException("cannot render consent form", e);
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
        /** Printed on top of every further page, so that a separated page can still be assigned. */
        private String continuation;

        Writer(PDDocument document) {
            this.document = document;
        }

        void write(Form form) throws IOException {
            continuation = "Einwilligungserklärung CareRelay (Fortsetzung) – Patientin/Patient: "
                    + (form.patientName().isEmpty() ? "________________" : form.patientName());
            newPage();
            try {
                operator(form);
                title();
                patient(form);
                explanation();
                partners();
                signature();
            } finally {
                stream.close();
            }
            footers(form);
        }

        /** Operator label and name on the left, its address right-aligned on the right, a rule below. */
        private void operator(Form form) throws IOException {
            List<String> address = form.operatorAddress().lines().map(String::strip)
                    .filter(s -> !s.isEmpty()).toList();
            float addressWidth = address.isEmpty() ? 0 : CONTENT_WIDTH * 0.4f;
            float nameWidth = CONTENT_WIDTH - addressWidth - (address.isEmpty() ? 0 : 5 * MM);
            float top = y;

            grey(MUTED_TEXT_GREY);
            for (String l : PdfText.wrap(OPERATOR_LABEL, regular, LABEL_SIZE, nameWidth)) {
                line(l, regular, LABEL_SIZE, MARGIN_LEFT);
            }
            grey(0f);
            for (String l : PdfText.wrap(form.operatorName(), bold, OPERATOR_NAME_SIZE, nameWidth)) {
                line(l, bold, OPERATOR_NAME_SIZE, MARGIN_LEFT);
            }
            float leftBottom = y;

            y = top;
            for (String addressLine : address) {
                for (String l : PdfText.wrap(addressLine, regular, OPERATOR_SIZE, addressWidth)) {
                    line(l, regular, OPERATOR_SIZE, RIGHT - PdfText.width(l, regular, OPERATOR_SIZE));
                }
            }
            y = Math.min(y, leftBottom) - 2f;
            horizontalLine(MARGIN_LEFT, RIGHT, y, 0.75f);
            y -= 4 * MM;
        }

        private void title() throws IOException {
            wrapped(TITLE, bold, TITLE_SIZE, MARGIN_LEFT, CONTENT_WIDTH);
            y -= 3 * MM;
        }

        private void patient(Form form) throws IOException {
            field("Patientin/Patient:", form.patientName());
            field("Geburtsdatum:", form.birthDate() == null ? "" : DATE.format(form.birthDate()));
            if (!form.patientIdentifier().isEmpty()) {
                field("Versichertennummer:", form.patientIdentifier());
            }
            y -= 3 * MM;
        }

        /** Label and bold value (wrapped in the value column); a blank value leaves a line to write on. */
        private void field(String label, String value) throws IOException {
            float lineHeight = BODY_SIZE * LEADING;
            List<String> lines = PdfText.wrap(value, bold, BODY_SIZE, RIGHT - VALUE_X);
            if (lines.isEmpty()) {
                ensureSpace(FILL_IN_HEIGHT);
                y -= FILL_IN_HEIGHT - lineHeight;
                text(label, regular, BODY_SIZE, MARGIN_LEFT, y - BODY_SIZE);
                horizontalLine(VALUE_X, VALUE_X + FILL_IN_WIDTH, y - BODY_SIZE - 2f, 0.5f);
                y -= lineHeight;
                return;
            }
            ensureSpace(lineHeight);
            text(label, regular, BODY_SIZE, MARGIN_LEFT, y - BODY_SIZE);
            for (int i = 0; i < lines.size(); i++) {
                if (i > 0) {
                    ensureSpace(lineHeight);
                }
                line(lines.get(i), bold, BODY_SIZE, VALUE_X);
            }
        }

        private void explanation() throws IOException {
            for (String[] section : SECTIONS) {
                // keep the heading together with the first lines of its paragraph
                ensureSpace(HEADING_SIZE * LEADING + 2 * BODY_SIZE * LEADING);
                line(section[0], bold, HEADING_SIZE, MARGIN_LEFT);
                wrapped(section[1], regular, BODY_SIZE, MARGIN_LEFT, CONTENT_WIDTH);
                y -= PARAGRAPH_GAP;
            }
        }

        /** Numbered empty rows (Einrichtung / Ort) for the partners the patient permits; kept on one page. */
        private void partners() throws IOException {
            List<String> intro = PdfText.wrap(PARTNER_INTRO, bold, HEADING_SIZE, CONTENT_WIDTH);
            float tableHeight = TABLE_HEADER_HEIGHT + PARTNER_ROWS * TABLE_ROW_HEIGHT;
            y -= PARAGRAPH_GAP;
            ensureSpace(intro.size() * HEADING_SIZE * LEADING + 2f + tableHeight);
            for (String l : intro) {
                line(l, bold, HEADING_SIZE, MARGIN_LEFT);
            }
            y -= 2f;

            float top = y;
            float bottom = top - tableHeight;
            float placeX = RIGHT - PLACE_COLUMN;
            float organisationX = MARGIN_LEFT + NUMBER_COLUMN;
            stream.setNonStrokingColor(HEADER_FILL_GREY);
            stream.addRect(MARGIN_LEFT, top - TABLE_HEADER_HEIGHT, CONTENT_WIDTH, TABLE_HEADER_HEIGHT);
            stream.fill();
            grey(0f);
            float headerBaseline = top - TABLE_HEADER_HEIGHT / 2 - TABLE_SIZE * 0.35f;
            text("Nr.", bold, TABLE_SIZE, MARGIN_LEFT + 2 * MM, headerBaseline);
            text("Einrichtung", bold, TABLE_SIZE, organisationX + 2 * MM, headerBaseline);
            text("Ort", bold, TABLE_SIZE, placeX + 2 * MM, headerBaseline);

            stream.setStrokingColor(LINE_GREY);
            stream.setLineWidth(0.5f);
            stream.addRect(MARGIN_LEFT, bottom, CONTENT_WIDTH, tableHeight);
            for (float x : new float[] {organisationX, placeX}) {
                stream.moveTo(x, top);
                stream.lineTo(x, bottom);
            }
            for (int row = 0; row < PARTNER_ROWS; row++) {
                float rowTop = top - TABLE_HEADER_HEIGHT - row * TABLE_ROW_HEIGHT;
                stream.moveTo(MARGIN_LEFT, rowTop);
                stream.lineTo(RIGHT, rowTop);
                float baseline = rowTop - TABLE_ROW_HEIGHT / 2 - TABLE_SIZE * 0.35f;
                text((row + 1) + ".", regular, TABLE_SIZE, MARGIN_LEFT + 2 * MM, baseline);
            }
            stream.stroke();
            stream.setStrokingColor(0f);
            y = bottom - 2 * PARAGRAPH_GAP;
        }

        /** Statement and the lines for place/date, signature and representative; kept on one page. */
        private void signature() throws IOException {
            List<String> intro = PdfText.wrap(SIGNATURE_INTRO, regular, BODY_SIZE, CONTENT_WIDTH);
            ensureSpace(intro.size() * BODY_SIZE * LEADING + SIGNATURE_LABELS.size() * SIGNATURE_ROW_HEIGHT + 2f);
            for (String l : intro) {
                line(l, regular, BODY_SIZE, MARGIN_LEFT);
            }
            for (String label : SIGNATURE_LABELS) {
                float baseline = y - SIGNATURE_ROW_HEIGHT + 2f;
                text(label, regular, BODY_SIZE, MARGIN_LEFT, baseline);
                float lineStart = MARGIN_LEFT + PdfText.width(label, regular, BODY_SIZE) + 2 * MM;
                horizontalLine(lineStart, RIGHT, baseline - 2f, 0.5f);
                y -= SIGNATURE_ROW_HEIGHT;
            }
        }

        /** Creation date, requesting organisation and (for several pages) page numbers on every page. */
        private void footers(Form form) throws IOException {
            int total = document.getNumberOfPages();
            String created = "Erstellt am " + DATE.format(form.printedOn())
                    + (form.requestingOrganization().isEmpty() ? ""
                    : ", angefordert von " + form.requestingOrganization());
            for (int i = 0; i < total; i++) {
                try (PDPageContentStream footer = new PDPageContentStream(document, document.getPage(i),
                        PDPageContentStream.AppendMode.APPEND, true, true)) {
                    stream = footer; // text() and grey() draw on the current stream
                    grey(MUTED_TEXT_GREY);
                    float available = CONTENT_WIDTH;
                    if (total > 1) {
                        String label = "Seite " + (i + 1) + " von " + total;
                        float labelWidth = PdfText.width(label, regular, FOOTER_SIZE);
                        text(label, regular, FOOTER_SIZE, RIGHT - labelWidth, FOOTER_BASELINE);
                        available -= labelWidth + 5 * MM;
                    }
                    text(PdfText.fit(created, regular, FOOTER_SIZE, available), regular, FOOTER_SIZE,
                            MARGIN_LEFT, FOOTER_BASELINE);
                }
            }
        }

        /** Wrapped text at x, breaking pages between lines as needed. */
        private void wrapped(String text, PDFont font, float size, float x, float width) throws IOException {
            for (String l : PdfText.wrap(text, font, size, width)) {
                ensureSpace(size * LEADING);
                line(l, font, size, x);
            }
        }

        /** Writes one line at the current position and advances; the baseline sits one font size below y. */
        private void line(String text, PDFont font, float size, float x) throws IOException {
            text(text, font, size, x, y - size);
            y -= size * LEADING;
        }

        private void text(String text, PDFont font, float size, float x, float baseline) throws IOException {
            PdfText.show(stream, text, font, size, x, baseline);
        }

        private void horizontalLine(float fromX, float toX, float atY, float lineWidth) throws IOException {
            stream.setStrokingColor(LINE_GREY);
            stream.setLineWidth(lineWidth);
            stream.moveTo(fromX, atY);
            stream.lineTo(toX, atY);
            stream.stroke();
            stream.setStrokingColor(0f);
        }

        private void grey(float level) throws IOException {
            stream.setNonStrokingColor(level);
        }

        private void ensureSpace(float height) throws IOException {
            if (y - height < MARGIN_BOTTOM) {
                stream.close();
                newPage();
            }
        }

        private void newPage() throws IOException {
            PDPage page = new PDPage(PAGE);
            document.addPage(page);
            stream = new PDPageContentStream(document, page);
            y = PAGE.getHeight() - MARGIN_TOP;
            if (document.getNumberOfPages() > 1) {
                grey(MUTED_TEXT_GREY);
                line(PdfText.fit(continuation, regular, LABEL_SIZE, CONTENT_WIDTH), regular, LABEL_SIZE, MARGIN_LEFT);
                grey(0f);
                y -= 3 * MM;
            }
        }
    }
}
