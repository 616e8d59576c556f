package org.carerelay.fhir.content;

import static org.assertj.core.api.Assertions.assertThat;
import static org.carerelay.fhir.content.ContentFixtures.concat;
import static org.carerelay.fhir.content.ContentFixtures.utf8;
import static org.carerelay.fhir.content.ContentInspectorTest.byteByByte;
import static org.carerelay.fhir.content.ContentInspectorTest.feedInChunks;

import java.nio.charset.StandardCharsets;
import java.util.Arrays;
import org.carerelay.fhir.content.ContentInspector.Result;
import org.junit.jupiter.api.Test;

/**
 * CDA documents. No real CDA sample is among the shared test data ({@code ../shared/testdata} has
 * only HL7 v2 messages and FHIR R4 examples), so these documents are written here.
 */
class ContentInspectorCdaTest {

    private static final String DECLARATION = "<?xml version=\"1.0\" encoding=\"UTF-8\"?>";
    private static final String ROOT = "<ClinicalDocument xmlns=\"urn:hl7-org:v3\" "
            + "xmlns:xsi=\"http://www.w3.org/2001/XMLSchema-instance\">";
    private static final String BODY = """
            <realmCode code="DE"/>
            <typeId root="2.16.840.1.113883.1.3" extension="POCD_HD000040"/>
            <id root="1.2.276.0.76.4.17.9814184919" extension="c0ffee"/>
            <code code="11490-0" codeSystem="2.16.840.1.113883.6.1" displayName="Entlassbrief"/>
            <title>Entlassbrief – Größe, Gewicht</title>
            <effectiveTime value="20240102101500+0100"/>
            <confidentialityCode code="N" codeSystem="2.16.840.1.113883.5.25"/>
            <recordTarget><patientRole><id extension="12345" root="1.2.3"/></patientRole></recordTarget>
            <component><structuredBody><component><section><text>Befund unauffällig.</text></section>
            </component></structuredBody></component>
            </ClinicalDocument>
            """;
    private static final String MINIMAL = DECLARATION + ROOT + BODY;
    private static final Result OK = new Result(true, "");
    private static final Result DOCTYPE = new Result(false, "DOCTYPE or entity declarations are not accepted");

    @Test
    void minimalCdaMatchesForEveryCdaType() {
        byte[] cda = utf8(MINIMAL);
        for (String declared : new String[] {"application/hl7-cda+xml", "application/cda+xml", "text/xml",
            "application/xml", "Application/HL7-CDA+XML; charset=UTF-8", "text/xml; charset=utf-8"}) {
            assertThat(ContentInspector.inspect(declared, cda)).as(declared).isEqualTo(OK);
            assertThat(byteByByte(declared, cda)).as(declared).isEqualTo(OK);
            assertThat(ContentTypes.matches(declared, cda)).as(declared).isTrue();
            assertThat(ContentTypes.isCheckable(declared)).as(declared).isTrue();
        }
        // other types are not satisfied by a CDA
        assertThat(ContentInspector.inspect("application/pdf", cda).matches()).isFalse();
        assertThat(ContentTypes.matches("application/fhir+xml", cda)).isFalse();
    }

    @Test
    void bomCommentsAndProcessingInstructionsMayPrecedeTheRoot() {
        String prolog = DECLARATION + "\n<!-- Arztbrief, erzeugt von KIS -->\n"
                + "<?xml-stylesheet type=\"text/xsl\" href=\"CDA.xsl\"?>\n\t \n<!---->";
        byte[] withBom = concat(new byte[] {(byte) 0xEF, (byte) 0xBB, (byte) 0xBF}, utf8(prolog + ROOT + BODY));
        assertThat(byteByByte(ContentTypes.CDA, withBom)).isEqualTo(OK);
        assertThat(ContentTypes.matches(ContentTypes.CDA, withBom)).isTrue();

        // no XML declaration at all, whitespace before the root
        assertThat(ContentInspector.inspect(ContentTypes.CDA, utf8("\n  " + ROOT + BODY))).isEqualTo(OK);
        // a namespace prefix instead of the default namespace
        assertThat(ContentInspector.inspect(ContentTypes.CDA,
                utf8("<cda:ClinicalDocument xmlns:cda=\"urn:hl7-org:v3\"><cda:title/></cda:ClinicalDocument>")))
                .isEqualTo(OK);
    }

    @Test
    void whitespaceBeforeTheXmlDeclarationIsNotWellFormed() {
        // the XML declaration must come first (XML 1.0, section 2.8); parsers downstream would refuse it
        assertThat(ContentInspector.inspect(ContentTypes.CDA, utf8("\n" + MINIMAL)))
                .isEqualTo(new Result(false, "not a CDA document (not well-formed XML before the root element)"));
    }

    @Test
    void utf16CdaWithBomMatches() {
        String document = MINIMAL.replace("encoding=\"UTF-8\"", "encoding=\"UTF-16\"");
        byte[] bigEndian = document.getBytes(StandardCharsets.UTF_16); // writes FE FF
        assertThat(Arrays.copyOf(bigEndian, 2)).containsExactly(0xFE, 0xFF);
        byte[] littleEndian = ("\uFEFF" + document).getBytes(StandardCharsets.UTF_16LE); // FF FE
        for (byte[] cda : new byte[][] {bigEndian, littleEndian}) {
            assertThat(byteByByte(ContentTypes.CDA, cda)).isEqualTo(OK);
            assertThat(ContentTypes.matches("text/xml", cda)).isTrue();
        }
    }

    @Test
    void wrongNamespaceDoesNotMatch() {
        Result result = ContentInspector.inspect(ContentTypes.CDA,
                utf8(DECLARATION + "<ClinicalDocument xmlns=\"urn:hl7-org:v2\"></ClinicalDocument>"));
        assertThat(result).isEqualTo(
                new Result(false, "not a CDA document (root element is not in namespace urn:hl7-org:v3)"));
        assertThat(ContentInspector.inspect(ContentTypes.CDA, utf8("<ClinicalDocument/>"))).isEqualTo(result);
        // the CDA namespace on another element than the root does not count
        assertThat(ContentInspector.inspect(ContentTypes.CDA,
                utf8("<ClinicalDocument><x xmlns=\"urn:hl7-org:v3\"/></ClinicalDocument>"))).isEqualTo(result);
    }

    @Test
    void htmlRootDoesNotMatch() {
        byte[] html = utf8("<html xmlns=\"urn:hl7-org:v3\"><body>Befund Patient</body></html>");
        assertThat(ContentInspector.inspect("text/xml", html))
                .isEqualTo(new Result(false, "not a CDA document (root element is <html>)"));
        assertThat(ContentTypes.matches("text/xml", html)).isFalse();
        // another XML document declared as XML is no CDA either; an unknown root is not named
        assertThat(ContentInspector.inspect("application/xml", utf8(DECLARATION + "<note><to>x</to></note>")))
                .isEqualTo(new Result(false, "not a CDA document (root element is not <ClinicalDocument>)"));
        assertThat(ContentInspector.inspect("application/xml",
                utf8("<Bundle xmlns=\"http://hl7.org/fhir\"><type value=\"document\"/></Bundle>")))
                .isEqualTo(new Result(false, "not a CDA document (root element is <Bundle>)"));
    }

    @Test
    void doctypeIsRefused() {
        byte[] external = utf8(DECLARATION
                + "<!DOCTYPE ClinicalDocument SYSTEM \"http://example.org/cda.dtd\">" + ROOT + BODY);
        assertThat(byteByByte(ContentTypes.CDA, external)).isEqualTo(DOCTYPE);
        assertThat(ContentTypes.matches(ContentTypes.CDA, external)).isFalse();

        byte[] lowerCase = utf8("<!doctype html>" + ROOT + BODY);
        assertThat(ContentInspector.inspect("text/xml", lowerCase)).isEqualTo(DOCTYPE);
    }

    @Test
    void billionLaughsIsRefused() {
        StringBuilder entities = new StringBuilder("<!ENTITY lol \"lol\">");
        for (int i = 1; i <= 9; i++) {
            entities.append("<!ENTITY lol").append(i).append(" \"")
                    .append(("&lol" + (i == 1 ? "" : i - 1) + ";").repeat(10)).append("\">");
        }
        String bomb = DECLARATION + "<!DOCTYPE ClinicalDocument [" + entities + "]>"
                + "<ClinicalDocument xmlns=\"urn:hl7-org:v3\"><title>&lol9;</title></ClinicalDocument>";
        assertThat(byteByByte(ContentTypes.CDA, utf8(bomb))).isEqualTo(DOCTYPE);
        // in UTF-16 too
        byte[] utf16 = ("\uFEFF" + bomb.replace("UTF-8", "UTF-16")).getBytes(StandardCharsets.UTF_16LE);
        assertThat(ContentInspector.inspect(ContentTypes.CDA, utf16)).isEqualTo(DOCTYPE);
        assertThat(ContentInspector.inspect(ContentTypes.CDA, bomb.getBytes(StandardCharsets.UTF_16))).isEqualTo(DOCTYPE);
    }

    @Test
    void entityDeclarationAnywhereInTheHeadIsRefused() {
        byte[] late = utf8(DECLARATION + ROOT + "<title>x</title><!ENTITY x \"y\">" + BODY);
        assertThat(ContentInspector.inspect(ContentTypes.CDA, late)).isEqualTo(DOCTYPE);
        byte[] inCdata = utf8(DECLARATION + ROOT + "<text><![CDATA[<!DOCTYPE x>]]></text>" + BODY);
        assertThat(ContentInspector.inspect(ContentTypes.CDA, inCdata)).isEqualTo(DOCTYPE);
    }

    @Test
    void doctypeAfterTheHeadIsNotLookedAt() {
        StringBuilder body = new StringBuilder();
        while (body.length() < ContentInspector.HEAD_SIZE) {
            body.append("<component><section><text>Befund unauffällig.</text></section></component>\n");
        }
        byte[] cda = utf8(MINIMAL.replace("</ClinicalDocument>", body + "<!ENTITY x \"y\"></ClinicalDocument>"));
        assertThat(feedInChunks(ContentTypes.CDA, cda, 10_000).finish()).isEqualTo(OK);
    }

    @Test
    void headThatEndsBeforeTheRootDoesNotMatch() {
        byte[] cda = utf8(MINIMAL);
        int rootEnd = MINIMAL.indexOf(ROOT) + ROOT.length();
        for (int cut = 1; cut < rootEnd; cut++) {
            Result result = ContentInspector.inspect(ContentTypes.CDA, Arrays.copyOf(cda, cut));
            assertThat(result.matches()).as("cut at " + cut).isFalse();
        }
        assertThat(ContentInspector.inspect(ContentTypes.CDA, utf8(DECLARATION + "<!-- noch kein Dokument -->")))
                .isEqualTo(new Result(false, "not a CDA document (not well-formed XML before the root element)"));
        // the root start tag complete: the rest of the document does not matter
        assertThat(ContentInspector.inspect(ContentTypes.CDA, Arrays.copyOf(cda, rootEnd))).isEqualTo(OK);
    }

    @Test
    void rootAfterTheFirst64KiBDoesNotMatch() {
        String longComment = "<!--" + "x".repeat(ContentInspector.HEAD_SIZE) + "-->";
        byte[] cda = utf8(DECLARATION + longComment + ROOT + BODY);
        assertThat(feedInChunks(ContentTypes.CDA, cda, 4096).finish())
                .isEqualTo(new Result(false, "not a CDA document (no root element in the first 64 KiB)"));
        assertThat(ContentTypes.matches(ContentTypes.CDA, cda)).isFalse();
    }

    @Test
    void otherContentDeclaredAsCdaDoesNotMatch() {
        assertThat(ContentInspector.inspect(ContentTypes.CDA, ContentFixtures.PDF).matches()).isFalse();
        assertThat(ContentInspector.inspect(ContentTypes.CDA, ContentFixtures.PNG).matches()).isFalse();
        assertThat(ContentInspector.inspect("text/xml", utf8("just some text")).matches()).isFalse();
        assertThat(ContentInspector.inspect(ContentTypes.CDA, new byte[0]))
                .isEqualTo(new Result(false, "empty"));
        assertThat(ContentTypes.matches(ContentTypes.CDA, null)).isFalse();
    }

    @Test
    void contentTypesKnowsCda() {
        assertThat(ContentTypes.CDA).isEqualTo("application/hl7-cda+xml");
        assertThat(ContentTypes.normalize("Application/CDA+XML; charset=utf-8")).isEqualTo(ContentTypes.CDA);
        assertThat(ContentTypes.normalize("text/xml")).isEqualTo("text/xml");
        assertThat(ContentTypes.CHECKABLE).contains(ContentTypes.CDA, "text/xml", "application/xml")
                .containsAll(ContentTypes.SNIFFABLE).contains(ContentTypes.TEXT);
        assertThat(ContentTypes.CDA_TYPES).containsExactlyInAnyOrder(ContentTypes.CDA, "text/xml", "application/xml");
        assertThat(ContentTypes.isCheckable("application/cda+xml")).isTrue();
        assertThat(ContentTypes.sniff(utf8(MINIMAL))).isEmpty();
        // a CDA is also plain UTF-8 text, as before
        assertThat(ContentTypes.matches("text/plain", utf8(MINIMAL))).isTrue();
    }
}
