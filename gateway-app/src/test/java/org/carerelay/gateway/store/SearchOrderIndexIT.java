package org.carerelay.gateway.store;

import static org.assertj.core.api.Assertions.assertThat;

import java.util.List;
import org.carerelay.gateway.GatewayIntegrationTest;
import org.junit.jupiter.api.Test;
import org.springframework.beans.factory.annotation.Autowired;
import org.springframework.jdbc.core.simple.JdbcClient;
import org.springframework.transaction.PlatformTransactionManager;
import org.springframework.transaction.support.TransactionTemplate;

/**
 * A search page (the query ResourceStore.search runs: one type, newest first, id as tie-breaker)
 * can be read in index order: PostgreSQL needs no sort of all resources of the type for a page.
 */
class SearchOrderIndexIT extends GatewayIntegrationTest {

    @Autowired
    JdbcClient jdbc;
    @Autowired
    PlatformTransactionManager transactions;

    @Test
    void aPageOfOneResourceType_isReadInIndexOrder_withoutSortingTheWholeType() {
        List<String> plan = new TransactionTemplate(transactions).execute(status -> {
            // table statistics of a test database are tiny; ask whether the order can come from an index at all
            // (a sort is still planned, at a penalty, when no index gives the order)
            jdbc.sql("set local enable_seqscan = off").update();
            jdbc.sql("set local enable_bitmapscan = off").update();
            jdbc.sql("set local enable_sort = off").update();
            return jdbc.sql("explain select id, content::text, sealed from fhir_resource where resource_type = 'Organization'"
                    + " order by last_updated desc, id limit 50 offset 100").query(String.class).list();
        });
        String text = String.join("\n", plan);
        assertThat(text).contains("fhir_resource_type_updated_idx").doesNotContain("Sort");
    }
}
