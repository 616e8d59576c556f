package org.carerelay.gateway.store;

import ca.uhn.fhir.context.FhirContext;
import ca.uhn.fhir.parser.IParser;
import java.sql.Timestamp;
import java.time.Instant;
import java.util.Date;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.UUID;
import org.hl7.fhir.instance.model.api.IBaseResource;
import org.hl7.fhir.r4.model.Resource;
import org.springframework.jdbc.core.simple.JdbcClient;
import org.springframework.stereotype.Repository;
import org.springframework.transaction.annotation.Transactional;

/**
 * Stores FHIR resources as JSON (PostgreSQL {@code jsonb}), current version plus full history.
 * Searches are SQL predicates over the JSON, written by the resource providers.
 */
@Repository
public class ResourceStore {

    private final JdbcClient jdbc;
    private final FhirContext fhirContext;

    public ResourceStore(JdbcClient jdbc, FhirContext fhirContext) {
        this.jdbc = jdbc;
        this.fhirContext = fhirContext;
    }

    private IParser parser() {
        return fhirContext.newJsonParser();
    }

    public static String newId() {
        return UUID.randomUUID().toString();
    }

    /** Writes {@code resource} as a new resource; assigns an id when it has none. */
    @Transactional
    public <T extends Resource> T create(T resource) {
        String id = resource.getIdElement().hasIdPart() ? resource.getIdElement().getIdPart() : newId();
        return write(resource, id, 1, true);
    }

    /** Writes a new version of an existing resource, or the first version if it does not exist. */
    @Transactional
    public <T extends Resource> T update(T resource) {
        String type = resource.fhirType();
        String id = resource.getIdElement().getIdPart();
        Integer current = jdbc.sql("select version_id from fhir_resource where resource_type = ? and id = ? for update")
                .params(type, id).query(Integer.class).optional().orElse(null);
        return write(resource, id, current == null ? 1 : current + 1, current == null);
    }

    public boolean exists(String type, String id) {
        return jdbc.sql("select count(*) from fhir_resource where resource_type = ? and id = ?")
                .params(type, id).query(Integer.class).single() > 0;
    }

    private <T extends Resource> T write(T resource, String id, int version, boolean insert) {
        String type = resource.fhirType();
        Instant now = Instant.now();
        resource.setId(type + "/" + id + "/_history/" + version);
        resource.getMeta().setVersionId(Integer.toString(version)).setLastUpdated(Date.from(now));
        String json = parser().encodeResourceToString(resource);
        Timestamp ts = Timestamp.from(now);
        if (insert) {
            jdbc.sql("insert into fhir_resource (resource_type, id, version_id, last_updated, content) values (?, ?, ?, ?, ?::jsonb)")
                    .params(type, id, version, ts, json).update();
        } else {
            jdbc.sql("update fhir_resource set version_id = ?, last_updated = ?, content = ?::jsonb where resource_type = ? and id = ?")
                    .params(version, ts, json, type, id).update();
        }
        jdbc.sql("insert into fhir_resource_history (resource_type, id, version_id, last_updated, content) values (?, ?, ?, ?, ?::jsonb)")
                .params(type, id, version, ts, json).update();
        return resource;
    }

    public <T extends IBaseResource> Optional<T> read(Class<T> type, String id) {
        return jdbc.sql("select content::text from fhir_resource where resource_type = ? and id = ?")
                .params(fhirContext.getResourceType(type), id)
                .query(String.class).optional()
                .map(json -> parser().parseResource(type, json));
    }

    /**
     * Resources of {@code type} matching {@code where} (an SQL predicate over the column
     * {@code content}, with named parameters), ordered by last update, newest first.
     */
    public <T extends IBaseResource> List<T> search(Class<T> type, String where, Map<String, ?> params, int limit, int offset) {
        String sql = "select content::text from fhir_resource where resource_type = :type"
                + (where == null || where.isBlank() ? "" : " and (" + where + ")")
                + " order by last_updated desc, id limit :limit offset :offset";
        return jdbc.sql(sql)
                .params(params)
                .param("type", fhirContext.getResourceType(type))
                .param("limit", limit)
                .param("offset", offset)
                .query(String.class).list().stream()
                .map(json -> parser().parseResource(type, json))
                .toList();
    }

    public int count(Class<? extends IBaseResource> type, String where, Map<String, ?> params) {
        String sql = "select count(*) from fhir_resource where resource_type = :type"
                + (where == null || where.isBlank() ? "" : " and (" + where + ")");
        return jdbc.sql(sql).params(params).param("type", fhirContext.getResourceType(type))
                .query(Integer.class).single();
    }
}
