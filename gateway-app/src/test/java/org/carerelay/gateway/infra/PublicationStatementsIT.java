package org.carerelay.gateway.infra;

import static org.assertj.core.api.Assertions.assertThat;

import java.time.Instant;
import java.util.List;
import java.util.UUID;
import org.carerelay.gateway.GatewayIntegrationTest;
import org.junit.jupiter.api.Test;
import org.springframework.beans.factory.annotation.Autowired;
import org.springframework.jdbc.core.simple.JdbcClient;
import org.springframework.modulith.events.core.EventPublicationRepository;
import org.springframework.transaction.support.TransactionTemplate;

/**
 * The registry's hand-over statements find a publication by its primary key however full the table
 * is: a backlog of open publications does not turn every hand-over into a read of the whole table.
 * On one connection (a transaction, rolled back at the end), the statements first run many times
 * while the table is nearly empty (where a plan kept by the connection would be a sequential scan),
 * then the table fills and publications are marked and deleted: PostgreSQL's statistics of the
 * transaction must count scans of the primary key and no sequential scan.
 */
class PublicationStatementsIT extends GatewayIntegrationTest {

    static final String MARKER = "publication-statements-it-";
    static final int BACKLOG = 3_000;
    static final int HANDED_OVER = 50;

    @Autowired
    EventPublicationRepository publications;

    @Autowired
    JdbcClient jdbc;

    @Autowired
    TransactionTemplate tx;

    @Test
    void handOverStatements_useThePrimaryKey_whenABacklogFilledTheTableAfterTheyRan() {
        assertThat(publications).isInstanceOf(PublicationStatements.PlannedPerExecution.class);
        try {
            // a quiet pipeline: a few open publications, the table's statistics taken (as autovacuum would)
            backlog(20);
            jdbc.sql("vacuum analyze event_publication").update();
            tx.executeWithoutResult(status -> {
                status.setRollbackOnly();
                // the statements as such a pipeline sends them, many times on this connection
                for (int i = 0; i < 30; i++) {
                    publications.markProcessing(UUID.randomUUID());
                    publications.markCompleted(UUID.randomUUID(), Instant.now());
                }
                // then a backlog: thousands of open publications
                backlog(BACKLOG - 20);
                List<UUID> ids = jdbc.sql("select id from event_publication where serialized_event like ? limit ?")
                        .params(MARKER + "%", HANDED_OVER).query(UUID.class).list();
                long[] before = scans();

                for (UUID id : ids) {
                    publications.markProcessing(id);
                }
                for (UUID id : ids) {
                    publications.markCompleted(id, Instant.now());
                }

                long[] after = scans();
                assertThat(after[0] - before[0]).as("sequential scans of event_publication").isZero();
                assertThat(after[1] - before[1]).as("index scans of event_publication").isGreaterThanOrEqualTo(2L * HANDED_OVER);
                // checked by the marker (after counting): marked, then deleted on completion
                assertThat(markedRows("PROCESSING")).isZero();
                assertThat(markedRows("PUBLISHED")).isEqualTo(BACKLOG - HANDED_OVER);
            });
        } finally {
            jdbc.sql("delete from event_publication where serialized_event like ?").param(MARKER + "%").update();
        }
    }

    @Test
    void handOver_marksThePublicationProcessing_thenDeletesIt() {
        try {
            backlog(1);
            UUID id = jdbc.sql("select id from event_publication where serialized_event like ?").param(MARKER + "%")
                    .query(UUID.class).single();
            publications.markProcessing(id);
            assertThat(markedRows("PROCESSING")).isEqualTo(1);
            publications.markCompleted(id, Instant.now());
            assertThat(markedRows("PROCESSING")).isZero();
            assertThat(markedRows("PUBLISHED")).isZero();
        } finally {
            jdbc.sql("delete from event_publication where serialized_event like ?").param(MARKER + "%").update();
        }
    }

    private void backlog(int publications) {
        jdbc.sql("insert into event_publication (id, listener_id, event_type, serialized_event, publication_date, status, "
                + "completion_attempts) select gen_random_uuid(), 'test.publication-statements', 'java.lang.String', "
                + "? || gen_random_uuid(), now(), 'PUBLISHED', 1 from generate_series(1, ?)").params(MARKER, publications).update();
    }

    private int markedRows(String status) {
        return jdbc.sql("select count(*) from event_publication where serialized_event like ? and status = ?")
                .params(MARKER + "%", status).query(Integer.class).single();
    }

    /** Sequential and index scans of event_publication in the current transaction. */
    private long[] scans() {
        return jdbc.sql("select seq_scan, idx_scan from pg_stat_xact_user_tables where relname = 'event_publication'")
                .query((rs, i) -> new long[] {rs.getLong(1), rs.getLong(2)}).single();
    }
}
