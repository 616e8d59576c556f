package org.carerelay.gateway.fhir;

import static org.assertj.core.api.Assertions.assertThat;
import static org.awaitility.Awaitility.await;

import ca.uhn.fhir.rest.client.api.IGenericClient;
import ca.uhn.fhir.rest.server.exceptions.UnprocessableEntityException;
import java.time.Duration;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.TimeUnit;
import org.carerelay.fhir.ErrorCode;
import org.carerelay.fhir.Systems;
import org.carerelay.gateway.Conversations;
import org.carerelay.gateway.GatewayIntegrationTest;
import org.carerelay.gateway.Participants;
import org.carerelay.gateway.Participants.Registered;
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

    /** Runs {@code change} in a transaction that commits only once {@code request} waits for its row lock. */
    private <T> T whileARequestWaits(Runnable change, java.util.function.Supplier<T> request) throws Exception {
        CompletableFuture<T>[] running = new CompletableFuture[1];
        new TransactionTemplate(transactions).executeWithoutResult(status -> {
            change.run();
            running[0] = CompletableFuture.supplyAsync(request);
            await().atMost(Duration.ofSeconds(20)).until(() -> running[0].isDone() || jdbc.sql(
                    "select count(*) from pg_stat_activity where wait_event_type = 'Lock' and query like '%fhir_resource%for update%'")
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
}
