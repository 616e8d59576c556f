package org.carerelay.gateway.consent;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import ca.uhn.fhir.rest.client.api.IGenericClient;
import ca.uhn.fhir.rest.server.exceptions.ResourceNotFoundException;
import java.util.List;
import org.carerelay.gateway.Conversations;
import org.carerelay.gateway.GatewayIntegrationTest;
import org.carerelay.gateway.Participants;
import org.carerelay.gateway.Participants.Registered;
import org.hl7.fhir.r4.model.AuditEvent;
import org.hl7.fhir.r4.model.Bundle;
import org.hl7.fhir.r4.model.Communication;
import org.hl7.fhir.r4.model.Consent;
import org.hl7.fhir.r4.model.Organization;
import org.hl7.fhir.r4.model.Patient;
import org.hl7.fhir.r4.model.Task;
import org.junit.jupiter.api.Test;

/**
 * The audit trail of reads as the operator sees it: every read and vread names the resource (and
 * the version), a refused one too, and every search page names each resource it showed.
 */
class ReadAuditIT extends GatewayIntegrationTest {

    private List<AuditEvent> audit(String entity, String subtype) {
        Bundle found = admin().search().forResource(AuditEvent.class)
                .where(AuditEvent.ENTITY.hasId(entity))
                .and(AuditEvent.SUBTYPE.exactly().code(subtype))
                .count(1000).returnBundle(Bundle.class).execute();
        return found.getEntry().stream().map(e -> (AuditEvent) e.getResource()).toList();
    }

    private static List<String> what(List<AuditEvent> events, AuditEvent.AuditEventOutcome outcome) {
        return events.stream().filter(e -> e.getOutcome() == outcome)
                .map(e -> e.getEntityFirstRep().getWhat().getReference()).toList();
    }

    @Test
    void participantReadingEveryPastVersionOfAPatient_leavesATraceOfEachVersionRead() {
        Registered clinic = Participants.registerNew(this, "Klinik");
        Registered stranger = Participants.registerNew(this, "Fremde");
        IGenericClient clinicClient = client(clinic.token());
        String id = Conversations.createPatient(clinicClient, Conversations.patient("Spurlos", "Erna", Conversations.kvnr()));
        Patient current = clinicClient.read().resource(Patient.class).withId(id).execute();
        current.getNameFirstRep().setFamily("Spurlos-Neu");
        clinicClient.update().resource(current).withId(id).execute();

        clinicClient.read().resource(Patient.class).withIdAndVersion(id, "1").execute();
        clinicClient.read().resource(Patient.class).withId(id).execute();
        assertThatThrownBy(() -> client(stranger.token()).read().resource(Patient.class).withIdAndVersion(id, "1").execute())
                .isInstanceOf(ResourceNotFoundException.class);
        assertThatThrownBy(() -> clinicClient.read().resource(Patient.class).withIdAndVersion(id, "7").execute())
                .isInstanceOf(ResourceNotFoundException.class);

        List<AuditEvent> events = audit("Patient/" + id, "patient-read");
        assertThat(what(events, AuditEvent.AuditEventOutcome._0))
                .containsExactlyInAnyOrder("Patient/" + id, "Patient/" + id + "/_history/1", "Patient/" + id);
        assertThat(what(events, AuditEvent.AuditEventOutcome._4))
                .containsExactlyInAnyOrder("Patient/" + id + "/_history/1", "Patient/" + id + "/_history/7");
        assertThat(events).filteredOn(e -> e.getOutcome() == AuditEvent.AuditEventOutcome._4)
                .extracting(e -> e.getAgentFirstRep().getWho().getReference())
                .containsExactlyInAnyOrder("Organization/" + stranger.organizationId(), "Organization/" + clinic.organizationId());
        // no patient data in the trail
        assertThat(FHIR.newJsonParser().encodeResourceToString(events.get(0))).doesNotContain("Spurlos");
    }

    @Test
    void searchingPatientsPageByPage_leavesATraceOfEachPatientShown_andOfNoneNotShown() {
        Registered clinic = Participants.registerNew(this, "Klinik");
        IGenericClient clinicClient = client(clinic.token());
        String family = "Seitenweise" + unique("x").replaceAll("[^A-Za-z]", "");
        String first = Conversations.createPatient(clinicClient, Conversations.patient(family, "Anna", Conversations.kvnr()));
        String second = Conversations.createPatient(clinicClient, Conversations.patient(family, "Berta", Conversations.kvnr()));
        String other = Conversations.createPatient(clinicClient, Conversations.patient("Unbeteiligt", "Clara", Conversations.kvnr()));

        Bundle page1 = clinicClient.search().forResource(Patient.class).where(Patient.FAMILY.matchesExactly().value(family))
                .count(1).returnBundle(Bundle.class).execute();
        String shown1 = page1.getEntryFirstRep().getResource().getIdElement().getIdPart();
        String notYetShown = shown1.equals(first) ? second : first;
        assertThat(audit("Patient/" + shown1, "patient-search")).hasSize(1)
                .allSatisfy(e -> assertThat(e.getAgentFirstRep().getWho().getReference()).isEqualTo("Organization/" + clinic.organizationId()));
        assertThat(audit("Patient/" + notYetShown, "patient-search")).isEmpty();

        clinicClient.loadPage().next(page1).execute();
        assertThat(audit("Patient/" + notYetShown, "patient-search")).hasSize(1);
        assertThat(audit("Patient/" + other, "patient-search")).isEmpty();
    }

    @Test
    void searchingMessagesConsentsAndTheDirectory_leavesATraceOfEachResourceShown() {
        Registered clinic = Participants.registerNew(this, "Klinik");
        Registered partner = Participants.registerNew(this, "Pflege");
        IGenericClient clinicClient = client(clinic.token());
        String patient = Conversations.createPatient(clinicClient, Conversations.patient("Gesucht", "Dora", Conversations.kvnr()));
        String consent = Conversations.uploadConsent(clinicClient, patient, clinic.organizationId(), partner.organizationId());
        String message = Conversations.send(clinicClient, Conversations.message(patient, "Bitte Rückruf", partner.organizationId()));

        client(partner.token()).search().forResource(Communication.class).returnBundle(Bundle.class).execute();
        assertThat(audit("Communication/" + message, "message-search")).extracting(e -> e.getAgentFirstRep().getWho().getReference())
                .containsExactly("Organization/" + partner.organizationId());

        clinicClient.search().forResource(Consent.class).where(Consent.PATIENT.hasId("Patient/" + patient)).returnBundle(Bundle.class).execute();
        assertThat(audit("Consent/" + consent, "consent-search")).hasSize(1);

        String city = "Auditstadt" + unique("x").replaceAll("[^A-Za-z0-9]", "");
        Organization org = Participants.newOrganization(unique("Gefunden"), null, null);
        org.getAddressFirstRep().setCity(city);
        String orgId = Participants.create(admin(), org);
        clinicClient.search().forResource(Organization.class).where(Organization.ADDRESS_CITY.matchesExactly().value(city))
                .returnBundle(Bundle.class).execute();
        assertThat(audit("Organization/" + orgId, "directory-search")).extracting(e -> e.getAgentFirstRep().getWho().getReference())
                .containsExactly("Organization/" + clinic.organizationId());
    }

    @Test
    void askingForAVersionAMessageNeverHad_isAuditedAsAFailedRead_andAVreadNamesTheVersion() {
        Registered clinic = Participants.registerNew(this, "Klinik");
        Registered partner = Participants.registerNew(this, "Pflege");
        IGenericClient clinicClient = client(clinic.token());
        String patient = Conversations.createPatient(clinicClient, Conversations.patient("Versioniert", "Emma", Conversations.kvnr()));
        String consent = Conversations.uploadConsent(clinicClient, patient, clinic.organizationId(), partner.organizationId());
        String message = Conversations.send(clinicClient, Conversations.message(patient, "Hallo", partner.organizationId()));

        clinicClient.read().resource(Communication.class).withIdAndVersion(message, "1").execute();
        assertThatThrownBy(() -> clinicClient.read().resource(Communication.class).withIdAndVersion(message, "2").execute())
                .isInstanceOf(ResourceNotFoundException.class);
        List<AuditEvent> reads = audit("Communication/" + message, "message-read");
        assertThat(what(reads, AuditEvent.AuditEventOutcome._0)).containsExactly("Communication/" + message + "/_history/1");
        assertThat(what(reads, AuditEvent.AuditEventOutcome._4)).containsExactly("Communication/" + message + "/_history/2");

        org.hl7.fhir.r4.model.Binary upload = new org.hl7.fhir.r4.model.Binary();
        upload.setContentType("text/plain");
        upload.setData("Befund folgt".getBytes(java.nio.charset.StandardCharsets.UTF_8));
        String binary = clinicClient.create().resource(upload).execute().getId().getIdPart();
        assertThatThrownBy(() -> clinicClient.read().resource(org.hl7.fhir.r4.model.Binary.class).withIdAndVersion(binary, "2").execute())
                .isInstanceOf(ResourceNotFoundException.class);
        assertThat(what(audit("Binary/" + binary, "attachment-read"), AuditEvent.AuditEventOutcome._4))
                .containsExactly("Binary/" + binary + "/_history/2");

        clinicClient.read().resource(Consent.class).withIdAndVersion(consent, "1").execute();
        assertThat(what(audit("Consent/" + consent, "consent-read"), AuditEvent.AuditEventOutcome._0))
                .containsExactly("Consent/" + consent + "/_history/1");

        String orgId = Participants.create(admin(), Participants.newOrganization(unique("Verzeichnis"), null, null));
        clinicClient.read().resource(Organization.class).withIdAndVersion(orgId, "1").execute();
        assertThatThrownBy(() -> clinicClient.read().resource(Organization.class).withIdAndVersion(orgId, "9").execute())
                .isInstanceOf(ResourceNotFoundException.class);
        List<AuditEvent> directory = audit("Organization/" + orgId, "directory-read");
        assertThat(what(directory, AuditEvent.AuditEventOutcome._0)).containsExactly("Organization/" + orgId + "/_history/1");
        assertThat(what(directory, AuditEvent.AuditEventOutcome._4)).containsExactly("Organization/" + orgId + "/_history/9");
    }

    @Test
    void readingAndSearchingInvitations_isAuditedLikeOtherReads() {
        int before = admin().search().forResource(AuditEvent.class).where(AuditEvent.SUBTYPE.exactly().code("task-search"))
                .count(0).returnBundle(Bundle.class).execute().getTotal();
        Bundle tasks = admin().search().forResource(Task.class).count(1).returnBundle(Bundle.class).execute();
        int after = admin().search().forResource(AuditEvent.class).where(AuditEvent.SUBTYPE.exactly().code("task-search"))
                .count(0).returnBundle(Bundle.class).execute().getTotal();
        assertThat(after).isEqualTo(before + 1);

        assertThatThrownBy(() -> admin().read().resource(Task.class).withId("keine-einladung").execute())
                .isInstanceOf(ResourceNotFoundException.class);
        assertThat(what(audit("Task/keine-einladung", "task-read"), AuditEvent.AuditEventOutcome._4))
                .containsExactly("Task/keine-einladung");
        if (!tasks.getEntry().isEmpty()) {
            String task = tasks.getEntryFirstRep().getResource().getIdElement().getIdPart();
            assertThat(audit("Task/" + task, "task-search")).isNotEmpty();
            admin().read().resource(Task.class).withId(task).execute();
            assertThat(what(audit("Task/" + task, "task-read"), AuditEvent.AuditEventOutcome._0)).contains("Task/" + task);
        }
    }
}
