package org.carerelay.routes.letter;

import org.apache.pdfbox.Loader;
import org.apache.pdfbox.pdmodel.PDDocument;
import org.apache.pdfbox.text.PDFTextStripper;
import org.junit.jupiter.api.Test;

import java.time.LocalDate;
import java.util.Collections;
import java.util.List;

import static org.assertj.core.api.Assertions.assertThat;

class LetterPdfTest {

    private static final String SENDER = "CareRelay Betriebs GmbH\nMusterstraße 1\n12345 Berlin";
    private static final String RECIPIENT = "Pflegedienst Sonnenschein\nz. Hd. Frau Jürgens\nAm Bahnhof 7\n54321 Köln";

    @Test
    void letterWithCode_containsSubjectUmlautParagraphCodeAndDateAsText() throws Exception {
        LetterPdf.Letter letter = new LetterPdf.Letter(SENDER, RECIPIENT, "Ihr Registrierungscode",
                List.of("Sehr geehrte Damen und Herren,",
                        "für die Anmeldung Ihrer Einrichtung benötigen Sie den folgenden Code. Bitte geben Sie "
                                + "ihn innerhalb von 14 Tagen ein; danach verliert er seine Gültigkeit."),
                "K7QF-29XM", "Mit freundlichen Grüßen\nIhr CareRelay-Team");

        byte[] pdf = LetterPdf.render(letter, LocalDate.of(2025, 3, 7));

        try (PDDocument document = Loader.loadPDF(pdf)) {
            String text = new PDFTextStripper().getText(document);
            String flat = text.replaceAll("\\s+", " ");
            assertThat(document.getNumberOfPages()).isEqualTo(1);
            assertThat(text).contains("Ihr Registrierungscode");
            assertThat(flat).contains("für die Anmeldung Ihrer Einrichtung benötigen Sie");
            assertThat(flat).contains("Gültigkeit");
            assertThat(text).contains("K7QF-29XM");
            assertThat(text).contains("Datum: 07.03.2025");
            assertThat(text).contains("Frau Jürgens").contains("Musterstraße 1").contains("Mit freundlichen Grüßen");
        }
    }

    @Test
    void veryLongParagraphList_spansSeveralNumberedPages() throws Exception {
        String paragraph = "Dies ist ein langer Absatz über die Übermittlung von Pflegedaten, der mehrfach umbrochen "
                + "werden muss, weil er deutlich breiter ist als die Seite und damit über mehrere Zeilen läuft.";
        LetterPdf.Letter letter = new LetterPdf.Letter(SENDER, RECIPIENT, "Lange Mitteilung",
                Collections.nCopies(60, paragraph), null, "Mit freundlichen Grüßen");

        byte[] pdf = LetterPdf.render(letter);

        try (PDDocument document = Loader.loadPDF(pdf)) {
            assertThat(document.getNumberOfPages()).isGreaterThan(1);
            String text = new PDFTextStripper().getText(document);
            assertThat(text).contains("Seite 1 von " + document.getNumberOfPages());
            assertThat(text.replaceAll("\\s+", " ")).contains("über mehrere Zeilen läuft.");
        }
    }

    @Test
    void charactersOutsideWinAnsi_areReplacedInsteadOfFailing() throws Exception {
        LetterPdf.Letter letter = new LetterPdf.Letter(SENDER, "Łukasz Nowak\nul. Długa 5\tPolen", "Betreff ✓ 😀",
                List.of("Preis 10 € – „Zitat“ and a very long unbreakable token "
                        + "X".repeat(300)), null, null);

        byte[] pdf = LetterPdf.render(letter);

        try (PDDocument document = Loader.loadPDF(pdf)) {
            String text = new PDFTextStripper().getText(document);
            assertThat(text).contains("Betreff ? ?").contains("?ukasz Nowak").contains("10 € – „Zitat“");
        }
    }
}
