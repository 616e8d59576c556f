package org.carerelay.fhir.conversation;

import static org.assertj.core.api.Assertions.assertThat;

import java.time.Instant;
import java.util.Date;
import org.hl7.fhir.r4.model.Attachment;
import org.hl7.fhir.r4.model.Communication;
import org.hl7.fhir.r4.model.Reference;
import org.hl7.fhir.r4.model.StringType;
import org.junit.jupiter.api.Test;

class MaskingTest {

    private static Communication original() {
        Communication c = new Communication();
        c.setId("Communication/m1");
        c.setStatus(Communication.CommunicationStatus.COMPLETED);
        c.setSubject(new Reference("Patient/p1"));
        c.addPartOf(new Reference("Communication/h1"));
        c.addInResponseTo(new Reference("Communication/m0"));
        c.setSent(new Date(0));
        c.setSender(new Reference("Organization/a"));
        c.addRecipient(new Reference("Organization/b"));
        c.addPayload().setContent(new StringType("Wunde am linken Fuß heilt schlecht"));
        c.addPayload().setContent(new Attachment().setUrl("Binary/x").setContentType("application/pdf"));
        c.addNote().setText("vertraulich");
        c.getText().setDivAsString("<div xmlns=\"http://www.w3.org/1999/xhtml\">Wunde</div>");
        return c;
    }

    @Test
    void maskedCopy_hidesTextAttachmentsAndNotes_keepsThreadPartiesAndTimes() {
        Communication masked = Masking.mask(original(), Instant.parse("2026-11-20T10:00:00Z"));
        assertThat(masked.getPayload()).hasSize(1);
        assertThat(masked.getPayloadFirstRep().getContentStringType().getValue()).contains("20.11.2026").contains("widerrufen");
        assertThat(masked.getNote()).isEmpty();
        assertThat(masked.hasText()).isFalse();
        assertThat(masked.getPartOfFirstRep().getReference()).isEqualTo("Communication/h1");
        assertThat(masked.getInResponseToFirstRep().getReference()).isEqualTo("Communication/m0");
        assertThat(masked.getSent()).isEqualTo(new Date(0));
        assertThat(masked.getSender().getReference()).isEqualTo("Organization/a");
        assertThat(masked.getRecipientFirstRep().getReference()).isEqualTo("Organization/b");
        assertThat(Masking.isMasked(masked)).isTrue();
    }

    @Test
    void masking_leavesTheOriginalUntouched() {
        Communication original = original();
        Masking.mask(original, Instant.now());
        assertThat(original.getPayload()).hasSize(2);
        assertThat(Masking.isMasked(original)).isFalse();
    }
}
