package org.carerelay.gateway.audit;

import ca.uhn.fhir.context.FhirContext;
import ca.uhn.fhir.rest.annotation.Count;
import ca.uhn.fhir.rest.annotation.IdParam;
import ca.uhn.fhir.rest.annotation.Offset;
import ca.uhn.fhir.rest.annotation.OptionalParam;
import ca.uhn.fhir.rest.annotation.Read;
import ca.uhn.fhir.rest.annotation.Search;
import ca.uhn.fhir.rest.api.server.IBundleProvider;
import org.carerelay.gateway.store.SearchPage;
import ca.uhn.fhir.rest.param.DateRangeParam;
import ca.uhn.fhir.rest.param.ReferenceParam;
import ca.uhn.fhir.rest.param.TokenParam;
import ca.uhn.fhir.rest.server.IResourceProvider;
import ca.uhn.fhir.rest.server.exceptions.ResourceNotFoundException;
import java.sql.Timestamp;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import org.hl7.fhir.r4.model.AuditEvent;
import org.hl7.fhir.r4.model.IdType;
import org.springframework.jdbc.core.simple.JdbcClient;
import org.springframework.stereotype.Component;

/** Read-only access to the audit trail (operator only, see AccessRules). */
@Component
public class AuditEventResourceProvider implements IResourceProvider {

    private static final int DEFAULT_COUNT = 100;
    private static final int MAX_COUNT = 1000;
    private final JdbcClient jdbc;
    private final FhirContext fhirContext;

    public AuditEventResourceProvider(JdbcClient jdbc, FhirContext fhirContext) {
        this.jdbc = jdbc;
        this.fhirContext = fhirContext;
    }

    @Override
    public Class<AuditEvent> getResourceType() {
        return AuditEvent.class;
    }

    @Read
    public AuditEvent read(@IdParam IdType id) {
        return jdbc.sql("select content::text from audit_event where id::text = ?").param(id.getIdPart())
                .query(String.class).optional()
                .map(json -> fhirContext.newJsonParser().parseResource(AuditEvent.class, json))
                .orElseThrow(() -> new ResourceNotFoundException(id));
    }

    /** Newest first. {@code agent} and {@code entity} match the stored reference exactly. */
    @Search
    public IBundleProvider search(
            @OptionalParam(name = AuditEvent.SP_DATE) DateRangeParam date,
            @OptionalParam(name = AuditEvent.SP_AGENT) ReferenceParam agent,
            @OptionalParam(name = AuditEvent.SP_ENTITY) ReferenceParam entity,
            @OptionalParam(name = AuditEvent.SP_SUBTYPE) TokenParam subtype,
            @OptionalParam(name = AuditEvent.SP_OUTCOME) TokenParam outcome,
            @Count Integer count,
            @Offset Integer offset) {
        List<String> where = new ArrayList<>();
        Map<String, Object> params = new LinkedHashMap<>();
        if (date != null) {
            if (date.getLowerBoundAsInstant() != null) {
                where.add("recorded >= :from");
                params.put("from", new Timestamp(date.getLowerBoundAsInstant().getTime()));
            }
            if (date.getUpperBoundAsInstant() != null) {
                where.add("recorded <= :to");
                params.put("to", new Timestamp(date.getUpperBoundAsInstant().getTime()));
            }
        }
        if (agent != null && agent.getIdPart() != null) {
            where.add("agent_who = :agent");
            params.put("agent", agent.getResourceType() == null ? agent.getValue() : agent.getResourceType() + "/" + agent.getIdPart());
        }
        if (entity != null && entity.getIdPart() != null) {
            where.add("entity_what = :entity");
            params.put("entity", entity.getResourceType() == null ? entity.getValue() : entity.getResourceType() + "/" + entity.getIdPart());
        }
        if (subtype != null && subtype.getValue() != null) {
            where.add("subtype_code = :subtype");
            params.put("subtype", subtype.getValue());
        }
        if (outcome != null && outcome.getValue() != null) {
            where.add("outcome = :outcome");
            params.put("outcome", outcome.getValue());
        }
        String filter = where.isEmpty() ? "" : " where " + String.join(" and ", where);
        // id breaks ties between events recorded in the same microsecond, so pages neither overlap nor skip
        return SearchPage.of(SearchPage.offset(offset), SearchPage.pageSize(count, DEFAULT_COUNT, MAX_COUNT),
                () -> jdbc.sql("select count(*) from audit_event" + filter).params(params).query(Integer.class).single(),
                (from, size) -> jdbc.sql("select content::text from audit_event" + filter
                                + " order by recorded desc, id limit :limit offset :offset")
                        .params(params).param("limit", size).param("offset", from).query(String.class).list().stream()
                        .map(json -> fhirContext.newJsonParser().parseResource(AuditEvent.class, json))
                        .toList());
    }
}
