package org.carerelay.gateway.fhir;

import static org.assertj.core.api.Assertions.assertThat;
import static org.awaitility.Awaitility.await;

import ca.uhn.fhir.rest.client.api.IGenericClient;
import ca.uhn.fhir.rest.server.exceptions.UnprocessableEntityException;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.time.Duration;
import java.util.UUID;
import java.util.function.Consumer;
import java.util.function.UnaryOperator;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.TimeUnit;
import org.carerelay.fhir.ErrorCode;
import org.carerelay.fhir.Systems;
import org.carerelay.gateway.Conversations;
import org.carerelay.gateway.GatewayIntegrationTest;
import org.carerelay.gateway.Mllp;
import org.carerelay.gateway.Participants;
import org.carerelay.gateway.Participants.Registered;
import org.carerelay.gateway.hl7.Hl7InboundIT;
import org.carerelay.gateway.store.ResourceStore;
import org.hl7.fhir.r4.model.Endpoint;
import org.hl7.fhir.r4.model.Organization;
import org.hl7.fhir.r4.model.Patient;
import org.junit.jupiter.api.Test;
import org.springframework.beans.factory.annotation.Autowired;
import org.springframework.jdbc.core.simple.JdbcClient;
import org.springframework.transaction.PlatformTransactionManager;
import org.springframework.transaction.support.TransactionTemplate;

/**
 * A change committed while another request is under way must not be undone by it. Each test
 * holds a change to a row open in its own transaction (as a concurrent request would), lets the
 * request through HTTP run into that row's lock, then commits: the request must build on the
 * committed change, never on what it read before.
 */
class LostUpdateIT extends GatewayIntegrationTest {

    @Autowired
    ResourceStore store;
    @Autowired
    PlatformTransactionManager transactions;
    @Autowired
    JdbcClient jdbc;

    /**
     * Runs {@code change} in a transaction that commits only once {@code request} waits for its row
     * lock (by {@code select … for update}, or by the update it tries first on the version it read).
     */
    private <T> T whileARequestWaits(Runnable change, java.util.function.Supplier<T> request) throws Exception {
        CompletableFuture<T>[] running = new CompletableFuture[1];
        new TransactionTemplate(transactions).executeWithoutResult(status -> {
            change.run();
            running[0] = CompletableFuture.supplyAsync(request);
            await().atMost(Duration.ofSeconds(20)).until(() -> running[0].isDone() || jdbc.sql(
                    "select count(*) from pg_stat_activity where wait_event_type = 'Lock' and (query like '%fhir_resource%for update%' or query like '%update fhir_resource%')")
                    .query(Integer.class).single() > 0);
        });
        return running[0].get(20, TimeUnit.SECONDS);
    }

    @Test
    void organisationPostingAnEndpointWhileTheOperatorDeactivatesIt_staysDeactivated() throws Exception {
        String orgId = Participants.create(admin(), Participants.newOrganization(unique("Abgemeldet"), null, null));
        Endpoint endpoint = new Endpoint();
        endpoint.setStatus(Endpoint.EndpointStatus.ACTIVE);
        endpoint.getConnectionType().setSystem(Systems.ENDPOINT_CONNECTION_TYPE).setCode("hl7-fhir-rest");
        endpoint.addPayloadType().addCoding().setSystem(Systems.ENDPOINT_PAYLOAD_TYPE).setCode("any");
        endpoint.setAddress("http://127.0.0.1:9/fhir");
        endpoint.getManagingOrganization().setReference("Organization/" + orgId);

        String endpointId = whileARequestWaits(() -> {
            // the operator's deactivation, not yet committed
            store.lockVersion("Organization", orgId, null);
            Organization org = store.read(Organization.class, orgId).orElseThrow();
            org.setActive(false);
            store.update(org);
        }, () -> admin().create().resource(endpoint).execute().getId().getIdPart());

        Organization after = admin().read().resource(Organization.class).withId(orgId).execute();
        assertThat(after.getActive()).as("active after the endpoint was linked").isFalse();
        assertThat(after.getEndpoint()).extracting(r -> r.getReferenceElement().getIdPart()).contains(endpointId);
    }

    @Test
    void changingAKvnrSetMeanwhile_isRefusedAgainstTheCommittedVersion() throws Exception {
        Registered clinic = Participants.registerNew(this, "Klinik");
        IGenericClient clinicClient = client(clinic.token());
        String id = Conversations.createPatient(clinicClient, Conversations.patient("Ohnekarte", "Frieda", null));
        Patient stale = clinicClient.read().resource(Patient.class).withId(id).execute();
        String setMeanwhile = Conversations.kvnr();
        String other = Conversations.kvnr();
        stale.addIdentifier().setSystem(Systems.KVNR).setValue(other);
        stale.setMeta(null);

        Object outcome = whileARequestWaits(() -> {
            // another request gives the patient its KVNR, not yet committed
            store.lockVersion("Patient", id, null);
            Patient current = store.read(Patient.class, id).orElseThrow();
            current.addIdentifier().setSystem(Systems.KVNR).setValue(setMeanwhile);
            store.update(current);
        }, () -> {
            try {
                return clinicClient.update().resource(stale).withId(id).execute();
            } catch (UnprocessableEntityException e) {
                return e;
            }
        });

        assertThat(outcome).isInstanceOfSatisfying(UnprocessableEntityException.class,
                e -> assertThat(errorCodeOf(e)).isEqualTo(ErrorCode.INVALID_RESOURCE));
        Patient after = store.read(Patient.class, id).orElseThrow();
        assertThat(after.getIdentifier()).filteredOn(i -> Systems.KVNR.equals(i.getSystem()))
                .extracting(i -> i.getValue()).containsExactly(setMeanwhile);
    }

    /** A new registered sender and its HL7 alias. */
    private record Hl7Sender(Registered organization, String alias) {
    }

    private Hl7Sender newHl7Sender() {
        Registered careService = Participants.registerNew(this, "Pflegedienst");
        String alias = "LU" + UUID.randomUUID().toString().substring(0, 8).toUpperCase();
        Participants.addHl7Alias(admin(), careService.organizationId(), alias);
        return new Hl7Sender(careService, alias);
    }

    /** A new sender and a patient it created by ADT^A01: {alias, patient id, KVNR}. */
    private String[] hl7PatientOfANewSender() {
        Hl7Sender sender = newHl7Sender();
        String kvnr = Conversations.kvnr();
        assertThat(Mllp.field(adt(sender.alias(), "A01", kvnr), "MSA", 1)).isEqualTo("AA");
        return new String[] {sender.alias(), Conversations.patientIdByKvnr(client(sender.organization().token()), kvnr), kvnr};
    }

    /** An ADT (fresh control id) with {@code Hl7InboundIT}'s demographics, {@code change} applied; returns the ACK. */
    private static String adt(String alias, String type, String kvnr, UnaryOperator<String> change) {
        String er7 = Hl7InboundIT.adt(alias, type + UUID.randomUUID().toString().substring(0, 8), kvnr);
        if (!"A01".equals(type)) {
            er7 = er7.replace("ADT^A01^", "ADT^" + type + "^").replace("EVN|A01|", "EVN|" + type + "|");
        }
        try {
            return Hl7InboundIT.send(change.apply(er7), Hl7InboundIT.LATIN1);
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        }
    }

    private static String adt(String alias, String type, String kvnr) {
        return adt(alias, type, kvnr, er7 -> er7);
    }

    /** Another request's change to the patient, under its row lock; not committed until the surrounding transaction is. */
    private void changeOfAnotherRequest(String id, Consumer<Patient> change) {
        store.lockVersion("Patient", id, null);
        Patient current = store.read(Patient.class, id).orElseThrow();
        change.accept(current);
        store.update(current);
    }

    @Test
    void anHl7MessageRepeatingTheStoredDemographics_isAcknowledgedWhileAnUpdateOfThePatientIsUnderWay() throws Exception {
        String[] sent = hl7PatientOfANewSender();
        String id = sent[1];
        String ack = new TransactionTemplate(transactions).execute(status -> {
            // another request holds the patient's row, not yet committed
            store.lockVersion("Patient", id, null);
            CompletableFuture<String> repeat = CompletableFuture.supplyAsync(() -> adt(sent[0], "A08", sent[2]));
            try {
                // it writes nothing, so it neither waits for that lock nor takes it
                return repeat.get(30, TimeUnit.SECONDS);
            } catch (Exception e) {
                throw new AssertionError("The repeated ADT^A08 waited for the patient's row lock", e);
            }
        });
        assertThat(Mllp.field(ack, "MSA", 1)).isEqualTo("AA");
        assertThat(store.currentVersion("Patient", id)).contains(1);
    }

    @Test
    void anHl7MessageThatChangesThePatient_buildsOnTheVersionCommittedMeanwhile() throws Exception {
        String[] sent = hl7PatientOfANewSender();
        String id = sent[1];
        // another request adds a phone number, not yet committed
        String ack = whileARequestWaits(() -> changeOfAnotherRequest(id, current -> current.addTelecom()
                        .setSystem(org.hl7.fhir.r4.model.ContactPoint.ContactPointSystem.PHONE).setValue("+49 3581 4711")),
                () -> adt(sent[0], "A08", sent[2], er7 -> er7.replace("Straße der Einheit 5", "Straße der Einheit 7")));

        assertThat(Mllp.field(ack, "MSA", 1)).isEqualTo("AA");
        Patient after = store.read(Patient.class, id).orElseThrow();
        assertThat(after.getMeta().getVersionId()).isEqualTo("3");
        assertThat(after.getTelecomFirstRep().getValue()).as("the change committed meanwhile").isEqualTo("+49 3581 4711");
        assertThat(after.getAddressFirstRep().getLine().get(0).getValue()).isEqualTo("Straße der Einheit 7");
    }

    @Test
    void anHl7MessageSayingWhatWasCommittedMeanwhile_writesNoVersionOfItsOwn() throws Exception {
        String[] sent = hl7PatientOfANewSender();
        String id = sent[1];
        // another request moves the patient, not yet committed
        String ack = whileARequestWaits(
                () -> changeOfAnotherRequest(id, current -> current.getAddressFirstRep().getLine().get(0).setValue("Straße der Einheit 7")),
                () -> adt(sent[0], "A08", sent[2], er7 -> er7.replace("Straße der Einheit 5", "Straße der Einheit 7")));

        assertThat(Mllp.field(ack, "MSA", 1)).isEqualTo("AA");
        assertThat(store.currentVersion("Patient", id)).contains(2);
    }

    @Test
    void aPatientMatchedByTheSendersOwnIdentifier_thatGetsAnotherKvnrMeanwhile_isNotOverwrittenWithTheMessagesPerson() throws Exception {
        Hl7Sender sender = newHl7Sender();
        IGenericClient careClient = client(sender.organization().token());
        String alias = sender.alias();
        String mrn = "M" + UUID.randomUUID().toString().substring(0, 8);
        String kvnrInMessage = Conversations.kvnr();
        // the patient as the sender first knew it: its own number, no KVNR
        String first = adt(alias, "A01", kvnrInMessage, er7 -> er7.replace(kvnrInMessage + "^^^KVNR^KVNR~4711^", mrn + "^"));
        assertThat(Mllp.field(first, "MSA", 1)).isEqualTo("AA");
        org.hl7.fhir.r4.model.Bundle seen = careClient.search().forResource(Patient.class).returnBundle(org.hl7.fhir.r4.model.Bundle.class)
                .execute();
        assertThat(seen.getEntry()).hasSize(1);
        String id = seen.getEntryFirstRep().getResource().getIdElement().getIdPart();
        String kvnrGivenMeanwhile = Conversations.kvnr();

        // another request gives that patient a KVNR, not yet committed; the message has the same
        // number of the sender's, with another KVNR and another person's name
        String ack = whileARequestWaits(
                () -> changeOfAnotherRequest(id, current -> current.addIdentifier().setSystem(Systems.KVNR).setValue(kvnrGivenMeanwhile)),
                () -> adt(alias, "A08", kvnrInMessage, er7 -> er7.replace("~4711^", "~" + mrn + "^").replace("Müßig^Jürgen", "Anders^Karl")));

        assertThat(Mllp.field(ack, "MSA", 1)).isEqualTo("AA");
        Patient matched = store.read(Patient.class, id).orElseThrow();
        assertThat(matched.getNameFirstRep().getFamily()).as("the patient that has the other KVNR now").isEqualTo("Müßig");
        assertThat(matched.getIdentifier()).filteredOn(i -> Systems.KVNR.equals(i.getSystem()))
                .extracting(i -> i.getValue()).containsExactly(kvnrGivenMeanwhile);
        Patient messages = store.read(Patient.class, Conversations.patientIdByKvnr(careClient, kvnrInMessage)).orElseThrow();
        assertThat(messages.getIdElement().getIdPart()).isNotEqualTo(id);
        assertThat(messages.getNameFirstRep().getFamily()).isEqualTo("Anders");
    }
}
