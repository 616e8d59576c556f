package org.carerelay.gateway.pipeline;

import java.sql.Timestamp;
import java.time.Duration;
import java.time.Instant;
import java.util.List;
import java.util.concurrent.ArrayBlockingQueue;
import java.util.concurrent.ThreadFactory;
import java.util.concurrent.ThreadPoolExecutor;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicInteger;
import org.apache.camel.ProducerTemplate;
import org.carerelay.gateway.config.CareRelayProperties;
import org.carerelay.routes.pipeline.WorkItem;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;
import org.springframework.jdbc.core.simple.JdbcClient;
import org.springframework.beans.factory.DisposableBean;
import org.springframework.stereotype.Component;
import org.springframework.transaction.support.TransactionSynchronization;
import org.springframework.transaction.support.TransactionSynchronizationManager;
import org.springframework.transaction.support.TransactionTemplate;

/**
 * Hands committed routing jobs to the broker. The job row is written in the same database
 * transaction as the message (so 201/AA means durable); right after the commit its id goes to the
 * fan-out queue. If the node dies in between, the sweeper hands it over later: at least once, and
 * the ledger makes the rest idempotent.
 *
 * <p>The hand-over after the commit runs on a few threads of its own, not in the request: a broker
 * that is unreachable or does not answer (the client waits up to its call timeout, 30 s) must not
 * hold up the {@code 201}/{@code AA} of a message that is already stored. When those threads are
 * busy and their queue is full, the job is left to the sweeper.
 */
@Component
public class RoutingKickoff implements DisposableBean {

    private static final int HAND_OVER_THREADS = 4;
    private static final int HAND_OVER_QUEUE = 10_000;

    private static final Logger log = LoggerFactory.getLogger(RoutingKickoff.class);
    private final ProducerTemplate producer;
    private final JdbcClient jdbc;
    private final TransactionTemplate tx;
    private final String fanOutUri;
    private final ThreadPoolExecutor handOver = new ThreadPoolExecutor(HAND_OVER_THREADS, HAND_OVER_THREADS,
            0, TimeUnit.MILLISECONDS, new ArrayBlockingQueue<>(HAND_OVER_QUEUE), daemonThreads(),
            new ThreadPoolExecutor.DiscardPolicy()); // a discarded job is still pending: the sweeper hands it over

    public RoutingKickoff(ProducerTemplate producer, JdbcClient jdbc, TransactionTemplate tx, CareRelayProperties props) {
        this.producer = producer;
        this.jdbc = jdbc;
        this.tx = tx;
        this.fanOutUri = "jms:queue:" + props.pipeline().queuePrefix() + ".fanout";
    }

    /** Call inside the accepting transaction: the job goes to the broker after the commit. */
    public void afterCommit(String messageId) {
        TransactionSynchronizationManager.registerSynchronization(new TransactionSynchronization() {
            @Override
            public void afterCommit() {
                handOver.execute(() -> {
                    try {
                        fanOut(messageId);
                    } catch (RuntimeException e) {
                        log.warn("Routing job {} not handed to the broker now; the sweeper will retry", messageId);
                    }
                });
            }
        });
    }

    public void fanOut(String messageId) {
        producer.sendBodyAndHeaders(fanOutUri, "", WorkItem.fanOut(messageId).headers());
        jdbc.sql("update routing_job set queued_at = ? where message_id = ? and queued_at is null")
                .params(Timestamp.from(Instant.now()), messageId).update();
    }

    @Override
    public void destroy() {
        handOver.shutdownNow(); // what is left is pending in the database
    }

    private static ThreadFactory daemonThreads() {
        AtomicInteger n = new AtomicInteger();
        return runnable -> {
            Thread t = new Thread(runnable, "routing-kickoff-" + n.incrementAndGet());
            t.setDaemon(true);
            return t;
        };
    }

    /** Jobs committed more than {@code olderThan} ago that never reached the broker. */
    public int sweep(Duration olderThan) {
        Integer count = tx.execute(status -> {
            List<String> pending = jdbc.sql("""
                    select message_id from routing_job where queued_at is null and created_at < ?
                    order by created_at limit 200 for update skip locked
                    """).param(Timestamp.from(Instant.now().minus(olderThan))).query(String.class).list();
            pending.forEach(this::fanOut);
            return pending.size();
        });
        if (count != null && count > 0) {
            log.info("Sweeper handed {} pending routing job(s) to the broker", count);
        }
        return count == null ? 0 : count;
    }
}
