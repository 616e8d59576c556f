package org.carerelay.gateway.audit;

import java.sql.Timestamp;
import java.time.Instant;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.UUID;
import org.carerelay.fhir.Systems;
import org.carerelay.gateway.infra.AutonomousJdbc;
import org.carerelay.gateway.security.AuthenticationAudit;
import org.carerelay.gateway.security.Caller;
import org.hl7.fhir.instance.model.api.IBaseResource;
import org.hl7.fhir.r4.model.AuditEvent.AuditEventAction;
import org.hl7.fhir.r4.model.AuditEvent.AuditEventOutcome;
import org.springframework.jdbc.core.simple.JdbcClient;
import org.springframework.stereotype.Service;
import org.springframework.transaction.support.TransactionSynchronizationManager;

/**
 * Writes the audit trail as FHIR AuditEvents. Entries name who, what, when and the outcome, never
 * message text or patient data beyond a resource reference.
 */
@Service
public class AuditService implements AuthenticationAudit {

    static final String OBSERVER = "CareRelay gateway";
    /** Identifies a user account of the web inbox in an AuditEvent agent. */
    public static final String WEB_USER_SYSTEM = "https://fhir.carerelay.org/sid/web-user";
    private final JdbcClient jdbc;
    private final AutonomousJdbc autonomous;

    public AuditService(JdbcClient jdbc, AutonomousJdbc autonomous) {
        this.jdbc = jdbc;
        this.autonomous = autonomous;
    }

    /** One audit entry. {@code subtype} is a code of {@link Systems#AUDIT_SUBTYPE}. */
    public record Entry(String subtype, AuditEventAction action, AuditEventOutcome outcome, String agentWho,
            String clientAddress, String entityWhat, String description, Caller.Person person) {

        public Entry(String subtype, AuditEventAction action, AuditEventOutcome outcome, String agentWho,
                String clientAddress, String entityWhat, String description) {
            this(subtype, action, outcome, agentWho, clientAddress, entityWhat, description, null);
        }
    }

    /**
     * The entity of a read of version {@code version} of {@code type/id} (a vread): the event names
     * the version ({@code Type/id/_history/v}), the {@code entity} search finds it under {@code Type/id}.
     */
    public static String version(String type, String id, String version) {
        return version == null ? type + "/" + id : type + "/" + id + "/_history/" + version;
    }

    /**
     * Written and committed at once, whatever becomes of the transaction the calling thread is in:
     * a refused request still leaves its trace when its transaction rolls back. Inside a
     * transaction on a connection of its own ({@link AutonomousJdbc}); outside one the main pool's
     * connection commits it at once anyway.
     */
    public void record(Entry entry) {
        insertNow(List.of(entry));
    }

    /**
     * Written in the calling thread's transaction (at once when there is none): the entry is kept
     * exactly when what it records is committed, at no commit of its own.
     */
    public void recordWithin(Entry entry) {
        insertWithin(List.of(entry));
    }

    /**
     * The audit of one search page: one event per resource the caller was shown, naming it, so the
     * trail says who saw which resource; an empty page leaves one event without an entity. All
     * events go to the database in one statement, committed at once like {@link #record}.
     */
    public void searchPage(String subtype, Caller caller, String clientAddress, List<? extends IBaseResource> page) {
        List<Entry> entries = new ArrayList<>();
        for (IBaseResource resource : page) {
            entries.add(new Entry(subtype, AuditEventAction.R, AuditEventOutcome._0, caller.auditName(), clientAddress,
                    resource.fhirType() + "/" + resource.getIdElement().getIdPart(), null, caller.person()));
        }
        if (entries.isEmpty()) {
            entries.add(new Entry(subtype, AuditEventAction.R, AuditEventOutcome._0, caller.auditName(), clientAddress, null, null,
                    caller.person()));
        }
        insertNow(entries);
    }

    private void insertNow(List<Entry> entries) {
        if (TransactionSynchronizationManager.isActualTransactionActive()) {
            Statement statement = insert(entries);
            autonomous.update(statement.sql(), statement.params());
        } else {
            insertWithin(entries);
        }
    }

    private void insertWithin(List<Entry> entries) {
        Statement statement = insert(entries);
        jdbc.sql(statement.sql()).params(statement.params()).update();
    }

    private record Statement(String sql, List<Object> params) {
    }

    private static Statement insert(List<Entry> entries) {
        StringBuilder sql = new StringBuilder("""
                insert into audit_event (id, recorded, type_code, subtype_code, action, outcome, agent_who, entity_what, content)
                values """);
        List<Object> params = new ArrayList<>();
        for (Entry entry : entries) {
            Instant now = Instant.now();
            String id = UUID.randomUUID().toString();
            if (!params.isEmpty()) {
                sql.append(", ");
            }
            sql.append("(?::uuid, ?, ?, ?, ?, ?, ?, ?, ?::jsonb)");
            String entityWhat = entry.entityWhat();
            int history = entityWhat == null ? -1 : entityWhat.indexOf("/_history/");
            params.addAll(Arrays.asList(id, Timestamp.from(now), "rest", entry.subtype(),
                    entry.action() == null ? null : entry.action().toCode(), entry.outcome().toCode(),
                    entry.agentWho(), history < 0 ? entityWhat : entityWhat.substring(0, history), AuditJson.write(id, now, entry)));
        }
        return new Statement(sql.toString(), params);
    }

    /** A success, in the caller's transaction ({@link #recordWithin}): rolled back with what it records. */
    public void success(String subtype, AuditEventAction action, Caller caller, String clientAddress, String entity) {
        recordWithin(new Entry(subtype, action, AuditEventOutcome._0, caller.auditName(), clientAddress, entity, null,
                caller.person()));
    }

    /** A refusal or failure, committed at once ({@link #record}): it stays when the caller's transaction rolls back. */
    public void failure(String subtype, AuditEventAction action, Caller caller, String clientAddress, String entity,
            String why) {
        record(new Entry(subtype, action, AuditEventOutcome._4, caller.auditName(), clientAddress, entity, why,
                caller.person()));
    }

    @Override
    public void authenticationRefused(Caller caller, String clientAddress, String why) {
        failure("authentication", AuditEventAction.E, caller, clientAddress, caller.auditName(), why);
    }

    @Override
    public void authenticationFailed(String clientAddress, String path) {
        record(new Entry("authentication-failed", AuditEventAction.E, AuditEventOutcome._4, "anonymous",
                clientAddress, null, "Invalid bearer token on " + path));
    }
}
