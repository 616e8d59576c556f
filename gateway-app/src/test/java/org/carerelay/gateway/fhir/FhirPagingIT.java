package org.carerelay.gateway.fhir;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import ca.uhn.fhir.rest.client.api.IGenericClient;
import ca.uhn.fhir.rest.server.exceptions.BaseServerResponseException;
import java.net.http.HttpResponse;
import java.util.ArrayList;
import java.util.HashSet;
import java.util.LinkedHashSet;
import java.util.List;
import java.util.Set;
import java.util.UUID;
import org.carerelay.fhir.OrganizationType;
import org.carerelay.gateway.Conversations;
import org.carerelay.gateway.GatewayIntegrationTest;
import org.carerelay.gateway.Participants;
import org.carerelay.gateway.Participants.Registered;
import org.carerelay.gateway.store.ResourceStore;
import org.hl7.fhir.r4.model.AuditEvent;
import org.hl7.fhir.r4.model.Bundle;
import org.hl7.fhir.r4.model.Communication;
import org.hl7.fhir.r4.model.Organization;
import org.hl7.fhir.r4.model.Patient;
import org.junit.jupiter.api.Test;
import org.springframework.beans.factory.annotation.Autowired;

/**
 * Paging of searches as FHIR clients do it: {@code _count}, then follow {@code next} with HAPI's
 * generic client until there is none; {@code total} is the number of matches, not of the page.
 */
class FhirPagingIT extends GatewayIntegrationTest {

    @Autowired
    ResourceStore store;

    /** Follows {@code next} from {@code first}; every page's total must be {@code expectedTotal}. */
    private static List<String> walk(IGenericClient client, Bundle first, int expectedTotal) {
        List<String> ids = new ArrayList<>();
        Bundle page = first;
        int pages = 0;
        while (true) {
            assertThat(page.getTotal()).as("total on page %d", pages + 1).isEqualTo(expectedTotal);
            page.getEntry().forEach(e -> ids.add(e.getResource().getIdElement().getIdPart()));
            pages++;
            assertThat(pages).as("pages followed").isLessThanOrEqualTo(expectedTotal + 1);
            if (page.getLink(Bundle.LINK_NEXT) == null) {
                return ids;
            }
            page = client.loadPage().next(page).execute();
        }
    }

    private static void assertEachOnce(List<String> seen, Set<String> expected) {
        assertThat(new HashSet<>(seen)).as("distinct ids seen").hasSize(seen.size());
        assertThat(seen).containsExactlyInAnyOrderElementsOf(expected);
    }

    @Test
    void directoryOf1200Entries_walkedPageByPage_showsEveryEntryExactlyOnceWithTheRightTotal() {
        String city = "Blaettern" + UUID.randomUUID().toString().substring(0, 8);
        Set<String> created = new LinkedHashSet<>();
        for (int i = 0; i < 1200; i++) {
            // straight into the store: the HTTP API is what is under test, not 1,200 creates
            Organization org = new Organization();
            org.setActive(true);
            org.setName("Praxis " + i + " " + city);
            org.addType(OrganizationType.PHYSICIAN_PRACTICE.toCodeableConcept());
            org.addAddress().setCity(city).setPostalCode("10115").setCountry("DE");
            created.add(store.create(org).getIdElement().getIdPart());
        }
        IGenericClient participant = client(Participants.registerNew(this, "Leser").token());

        Bundle first = participant.search().forResource(Organization.class)
                .where(Organization.ADDRESS_CITY.matches().value(city))
                .count(97).returnBundle(Bundle.class).execute();
        assertThat(first.getEntry()).hasSize(97);
        assertThat(first.getLink(Bundle.LINK_PREV)).as("no previous page before the first").isNull();
        assertEachOnce(walk(participant, first, 1200), created);

        // the other way round: previous links from the second page lead back to the first
        Bundle second = participant.loadPage().next(first).execute();
        Bundle back = participant.loadPage().previous(second).execute();
        assertThat(back.getEntry()).extracting(e -> e.getResource().getIdElement().getIdPart())
                .containsExactlyElementsOf(first.getEntry().stream().map(e -> e.getResource().getIdElement().getIdPart()).toList());

        // the page size without _count is the default, and the links keep it
        Bundle defaultPage = participant.search().forResource(Organization.class)
                .where(Organization.ADDRESS_CITY.matches().value(city)).returnBundle(Bundle.class).execute();
        assertThat(defaultPage.getTotal()).isEqualTo(1200);
        assertThat(defaultPage.getEntry()).hasSize(50);
        assertThat(defaultPage.getLink(Bundle.LINK_NEXT).getUrl()).contains("_offset=50").contains("_count=50");
    }

    @Test
    void unreadMessages_walkedPageByPage_showEveryMessageOnce_andOnlyUnreadOnes() {
        Registered sender = Participants.registerNew(this, "Absender");
        Registered recipient = Participants.registerNew(this, "Empfaenger");
        IGenericClient senderClient = client(sender.token());
        IGenericClient recipientClient = client(recipient.token());
        Set<String> sent = new LinkedHashSet<>();
        for (int i = 0; i < 23; i++) {
            sent.add(Conversations.send(senderClient, Conversations.message(null, "Nachricht " + i, recipient.organizationId())));
        }
        String read = sent.iterator().next();
        recipientClient.operation().onInstance("Communication/" + read).named("$mark-read").withNoParameters(
                org.hl7.fhir.r4.model.Parameters.class).execute();
        sent.remove(read);

        Bundle first = recipientClient.search().forResource(Communication.class)
                .where(new ca.uhn.fhir.rest.gclient.TokenClientParam("unread").exactly().code("true"))
                .count(5).returnBundle(Bundle.class).execute();
        assertThat(first.getEntry()).hasSize(5);
        assertEachOnce(walk(recipientClient, first, 22), sent);

        // the sender's own search pages the same way
        Bundle sentFirst = senderClient.search().forResource(Communication.class)
                .where(Communication.RECIPIENT.hasId("Organization/" + recipient.organizationId()))
                .count(10).returnBundle(Bundle.class).execute();
        assertThat(walk(senderClient, sentFirst, 23)).hasSize(23).doesNotHaveDuplicates();
    }

    @Test
    void patientsOfAnOrganisation_walkedPageByPage_showEachPatientOnce() {
        Registered clinic = Participants.registerNew(this, "Klinik");
        IGenericClient client = client(clinic.token());
        Set<String> created = new LinkedHashSet<>();
        for (int i = 0; i < 12; i++) {
            created.add(Conversations.createPatient(client, Conversations.patient("Seite" + i, "Anna", Conversations.kvnr())));
        }
        Bundle first = client.search().forResource(Patient.class).count(5).returnBundle(Bundle.class).execute();
        assertEachOnce(walk(client, first, 12), created);
    }

    @Test
    void auditTrail_walkedPageByPage_showsEveryEventOnce() {
        Registered clinic = Participants.registerNew(this, "Pruefung");
        IGenericClient client = client(clinic.token());
        for (int i = 0; i < 7; i++) {
            Conversations.createPatient(client, Conversations.patient("Audit" + i, "Berta", Conversations.kvnr()));
        }
        Bundle first = admin().search().forResource(AuditEvent.class)
                .where(AuditEvent.AGENT.hasId("Organization/" + clinic.organizationId()))
                .and(AuditEvent.SUBTYPE.exactly().code("patient-create"))
                .count(3).returnBundle(Bundle.class).execute();
        assertThat(walk(admin(), first, 7)).hasSize(7).doesNotHaveDuplicates();
    }

    @Test
    void invitationsASenderCaused_walkedPageByPage_showEachOnce_andNoOtherOrganisationsInvitations() {
        Registered sender = Participants.registerNew(this, "Einladende");
        IGenericClient senderClient = client(sender.token());
        Set<String> invited = new LinkedHashSet<>();
        for (int i = 0; i < 3; i++) {
            String digits = "4950" + (long) (Math.random() * 1_000_000_000L);
            invited.add(Participants.create(admin(), Participants.newOrganization(unique("Eingeladen"), "+" + digits, null)));
        }
        Conversations.send(senderClient, Conversations.message(null, "Einladung zur Vernetzung", invited.toArray(String[]::new)));
        org.awaitility.Awaitility.await().atMost(java.time.Duration.ofSeconds(30)).until(() -> senderClient.search()
                .forResource(org.hl7.fhir.r4.model.Task.class).returnBundle(Bundle.class).execute().getTotal() == 3);

        Bundle first = senderClient.search().forResource(org.hl7.fhir.r4.model.Task.class).count(1).returnBundle(Bundle.class).execute();
        List<String> owners = new ArrayList<>();
        for (Bundle page = first; ; page = senderClient.loadPage().next(page).execute()) {
            assertThat(page.getTotal()).isEqualTo(3);
            page.getEntry().forEach(e -> owners.add(((org.hl7.fhir.r4.model.Task) e.getResource()).getOwner().getReferenceElement().getIdPart()));
            if (page.getLink(Bundle.LINK_NEXT) == null) {
                break;
            }
        }
        assertEachOnce(owners, invited);
        // an organisation that sent nothing to them sees none of these invitations
        Registered stranger = Participants.registerNew(this, "Unbeteiligt");
        assertThat(client(stranger.token()).search().forResource(org.hl7.fhir.r4.model.Task.class).returnBundle(Bundle.class)
                .execute().getTotal()).isZero();
    }

    @Test
    void strangerFollowingAnotherOrganisationsNextLink_getsOnlyItsOwnResults() {
        Registered clinic = Participants.registerNew(this, "Klinik");
        Registered stranger = Participants.registerNew(this, "Fremde");
        IGenericClient clinicClient = client(clinic.token());
        for (int i = 0; i < 6; i++) {
            Conversations.createPatient(clinicClient, Conversations.patient("Geheim" + i, "Carla", Conversations.kvnr()));
        }
        Bundle first = clinicClient.search().forResource(Patient.class).count(2).returnBundle(Bundle.class).execute();
        assertThat(first.getTotal()).isEqualTo(6);
        String next = first.getLink(Bundle.LINK_NEXT).getUrl();

        Bundle seenByStranger = client(stranger.token()).loadPage().byUrl(next).andReturnBundle(Bundle.class).execute();
        assertThat(seenByStranger.getTotal()).isZero();
        assertThat(seenByStranger.getEntry()).isEmpty();
        assertThat(seenByStranger.getLink(Bundle.LINK_NEXT)).isNull();

        // the same link with the clinic's own token shows its next page
        Bundle seenByClinic = clinicClient.loadPage().byUrl(next).andReturnBundle(Bundle.class).execute();
        assertThat(seenByClinic.getEntry()).hasSize(2);

        // no result set is kept on the server: there is nothing to fetch by a page id
        assertThatThrownBy(() -> client(stranger.token()).loadPage()
                .byUrl(baseUrl() + "?_getpages=" + UUID.randomUUID() + "&_getpagesoffset=2&_count=2")
                .andReturnBundle(Bundle.class).execute())
                .isInstanceOfSatisfying(BaseServerResponseException.class,
                        e -> assertThat(e.getStatusCode()).isBetween(400, 499));
    }

    @Test
    void totalOnlyRequest_countZero_answersTheTotalWithoutEntries() throws Exception {
        Registered clinic = Participants.registerNew(this, "Zaehler");
        IGenericClient client = client(clinic.token());
        for (int i = 0; i < 3; i++) {
            Conversations.createPatient(client, Conversations.patient("Zahl" + i, "Dora", Conversations.kvnr()));
        }
        HttpResponse<String> response = http("GET", "/fhir/Patient?_count=0", clinic.token(), null, null);
        assertThat(response.statusCode()).isEqualTo(200);
        Bundle bundle = FHIR.newJsonParser().parseResource(Bundle.class, response.body());
        assertThat(bundle.getTotal()).isEqualTo(3);
        assertThat(bundle.getEntry()).isEmpty();
    }
}
