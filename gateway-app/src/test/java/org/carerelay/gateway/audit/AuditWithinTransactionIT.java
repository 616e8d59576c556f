package org.carerelay.gateway.audit;

import static org.assertj.core.api.Assertions.assertThat;

import java.sql.Timestamp;
import java.time.Duration;
import java.util.List;
import java.util.UUID;
import org.carerelay.gateway.GatewayIntegrationTest;
import org.hl7.fhir.r4.model.AuditEvent.AuditEventAction;
import org.hl7.fhir.r4.model.AuditEvent.AuditEventOutcome;
import org.junit.jupiter.api.Test;
import org.springframework.beans.factory.annotation.Autowired;
import org.springframework.jdbc.core.simple.JdbcClient;
import org.springframework.transaction.PlatformTransactionManager;
import org.springframework.transaction.TransactionDefinition;
import org.springframework.transaction.support.TransactionSynchronization;
import org.springframework.transaction.support.TransactionSynchronizationManager;
import org.springframework.transaction.support.TransactionTemplate;

/**
 * Entries recorded within a database transaction are written together just before it commits:
 * each kept exactly when its transaction commits, with the time it was recorded, also when a
 * transaction of its own runs in between, and whatever their number.
 */
class AuditWithinTransactionIT extends GatewayIntegrationTest {

    @Autowired
    AuditService audit;
    @Autowired
    JdbcClient jdbc;
    @Autowired
    PlatformTransactionManager transactions;

    private static AuditService.Entry entry(String marker, int n) {
        return new AuditService.Entry("test-within", AuditEventAction.R, AuditEventOutcome._0, "Organization/test",
                "192.0.2.1", "Marker/" + marker + "-" + n, null);
    }

    private List<String> written(String marker) {
        return jdbc.sql("select entity_what from audit_event where entity_what like ? order by recorded, entity_what")
                .param("Marker/" + marker + "-%").query(String.class).list();
    }

    private Timestamp recorded(String entity) {
        return jdbc.sql("select recorded from audit_event where entity_what = ?").param(entity).query(Timestamp.class).single();
    }

    @Test
    void committed_allEntriesWithTheTimeTheyWereRecorded() throws Exception {
        String marker = UUID.randomUUID().toString();
        new TransactionTemplate(transactions).executeWithoutResult(status -> {
            audit.recordWithin(entry(marker, 1));
            sleep(Duration.ofMillis(300));
            audit.recordWithin(entry(marker, 2));
            audit.recordWithin(entry(marker, 3));
            sleep(Duration.ofMillis(300));
        });

        assertThat(written(marker)).containsExactly("Marker/" + marker + "-1", "Marker/" + marker + "-2", "Marker/" + marker + "-3");
        // recorded when recorded, not when the transaction committed
        long first = recorded("Marker/" + marker + "-1").getTime();
        long second = recorded("Marker/" + marker + "-2").getTime();
        assertThat(second - first).isBetween(250L, 5_000L);
        assertThat(System.currentTimeMillis() - second).isGreaterThanOrEqualTo(250L);
    }

    @Test
    void rolledBack_noEntry_butThoseOfATransactionOfItsOwnInBetweenStay() {
        String marker = UUID.randomUUID().toString();
        TransactionTemplate outer = new TransactionTemplate(transactions);
        TransactionTemplate inner = new TransactionTemplate(transactions);
        inner.setPropagationBehavior(TransactionDefinition.PROPAGATION_REQUIRES_NEW);
        outer.executeWithoutResult(status -> {
            audit.recordWithin(entry(marker, 1));
            inner.executeWithoutResult(innerStatus -> audit.recordWithin(entry(marker, 2)));
            audit.recordWithin(entry(marker, 3));
            status.setRollbackOnly();
        });

        assertThat(written(marker)).containsExactly("Marker/" + marker + "-2");
    }

    @Test
    void recordedInTheCommitsOwnWork_afterTheEntriesWentOut_writtenAtOnce() {
        String marker = UUID.randomUUID().toString();
        new TransactionTemplate(transactions).executeWithoutResult(status -> {
            audit.recordWithin(entry(marker, 1));
            // runs after the audit's own before-commit work (lowest precedence, the default)
            TransactionSynchronizationManager.registerSynchronization(new TransactionSynchronization() {
                @Override
                public void beforeCommit(boolean readOnly) {
                    audit.recordWithin(entry(marker, 2));
                }
            });
        });

        assertThat(written(marker)).containsExactly("Marker/" + marker + "-1", "Marker/" + marker + "-2");
    }

    @Test
    void manyEntriesInOneTransaction_allWritten() {
        String marker = UUID.randomUUID().toString();
        // more than one statement can carry (65,535 parameters, 9 per entry)
        int count = 65_535 / 9 + 200;
        new TransactionTemplate(transactions).executeWithoutResult(status -> {
            for (int i = 0; i < count; i++) {
                audit.recordWithin(entry(marker, i));
            }
        });

        assertThat(written(marker)).hasSize(count).doesNotHaveDuplicates();
    }

    @Test
    void withoutATransaction_writtenAtOnce() {
        String marker = UUID.randomUUID().toString();
        audit.recordWithin(entry(marker, 1));

        assertThat(written(marker)).containsExactly("Marker/" + marker + "-1");
    }

    private static void sleep(Duration duration) {
        try {
            Thread.sleep(duration.toMillis());
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            throw new IllegalStateException(e);
        }
    }
}
