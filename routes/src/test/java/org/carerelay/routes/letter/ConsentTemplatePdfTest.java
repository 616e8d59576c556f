package org.carerelay.routes.letter;

import org.apache.pdfbox.Loader;
import org.apache.pdfbox.pdmodel.PDDocument;
import org.apache.pdfbox.text.PDFTextStripper;
import org.junit.jupiter.api.Test;

import java.time.LocalDate;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

class ConsentTemplatePdfTest {

    private static final String OPERATOR = "CareRelay Betriebs GmbH";
    private static final String ADDRESS = "Musterstraße 1\n12345 Berlin";
    private static final LocalDate PRINTED_ON = LocalDate.of(2025, 3, 7);

    @Test
    void completeForm_containsOperatorPatientExplanationPartnerRowsSignatureAndFooterAsText() throws Exception {
        ConsentTemplatePdf.Form form = new ConsentTemplatePdf.Form(OPERATOR, ADDRESS, "Jürgen Müller-Lüdenscheidt",
                LocalDate.of(1941, 2, 3), "A123456789", "Pflegedienst Sonnenschein", PRINTED_ON);

        String text = text(ConsentTemplatePdf.render(form), 1);

        String flat = text.replaceAll("\\s+", " ");
        assertThat(flat).contains("Betreiber").contains(OPERATOR).contains("Musterstraße 1").contains("12345 Berlin");
        assertThat(flat).contains("Einwilligungserklärung zur Übermittlung von Gesundheitsdaten über CareRelay");
        assertThat(flat).contains("Patientin/Patient: Jürgen Müller-Lüdenscheidt")
                .contains("Geburtsdatum: 03.02.1941")
                .contains("Versichertennummer: A123456789");
        assertThat(flat).contains("Einwilligung").contains("freiwillig").contains("widerrufen")
                .contains("Art. 9 Abs. 2 lit. a").contains("DSGVO");
        assertThat(flat).contains("Ich willige ein, dass folgende Einrichtungen Nachrichten über mich austauschen dürfen:")
                .contains("Einrichtung").contains("Ort").contains("1.").contains("6.");
        assertThat(flat).contains("Ort, Datum:")
                .contains("Unterschrift Patientin/Patient bzw. gesetzliche Vertretung:")
                .contains("Name der Vertretung (falls zutreffend):");
        assertThat(flat).contains("Erstellt am 07.03.2025, angefordert von Pflegedienst Sonnenschein");
        assertThat(flat).doesNotContain("Seite 1 von");
    }

    @Test
    void missingBirthDateIdentifierAndRequester_leaveBirthDateToFillInAndOmitTheRest() throws Exception {
        ConsentTemplatePdf.Form form = new ConsentTemplatePdf.Form(OPERATOR, null, "Erika Mustermann",
                null, null, null, PRINTED_ON);

        String flat = text(ConsentTemplatePdf.render(form), 1).replaceAll("\\s+", " ");

        assertThat(flat).contains("Patientin/Patient: Erika Mustermann").contains("Geburtsdatum:")
                .contains("Erstellt am 07.03.2025");
        assertThat(flat).doesNotContain("Versichertennummer").doesNotContain("angefordert von");
    }

    @Test
    void veryLongPatientName_isWrappedOntoASecondNumberedPageWithContinuationHeader() throws Exception {
        String name = "Maximiliane-Friederike ".repeat(40) + "Ü".repeat(200) + " 😀";
        ConsentTemplatePdf.Form form = new ConsentTemplatePdf.Form(OPERATOR, ADDRESS, name,
                LocalDate.of(1950, 12, 31), "A123456789", "x".repeat(500), PRINTED_ON);

        byte[] pdf = ConsentTemplatePdf.render(form);

        try (PDDocument document = Loader.loadPDF(pdf)) {
            int pages = document.getNumberOfPages();
            assertThat(pages).isGreaterThan(1);
            String flat = new PDFTextStripper().getText(document).replaceAll("\\s+", " ");
            assertThat(flat).contains("Maximiliane-Friederike").contains("ÜÜÜ").contains(" ?")
                    .contains("Unterschrift").contains("Geburtsdatum: 31.12.1950")
                    .contains("(Fortsetzung) – Patientin/Patient: Maximiliane-Friederike")
                    .contains("Seite 1 von " + pages).contains("Seite " + pages + " von " + pages);
        }
    }

    @Test
    void blankPatientName_rendersFillInTemplate() throws Exception {
        ConsentTemplatePdf.Form form = new ConsentTemplatePdf.Form(OPERATOR, ADDRESS, null, null, null, null,
                PRINTED_ON);

        String flat = text(ConsentTemplatePdf.render(form), 1).replaceAll("\\s+", " ");

        assertThat(flat).contains("Patientin/Patient:").contains("Geburtsdatum:").contains("Unterschrift");
    }

    @Test
    void missingPrintDate_isRejected() {
        assertThatThrownBy(() -> new ConsentTemplatePdf.Form(OPERATOR, ADDRESS, "Erika Mustermann", null, null,
                null, null)).isInstanceOf(NullPointerException.class);
    }

    /** Loads the PDF, checks the page count and returns its text. */
    private static String text(byte[] pdf, int expectedPages) throws Exception {
        try (PDDocument document = Loader.loadPDF(pdf)) {
            assertThat(document.getNumberOfPages()).isEqualTo(expectedPages);
            return new PDFTextStripper().getText(document);
        }
    }
}
