package org.carerelay.fhir.conversation;

import java.time.Instant;
import java.time.ZoneId;
import java.time.format.DateTimeFormatter;
import org.carerelay.fhir.Systems;
import org.hl7.fhir.r4.model.Coding;
import org.hl7.fhir.r4.model.Communication;
import org.hl7.fhir.r4.model.StringType;

/**
 * Masking of messages about a patient whose consent was revoked: what participants see instead of
 * the content. Thread structure, parties and times stay; text, attachments and anything else that
 * may carry content go. The original is untouched (it stays stored for documentation).
 */
public final class Masking {

    public static final String REDACT = "REDACT";
    private static final DateTimeFormatter GERMAN_DATE = DateTimeFormatter.ofPattern("dd.MM.yyyy").withZone(ZoneId.of("Europe/Berlin"));

    private Masking() {
    }

    /** The notice shown in place of the content. */
    public static String notice(Instant revokedAt) {
        return "Inhalt verborgen: Die Einwilligung der Patientin bzw. des Patienten wurde am "
                + GERMAN_DATE.format(revokedAt)
                + " widerrufen. Die Nachricht bleibt zur Dokumentation gespeichert und ist nur mit Begründung durch den Betreiber einsehbar.";
    }

    /** A masked copy of {@code original}; the original is not modified. */
    public static Communication mask(Communication original, Instant revokedAt) {
        Communication masked = new Communication();
        masked.setIdElement(original.getIdElement().copy());
        masked.setMeta(original.getMeta().copy());
        masked.getMeta().addSecurity(new Coding(Systems.ACT_CODE, REDACT, "redact"));
        masked.setStatus(original.getStatus());
        original.getCategory().forEach(c -> masked.addCategory(c.copy()));
        if (original.hasSubject()) {
            masked.setSubject(original.getSubject().copy());
        }
        original.getPartOf().forEach(r -> masked.addPartOf(r.copy()));
        original.getInResponseTo().forEach(r -> masked.addInResponseTo(r.copy()));
        if (original.hasSentElement()) {
            masked.setSentElement(original.getSentElement().copy());
        }
        if (original.hasReceivedElement()) {
            masked.setReceivedElement(original.getReceivedElement().copy());
        }
        if (original.hasSender()) {
            masked.setSender(original.getSender().copy());
        }
        original.getRecipient().forEach(r -> masked.addRecipient(r.copy()));
        masked.addPayload().setContent(new StringType(notice(revokedAt)));
        return masked;
    }

    public static boolean isMasked(Communication communication) {
        return communication.getMeta().getSecurity().stream()
                .anyMatch(c -> Systems.ACT_CODE.equals(c.getSystem()) && REDACT.equals(c.getCode()));
    }
}
