package org.carerelay.gateway.fhir;

import java.nio.charset.Charset;
import java.nio.charset.StandardCharsets;
import java.util.Locale;

/**
 * Recognises XML documents that declare a DOCTYPE or entities. FHIR XML never needs either, so
 * such documents are refused outright instead of trusting every parser's configuration. The body
 * is examined in UTF-8 and both UTF-16 byte orders so an encoding switch cannot hide a declaration.
 */
final class XmlGuard {

    private XmlGuard() {
    }

    static boolean looksLikeXml(String contentType, byte[] body) {
        if (contentType != null && contentType.toLowerCase(Locale.ROOT).contains("xml")) {
            return true;
        }
        for (Charset cs : new Charset[] {StandardCharsets.UTF_8, StandardCharsets.UTF_16LE, StandardCharsets.UTF_16BE}) {
            String text = new String(body, 0, Math.min(body.length, 512), cs).replace("\uFEFF", "").stripLeading();
            if (text.startsWith("<")) {
                return true;
            }
        }
        return false;
    }

    static boolean hasForbiddenConstruct(byte[] body) {
        for (Charset cs : new Charset[] {StandardCharsets.UTF_8, StandardCharsets.UTF_16LE, StandardCharsets.UTF_16BE}) {
            String text = new String(body, cs).toUpperCase(Locale.ROOT);
            if (text.contains("<!DOCTYPE") || text.contains("<!ENTITY") || text.contains("<!ELEMENT")
                    || text.contains("<!ATTLIST")) {
                return true;
            }
        }
        return false;
    }
}
