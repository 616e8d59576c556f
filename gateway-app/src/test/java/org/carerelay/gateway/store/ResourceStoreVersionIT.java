package org.carerelay.gateway.store;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import java.util.ArrayList;
import java.util.List;
import java.util.UUID;
import java.util.stream.IntStream;
import org.carerelay.gateway.GatewayIntegrationTest;
import org.hl7.fhir.r4.model.Basic;
import org.hl7.fhir.r4.model.CodeableConcept;
import org.junit.jupiter.api.Test;
import org.springframework.beans.factory.annotation.Autowired;
import org.springframework.transaction.PlatformTransactionManager;
import org.springframework.transaction.support.TransactionTemplate;

/**
 * An update writes the version after the one it locked, and nothing when the stored one is another;
 * which of some ids exist is answered for few and for many ids alike.
 */
class ResourceStoreVersionIT extends GatewayIntegrationTest {

    @Autowired
    ResourceStore store;
    @Autowired
    PlatformTransactionManager transactions;

    @Test
    void updateLocked_withTheVersionLocked_writesTheNext_withAnotherVersion_writesNothing() {
        TransactionTemplate tx = new TransactionTemplate(transactions);
        String id = tx.execute(status -> store.create(new Basic().setCode(new CodeableConcept().setText("v1")))
                .getIdElement().getIdPart());

        tx.executeWithoutResult(status -> {
            Integer locked = store.lockVersion("Basic", id, null);
            Basic basic = store.read(Basic.class, id).orElseThrow();
            basic.getCode().setText("v2");
            assertThat(store.updateLocked(basic, locked).getMeta().getVersionId()).isEqualTo("2");
        });

        assertThatThrownBy(() -> tx.executeWithoutResult(status -> {
            Integer locked = store.lockVersion("Basic", id, null);
            Basic basic = store.read(Basic.class, id).orElseThrow();
            basic.getCode().setText("stale");
            store.updateLocked(basic, locked - 1); // as if it had locked version 1
        })).isInstanceOf(IllegalStateException.class).hasMessageContaining("not at version 1");

        Basic stored = store.read(Basic.class, id).orElseThrow();
        assertThat(stored.getMeta().getVersionId()).isEqualTo("2");
        assertThat(stored.getCode().getText()).isEqualTo("v2");
        assertThat(store.readVersion(Basic.class, id, "3")).isEmpty();
    }

    @Test
    void existing_namesTheIdsThatExist_asParametersOrAsOneArray() {
        TransactionTemplate tx = new TransactionTemplate(transactions);
        List<String> created = tx.execute(status -> IntStream.range(0, 3)
                .mapToObj(i -> store.create(new Basic().setCode(new CodeableConcept().setText("e" + i))).getIdElement().getIdPart())
                .toList());
        List<String> few = new ArrayList<>(created);
        few.add("unknown-" + UUID.randomUUID());
        few.add(created.get(0)); // named twice
        assertThat(store.existing("Basic", few)).containsExactlyInAnyOrderElementsOf(created);
        assertThat(store.existing("Organization", few)).isEmpty(); // another type

        List<String> many = new ArrayList<>(created);
        for (int i = 0; i < ResourceStore.IN_LIST_MAX + 50; i++) {
            many.add("unknown-" + i);
        }
        assertThat(store.existing("Basic", many)).containsExactlyInAnyOrderElementsOf(created);
        assertThat(store.existing("Basic", List.of())).isEmpty();
    }
}
