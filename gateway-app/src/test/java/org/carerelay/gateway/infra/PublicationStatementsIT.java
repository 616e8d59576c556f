package org.carerelay.gateway.infra;

import static org.assertj.core.api.Assertions.assertThat;
import static org.awaitility.Awaitility.await;

import java.time.Duration;
import java.time.Instant;
import java.util.ArrayList;
import java.util.List;
import java.util.UUID;
import org.carerelay.gateway.GatewayIntegrationTest;
import org.junit.jupiter.api.Test;
import org.springframework.beans.factory.annotation.Autowired;
import org.springframework.jdbc.core.simple.JdbcClient;
import org.springframework.modulith.events.core.EventPublicationRepository;

/**
 * The registry's hand-over statements find a publication by its primary key however full the table
 * is: a backlog of open publications does not turn every hand-over into a read of the whole table.
 * The statements first run many times while the table is nearly empty (where a plan kept by the
 * connection would be a sequential scan), then the table fills and publications are marked and
 * deleted: PostgreSQL's own statistics must count the primary key's scans.
 */
class PublicationStatementsIT extends GatewayIntegrationTest {

    static final String MARKER = "publication-statements-it-";
    static final int BACKLOG = 3_000;
    static final int HANDED_OVER = 50;

    @Autowired
    EventPublicationRepository publications;

    @Autowired
    JdbcClient jdbc;

    @Test
    void handOverStatements_useThePrimaryKey_whenABacklogFilledTheTableAfterTheyRan() {
        assertThat(publications).isInstanceOf(PublicationStatements.PlannedPerExecution.class);
        try {
            // a quiet pipeline: a few open publications, the table's statistics taken (as autovacuum would)
            backlog(20);
            jdbc.sql("vacuum analyze event_publication").update();
            // the statements as such a pipeline sends them, many times on this thread's connection
            for (int i = 0; i < 30; i++) {
                publications.markProcessing(UUID.randomUUID());
                publications.markCompleted(UUID.randomUUID(), Instant.now());
            }
            // then a backlog: thousands of open publications
            backlog(BACKLOG - 20);
            List<UUID> ids = new ArrayList<>(jdbc.sql("select id from event_publication where serialized_event like ? limit ?")
                    .params(MARKER + "%", HANDED_OVER).query(UUID.class).list());
            long scansBefore = primaryKeyScans();

            for (UUID id : ids) {
                publications.markProcessing(id);
            }
            // checked by the marker, not by id: the test's own reads must not count as scans of the key
            assertThat(markedRows("PROCESSING")).isEqualTo(HANDED_OVER);
            for (UUID id : ids) {
                publications.markCompleted(id, Instant.now());
            }
            assertThat(markedRows("PROCESSING")).as("deleted on completion").isZero();
            assertThat(markedRows("PUBLISHED")).isEqualTo(BACKLOG - HANDED_OVER);

            // each statement of the hand-over looked its publication up by the key (statistics arrive within a second)
            await().atMost(Duration.ofSeconds(15)).pollInterval(Duration.ofMillis(300))
                    .until(() -> primaryKeyScans() - scansBefore >= 2L * HANDED_OVER);
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

    private long primaryKeyScans() {
        return jdbc.sql("select idx_scan from pg_stat_user_indexes where indexrelname = 'event_publication_pkey'")
                .query(Long.class).single();
    }
}
