package org.carerelay.gateway.registration;

import static org.assertj.core.api.Assertions.assertThat;
import static org.awaitility.Awaitility.await;

import jakarta.mail.internet.MimeMessage;
import java.time.Duration;
import java.util.List;
import org.carerelay.gateway.Conversations;
import org.carerelay.gateway.GatewayIntegrationTest;
import org.carerelay.gateway.Participants;
import org.junit.jupiter.api.Test;

/**
 * Links in letters and notification mails name the address the gateway actually listens on (here a
 * random HTTP port, not 8080) when no public base URL is set.
 */
class PublicLinksIT extends GatewayIntegrationTest {

    @Test
    void registrationLetter_namesTheRegisterAddressOnTheGatewaysOwnPort() {
        String digits = "4930" + (long) (Math.random() * 1_000_000_000L);
        String orgId = Participants.create(admin(), Participants.newOrganization(unique("Praxis Link"), "+" + digits, null));
        String faxMailbox = digits + "@" + FAX_DOMAIN;

        Participants.requestCode(anonymous(), orgId, null);

        await().atMost(Duration.ofSeconds(30)).until(() -> !mailsTo(faxMailbox).isEmpty());
        String letter = Participants.allText(mailsTo(faxMailbox).get(0)).replaceAll("\\s+", " ");
        assertThat(letter).contains("http://localhost:" + port + "/fhir/Organization/" + orgId + "/$register")
                .doesNotContain("localhost:8080");
    }

    @Test
    void notificationMail_linksTheMessageOnTheGatewaysOwnPort() {
        Participants.Registered clinic = Participants.registerNew(this, "Klinik Link");
        Participants.Registered hospital = Participants.registerNew(this, "Krankenhaus Link");
        String patientId = Conversations.createPatient(client(clinic.token()),
                Conversations.patient("Linkmann", "Lotte", Conversations.kvnr()));
        Conversations.uploadConsent(client(clinic.token()), patientId, clinic.organizationId(), hospital.organizationId());

        String messageId = Conversations.send(client(clinic.token()),
                Conversations.message(patientId, "Bitte um Rückruf.", hospital.organizationId()));

        String contact = "kontakt@" + hospital.organizationId() + ".example.org";
        await().atMost(Duration.ofSeconds(30)).until(() -> !mailsTo(contact).isEmpty());
        List<MimeMessage> mails = mailsTo(contact);
        String text = Participants.allText(mails.get(mails.size() - 1));
        assertThat(text).contains("http://localhost:" + port + "/fhir/Communication/" + messageId)
                .contains("http://localhost:" + port + "/chat/" + messageId) // a new message opens its own conversation
                .doesNotContain("localhost:8080");
    }
}
