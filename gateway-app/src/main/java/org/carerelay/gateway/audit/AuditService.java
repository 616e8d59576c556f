package org.carerelay.gateway.audit;

import java.sql.Timestamp;
import java.time.Instant;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.UUID;
import javax.sql.DataSource;
import org.carerelay.fhir.Systems;
import org.carerelay.gateway.infra.AutonomousJdbc;
import org.carerelay.gateway.security.AuthenticationAudit;
import org.carerelay.gateway.security.Caller;
import org.hl7.fhir.instance.model.api.IBaseResource;
import org.hl7.fhir.r4.model.AuditEvent.AuditEventAction;
import org.hl7.fhir.r4.model.AuditEvent.AuditEventOutcome;
import org.springframework.core.Ordered;
import org.springframework.jdbc.core.simple.JdbcClient;
import org.springframework.stereotype.Service;
import org.springframework.transaction.support.TransactionSynchronization;
import org.springframework.transaction.support.TransactionSynchronizationManager;

/**
 * Writes the audit trail as FHIR AuditEvents. Entries name who, what, when and the outcome, never
 * message text or patient data beyond a resource reference.
 */
@Service
public class AuditService implements AuthenticationAudit {

    static final String OBSERVER = "CareRelay gateway";
    static final int MAX_ROWS_PER_INSERT = 1000;
    /** Identifies a user account of the web inbox in an AuditEvent agent. */
    public static final String WEB_USER_SYSTEM = "https://fhir.carerelay.org/sid/web-user";
    private final JdbcClient jdbc;
    private final DataSource dataSource;
    private final AutonomousJdbc autonomous;

    public AuditService(JdbcClient jdbc, DataSource dataSource, AutonomousJdbc autonomous) {
        this.jdbc = jdbc;
        this.dataSource = dataSource;
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
     * exactly when what it records is committed, at no commit of its own. The entries of one
     * database transaction go to the database together, in one statement just before it commits
     * (each with the time it was recorded); a failure of that statement rolls the transaction back.
     * Not for a transaction's own commit callbacks: an entry recorded in its before-commit work
     * after the entries went out is written at once, one recorded after its commit is lost.
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
            Statement statement = insert(rows(entries));
            autonomous.update(statement.sql(), statement.params());
        } else {
            insertWithin(entries);
        }
    }

    private void insertWithin(List<Entry> entries) {
        List<List<Object>> rows = rows(entries);
        Pending pending = pendingOfThisTransaction();
        if (pending != null && !pending.written) {
            pending.rows.addAll(rows);
            return;
        }
        Statement statement = insert(rows);
        jdbc.sql(statement.sql()).params(statement.params()).update();
    }

    /**
     * The entries waiting for the commit of the database transaction the calling thread is in (a
     * new, empty list when it has none yet), or {@code null} outside one: a transaction of another
     * resource alone, or none at all.
     */
    private Pending pendingOfThisTransaction() {
        if (!TransactionSynchronizationManager.isSynchronizationActive() || !TransactionSynchronizationManager.isActualTransactionActive()
                || TransactionSynchronizationManager.getResource(dataSource) == null) {
            return null;
        }
        // the synchronizations of this transaction only: those of a transaction it suspended (REQUIRES_NEW) are set aside
        for (TransactionSynchronization synchronization : TransactionSynchronizationManager.getSynchronizations()) {
            if (synchronization instanceof Pending pending && pending.owner() == this) {
                return pending;
            }
        }
        Pending pending = new Pending();
        TransactionSynchronizationManager.registerSynchronization(pending);
        return pending;
    }

    /** Audit entries recorded in one transaction, written in one statement before anything else its commit runs. */
    private final class Pending implements TransactionSynchronization {
        private final List<List<Object>> rows = new ArrayList<>();
        /** Its entries went to the database: what is recorded later in the commit is written at once. */
        private boolean written;

        AuditService owner() {
            return AuditService.this;
        }

        @Override
        public int getOrder() {
            // before the other work done just before the commit (mail handed to the broker): a failed
            // insert rolls the transaction back before any of that has left the gateway
            return Ordered.HIGHEST_PRECEDENCE;
        }

        @Override
        public void beforeCommit(boolean readOnly) {
            // PostgreSQL takes at most 65,535 parameters in one statement, 9 per entry
            for (int from = 0; from < rows.size(); from += MAX_ROWS_PER_INSERT) {
                Statement statement = insert(rows.subList(from, Math.min(rows.size(), from + MAX_ROWS_PER_INSERT)));
                jdbc.sql(statement.sql()).params(statement.params()).update();
            }
            rows.clear();
            written = true;
        }
    }

    private record Statement(String sql, List<Object> params) {
    }

    /** The column values of each entry, with its id and the time it is recorded (now). */
    private static List<List<Object>> rows(List<Entry> entries) {
        List<List<Object>> rows = new ArrayList<>();
        for (Entry entry : entries) {
            Instant now = Instant.now();
            String id = UUID.randomUUID().toString();
            String entityWhat = entry.entityWhat();
            int history = entityWhat == null ? -1 : entityWhat.indexOf("/_history/");
            rows.add(Arrays.asList(id, Timestamp.from(now), "rest", entry.subtype(),
                    entry.action() == null ? null : entry.action().toCode(), entry.outcome().toCode(),
                    entry.agentWho(), history < 0 ? entityWhat : entityWhat.substring(0, history), AuditJson.write(id, now, entry)));
        }
        return rows;
    }

    private static Statement insert(List<List<Object>> rows) {
        StringBuilder sql = new StringBuilder("""
                insert into audit_event (id, recorded, type_code, subtype_code, action, outcome, agent_who, entity_what, content)
                values """);
        List<Object> params = new ArrayList<>();
        for (List<Object> row : rows) {
            if (!params.isEmpty()) {
                sql.append(", ");
            }
            sql.append("(?::uuid, ?, ?, ?, ?, ?, ?, ?, ?::jsonb)");
            params.addAll(row);
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
