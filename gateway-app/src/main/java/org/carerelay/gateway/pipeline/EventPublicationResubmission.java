package org.carerelay.gateway.pipeline;

import java.sql.Timestamp;
import java.time.Duration;
import java.time.Instant;
import java.util.List;
import org.carerelay.gateway.kernel.MessageAccepted;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;
import org.springframework.boot.context.event.ApplicationReadyEvent;
import org.springframework.context.ApplicationEventPublisher;
import org.springframework.context.event.EventListener;
import org.springframework.jdbc.core.simple.JdbcClient;
import org.springframework.modulith.events.IncompleteEventPublications;
import org.springframework.modulith.events.ResubmissionOptions;
import org.springframework.stereotype.Component;
import org.springframework.transaction.support.TransactionTemplate;

/**
 * Open event publications (an accepted message not yet handed to the broker, a consent notice not
 * yet on the mail queue) are handed over again: all of them once the gateway has started (after a crash), and on a running cluster those
 * whose last hand-over has been open for longer than {@link #STALE} (the node that took it died, or
 * its hand-over was dropped or could not record its completion) plus those whose listener failed.
 * At least once: a second fan-out of a message is harmless; a consent notice may be mailed twice. Completed publications are deleted on
 * completion ({@code spring.modulith.events.completion-mode=delete}), so the table holds open ones
 * only.
 *
 * <p>Also adopts what the previous release left in {@code routing_job}: rows never handed to the
 * broker become {@link MessageAccepted} publications (in one transaction with their removal).
 */
@Component
public class EventPublicationResubmission {

    /** How long a hand-over may stay open before another one is started. */
    static final Duration STALE = Duration.ofSeconds(30);
    /** Publications resubmitted per tick, and at most in flight from resubmissions. */
    static final int BATCH = 500;

    private static final Logger log = LoggerFactory.getLogger(EventPublicationResubmission.class);

    private final IncompleteEventPublications incomplete;
    private final JdbcClient jdbc;
    private final TransactionTemplate tx;
    private final DeliveryLedger ledger;
    private final ApplicationEventPublisher events;

    public EventPublicationResubmission(IncompleteEventPublications incomplete, JdbcClient jdbc, TransactionTemplate tx,
            DeliveryLedger ledger, ApplicationEventPublisher events) {
        this.incomplete = incomplete;
        this.jdbc = jdbc;
        this.tx = tx;
        this.ledger = ledger;
        this.events = events;
    }

    /** After a restart: every open publication goes again (those of a node that died with it too). */
    @EventListener(ApplicationReadyEvent.class)
    public void afterStart() {
        try {
            adoptRoutingJobs(Duration.ZERO);
            int reopened = jdbc.sql("update event_publication set status = 'FAILED' "
                    + "where completion_date is null and status = 'RESUBMITTED'").update();
            incomplete.resubmitIncompletePublications(publication -> true);
            log.info("Open event publications resubmitted after start ({} were in resubmission)", reopened);
        } catch (RuntimeException e) {
            log.warn("Open event publications not resubmitted at start ({}); the timer does it", e.getClass().getSimpleName());
        }
    }

    /**
     * One node per tick: publications open for longer than {@link #STALE} count as failed, and
     * failed ones are resubmitted (at most {@link #BATCH} at a time). Returns how many counted as
     * failed now, or -1 if another node has this tick.
     */
    public int resubmitStale() {
        Integer stale = tx.execute(status -> {
            if (!ledger.tryTickLock("resubmit-event-publications")) {
                return -1;
            }
            adoptRoutingJobs(STALE);
            return jdbc.sql("""
                    update event_publication set status = 'FAILED'
                    where completion_date is null and status in ('PUBLISHED', 'PROCESSING', 'RESUBMITTED')
                    and last_resubmission_date < ?
                    """).param(Timestamp.from(Instant.now().minus(STALE))).update();
        });
        if (stale == null || stale < 0) {
            return -1;
        }
        if (stale > 0) {
            log.warn("{} event publication(s) (accepted messages, consent notices) not finished within {} s; resubmitted",
                    stale, STALE.toSeconds());
        }
        incomplete.resubmitIncompletePublications(ResubmissionOptions.defaults().withBatchSize(BATCH).withMaxInFlight(BATCH));
        return stale;
    }

    /**
     * Routing jobs of the previous release that never reached the broker (the table is dropped in
     * a later release, once no node of the previous release runs). Inside the caller's transaction
     * if there is one.
     */
    void adoptRoutingJobs(Duration olderThan) {
        tx.executeWithoutResult(status -> {
            List<String> pending = jdbc.sql("""
                    delete from routing_job where message_id in (
                        select message_id from routing_job where queued_at is null and created_at < ?
                        order by created_at limit 1000 for update skip locked)
                    returning message_id
                    """).param(Timestamp.from(Instant.now().minus(olderThan))).query(String.class).list();
            pending.forEach(id -> events.publishEvent(new MessageAccepted(id)));
            if (!pending.isEmpty()) {
                log.info("{} routing job(s) of the previous release handed to the pipeline", pending.size());
            }
        });
    }
}
