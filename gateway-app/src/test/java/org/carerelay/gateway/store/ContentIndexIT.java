package org.carerelay.gateway.store;

import static org.assertj.core.api.Assertions.assertThat;

import java.util.List;
import org.carerelay.gateway.GatewayIntegrationTest;
import org.junit.jupiter.api.Test;
import org.springframework.beans.factory.annotation.Autowired;
import org.springframework.jdbc.core.simple.JdbcClient;

/**
 * The GIN index over the stored resources' content has no pending list: a search by content
 * (an organisation by identifier, on every HL7v2 message) reads only the index, not also every
 * key written since the last vacuum (each changed patient writes some).
 */
class ContentIndexIT extends GatewayIntegrationTest {

    @Autowired
    JdbcClient jdbc;

    @Test
    void theContentIndex_mergesEveryWriteAtOnce() {
        List<String> options = jdbc.sql("select unnest(reloptions) from pg_class where relname = 'fhir_resource_content_idx'")
                .query(String.class).list();
        assertThat(options).contains("fastupdate=off");
    }
}
