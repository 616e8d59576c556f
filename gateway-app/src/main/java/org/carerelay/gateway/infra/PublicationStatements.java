package org.carerelay.gateway.infra;

import java.sql.PreparedStatement;
import java.time.Instant;
import java.util.List;
import java.util.Optional;
import java.util.UUID;
import org.postgresql.PGStatement;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;
import org.springframework.beans.factory.ObjectProvider;
import org.springframework.beans.factory.config.BeanPostProcessor;
import org.springframework.core.env.Environment;
import org.springframework.jdbc.core.JdbcTemplate;
import org.springframework.modulith.events.EventPublication;
import org.springframework.modulith.events.core.EventPublicationRepository;
import org.springframework.modulith.events.core.PublicationTargetIdentifier;
import org.springframework.modulith.events.core.TargetEventPublication;
import org.springframework.modulith.events.support.CompletionMode;
import org.springframework.stereotype.Component;

/**
 * The two statements the event publication registry sends for every hand-over of an accepted
 * message — the publication marked {@code PROCESSING} before its listener runs, and deleted when it
 * returns ({@code completion-mode: delete}) — sent as one-shot statements, which PostgreSQL plans at
 * every execution for the table as it is then. The registry's other statements are left as they are.
 *
 * <p>Why: sent as the registry sends them, as prepared statements that the driver keeps on the
 * server after five executions, PostgreSQL plans each once per connection and keeps that plan. The
 * table is nearly empty while the pipeline keeps up, so that plan is a sequential scan (cheaper than
 * the primary key for a table of a page or two), and it was kept when the table filled: with a
 * backlog of open publications (a burst of messages, a broker that was away) every hand-over then
 * read the whole table, so that catching up on n publications cost time in n². Seen in the pipeline
 * benchmark (MDM^T02 phase, a backlog of a few thousand): 58–60 blocks and 0.35–0.47 ms per
 * statement, one sequential scan per completed publication; planned per execution, 4–7 blocks and
 * 0.05–0.15 ms, plus 0.10–0.13 ms of planning, about half of what a hand-over cost the database
 * before. The plan kept lasted until the table's statistics were next updated (autovacuum). The
 * planning is paid also while the pipeline keeps up (where the old plan read a page or a few): a
 * bounded cost per hand-over instead of one that grows with the backlog. The statements stay
 * Modulith's own, to the letter (schema v2, Flyway V21). With the publications in a schema of their
 * own or in the legacy structure, the registry's statements are left alone. (A connection URL with
 * {@code prepareThreshold=-1} would prepare even these on the server; the gateway's does not set it.)
 */
@Component
public class PublicationStatements implements BeanPostProcessor {

    private static final Logger log = LoggerFactory.getLogger(PublicationStatements.class);

    static final String MARK_PROCESSING = "UPDATE EVENT_PUBLICATION SET STATUS = 'PROCESSING' WHERE ID = ? AND STATUS != 'PROCESSING'";
    static final String DELETE_BY_ID = "DELETE FROM EVENT_PUBLICATION WHERE ID = ?";

    private final ObjectProvider<JdbcTemplate> jdbc;
    private final Environment environment;

    public PublicationStatements(ObjectProvider<JdbcTemplate> jdbc, Environment environment) {
        this.jdbc = jdbc;
        this.environment = environment;
    }

    @Override
    public Object postProcessAfterInitialization(Object bean, String beanName) {
        if (bean instanceof EventPublicationRepository repository && !(bean instanceof PlannedPerExecution)) {
            if (environment.containsProperty("spring.modulith.events.jdbc.schema")
                    || environment.getProperty("spring.modulith.events.jdbc.use-legacy-structure", Boolean.class, false)) {
                // another table (a schema of its own) or another structure (no STATUS): the registry's statements as they are
                log.warn("Event publications in another schema or structure: their hand-over statements are left as the "
                        + "registry sends them (a plan made while the table was nearly empty may scan it whole)");
                return bean;
            }
            return new PlannedPerExecution(repository, jdbc, CompletionMode.from(environment) == CompletionMode.DELETE);
        }
        return bean;
    }

    /** The registry's repository, with {@link #MARK_PROCESSING} and {@link #DELETE_BY_ID} planned per execution. */
    static final class PlannedPerExecution implements EventPublicationRepository {

        private final EventPublicationRepository delegate;
        private final ObjectProvider<JdbcTemplate> jdbc;
        private final boolean deleteOnCompletion;
        private volatile JdbcTemplate template;

        PlannedPerExecution(EventPublicationRepository delegate, ObjectProvider<JdbcTemplate> jdbc, boolean deleteOnCompletion) {
            this.delegate = delegate;
            this.jdbc = jdbc;
            this.deleteOnCompletion = deleteOnCompletion;
        }

        @Override
        public void markProcessing(UUID identifier) {
            oneShot(MARK_PROCESSING, identifier);
        }

        // markCompleted(TargetEventPublication, Instant) is the interface's: it marks the publication and calls this one
        @Override
        public void markCompleted(UUID identifier, Instant completionDate) {
            if (deleteOnCompletion) {
                oneShot(DELETE_BY_ID, identifier);
            } else {
                delegate.markCompleted(identifier, completionDate);
            }
        }

        /** {@code sql} with the one parameter {@code id}, never prepared on the server (prepare threshold 0). */
        private void oneShot(String sql, UUID id) {
            JdbcTemplate current = template;
            if (current == null) {
                current = jdbc.getObject();
                template = current;
            }
            current.update(connection -> {
                PreparedStatement statement = connection.prepareStatement(sql);
                statement.unwrap(PGStatement.class).setPrepareThreshold(0);
                statement.setObject(1, id);
                return statement;
            });
        }

        @Override
        public TargetEventPublication create(TargetEventPublication publication) {
            return delegate.create(publication);
        }

        @Override
        public void markCompleted(Object event, PublicationTargetIdentifier identifier, Instant completionDate) {
            delegate.markCompleted(event, identifier, completionDate);
        }

        @Override
        public void markFailed(UUID identifier) {
            delegate.markFailed(identifier);
        }

        @Override
        public boolean markResubmitted(UUID identifier, Instant resubmissionDate) {
            return delegate.markResubmitted(identifier, resubmissionDate);
        }

        @Override
        public List<TargetEventPublication> findIncompletePublications() {
            return delegate.findIncompletePublications();
        }

        @Override
        public List<TargetEventPublication> findIncompletePublicationsPublishedBefore(Instant instant) {
            return delegate.findIncompletePublicationsPublishedBefore(instant);
        }

        @Override
        public Optional<TargetEventPublication> findIncompletePublicationsByEventAndTargetIdentifier(Object event,
                PublicationTargetIdentifier targetIdentifier) {
            return delegate.findIncompletePublicationsByEventAndTargetIdentifier(event, targetIdentifier);
        }

        @Override
        public List<TargetEventPublication> findCompletedPublications() {
            return delegate.findCompletedPublications();
        }

        @Override
        public void deletePublications(List<UUID> identifiers) {
            delegate.deletePublications(identifiers);
        }

        @Override
        public void deleteCompletedPublications() {
            delegate.deleteCompletedPublications();
        }

        @Override
        public void deleteCompletedPublicationsBefore(Instant instant) {
            delegate.deleteCompletedPublicationsBefore(instant);
        }

        @Override
        public List<TargetEventPublication> findFailedPublications(FailedCriteria criteria) {
            return delegate.findFailedPublications(criteria);
        }

        @Override
        public List<TargetEventPublication> findByStatus(EventPublication.Status status) {
            return delegate.findByStatus(status);
        }

        @Override
        public int countByStatus(EventPublication.Status status) {
            return delegate.countByStatus(status);
        }
    }
}
