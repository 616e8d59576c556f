package org.carerelay.gateway.directory;

import ca.uhn.fhir.context.FhirContext;
import java.util.List;
import org.hl7.fhir.r4.model.Endpoint;
import org.hl7.fhir.r4.model.StringType;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;
import org.springframework.boot.ApplicationArguments;
import org.springframework.boot.ApplicationRunner;
import org.springframework.jdbc.core.simple.JdbcClient;
import org.springframework.stereotype.Component;

/**
 * Encrypts {@code Endpoint.header} entries that earlier versions stored in plaintext, on start, in
 * the current version and in the history. Deliveries read both forms meanwhile, so nothing waits
 * for it; a row that cannot be converted is logged by id and tried again on the next start.
 */
@Component
public class EndpointHeaderMigration implements ApplicationRunner {

    private static final Logger log = LoggerFactory.getLogger(EndpointHeaderMigration.class);

    private final JdbcClient jdbc;
    private final EndpointSecrets secrets;
    private final FhirContext fhirContext;

    public EndpointHeaderMigration(JdbcClient jdbc, EndpointSecrets secrets, FhirContext fhirContext) {
        this.jdbc = jdbc;
        this.secrets = secrets;
        this.fhirContext = fhirContext;
    }

    @Override
    public void run(ApplicationArguments args) {
        try {
            int converted = migrate();
            if (converted > 0) {
                log.info("Encrypted the header entries of {} endpoint versions", converted);
            }
        } catch (RuntimeException e) {
            log.error("Encrypting stored endpoint headers failed: {}", e.getClass().getSimpleName());
        }
    }

    /** Encrypts what is left in plaintext; returns the number of rows (versions) converted. */
    public int migrate() {
        int converted = 0;
        for (String table : List.of("fhir_resource", "fhir_resource_history")) {
            record Row(String id, int version, String json) {
            }
            List<Row> rows = jdbc.sql("select id, version_id, content::text from " + table
                            + " where resource_type = 'Endpoint' and jsonb_typeof(content->'header') = 'array'"
                            // only rows with an entry left in plaintext: on later starts this finds nothing
                            + " and exists (select 1 from jsonb_array_elements_text(content->'header') h where h not like ?)")
                    .param(EndpointSecrets.SEALED_PREFIX + "%")
                    .query((rs, i) -> new Row(rs.getString(1), rs.getInt(2), rs.getString(3))).list();
            for (Row row : rows) {
                try {
                    Endpoint endpoint = fhirContext.newJsonParser().parseResource(Endpoint.class, row.json());
                    boolean plain = endpoint.getHeader().stream().map(StringType::getValue)
                            .anyMatch(v -> v != null && !EndpointSecrets.isSealed(v));
                    if (!plain) {
                        continue;
                    }
                    endpoint.setHeader(endpoint.getHeader().stream().map(StringType::getValue)
                            .filter(v -> v != null && !v.isBlank())
                            .map(v -> new StringType(EndpointSecrets.isSealed(v) ? v : secrets.seal(row.id(), v))).toList());
                    String json = fhirContext.newJsonParser().encodeResourceToString(endpoint);
                    converted += jdbc.sql("update " + table + " set content = ?::jsonb"
                                    + " where resource_type = 'Endpoint' and id = ? and version_id = ?")
                            .params(json, row.id(), row.version()).update();
                } catch (RuntimeException e) {
                    log.error("The headers of Endpoint/{} (version {}) could not be encrypted ({})", row.id(), row.version(),
                            e.getClass().getSimpleName());
                }
            }
        }
        return converted;
    }
}
