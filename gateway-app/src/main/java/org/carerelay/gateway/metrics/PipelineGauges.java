package org.carerelay.gateway.metrics;

import io.micrometer.core.instrument.Gauge;
import io.micrometer.core.instrument.MeterRegistry;
import java.time.Duration;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.ScheduledThreadPoolExecutor;
import java.util.concurrent.TimeUnit;
import java.util.function.Supplier;
import javax.sql.DataSource;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;
import org.springframework.context.SmartLifecycle;
import org.springframework.jdbc.core.JdbcTemplate;

/**
 * Gauges that need a broker or database round trip: queue depth and dead letters per stage (from
 * the broker), age of the oldest queued delivery per channel (from the ledger, so it is the same on
 * every node and for any broker) and overall health. A scrape never waits for them: each is
 * sampled by its own background task every {@code carerelay.metrics.sample-interval}, and a scrape
 * reads the last sample. A figure that could not be sampled is NaN (no alert fires on a stale 0).
 * Sampling starts when the application is ready and stops first on shutdown, before the routes,
 * the broker and the database.
 */
public class PipelineGauges implements SmartLifecycle {

    private static final Logger log = LoggerFactory.getLogger(PipelineGauges.class);

    /** The oldest queued delivery per push/pull channel; the partial index of V16 answers each min() from its first entry. */
    public static final String OLDEST_QUEUED_SQL = """
            select c.channel,
                   extract(epoch from now() - (select min(d.created_at) from delivery d
                                               where d.state = 'queued' and d.channel = c.channel))
            from (values ('fhir'), ('mllp'), ('pull')) as c(channel)
            """;
    static final List<String> CHANNELS = List.of("fhir", "mllp", "pull");

    private final Map<String, String> stageQueues;
    private final Supplier<BrokerQueues> broker;
    private final JdbcTemplate jdbc;
    private final Supplier<Boolean> health;
    private final Duration interval;
    private final Map<String, Double> values = new ConcurrentHashMap<>();
    private final Map<String, Boolean> failing = new ConcurrentHashMap<>();
    private BrokerQueues brokerQueues;
    private volatile ScheduledThreadPoolExecutor scheduler;

    /**
     * @param stageQueues stage label → queue name (its dead letters are in {@code <queue>.dlq})
     * @param health      true while the application is healthy; null when no health endpoint exists
     */
    public PipelineGauges(MeterRegistry registry, Map<String, String> stageQueues, Supplier<BrokerQueues> broker,
            DataSource dataSource, Supplier<Boolean> health, Duration interval) {
        this.stageQueues = new LinkedHashMap<>(stageQueues);
        this.broker = broker;
        this.jdbc = new JdbcTemplate(dataSource);
        this.jdbc.setQueryTimeout(10);
        this.health = health;
        this.interval = interval;
        for (String stage : this.stageQueues.keySet()) {
            gauge(registry, MetricNames.QUEUE_MESSAGES, "queue:" + stage, "stage", stage,
                    "Work items in the stage's queue (waiting, scheduled for redelivery or in delivery)", null);
            gauge(registry, MetricNames.DEAD_LETTERS, "dlq:" + stage, "stage", stage,
                    "Work items parked in the stage's dead-letter queue", null);
        }
        for (String channel : CHANNELS) {
            gauge(registry, MetricNames.OLDEST_QUEUED_AGE, "age:" + channel, "channel", channel,
                    "Age of the oldest queued delivery of the channel since its message was accepted (0: none queued)", "seconds");
        }
        if (health != null) {
            Gauge.builder(MetricNames.HEALTH_UP, values, v -> v.getOrDefault("health", Double.NaN))
                    .description("1 while the gateway's health is UP, 0 otherwise").register(registry);
        }
    }

    private void gauge(MeterRegistry registry, String name, String key, String tag, String value, String description,
            String unit) {
        Gauge.builder(name, values, v -> v.getOrDefault(key, Double.NaN))
                .description(description).baseUnit(unit).tag(tag, value).register(registry);
    }

    /** One sample of the broker's queues. */
    void sampleBroker() {
        try {
            if (brokerQueues == null) {
                brokerQueues = broker.get();
            }
            Map<String, Double> sampled = new LinkedHashMap<>();
            for (Map.Entry<String, String> stage : stageQueues.entrySet()) {
                sampled.put("queue:" + stage.getKey(), (double) brokerQueues.messageCount(stage.getValue()));
                sampled.put("dlq:" + stage.getKey(), (double) brokerQueues.messageCount(stage.getValue() + ".dlq"));
            }
            values.putAll(sampled);
            recovered("broker");
        } catch (Exception e) {
            stageQueues.keySet().forEach(stage -> {
                values.put("queue:" + stage, Double.NaN);
                values.put("dlq:" + stage, Double.NaN);
            });
            failed("broker", e);
        }
    }

    /** One sample of the delivery ledger. */
    void sampleLedger() {
        try {
            Map<String, Double> sampled = new LinkedHashMap<>();
            jdbc.query(OLDEST_QUEUED_SQL, rs -> {
                double age = rs.getDouble(2);
                sampled.put("age:" + rs.getString(1), rs.wasNull() ? 0.0 : Math.max(0.0, age));
            });
            CHANNELS.forEach(channel -> values.put("age:" + channel, sampled.getOrDefault("age:" + channel, 0.0)));
            recovered("database");
        } catch (RuntimeException e) {
            CHANNELS.forEach(channel -> values.put("age:" + channel, Double.NaN));
            failed("database", e);
        }
    }

    void sampleHealth() {
        try {
            values.put("health", Boolean.TRUE.equals(health.get()) ? 1.0 : 0.0);
        } catch (RuntimeException e) {
            values.put("health", 0.0);
        }
    }

    /** One line when a source starts failing, one when it is back: no stack trace per sample. */
    private void failed(String source, Exception e) {
        if (failing.put(source, true) == null) {
            log.warn("Metrics: cannot sample the {} ({}); its gauges read NaN until it answers", source,
                    e.getClass().getSimpleName());
        }
    }

    private void recovered(String source) {
        if (failing.remove(source) != null) {
            log.info("Metrics: sampling the {} again", source);
        }
    }

    /** Started once the application is ready (see {@link MetricsConfiguration}), not while Camel is still starting. */
    @Override
    public boolean isAutoStartup() {
        return false;
    }

    @Override
    public synchronized void start() {
        if (scheduler != null) {
            return;
        }
        ScheduledThreadPoolExecutor executor = new ScheduledThreadPoolExecutor(3, runnable -> {
            Thread thread = new Thread(runnable, "carerelay-metrics");
            thread.setDaemon(true);
            return thread;
        });
        long millis = interval.toMillis();
        executor.scheduleWithFixedDelay(this::sampleBroker, 0, millis, TimeUnit.MILLISECONDS);
        executor.scheduleWithFixedDelay(this::sampleLedger, 0, millis, TimeUnit.MILLISECONDS);
        if (health != null) {
            executor.scheduleWithFixedDelay(this::sampleHealth, 0, millis, TimeUnit.MILLISECONDS);
        }
        scheduler = executor;
    }

    @Override
    public synchronized void stop() {
        ScheduledThreadPoolExecutor executor = scheduler;
        scheduler = null;
        if (executor != null) {
            executor.shutdownNow();
            try {
                executor.awaitTermination(2, TimeUnit.SECONDS);
            } catch (InterruptedException e) {
                Thread.currentThread().interrupt();
            }
        }
        if (brokerQueues != null) {
            brokerQueues.close();
            brokerQueues = null;
        }
    }

    @Override
    public boolean isRunning() {
        return scheduler != null;
    }
}
