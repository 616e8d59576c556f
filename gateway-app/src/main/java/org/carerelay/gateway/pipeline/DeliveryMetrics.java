package org.carerelay.gateway.pipeline;

import io.micrometer.core.instrument.Counter;
import io.micrometer.core.instrument.MeterRegistry;
import io.micrometer.core.instrument.Timer;
import java.time.Duration;
import java.time.Instant;
import java.util.List;
import org.carerelay.gateway.metrics.MetricNames;
import org.carerelay.routes.pipeline.WorkItem;
import org.springframework.stereotype.Component;

/**
 * Counts push deliveries by channel and outcome and measures how long a message took from
 * acceptance to its delivery. Labels are the channel and the outcome only: never a message or
 * organisation id. Every series exists from the start (at 0), so {@code increase()} sees the first
 * event too.
 */
@Component
public class DeliveryMetrics {

    static final List<String> CHANNELS = List.of("fhir", "mllp");
    static final List<String> OUTCOMES = List.of("delivered", "retry", "failed", "dead-lettered");

    /** Bucket bounds of the latency histogram: seconds for a partner that answers, hours for one that was down. */
    static final Duration[] LATENCY_BUCKETS = {
        Duration.ofMillis(250), Duration.ofMillis(500), Duration.ofSeconds(1), Duration.ofSeconds(2), Duration.ofSeconds(5),
        Duration.ofSeconds(10), Duration.ofSeconds(30), Duration.ofMinutes(1), Duration.ofMinutes(5), Duration.ofMinutes(15),
        Duration.ofHours(1), Duration.ofHours(6), Duration.ofDays(1)
    };

    private final MeterRegistry registry;

    public DeliveryMetrics(MeterRegistry registry) {
        this.registry = registry;
        for (String channel : CHANNELS) {
            OUTCOMES.forEach(outcome -> counter(channel, outcome));
            latency(channel);
        }
    }

    /** The outcome of one attempt, as recorded in the ledger. */
    void attempted(DeliveryAttempt.Context context, DeliveryAttempt.Outcome outcome) {
        String channel = RecipientChannels.channelOf(context.endpoint()).text();
        counter(channel, outcome.delivered() ? "delivered" : outcome.retry() ? "retry" : "failed").increment();
        if (outcome.delivered() && context.message().sent() != null) {
            latency(channel).record(Duration.between(context.message().sent(), Instant.now()));
        }
    }

    /** A delivery work item that was parked in its dead-letter queue after the last attempt. */
    void deadLettered(WorkItem.Stage stage) {
        switch (stage) {
            case DELIVER_FHIR -> counter("fhir", "dead-lettered").increment();
            case DELIVER_MLLP -> counter("mllp", "dead-lettered").increment();
            default -> {
                // notification and invitation dead letters show in carerelay_dead_letters{stage}
            }
        }
    }

    private Counter counter(String channel, String outcome) {
        return Counter.builder(MetricNames.DELIVERIES)
                .description("Push delivery attempts by channel and outcome")
                .tag("channel", channel).tag("outcome", outcome)
                .register(registry);
    }

    private Timer latency(String channel) {
        return Timer.builder(MetricNames.DELIVERY_LATENCY)
                .description("Time from acceptance of a message to its delivery to the recipient's system")
                .tag("channel", channel)
                .serviceLevelObjectives(LATENCY_BUCKETS)
                .register(registry);
    }
}
