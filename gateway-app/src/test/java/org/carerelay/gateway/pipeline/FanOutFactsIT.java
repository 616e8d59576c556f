package org.carerelay.gateway.pipeline;

import static org.assertj.core.api.Assertions.assertThat;

import java.util.List;
import java.util.Map;
import java.util.Optional;
import org.carerelay.gateway.GatewayIntegrationTest;
import org.carerelay.gateway.Participants;
import org.carerelay.gateway.directory.DirectoryService;
import org.carerelay.gateway.registration.ParticipantRepository;
import org.hl7.fhir.r4.model.Organization;
import org.junit.jupiter.api.Test;
import org.springframework.beans.factory.annotation.Autowired;
import org.springframework.jdbc.core.simple.JdbcClient;

/**
 * The reads fan-out decides its routes on, each one statement for all recipients of a message:
 * who is registered (not deactivated, not deregistered) with which notification address, and the
 * directory entries, as a single read gives them.
 */
class FanOutFactsIT extends GatewayIntegrationTest {

    @Autowired
    ParticipantRepository participants;

    @Autowired
    DirectoryService directory;

    @Autowired
    JdbcClient jdbc;

    @Test
    void registrationsOfSeveralOrganisations_areWhatTheSingleChecksSay() {
        String active = Participants.registerNew(this, "Pflegedienst Aktiv").organizationId();
        String withoutAddress = Participants.registerNew(this, "Pflegeheim Ohne Adresse").organizationId();
        String deactivated = Participants.registerNew(this, "Praxis Deaktiviert").organizationId();
        String deregistered = Participants.registerNew(this, "Klinik Abgemeldet").organizationId();
        String neverRegistered = Participants.create(admin(),
                Participants.newOrganization(unique("Apotheke Nie"), fax(), null));
        jdbc.sql("update participant set contact_email = null where organization_id = ?").param(withoutAddress).update();
        admin().delete().resourceById("Organization", deactivated).execute();
        jdbc.sql("update participant set status = 'deregistered' where organization_id = ?").param(deregistered).update();
        List<String> all = List.of(active, withoutAddress, deactivated, deregistered, neverRegistered, "no-such-organization");

        Map<String, ParticipantRepository.Registered> registered = participants.registered(all);

        assertThat(registered).containsOnlyKeys(active, withoutAddress);
        assertThat(registered.get(active).contactEmail()).contains("kontakt@" + active + ".example.org");
        assertThat(registered.get(withoutAddress).contactEmail()).isEmpty();
        assertThat(participants.registered(List.of())).isEmpty();
        // the single checks are this one for one organisation
        assertThat(all).filteredOn(participants::isRegistered).containsExactly(active, withoutAddress);
        assertThat(participants.contactEmail(active)).contains("kontakt@" + active + ".example.org");
        assertThat(participants.contactEmail(withoutAddress)).isEmpty();
        assertThat(participants.contactEmail(deactivated)).isEmpty();
    }

    @Test
    void directoryEntriesOfSeveralOrganisations_areTheEntriesASingleReadGives() {
        String first = Participants.registerNew(this, "Klinik Eins").organizationId();
        String second = Participants.create(admin(), Participants.newOrganization(unique("Pflegeheim Zwei"), fax(), null));

        Map<String, Organization> found = directory.findOrganizations(List.of(first, second, "no-such-organization"));

        assertThat(found).containsOnlyKeys(first, second);
        for (String id : List.of(first, second)) {
            Optional<Organization> single = directory.findOrganization(id);
            assertThat(found.get(id).getName()).isEqualTo(single.orElseThrow().getName());
            assertThat(found.get(id).getIdElement().getIdPart()).isEqualTo(id);
        }
        assertThat(directory.findOrganizations(List.of())).isEmpty();
    }

    private static String fax() {
        return "+4940" + (long) (Math.random() * 1_000_000_000L);
    }
}
