package org.carerelay.gateway.audit;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.catchThrowableOfType;

import ca.uhn.fhir.rest.client.api.IGenericClient;
import ca.uhn.fhir.rest.server.exceptions.BaseServerResponseException;
import java.util.ArrayList;
import java.util.Collections;
import java.util.List;
import org.carerelay.fhir.ErrorCode;
import org.carerelay.gateway.Conversations;
import org.carerelay.gateway.GatewayIntegrationTest;
import org.carerelay.gateway.Participants;
import org.hl7.fhir.r4.model.AuditEvent;
import org.hl7.fhir.r4.model.Bundle;
import org.hl7.fhir.r4.model.Communication;
import org.hl7.fhir.r4.model.Consent;
import org.hl7.fhir.r4.model.Parameters;
import org.hl7.fhir.r4.model.Reference;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;

/**
 * A refusal leaves its trace although the refused operation's transaction rolls back: each
 * decision of the consent gate that says no, and a message in another organisation's name, over the
 * FHIR API; and a success is recorded only for what was stored (no {@code message-create} for a
 * refused message).
 */
class RefusalAuditIT extends GatewayIntegrationTest {

    static Participants.Registered practice;
    static Participants.Registered careHome;
    static Participants.Registered outsider;

    @BeforeEach
    void participants() {
        if (practice == null) {
            practice = Participants.registerNew(this, "Praxis Verweigerung");
            careHome = Participants.registerNew(this, "Pflegeheim Verweigerung");
            outsider = Participants.registerNew(this, "Fremd Verweigerung");
        }
    }

    @Test
    void everyNoOfTheConsentGate_isInTheTrail_withItsReason() {
        IGenericClient sender = client(practice.token());
        String patientId = Conversations.createPatient(sender, Conversations.patient("Verweigert", "Vera", Conversations.kvnr()));

        assertThat(refused(sender, Conversations.message(patientId, "ohne Einwilligung", careHome.organizationId())))
                .isEqualTo(ErrorCode.CONSENT_MISSING);
        assertThat(failures("Patient/" + patientId, "consent-decision")).containsExactly("consent-missing");

        String consentId = Conversations.uploadConsent(sender, patientId, practice.organizationId(), careHome.organizationId());
        assertThat(refused(sender, Conversations.message(patientId, "an Fremde", outsider.organizationId())))
                .isEqualTo(ErrorCode.RECIPIENT_NOT_COVERED);
        assertThat(failures("Patient/" + patientId, "consent-decision")).containsExactly("consent-missing", "recipient-not-covered");

        sender.operation().onInstance("Consent/" + consentId).named("$revoke").withNoParameters(Parameters.class)
                .returnResourceType(Consent.class).execute();
        assertThat(refused(sender, Conversations.message(patientId, "nach Widerruf", careHome.organizationId())))
                .isEqualTo(ErrorCode.CONSENT_REVOKED);
        assertThat(failures("Patient/" + patientId, "consent-decision"))
                .containsExactly("consent-missing", "recipient-not-covered", "consent-revoked");

        // nothing was stored, and no success claims otherwise
        assertThat(events("Patient/" + patientId, "consent-decision")).allMatch(e -> e.getOutcome() == AuditEvent.AuditEventOutcome._4);
        assertThat(admin().search().forResource(AuditEvent.class)
                .where(AuditEvent.AGENT.hasId("Organization/" + practice.organizationId()))
                .and(AuditEvent.SUBTYPE.exactly().code("message-create")).and(AuditEvent.OUTCOME.exactly().code("0"))
                .returnBundle(Bundle.class).execute().getEntry()).as("message-create successes").isEmpty();
        assertThat(sender.search().byUrl("Communication?patient=Patient/" + patientId).returnBundle(Bundle.class).execute()
                .getEntry()).isEmpty();
    }

    @Test
    void aMessageInAnotherOrganisationsName_isInTheTrail() {
        IGenericClient sender = client(practice.token());
        String patientId = Conversations.createPatient(sender, Conversations.patient("Fremdname", "Frieda", Conversations.kvnr()));
        Conversations.uploadConsent(sender, patientId, practice.organizationId(), careHome.organizationId());
        Communication forged = Conversations.message(patientId, "als Pflegeheim", careHome.organizationId());
        forged.setSender(new Reference("Organization/" + careHome.organizationId()));

        assertThat(refused(sender, forged)).isEqualTo(ErrorCode.FORBIDDEN);
        assertThat(admin().search().forResource(AuditEvent.class)
                .where(AuditEvent.AGENT.hasId("Organization/" + practice.organizationId()))
                .and(AuditEvent.SUBTYPE.exactly().code("message-create"))
                .and(AuditEvent.OUTCOME.exactly().code("4"))
                .returnBundle(Bundle.class).execute().getEntry())
                .extracting(e -> ((AuditEvent) e.getResource()).getOutcomeDesc()).contains("sender mismatch");
    }

    private ErrorCode refused(IGenericClient client, Communication message) {
        BaseServerResponseException refused = catchThrowableOfType(BaseServerResponseException.class,
                () -> Conversations.send(client, message));
        assertThat(refused).as("refused").isNotNull();
        return errorCodeOf(refused);
    }

    /** The reasons of the failures of {@code subtype} about {@code entity}, oldest first. */
    private List<String> failures(String entity, String subtype) {
        List<String> reasons = new ArrayList<>(events(entity, subtype).stream()
                .filter(e -> e.getOutcome() == AuditEvent.AuditEventOutcome._4).map(AuditEvent::getOutcomeDesc).toList());
        Collections.reverse(reasons); // the search lists the newest first
        return reasons;
    }

    private List<AuditEvent> events(String entity, String subtype) {
        return admin().search().forResource(AuditEvent.class).where(AuditEvent.ENTITY.hasId(entity))
                .and(AuditEvent.SUBTYPE.exactly().code(subtype)).returnBundle(Bundle.class).execute()
                .getEntry().stream().map(e -> (AuditEvent) e.getResource()).toList();
    }
}
