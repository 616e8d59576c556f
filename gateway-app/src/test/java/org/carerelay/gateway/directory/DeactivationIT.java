package org.carerelay.gateway.directory;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.catchThrowableOfType;
import static org.awaitility.Awaitility.await;

import ca.uhn.fhir.rest.server.exceptions.BaseServerResponseException;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.charset.StandardCharsets;
import java.time.Duration;
import java.util.UUID;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import org.carerelay.fhir.ErrorCode;
import org.carerelay.gateway.Conversations;
import org.carerelay.gateway.GatewayIntegrationTest;
import org.carerelay.gateway.Mllp;
import org.carerelay.gateway.Participants;
import org.carerelay.gateway.hl7.Hl7InboundIT;
import org.hl7.fhir.r4.model.Bundle;
import org.hl7.fhir.r4.model.Organization;
import org.hl7.fhir.r4.model.Parameters;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.function.Executable;

/** The operator's {@code DELETE Organization/x} takes the organisation out at once, on every channel. */
class DeactivationIT extends GatewayIntegrationTest {

    @Test
    void deactivatedOrganization_isRefusedAtOnce_onFhirOperationsAttachmentsAndHl7() throws Exception {
        Participants.Registered practice = Participants.registerNew(this, "Praxis Deaktiviert");
        Participants.Registered partner = Participants.registerNew(this, "Klinik Partner");
        String alias = "DEA" + UUID.randomUUID().toString().substring(0, 6).toUpperCase();
        Participants.addHl7Alias(admin(), practice.organizationId(), alias);
        HttpResponse<String> uploaded = raw("POST", "/fhir/Binary", practice.token(), "text/plain", "Befund".getBytes(StandardCharsets.UTF_8));
        assertThat(uploaded.statusCode()).isEqualTo(201);
        Matcher id = Pattern.compile("\"id\"\\s*:\\s*\"([^\"]+)\"").matcher(uploaded.body());
        assertThat(id.find()).isTrue();
        String binaryId = id.group(1);
        String kvnr = Conversations.kvnr();
        Conversations.createPatient(client(practice.token()), Conversations.patient("Vorher", "Erika", kvnr));

        admin().delete().resourceById("Organization", practice.organizationId()).execute();

        var token = client(practice.token());
        assertDeactivated(() -> token.search().forResource(Organization.class).returnBundle(Bundle.class).execute());
        assertDeactivated(() -> Conversations.createPatient(token, Conversations.patient("Nachher", "Erika", Conversations.kvnr())));
        assertDeactivated(() -> Conversations.send(token, Conversations.message(null, "noch da?", partner.organizationId())));
        assertDeactivated(() -> token.search().byUrl("Communication?unread=true").returnBundle(Bundle.class).execute());
        assertDeactivated(() -> token.operation().onInstance("Organization/" + practice.organizationId()).named("$rotate-token")
                .withNoParameters(Parameters.class).execute());
        HttpResponse<String> upload = raw("POST", "/fhir/Binary", practice.token(), "text/plain", "mehr".getBytes(StandardCharsets.UTF_8));
        assertThat(upload.statusCode()).isEqualTo(401);
        assertThat(upload.body()).contains("organization-deactivated");
        HttpResponse<String> download = raw("GET", "/fhir/Binary/" + binaryId, practice.token(), null, null);
        assertThat(download.statusCode()).isEqualTo(401);
        assertThat(download.body()).contains("organization-deactivated").doesNotContain("Befund");

        String ack = Mllp.exchange(HL7_PORT, Hl7InboundIT.mdm(alias, "CARERELAY", "D" + UUID.randomUUID().toString().substring(0, 8),
                kvnr, null).getBytes(StandardCharsets.ISO_8859_1), StandardCharsets.ISO_8859_1, 30_000);
        assertThat(Mllp.field(ack, "MSA", 1)).isEqualTo("AR");

        // the operator re-activates the entry: the same token works again
        Organization entry = admin().read().resource(Organization.class).withId(practice.organizationId()).execute();
        entry.setActive(true);
        admin().update().resource(entry).execute();
        assertThat(token.search().forResource(Organization.class).returnBundle(Bundle.class).execute().getEntry()).isNotEmpty();
    }

    @Test
    void messageToADeactivatedOrganization_isNeitherDeliveredNorNotified() throws Exception {
        Participants.Registered sender = Participants.registerNew(this, "Klinik Sender");
        Participants.Registered gone = Participants.registerNew(this, "Pflegedienst Geschlossen");
        String contact = "kontakt@" + gone.organizationId() + ".example.org";
        admin().delete().resourceById("Organization", gone.organizationId()).execute();

        String messageId = Conversations.send(client(sender.token()), Conversations.message(null, "Guten Tag", gone.organizationId()));
        await().atMost(Duration.ofSeconds(30))
                .until(() -> "failed".equals(Conversations.deliveryStates(client(sender.token()), messageId).get(gone.organizationId())));
        assertThat(Conversations.deliveryPart(client(sender.token()), messageId, "detail")).contains("inactive");
        Thread.sleep(1_000);
        assertThat(mailsTo(contact)).isEmpty();
    }

    private static void assertDeactivated(Executable call) {
        BaseServerResponseException e = catchThrowableOfType(BaseServerResponseException.class, () -> call.execute());
        assertThat(e).as("refused").isNotNull();
        assertThat(e.getStatusCode()).isEqualTo(401);
        assertThat(errorCodeOf(e)).isEqualTo(ErrorCode.ORGANIZATION_DEACTIVATED);
    }

    private HttpResponse<String> raw(String method, String path, String token, String contentType, byte[] body) throws Exception {
        HttpRequest.Builder builder = HttpRequest.newBuilder(URI.create("http://127.0.0.1:" + port + path))
                .timeout(Duration.ofSeconds(60))
                .header("Authorization", "Bearer " + token)
                .method(method, body == null ? HttpRequest.BodyPublishers.noBody() : HttpRequest.BodyPublishers.ofByteArray(body));
        if (contentType != null) {
            builder.header("Content-Type", contentType);
        }
        return HttpClient.newHttpClient().send(builder.build(), HttpResponse.BodyHandlers.ofString());
    }
}
