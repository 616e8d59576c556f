package org.carerelay.gateway.consent;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.catchThrowableOfType;

import ca.uhn.fhir.rest.server.exceptions.BaseServerResponseException;
import java.net.http.HttpResponse;
import java.nio.charset.StandardCharsets;
import java.util.List;
import org.carerelay.fhir.ErrorCode;
import org.carerelay.fhir.Systems;
import org.carerelay.gateway.Conversations;
import org.carerelay.gateway.GatewayIntegrationTest;
import org.carerelay.gateway.Participants;
import org.hl7.fhir.r4.model.Binary;
import org.hl7.fhir.r4.model.Bundle;
import org.hl7.fhir.r4.model.Consent;
import org.hl7.fhir.r4.model.Parameters;
import org.hl7.fhir.r4.model.Patient;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;

/**
 * Every consent after the first comes with a newly signed document (bytes no earlier consent
 * document of the patient had, never a Binary that already was one); a partner that is no longer
 * named (narrowed or revoked) loses the patient unless it takes part in a conversation about it.
 */
class ConsentReactivationIT extends GatewayIntegrationTest {

    static Participants.Registered clinic;
    static Participants.Registered partner;
    static Participants.Registered third;
    static Participants.Registered outsider;

    @BeforeEach
    void participants() {
        if (clinic == null) {
            clinic = Participants.registerNew(this, "Klinik Erneuerung");
            partner = Participants.registerNew(this, "Pflegedienst Erneuerung");
            third = Participants.registerNew(this, "Praxis Erneuerung");
            outsider = Participants.registerNew(this, "Fremd Erneuerung");
        }
    }

    private Bundle consentsOf(String token, String patientId) {
        return client(token).search().forResource(Consent.class).where(Consent.PATIENT.hasId("Patient/" + patientId))
                .returnBundle(Bundle.class).execute();
    }

    private Consent consentOf(String token, String patientId) {
        return (Consent) consentsOf(token, patientId).getEntryFirstRep().getResource();
    }

    private Consent activeConsentOf(String token, String patientId) {
        Bundle active = client(token).search().forResource(Consent.class).where(Consent.PATIENT.hasId("Patient/" + patientId))
                .and(Consent.STATUS.exactly().code("active")).returnBundle(Bundle.class).execute();
        assertThat(active.getEntry()).hasSize(1);
        return (Consent) active.getEntryFirstRep().getResource();
    }

    private List<String> patientIdsByKvnr(Participants.Registered org, String kvnr) {
        return client(org.token()).search().forResource(Patient.class)
                .where(Patient.IDENTIFIER.exactly().systemAndCode(Systems.KVNR, kvnr)).returnBundle(Bundle.class).execute()
                .getEntry().stream().map(e -> e.getResource().getIdElement().getIdPart()).toList();
    }

    private HttpResponse<String> postConsent(Participants.Registered org, Consent consent) throws Exception {
        return http("POST", "/fhir/Consent", org.token(), "application/fhir+json",
                FHIR.newJsonParser().encodeResourceToString(consent).getBytes(StandardCharsets.UTF_8));
    }

    private static Consent withUrl(String patientId, String binaryUrl, String... partners) {
        Consent consent = Conversations.consent(patientId, null, null, partners);
        consent.getSourceAttachment().setContentType("application/pdf").setUrl(binaryUrl);
        return consent;
    }

    private void revoke(Participants.Registered org, String consentId) {
        client(org.token()).operation().onInstance("Consent/" + consentId).named("$revoke")
                .withNoParameters(Parameters.class).returnResourceType(Consent.class).execute();
    }

    @Test
    void partnerAfterRevocation_reusingTheOldScan_cannotReactivateOrWidenTheConsent() throws Exception {
        String kvnr = Conversations.kvnr();
        String patientId = Conversations.createPatient(client(clinic.token()), Conversations.patient("Lorenz", "Ilse", kvnr));
        byte[] scanBytes = Conversations.signedScan();
        String consentId = client(clinic.token()).create().resource(Conversations.consent(patientId, scanBytes, "application/pdf",
                clinic.organizationId(), partner.organizationId(), third.organizationId())).execute().getId().getIdPart();
        assertThat(patientIdsByKvnr(partner, kvnr)).containsExactly(patientId);
        assertThat(patientIdsByKvnr(third, kvnr)).containsExactly(patientId);
        // the partner takes part in a conversation about the patient, so it keeps seeing it after the revocation
        Conversations.send(client(partner.token()), Conversations.message(patientId, "Pflegebericht", clinic.organizationId()));
        String scanUrl = consentOf(partner.token(), patientId).getSourceAttachment().getUrl();
        revoke(clinic, consentId);

        // the old scan, named by url or sent again as bytes, reactivates nothing and adds no one
        HttpResponse<String> byUrl = postConsent(partner, withUrl(patientId, scanUrl,
                clinic.organizationId(), partner.organizationId(), outsider.organizationId()));
        assertThat(byUrl.statusCode()).as(byUrl.body()).isEqualTo(422);
        assertThat(byUrl.body()).contains(ErrorCode.CONSENT_NEW_DOCUMENT_REQUIRED.code());
        HttpResponse<String> byBytes = postConsent(partner, Conversations.consent(patientId, scanBytes, "application/pdf",
                clinic.organizationId(), partner.organizationId(), outsider.organizationId()));
        assertThat(byBytes.statusCode()).as(byBytes.body()).isEqualTo(422);
        assertThat(byBytes.body()).contains(ErrorCode.CONSENT_NEW_DOCUMENT_REQUIRED.code());

        assertThat(consentsOf(clinic.token(), patientId).getEntry()).hasSize(1);
        assertThat(consentOf(clinic.token(), patientId).getStatus()).isEqualTo(Consent.ConsentState.INACTIVE);
        assertThat(patientIdsByKvnr(outsider, kvnr)).isEmpty();
        assertThat(http("GET", "/fhir/Patient/" + patientId, outsider.token(), null, null).statusCode()).isEqualTo(404);

        // the partner that joined only by the consent lost the patient with the revocation
        assertThat(patientIdsByKvnr(third, kvnr)).isEmpty();
        assertThat(http("GET", "/fhir/Patient/" + patientId, third.token(), null, null).statusCode()).isEqualTo(404);
        assertThat(http("GET", "/fhir/Consent/" + consentId, third.token(), null, null).statusCode()).isEqualTo(404);
        HttpResponse<String> byThird = postConsent(third, withUrl(patientId, scanUrl, third.organizationId()));
        assertThat(byThird.statusCode()).as(byThird.body()).isEqualTo(422);
        assertThat(consentsOf(clinic.token(), patientId).getEntry()).hasSize(1);
    }

    @Test
    void partnerRemovedByANarrowedConsent_noLongerFindsOrReadsThePatient() throws Exception {
        String kvnr = Conversations.kvnr();
        String patientId = Conversations.createPatient(client(clinic.token()), Conversations.patient("Seidel", "Gerda", kvnr));
        String consentId = Conversations.uploadConsent(client(clinic.token()), patientId,
                clinic.organizationId(), partner.organizationId(), third.organizationId());
        assertThat(patientIdsByKvnr(partner, kvnr)).containsExactly(patientId);
        assertThat(patientIdsByKvnr(third, kvnr)).containsExactly(patientId);

        // the author narrows the partners, keeping the signed document
        Consent narrowed = consentOf(clinic.token(), patientId);
        narrowed.getProvision().getActor().removeIf(a -> a.getReference().getReference().endsWith(partner.organizationId()));
        client(clinic.token()).update().resource(narrowed).execute();

        assertThat(patientIdsByKvnr(partner, kvnr)).isEmpty();
        String t = partner.token();
        assertThat(http("GET", "/fhir/Patient/" + patientId, t, null, null).statusCode()).isEqualTo(404);
        assertThat(http("GET", "/fhir/Consent/" + consentId, t, null, null).statusCode()).isEqualTo(404);
        assertThat(consentsOf(t, patientId).getEntry()).isEmpty();
        BaseServerResponseException send = catchThrowableOfType(BaseServerResponseException.class,
                () -> Conversations.send(client(t), Conversations.message(patientId, "Noch da?", clinic.organizationId())));
        assertThat(send.getStatusCode()).isEqualTo(422);
        HttpResponse<String> readd = postConsent(partner, Conversations.consent(patientId, Conversations.signedScan(),
                "application/pdf", partner.organizationId()));
        assertThat(readd.statusCode()).as(readd.body()).isEqualTo(422);

        // the partner still named keeps the patient
        assertThat(patientIdsByKvnr(third, kvnr)).containsExactly(patientId);
        assertThat(client(third.token()).read().resource(Patient.class).withId(patientId).execute()
                .getNameFirstRep().getFamily()).isEqualTo("Seidel");
    }

    @Test
    void newConsentAfterRevocation_withANewlySignedDocument_isAccepted_andItsUploaderBecomesTheAuthor() throws Exception {
        String kvnr = Conversations.kvnr();
        String patientId = Conversations.createPatient(client(clinic.token()), Conversations.patient("Vogel", "Marta", kvnr));
        String first = Conversations.uploadConsent(client(clinic.token()), patientId, clinic.organizationId(), partner.organizationId());
        assertThat(patientIdsByKvnr(partner, kvnr)).containsExactly(patientId);
        Conversations.send(client(partner.token()), Conversations.message(patientId, "Pflegebericht", clinic.organizationId()));
        revoke(partner, first);

        // the patient signs again; the partner (it still sees the patient) uploads the new sheet and names a third
        HttpResponse<String> renewed = postConsent(partner, Conversations.consent(patientId, Conversations.signedScan(),
                "application/pdf", clinic.organizationId(), partner.organizationId(), third.organizationId()));
        assertThat(renewed.statusCode()).as(renewed.body()).isEqualTo(201);
        Consent active = activeConsentOf(clinic.token(), patientId);
        assertThat(active.getStatus()).isEqualTo(Consent.ConsentState.ACTIVE);
        String second = active.getIdElement().getIdPart();
        assertThat(second).isNotEqualTo(first);
        assertThat(patientIdsByKvnr(third, kvnr)).containsExactly(patientId);
        Conversations.send(client(third.token()), Conversations.message(patientId, "Hausbesuch", partner.organizationId()));

        // the uploader is the author now: the clinic may revoke but not change it
        Consent byClinic = Conversations.consent(patientId, Conversations.signedScan(), "application/pdf",
                clinic.organizationId(), partner.organizationId(), third.organizationId(), outsider.organizationId());
        byClinic.setId(second);
        BaseServerResponseException put = catchThrowableOfType(BaseServerResponseException.class,
                () -> client(clinic.token()).update().resource(byClinic).execute());
        assertThat(errorCodeOf(put)).isEqualTo(ErrorCode.CONSENT_NOT_AUTHOR);
        revoke(clinic, second);

        // a third consent: a Binary the clinic uploaded for it (never a consent document) is a newly signed document
        HttpResponse<String> upload = http("POST", "/fhir/Binary", clinic.token(), "application/pdf", Conversations.signedScan());
        assertThat(upload.statusCode()).as(upload.body()).isEqualTo(201);
        String binaryId = FHIR.newJsonParser().parseResource(Binary.class, upload.body()).getIdElement().getIdPart();
        HttpResponse<String> third3 = postConsent(clinic, withUrl(patientId, "Binary/" + binaryId,
                clinic.organizationId(), partner.organizationId()));
        assertThat(third3.statusCode()).as(third3.body()).isEqualTo(201);
        assertThat(activeConsentOf(clinic.token(), patientId).getSourceAttachment().getUrl()).isEqualTo("Binary/" + binaryId);
    }
}
