package org.carerelay.gateway.conversation;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.catchThrowableOfType;

import ca.uhn.fhir.rest.api.MethodOutcome;
import ca.uhn.fhir.rest.server.exceptions.BaseServerResponseException;
import java.net.http.HttpResponse;
import java.nio.charset.StandardCharsets;
import java.util.List;
import java.util.stream.Collectors;
import org.apache.pdfbox.Loader;
import org.apache.pdfbox.pdmodel.PDDocument;
import org.apache.pdfbox.text.PDFTextStripper;
import org.carerelay.fhir.ErrorCode;
import org.carerelay.fhir.Systems;
import org.carerelay.gateway.Conversations;
import org.carerelay.gateway.GatewayIntegrationTest;
import org.carerelay.gateway.Participants;
import org.hl7.fhir.r4.model.AuditEvent;
import org.hl7.fhir.r4.model.Binary;
import org.hl7.fhir.r4.model.Bundle;
import org.hl7.fhir.r4.model.Communication;
import org.hl7.fhir.r4.model.Consent;
import org.hl7.fhir.r4.model.Extension;
import org.hl7.fhir.r4.model.OperationOutcome;
import org.hl7.fhir.r4.model.Parameters;
import org.hl7.fhir.r4.model.Patient;
import org.hl7.fhir.r4.model.Reference;
import org.hl7.fhir.r4.model.StringType;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;

class ConversationIT extends GatewayIntegrationTest {

    // registered once for the class: every test creates its own patients and messages
    static Participants.Registered clinic;
    static Participants.Registered careService;
    static Participants.Registered practice;
    static Participants.Registered outsider;

    @BeforeEach
    void participants() {
        if (clinic == null) {
            clinic = Participants.registerNew(this, "Klinik");
            careService = Participants.registerNew(this, "Pflegedienst");
            practice = Participants.registerNew(this, "Hausarztpraxis");
            outsider = Participants.registerNew(this, "Unbeteiligt");
        }
    }

    private String patientWithConsent(String... partners) {
        String patientId = Conversations.createPatient(client(clinic.token()),
                Conversations.patient("Müller", "Erika", Conversations.kvnr()));
        Conversations.uploadConsent(client(clinic.token()), patientId, partners);
        return patientId;
    }

    private List<Communication> search(String token, String query) {
        return client(token).search().byUrl("Communication?" + query).returnBundle(Bundle.class).execute()
                .getEntry().stream().map(e -> (Communication) e.getResource()).toList();
    }

    private static String text(Communication c) {
        return c.getPayloadFirstRep().getContentStringType().getValue();
    }

    @Test
    void twoPartyConversation_bothSeeIt_thirdOrganizationGets404AndFindsNothing() {
        String patientId = patientWithConsent(clinic.organizationId(), careService.organizationId());
        String id = Conversations.send(client(clinic.token()),
                Conversations.message(patientId, "Entlassung morgen, bitte Wundversorgung übernehmen.", careService.organizationId()));

        Communication received = client(careService.token()).read().resource(Communication.class).withId(id).execute();
        assertThat(text(received)).contains("Wundversorgung");
        assertThat(received.getSender().getReference()).isEqualTo("Organization/" + clinic.organizationId());
        assertThat(search(careService.token(), "patient=Patient/" + patientId)).hasSize(1);

        BaseServerResponseException notFound = catchThrowableOfType(BaseServerResponseException.class,
                () -> client(outsider.token()).read().resource(Communication.class).withId(id).execute());
        assertThat(notFound.getStatusCode()).isEqualTo(404);
        assertThat(search(outsider.token(), "_id=" + id)).isEmpty();
        assertThat(search(outsider.token(), "patient=Patient/" + patientId)).isEmpty();
        BaseServerResponseException patientHidden = catchThrowableOfType(BaseServerResponseException.class,
                () -> client(outsider.token()).read().resource(Patient.class).withId(patientId).execute());
        assertThat(patientHidden.getStatusCode()).isEqualTo(404);

        // the recipient now takes part in a conversation about the patient: it sees patient and consent
        Patient seen = client(careService.token()).read().resource(Patient.class).withId(patientId).execute();
        assertThat(seen.getNameFirstRep().getFamily()).isEqualTo("Müller");
        Bundle consents = client(careService.token()).search().forResource(Consent.class)
                .where(Consent.PATIENT.hasId("Patient/" + patientId)).returnBundle(Bundle.class).execute();
        assertThat(consents.getEntry()).hasSize(1);
        // the signed scan is a sealed attachment now; the recipient reads it through the Binary
        String document = ((Consent) consents.getEntryFirstRep().getResource()).getSourceAttachment().getUrl();
        assertThat(document).startsWith("Binary/");
        Binary scan = client(careService.token()).read().resource(Binary.class).withId(document.substring("Binary/".length())).execute();
        assertThat(new String(scan.getData(), 0, 5, java.nio.charset.StandardCharsets.US_ASCII)).isEqualTo("%PDF-");
    }

    @Test
    void threePartyConversation_isThreadedByPartOfAndInResponseTo() {
        String patientId = patientWithConsent(clinic.organizationId(), careService.organizationId(), practice.organizationId());
        String header = Conversations.send(client(clinic.token()), Conversations.message(patientId, "Fallbesprechung Frau Müller",
                careService.organizationId(), practice.organizationId()));

        Communication reply = Conversations.message(patientId, "Blutdruck heute 150/95.", clinic.organizationId(), practice.organizationId());
        reply.addPartOf(new Reference("Communication/" + header));
        reply.addInResponseTo(new Reference("Communication/" + header));
        String replyId = Conversations.send(client(careService.token()), reply);

        Communication answer = Conversations.message(patientId, "Bitte Medikation anpassen.", clinic.organizationId(), careService.organizationId());
        answer.addInResponseTo(new Reference("Communication/" + replyId));
        String answerId = Conversations.send(client(practice.token()), answer);

        Communication stored = client(clinic.token()).read().resource(Communication.class).withId(answerId).execute();
        assertThat(stored.getPartOfFirstRep().getReference()).isEqualTo("Communication/" + header);
        assertThat(stored.getInResponseToFirstRep().getReference()).isEqualTo("Communication/" + replyId);
        assertThat(search(practice.token(), "part-of=Communication/" + header)).hasSize(3);
        assertThat(search(outsider.token(), "part-of=Communication/" + header)).isEmpty();

        Communication intruder = Conversations.message(null, "Darf ich mitlesen?", clinic.organizationId());
        intruder.addPartOf(new Reference("Communication/" + header));
        BaseServerResponseException e = catchThrowableOfType(BaseServerResponseException.class,
                () -> Conversations.send(client(outsider.token()), intruder));
        assertThat(e.getStatusCode()).isEqualTo(422);

        // a reply by inResponseTo alone joins the conversation, so it keeps the conversation's subject too
        Communication offTopic = Conversations.message(null, "Allgemeine Frage", clinic.organizationId());
        offTopic.addInResponseTo(new Reference("Communication/" + replyId));
        BaseServerResponseException wrongSubject = catchThrowableOfType(BaseServerResponseException.class,
                () -> Conversations.send(client(practice.token()), offTopic));
        assertThat(wrongSubject.getStatusCode()).isEqualTo(422);
        assertThat(errorCodeOf(wrongSubject)).isEqualTo(ErrorCode.INVALID_RESOURCE);
        assertThat(wrongSubject.getMessage()).contains("same subject");
    }

    @Test
    void patientBoundMessage_withoutConsent_isRefusedWithConsentMissing() {
        String patientId = Conversations.createPatient(client(clinic.token()), Conversations.patient("Ohne", "Einwilligung", null));
        BaseServerResponseException e = catchThrowableOfType(BaseServerResponseException.class,
                () -> Conversations.send(client(clinic.token()), Conversations.message(patientId, "x", careService.organizationId())));
        assertThat(e.getStatusCode()).isEqualTo(422);
        assertThat(errorCodeOf(e)).isEqualTo(ErrorCode.CONSENT_MISSING);
    }

    @Test
    void recipientOutsideTheConsent_isRefusedAndNamed() {
        String patientId = patientWithConsent(clinic.organizationId(), careService.organizationId());
        BaseServerResponseException e = catchThrowableOfType(BaseServerResponseException.class,
                () -> Conversations.send(client(clinic.token()), Conversations.message(patientId, "x",
                        careService.organizationId(), practice.organizationId())));
        assertThat(e.getStatusCode()).isEqualTo(422);
        assertThat(errorCodeOf(e)).isEqualTo(ErrorCode.RECIPIENT_NOT_COVERED);
        assertThat(e.getMessage()).contains("Organization/" + practice.organizationId())
                .doesNotContain("Organization/" + careService.organizationId() + ",");
    }

    @Test
    void widerConsent_isANewVersion_andThenCoversTheNewPartner() {
        String patientId = patientWithConsent(clinic.organizationId(), careService.organizationId());
        MethodOutcome outcome = client(clinic.token()).create().resource(Conversations.consent(patientId, Conversations.signedScan(),
                "application/pdf", clinic.organizationId(), careService.organizationId(), practice.organizationId())).execute();
        assertThat(outcome.getId().getVersionIdPart()).isEqualTo("2");
        Conversations.send(client(clinic.token()), Conversations.message(patientId, "jetzt mit Praxis", practice.organizationId()));
    }

    @Test
    void revocation_blocksNewMessages_masksEarlierOnesForEveryParticipant_andOnlyTheOperatorUnmasksWithReason() {
        String patientId = Conversations.createPatient(client(clinic.token()),
                Conversations.patient("Schmidt", "Gerda", Conversations.kvnr()));
        String consentId = Conversations.uploadConsent(client(clinic.token()), patientId,
                clinic.organizationId(), careService.organizationId());
        String id = Conversations.send(client(clinic.token()),
                Conversations.message(patientId, "Diagnose: Demenz, beginnend.", careService.organizationId()));

        Parameters in = new Parameters();
        in.addParameter("reason", new StringType("Widerruf per Brief vom Sohn"));
        Consent revoked = client(careService.token()).operation().onInstance("Consent/" + consentId).named("$revoke")
                .withParameters(in).returnResourceType(Consent.class).execute();
        assertThat(revoked.getStatus()).isEqualTo(Consent.ConsentState.INACTIVE);

        BaseServerResponseException refused = catchThrowableOfType(BaseServerResponseException.class,
                () -> Conversations.send(client(clinic.token()), Conversations.message(patientId, "noch eine", careService.organizationId())));
        assertThat(errorCodeOf(refused)).isEqualTo(ErrorCode.CONSENT_REVOKED);
        assertThat(refused.getMessage()).containsPattern("\\d{2}\\.\\d{2}\\.\\d{4}");

        for (String token : List.of(clinic.token(), careService.token())) {
            Communication masked = client(token).read().resource(Communication.class).withId(id).execute();
            assertThat(masked.getMeta().getSecurity()).anyMatch(c -> Systems.ACT_CODE.equals(c.getSystem()) && "REDACT".equals(c.getCode()));
            assertThat(text(masked)).contains("widerrufen").doesNotContain("Demenz");
            assertThat(masked.getSent()).isNotNull();
            List<Communication> found = search(token, "patient=Patient/" + patientId);
            assertThat(found).singleElement().satisfies(c -> assertThat(text(c)).doesNotContain("Demenz"));
        }

        Patient looked = client(clinic.token()).read().resource(Patient.class).withId(patientId).execute();
        Extension marker = looked.getExtensionByUrl(Systems.EXT_CONSENT_STATUS);
        assertThat(marker.getExtensionByUrl("status").getValue().primitiveValue()).isEqualTo("revoked");
        assertThat(marker.getExtensionByUrl("revokedAt")).isNotNull();

        BaseServerResponseException participantUnmask = catchThrowableOfType(BaseServerResponseException.class,
                () -> client(clinic.token()).operation().onInstance("Communication/" + id).named("$unmask")
                        .withParameters(in).returnResourceType(Communication.class).execute());
        assertThat(participantUnmask.getStatusCode()).isEqualTo(403);

        Parameters reason = new Parameters();
        reason.addParameter("reason", new StringType("Anfrage Staatsanwaltschaft Az. 123/26"));
        Communication original = admin().operation().onInstance("Communication/" + id).named("$unmask")
                .withParameters(reason).returnResourceType(Communication.class).execute();
        assertThat(text(original)).contains("Demenz");

        Bundle audit = admin().search().forResource(AuditEvent.class)
                .where(AuditEvent.ENTITY.hasId("Communication/" + id)).returnBundle(Bundle.class).execute();
        List<AuditEvent> events = audit.getEntry().stream().map(e -> (AuditEvent) e.getResource()).toList();
        assertThat(events).anyMatch(e -> e.getSubtypeFirstRep().getCode().equals("message-unmask")
                && e.getOutcomeDesc().contains("Staatsanwaltschaft"));
        assertThat(events).anyMatch(e -> e.getSubtypeFirstRep().getCode().equals("message-read-masked"));
        assertThat(events).allSatisfy(e -> assertThat(FHIR.newJsonParser().encodeResourceToString(e)).doesNotContain("Demenz"));

        BaseServerResponseException noReason = catchThrowableOfType(BaseServerResponseException.class,
                () -> admin().operation().onInstance("Communication/" + id).named("$unmask")
                        .withNoParameters(Parameters.class).returnResourceType(Communication.class).execute());
        assertThat(noReason.getStatusCode()).isEqualTo(400);
    }

    @Test
    void newConsentAfterRevocation_allowsNewMessages_butEarlierOnesStayMasked() {
        String patientId = patientWithConsent(clinic.organizationId(), careService.organizationId());
        String before = Conversations.send(client(clinic.token()), Conversations.message(patientId, "vorher", careService.organizationId()));
        String consentId = client(clinic.token()).search().forResource(Consent.class)
                .where(Consent.PATIENT.hasId("Patient/" + patientId)).returnBundle(Bundle.class).execute()
                .getEntryFirstRep().getResource().getIdElement().getIdPart();
        client(clinic.token()).operation().onInstance("Consent/" + consentId).named("$revoke")
                .withNoParameters(Parameters.class).returnResourceType(Consent.class).execute();
        Conversations.uploadConsent(client(clinic.token()), patientId, clinic.organizationId(), careService.organizationId());
        String after = Conversations.send(client(clinic.token()), Conversations.message(patientId, "nachher", careService.organizationId()));

        assertThat(text(client(careService.token()).read().resource(Communication.class).withId(before).execute())).doesNotContain("vorher");
        assertThat(text(client(careService.token()).read().resource(Communication.class).withId(after).execute())).isEqualTo("nachher");
    }

    @Test
    void generalNetworking_needsNoConsent() {
        String id = Conversations.send(client(practice.token()),
                Conversations.message(null, "Haben Sie im Dezember Kapazität für neue Klienten?", careService.organizationId()));
        Communication c = client(careService.token()).read().resource(Communication.class).withId(id).execute();
        assertThat(c.getCategory()).anyMatch(cc -> cc.getCoding().stream()
                .anyMatch(x -> Systems.COMMUNICATION_CATEGORY.equals(x.getSystem()) && "networking".equals(x.getCode())));
        assertThat(search(careService.token(), "category=networking&sender=Organization/" + practice.organizationId())).hasSize(1);
    }

    @Test
    void foreignSender_isRefusedWith403() {
        Communication c = Conversations.message(null, "im Namen anderer", careService.organizationId());
        c.setSender(new Reference("Organization/" + practice.organizationId()));
        BaseServerResponseException e = catchThrowableOfType(BaseServerResponseException.class,
                () -> Conversations.send(client(clinic.token()), c));
        assertThat(e.getStatusCode()).isEqualTo(403);
    }

    @Test
    void unknownRecipient_isRefusedWith422() {
        BaseServerResponseException e = catchThrowableOfType(BaseServerResponseException.class,
                () -> Conversations.send(client(clinic.token()), Conversations.message(null, "x", "gibt-es-nicht")));
        assertThat(e.getStatusCode()).isEqualTo(422);
        assertThat(errorCodeOf(e)).isEqualTo(ErrorCode.UNKNOWN_RECIPIENT);
    }

    @Test
    void knownAndUnknownRecipients_refusedNamingOnlyTheUnknownOnes_andNothingStored() {
        String text = "gemischte Empfänger " + System.nanoTime();
        BaseServerResponseException e = catchThrowableOfType(BaseServerResponseException.class,
                () -> Conversations.send(client(clinic.token()),
                        Conversations.message(null, text, practice.organizationId(), "gibt-es-nicht", "auch-nicht", "gibt-es-nicht")));
        assertThat(e.getStatusCode()).isEqualTo(422);
        assertThat(errorCodeOf(e)).isEqualTo(ErrorCode.UNKNOWN_RECIPIENT);
        String diagnostics = ((OperationOutcome) e.getOperationOutcome()).getIssue().stream()
                .map(OperationOutcome.OperationOutcomeIssueComponent::getDiagnostics).collect(Collectors.joining(" "));
        assertThat(diagnostics).contains("Organization/gibt-es-nicht, Organization/auch-nicht")
                .doesNotContain(practice.organizationId());
        assertThat(search(practice.token(), "unread=true")).noneMatch(c -> c.getPayload().stream()
                .anyMatch(p -> p.getContent() instanceof StringType st && text.equals(st.getValue())));
    }

    @Test
    void recipientNamedTwice_getsTheMessageOnce() {
        String id = Conversations.send(client(clinic.token()),
                Conversations.message(null, "zweimal genannt", practice.organizationId(), practice.organizationId()));
        assertThat(search(practice.token(), "unread=true")).extracting(c -> c.getIdElement().getIdPart())
                .containsOnlyOnce(id);
    }

    @Test
    void unreadMessages_areListedUntilMarkedRead() {
        String id = Conversations.send(client(practice.token()), Conversations.message(null, "Rückruf erbeten", outsider.organizationId()));
        assertThat(search(outsider.token(), "unread=true")).extracting(c -> c.getIdElement().getIdPart()).contains(id);
        client(outsider.token()).operation().onInstance("Communication/" + id).named("$mark-read")
                .withNoParameters(Parameters.class).execute();
        assertThat(search(outsider.token(), "unread=true")).extracting(c -> c.getIdElement().getIdPart()).doesNotContain(id);
    }

    @Test
    void attachment_reachesTheRecipientOnly_andDisallowedTypesAndSizesAreRefused() throws Exception {
        String patientId = patientWithConsent(clinic.organizationId(), careService.organizationId());
        byte[] pdf = Conversations.signedScan();
        HttpResponse<String> upload = http("POST", "/fhir/Binary", clinic.token(), "application/pdf", pdf);
        assertThat(upload.statusCode()).isEqualTo(201);
        String binaryId = upload.headers().firstValue("Location").orElseThrow().replaceAll(".*/Binary/([^/]+).*", "$1");

        Communication c = Conversations.message(patientId, "Arztbrief anbei", careService.organizationId());
        c.addPayload().setContent(new org.hl7.fhir.r4.model.Attachment().setContentType("application/pdf").setUrl("Binary/" + binaryId));
        Conversations.send(client(clinic.token()), c);

        Binary received = client(careService.token()).read().resource(Binary.class).withId(binaryId).execute();
        assertThat(received.getData()).isEqualTo(pdf);
        BaseServerResponseException hidden = catchThrowableOfType(BaseServerResponseException.class,
                () -> client(outsider.token()).read().resource(Binary.class).withId(binaryId).execute());
        assertThat(hidden.getStatusCode()).isEqualTo(404);

        assertThat(http("POST", "/fhir/Binary", clinic.token(), "text/html", "<b>x</b>".getBytes(StandardCharsets.UTF_8)).statusCode())
                .isEqualTo(415);
        assertThat(http("POST", "/fhir/Binary", clinic.token(), "application/pdf", "kein pdf".getBytes(StandardCharsets.UTF_8)).statusCode())
                .isEqualTo(415);
        byte[] big = new byte[600_000];
        System.arraycopy(pdf, 0, big, 0, pdf.length);
        assertThat(http("POST", "/fhir/Binary", clinic.token(), "application/pdf", big).statusCode()).isEqualTo(413);
    }

    @Test
    void consentTemplate_isAGermanPdfWithThePatientsName() throws Exception {
        String patientId = Conversations.createPatient(client(clinic.token()), Conversations.patient("Weiß", "Käthe", null));
        HttpResponse<byte[]> response = java.net.http.HttpClient.newHttpClient().send(
                java.net.http.HttpRequest.newBuilder(java.net.URI.create(baseUrl() + "/Patient/" + patientId + "/$consent-template"))
                        .header("Authorization", "Bearer " + clinic.token()).GET().build(),
                HttpResponse.BodyHandlers.ofByteArray());
        assertThat(response.statusCode()).isEqualTo(200);
        assertThat(response.headers().firstValue("Content-Type")).hasValueSatisfying(v -> assertThat(v).startsWith("application/pdf"));
        try (PDDocument pdf = Loader.loadPDF(response.body())) {
            String text = new PDFTextStripper().getText(pdf);
            assertThat(text).contains("Käthe Weiß").contains("17.03.1941").contains("Einwilligung").contains("Unterschrift");
        }
    }

    @Test
    void consentWithoutDocument_gets422_andWrongDocumentType415() {
        String patientId = Conversations.createPatient(client(clinic.token()), Conversations.patient("Ohne", "Dokument", null));
        BaseServerResponseException missing = catchThrowableOfType(BaseServerResponseException.class,
                () -> client(clinic.token()).create().resource(Conversations.consent(patientId, null, null, clinic.organizationId())).execute());
        assertThat(missing.getStatusCode()).isEqualTo(422);
        BaseServerResponseException wrongType = catchThrowableOfType(BaseServerResponseException.class,
                () -> client(clinic.token()).create().resource(Conversations.consent(patientId,
                        "nur Text".getBytes(StandardCharsets.UTF_8), "application/pdf", clinic.organizationId())).execute());
        assertThat(wrongType.getStatusCode()).isEqualTo(415);
    }

    @Test
    void sameKvnr_fromTheCreatorOrAConsentPartner_yieldsTheExistingPatient_neverATwin() {
        String kvnr = Conversations.kvnr();
        String first = Conversations.createPatient(client(clinic.token()), Conversations.patient("Zwilling", "Eins", kvnr));
        MethodOutcome again = client(clinic.token()).create().resource(Conversations.patient("Zwilling", "Eins", kvnr)).execute();
        assertThat(again.getId().getIdPart()).isEqualTo(first);
        Conversations.uploadConsent(client(clinic.token()), first, clinic.organizationId(), practice.organizationId());
        MethodOutcome second = client(practice.token()).create().resource(Conversations.patient("Zwilling", "Eins", kvnr)).execute();
        assertThat(second.getId().getIdPart()).isEqualTo(first);
        Bundle found = client(practice.token()).search().forResource(Patient.class)
                .where(Patient.IDENTIFIER.exactly().systemAndCode(Systems.KVNR, kvnr)).returnBundle(Bundle.class).execute();
        assertThat(found.getEntry()).hasSize(1);
        assertThat(client(outsider.token()).search().forResource(Patient.class)
                .where(Patient.IDENTIFIER.exactly().systemAndCode(Systems.KVNR, kvnr)).returnBundle(Bundle.class).execute().getEntry()).isEmpty();
    }

    @Test
    void invalidCommunication_getsOperationOutcomeListingTheIssues() throws Exception {
        String body = "{\"resourceType\":\"Communication\",\"status\":\"sent-ish\",\"recipient\":[{\"reference\":\"Organization/"
                + careService.organizationId() + "\"}],\"payload\":[{\"contentString\":\"x\"}]}";
        HttpResponse<String> response = http("POST", "/fhir/Communication", clinic.token(), "application/fhir+json",
                body.getBytes(StandardCharsets.UTF_8));
        assertThat(response.statusCode()).isIn(400, 422);
        assertThat(response.body()).contains("OperationOutcome").contains("status");
    }
}
