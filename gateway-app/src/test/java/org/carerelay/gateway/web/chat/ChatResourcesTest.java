package org.carerelay.gateway.web.chat;

import static org.assertj.core.api.Assertions.assertThat;

import java.time.LocalDate;
import java.util.List;
import org.carerelay.fhir.ErrorCode;
import org.carerelay.fhir.Systems;
import org.hl7.fhir.r4.model.Communication;
import org.hl7.fhir.r4.model.Consent;
import org.junit.jupiter.api.Test;

class ChatResourcesTest {

    @Test
    void incompleteOrMalformedPatientForm_isRefusedInGerman() {
        assertThat(ChatResources.patientProblems("", "", "", "", "")).hasSize(5);
        assertThat(ChatResources.patientProblems("A123456780", "Hedwig", "Wegener", "17.03.1941", "female"))
                .singleElement().asString().contains("JJJJ-MM-TT");
        assertThat(ChatResources.patientProblems("A123456780", "Hedwig", "Wegener",
                LocalDate.now().plusDays(1).toString(), "female")).hasSize(1);
        assertThat(ChatResources.patientProblems("A123456780", "Hedwig", "Wegener", "1941-03-17", "weiblich")).hasSize(1);
        assertThat(ChatResources.patientProblems("A123456780", "Hedwig", "Wegener", "1941-03-17", "female")).isEmpty();
    }

    @Test
    void consent_hasTheShapeTheApiUploadRequires() {
        Consent consent = ChatResources.consent("p1", new ChatResources.StoredFile("b1", "application/pdf", "scan.pdf"),
                List.of("o1", "o2"));
        assertThat(consent.getStatus()).isEqualTo(Consent.ConsentState.ACTIVE);
        assertThat(consent.getScope().getCodingFirstRep().getCode()).isEqualTo("patient-privacy");
        assertThat(consent.getCategoryFirstRep().getCodingFirstRep().getCode()).isEqualTo(Systems.LOINC_PATIENT_CONSENT);
        assertThat(consent.getSourceAttachment().getUrl()).isEqualTo("Binary/b1");
        assertThat(consent.getProvision().getActor()).extracting(a -> a.getReference().getReference())
                .containsExactly("Organization/o1", "Organization/o2");
    }

    @Test
    void generalChat_isNetworkingWithoutSubject_patientChat_isPatientBound() {
        Communication general = ChatResources.firstMessage(null, List.of("o1"), "Hallo", List.of());
        assertThat(general.hasSubject()).isFalse();
        assertThat(general.getCategoryFirstRep().getCodingFirstRep().getCode()).isEqualTo("networking");
        Communication bound = ChatResources.firstMessage("p1", List.of("o1"), " ",
                List.of(new ChatResources.StoredFile("b1", "image/png", "foto.png")));
        assertThat(bound.getSubject().getReference()).isEqualTo("Patient/p1");
        assertThat(bound.getCategoryFirstRep().getCodingFirstRep().getCode()).isEqualTo("patient-bound");
        assertThat(bound.getPayload()).singleElement().satisfies(p -> assertThat(p.getContentAttachment().getUrl()).isEqualTo("Binary/b1"));
    }

    @Test
    void everyErrorCode_hasAGermanMessage() {
        for (ErrorCode code : ErrorCode.values()) {
            assertThat(GermanMessages.of(code)).isNotBlank().doesNotContain("Exception");
        }
        assertThat(GermanMessages.of(ErrorCode.IDENTIFIER_INVALID)).contains("KVNR");
    }
}
