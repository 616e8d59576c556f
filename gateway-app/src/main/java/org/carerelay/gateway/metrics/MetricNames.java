package org.carerelay.gateway.metrics;

import java.util.List;

/**
 * The gateway's own meters (Micrometer names) and the series Prometheus shows for them on
 * {@code /actuator/prometheus}. Labels are bounded sets only (channel, outcome, stage, route,
 * listener): no message, organisation or patient identifier ever becomes a label value. The
 * alert rules and the dashboard in {@code deploy/monitoring} may use only the series listed in
 * {@link #PROMETHEUS_SERIES} (a test checks both files against this list, and the list against a
 * real scrape).
 */
public final class MetricNames {

    /** Counter, labels {@code channel} (fhir, mllp) and {@code outcome} (delivered, retry, failed, dead-lettered). */
    public static final String DELIVERIES = "carerelay.deliveries";
    /** Timer with histogram buckets, label {@code channel}: from acceptance of the message to its delivery. */
    public static final String DELIVERY_LATENCY = "carerelay.delivery.latency";
    /** Gauge, label {@code channel} (fhir, mllp, pull): age of the oldest {@code queued} delivery in the ledger, 0 if none. */
    public static final String OLDEST_QUEUED_AGE = "carerelay.delivery.oldest.queued.age";
    /** Gauge, label {@code stage}: work items in the stage's queue (waiting, scheduled for redelivery, in flight). */
    public static final String QUEUE_MESSAGES = "carerelay.queue.messages";
    /** Gauge, label {@code stage}: work items parked in the stage's dead-letter queue. */
    public static final String DEAD_LETTERS = "carerelay.dead.letters";
    /** Counter, labels {@code route} and {@code outcome} (completed, failed): Camel exchanges per route. */
    public static final String ROUTE_EXCHANGES = "carerelay.route.exchanges";
    /** Timer, label {@code route}: processing time of an exchange in a Camel route. */
    public static final String ROUTE_PROCESSING = "carerelay.route.processing";
    /** Gauge, label {@code listener} (route id): 1 while the MLLP listener's port is bound and its route runs. */
    public static final String MLLP_LISTENER_UP = "carerelay.mllp.listener.up";
    /** Gauge: 1 while {@code /actuator/health} is UP, 0 otherwise. */
    public static final String HEALTH_UP = "carerelay.health.up";

    /** Series names as scraped (Prometheus naming of the meters above, plus Spring's HTTP server timer). */
    public static final List<String> PROMETHEUS_SERIES = List.of(
            "carerelay_deliveries_total",
            "carerelay_delivery_latency_seconds_bucket",
            "carerelay_delivery_latency_seconds_count",
            "carerelay_delivery_latency_seconds_sum",
            "carerelay_delivery_latency_seconds_max",
            "carerelay_delivery_oldest_queued_age_seconds",
            "carerelay_queue_messages",
            "carerelay_dead_letters",
            "carerelay_route_exchanges_total",
            "carerelay_route_processing_seconds_count",
            "carerelay_route_processing_seconds_sum",
            "carerelay_route_processing_seconds_max",
            "carerelay_mllp_listener_up",
            "carerelay_health_up",
            "carerelay_attachments_integrity_failures_total",
            "http_server_requests_seconds_count",
            "http_server_requests_seconds_sum");

    private MetricNames() {
    }
}
