package org.carerelay.gateway.fhir;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import ca.uhn.fhir.rest.api.MethodOutcome;
import ca.uhn.fhir.rest.client.api.IGenericClient;
import ca.uhn.fhir.rest.server.exceptions.PreconditionFailedException;
import ca.uhn.fhir.rest.server.exceptions.ResourceNotFoundException;
import java.net.http.HttpResponse;
import java.util.function.Supplier;
import org.carerelay.fhir.ErrorCode;
import org.carerelay.fhir.Systems;
import org.carerelay.gateway.Conversations;
import org.carerelay.gateway.GatewayIntegrationTest;
import org.carerelay.gateway.Participants;
import org.carerelay.gateway.Participants.Registered;
import org.hl7.fhir.instance.model.api.IBaseResource;
import org.hl7.fhir.r4.model.Communication;
import org.hl7.fhir.r4.model.Consent;
import org.hl7.fhir.r4.model.Endpoint;
import org.hl7.fhir.r4.model.IdType;
import org.hl7.fhir.r4.model.Organization;
import org.hl7.fhir.r4.model.Patient;
import org.hl7.fhir.r4.model.Practitioner;
import org.hl7.fhir.r4.model.PractitionerRole;
import org.hl7.fhir.r4.model.Reference;
import org.junit.jupiter.api.Test;

/**
 * Versions as FHIR clients use them: the {@code Location} of a create is readable (vread), past
 * versions stay readable, and {@code If-Match} makes an update conditional on the version the
 * client last saw.
 */
class FhirVersioningIT extends GatewayIntegrationTest {

    private static String ifMatch(String version) {
        return "W/\"" + version + "\"";
    }

    private static <T extends IBaseResource> T vread(IGenericClient client, Class<T> type, String id, String version) {
        return client.read().resource(type).withIdAndVersion(id, version).execute();
    }

    private static void assertVersionConflict(Runnable update) {
        assertThatThrownBy(update::run).isInstanceOfSatisfying(PreconditionFailedException.class,
                e -> assertThat(errorCodeOf(e)).isEqualTo(ErrorCode.VERSION_CONFLICT));
    }

    private static void assertNotFound(Runnable read) {
        assertThatThrownBy(read::run).isInstanceOfSatisfying(ResourceNotFoundException.class,
                e -> assertThat(errorCodeOf(e)).isEqualTo(ErrorCode.NOT_FOUND));
    }

    @Test
    void locationOfACreate_isReadable_andEveryPastVersionStaysReadable() {
        MethodOutcome created = admin().create().resource(Participants.newOrganization(unique("Versioniert"), null, null)).execute();
        IdType location = (IdType) created.getId();
        assertThat(location.getVersionIdPart()).isEqualTo("1");
        Organization v1 = admin().read().resource(Organization.class).withUrl(location).execute();
        assertThat(v1.getMeta().getVersionId()).isEqualTo("1");

        v1.setName(v1.getName() + " umbenannt");
        admin().update().resource(v1).withId(location.getIdPart()).execute();

        assertThat(vread(admin(), Organization.class, location.getIdPart(), "1").getName()).doesNotEndWith("umbenannt");
        assertThat(vread(admin(), Organization.class, location.getIdPart(), "2").getName()).endsWith("umbenannt");
        assertThat(vread(admin(), Organization.class, location.getIdPart(), "2").getIdElement().getVersionIdPart()).isEqualTo("2");
        assertNotFound(() -> vread(admin(), Organization.class, location.getIdPart(), "3"));
        assertNotFound(() -> vread(admin(), Organization.class, location.getIdPart(), "x"));
    }

    @Test
    void strangerVreadingAPatient_getsTheSameNotFoundAsForARead() {
        Registered clinic = Participants.registerNew(this, "Klinik");
        Registered stranger = Participants.registerNew(this, "Fremde");
        IGenericClient clinicClient = client(clinic.token());
        MethodOutcome created = clinicClient.create().resource(Conversations.patient("Versionsfrau", "Ella", Conversations.kvnr())).execute();
        IdType location = (IdType) created.getId();
        Patient v1 = clinicClient.read().resource(Patient.class).withUrl(location).execute();
        assertThat(v1.getNameFirstRep().getFamily()).isEqualTo("Versionsfrau");
        v1.getNameFirstRep().setFamily("Versionsfrau-Neu");
        clinicClient.update().resource(v1).withId(location.getIdPart()).execute();
        assertThat(vread(clinicClient, Patient.class, location.getIdPart(), "1").getNameFirstRep().getFamily()).isEqualTo("Versionsfrau");

        IGenericClient strangerClient = client(stranger.token());
        assertNotFound(() -> strangerClient.read().resource(Patient.class).withId(location.getIdPart()).execute());
        assertNotFound(() -> vread(strangerClient, Patient.class, location.getIdPart(), "1"));
        assertNotFound(() -> vread(strangerClient, Patient.class, location.getIdPart(), "7"));
    }

    @Test
    void locationOfASentMessage_isReadable_andNoOtherVersionExists() throws Exception {
        Registered sender = Participants.registerNew(this, "Absender");
        Registered recipient = Participants.registerNew(this, "Empfaenger");
        Registered stranger = Participants.registerNew(this, "Fremde");
        IGenericClient senderClient = client(sender.token());
        MethodOutcome created = senderClient.create().resource(Conversations.message(null, "Hallo", recipient.organizationId())).execute();
        IdType location = (IdType) created.getId();
        Communication read = client(recipient.token()).read().resource(Communication.class).withUrl(location).execute();
        assertThat(read.getMeta().getVersionId()).isEqualTo("1");
        assertNotFound(() -> vread(senderClient, Communication.class, location.getIdPart(), "2"));
        assertNotFound(() -> vread(client(stranger.token()), Communication.class, location.getIdPart(), "1"));

        HttpResponse<String> response = http("GET", "/fhir/Communication/" + location.getIdPart(), sender.token(), null, null);
        assertThat(response.headers().firstValue("ETag")).contains(ifMatch("1"));
    }

    @Test
    void staleIfMatch_onPatientUpdate_is412_andNothingIsStored() throws Exception {
        Registered clinic = Participants.registerNew(this, "Klinik");
        IGenericClient client = client(clinic.token());
        String id = Conversations.createPatient(client, Conversations.patient("Konflikt", "Frieda", Conversations.kvnr()));
        Patient current = client.read().resource(Patient.class).withId(id).execute();
        current.getNameFirstRep().setFamily("Konflikt-Zwei");
        client.update().resource(current).withId(id).execute(); // now version 2

        Patient stale = client.read().resource(Patient.class).withId(id).execute();
        stale.getNameFirstRep().setFamily("Konflikt-Veraltet");
        assertVersionConflict(() -> client.update().resource(stale).withId(id)
                .withAdditionalHeader("If-Match", ifMatch("1")).execute());
        Patient after = client.read().resource(Patient.class).withId(id).execute();
        assertThat(after.getMeta().getVersionId()).isEqualTo("2");
        assertThat(after.getNameFirstRep().getFamily()).isEqualTo("Konflikt-Zwei");

        MethodOutcome matching = client.update().resource(stale).withId(id)
                .withAdditionalHeader("If-Match", ifMatch("2")).execute();
        assertThat(matching.getId().getVersionIdPart()).isEqualTo("3");
        HttpResponse<String> response = http("GET", "/fhir/Patient/" + id, clinic.token(), null, null);
        assertThat(response.headers().firstValue("ETag")).contains(ifMatch("3"));
        assertThat(FHIR.newJsonParser().parseResource(Patient.class, response.body()).getMeta().getVersionId()).isEqualTo("3");
    }

    @Test
    void staleIfMatch_onEveryDirectoryResource_is412_andTheCurrentVersionUpdates() {
        Organization org = Participants.newOrganization(unique("Verzeichnis"), null, null);
        String orgId = Participants.create(admin(), org);
        checkIfMatch(Organization.class, orgId, () -> admin().read().resource(Organization.class).withId(orgId).execute(),
                o -> o.setName(o.getName() + " x"));

        Practitioner practitioner = new Practitioner();
        practitioner.addName().setFamily("Arzt").addGiven("Max");
        String practitionerId = admin().create().resource(practitioner).execute().getId().getIdPart();
        checkIfMatch(Practitioner.class, practitionerId,
                () -> admin().read().resource(Practitioner.class).withId(practitionerId).execute(),
                p -> p.getNameFirstRep().setFamily(p.getNameFirstRep().getFamily() + "x"));

        PractitionerRole role = new PractitionerRole();
        role.setPractitioner(new Reference("Practitioner/" + practitionerId)).setOrganization(new Reference("Organization/" + orgId));
        String roleId = admin().create().resource(role).execute().getId().getIdPart();
        checkIfMatch(PractitionerRole.class, roleId, () -> admin().read().resource(PractitionerRole.class).withId(roleId).execute(),
                r -> r.setActive(!r.getActive()));

        Endpoint endpoint = new Endpoint();
        endpoint.setStatus(Endpoint.EndpointStatus.ACTIVE).setName("FHIR")
                .setConnectionType(new org.hl7.fhir.r4.model.Coding(Systems.ENDPOINT_CONNECTION_TYPE, "hl7-fhir-rest", null))
                .setAddress("http://127.0.0.1:9/fhir").setManagingOrganization(new Reference("Organization/" + orgId));
        endpoint.addPayloadType().setText("any");
        String endpointId = admin().create().resource(endpoint).execute().getId().getIdPart();
        checkIfMatch(Endpoint.class, endpointId, () -> admin().read().resource(Endpoint.class).withId(endpointId).execute(),
                e -> e.setName(e.getName() + "x"));
    }

    /** Two updates to version 3; If-Match 2 is then refused with nothing changed; If-Match 3 succeeds. */
    private <T extends org.hl7.fhir.r4.model.Resource> void checkIfMatch(Class<T> type, String id, Supplier<T> read,
            java.util.function.Consumer<T> change) {
        for (int i = 0; i < 2; i++) {
            T current = read.get();
            change.accept(current);
            admin().update().resource(current).withId(id).execute();
        }
        T atThree = read.get();
        assertThat(atThree.getMeta().getVersionId()).as(type.getSimpleName()).isEqualTo("3");
        T stale = read.get();
        change.accept(stale);
        assertVersionConflict(() -> admin().update().resource(stale).withId(id).withAdditionalHeader("If-Match", ifMatch("2")).execute());
        assertThat(read.get().getMeta().getVersionId()).as(type.getSimpleName() + " after a refused update").isEqualTo("3");
        MethodOutcome ok = admin().update().resource(stale).withId(id).withAdditionalHeader("If-Match", ifMatch("3")).execute();
        assertThat(ok.getId().getVersionIdPart()).as(type.getSimpleName()).isEqualTo("4");
        assertThat(vread(admin(), type, id, "3").getMeta().getVersionId()).isEqualTo("3");
    }

    @Test
    void twoUpdatesNamingTheSameVersionAtOnce_onlyOneSucceeds() throws Exception {
        Practitioner practitioner = new Practitioner();
        practitioner.addName().setFamily("Gleichzeitig");
        String id = admin().create().resource(practitioner).execute().getId().getIdPart();
        java.util.concurrent.ExecutorService pool = java.util.concurrent.Executors.newFixedThreadPool(4);
        try {
            java.util.List<java.util.concurrent.Future<Integer>> answers = new java.util.ArrayList<>();
            java.util.concurrent.CountDownLatch start = new java.util.concurrent.CountDownLatch(1);
            for (int i = 0; i < 4; i++) {
                Practitioner change = new Practitioner();
                change.setId(id);
                change.addName().setFamily("Gleichzeitig " + i);
                answers.add(pool.submit(() -> {
                    start.await();
                    try {
                        admin().update().resource(change).withId(id).withAdditionalHeader("If-Match", ifMatch("1")).execute();
                        return 200;
                    } catch (PreconditionFailedException e) {
                        return 412;
                    }
                }));
            }
            start.countDown();
            java.util.List<Integer> statuses = new java.util.ArrayList<>();
            for (var answer : answers) {
                statuses.add(answer.get(60, java.util.concurrent.TimeUnit.SECONDS));
            }
            assertThat(statuses).containsOnly(200, 412).filteredOn(s -> s == 200).hasSize(1);
        } finally {
            pool.shutdownNow();
        }
        assertThat(admin().read().resource(Practitioner.class).withId(id).execute().getMeta().getVersionId()).isEqualTo("2");
    }

    @Test
    void staleIfMatch_onConsentUpdate_is412_andNoPartnerIsNotified() {
        Registered clinic = Participants.registerNew(this, "Klinik");
        Registered partner = Participants.registerNew(this, "Partner");
        IGenericClient client = client(clinic.token());
        String patientId = Conversations.createPatient(client, Conversations.patient("Einwilligung", "Greta", Conversations.kvnr()));
        String consentId = Conversations.uploadConsent(client, patientId, partner.organizationId());
        Consent current = client.read().resource(Consent.class).withId(consentId).execute();
        assertThat(current.getMeta().getVersionId()).isEqualTo("1");
        String partnerContact = "kontakt@" + partner.organizationId() + ".example.org";
        int mailsBefore = mailsTo(partnerContact).size();

        assertVersionConflict(() -> client.update().resource(current).withId(consentId)
                .withAdditionalHeader("If-Match", ifMatch("2")).execute());
        assertThat(client.read().resource(Consent.class).withId(consentId).execute().getMeta().getVersionId()).isEqualTo("1");
        assertThat(vread(client, Consent.class, consentId, "1").getStatus()).isEqualTo(Consent.ConsentState.ACTIVE);
        assertThat(mailsTo(partnerContact)).hasSize(mailsBefore);
    }

    @Test
    void ifMatchOnAPatientTheCallerDoesNotSee_isNotFound_notAVersionAnswer() {
        Registered clinic = Participants.registerNew(this, "Klinik");
        Registered stranger = Participants.registerNew(this, "Fremde");
        String id = Conversations.createPatient(client(clinic.token()), Conversations.patient("Verborgen", "Hanna", Conversations.kvnr()));
        Patient guess = Conversations.patient("Verborgen", "Hanna", null);
        guess.setId(id);
        assertNotFound(() -> client(stranger.token()).update().resource(guess).withId(id)
                .withAdditionalHeader("If-Match", ifMatch("9")).execute());
    }
}
