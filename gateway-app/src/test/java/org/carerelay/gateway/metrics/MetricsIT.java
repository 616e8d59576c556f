package org.carerelay.gateway.metrics;

import static org.assertj.core.api.Assertions.assertThat;
import static org.awaitility.Awaitility.await;

import java.net.http.HttpResponse;
import java.time.Duration;
import java.util.concurrent.atomic.AtomicBoolean;
import org.carerelay.gateway.Conversations;
import org.carerelay.gateway.FakeMllpRecipient;
import org.carerelay.gateway.GatewayIntegrationTest;
import org.carerelay.gateway.Participants;
import org.carerelay.gateway.PrometheusScrape;
import org.carerelay.gateway.metrics.MetricNames;
import org.hl7.fhir.r4.model.Parameters;
import org.hl7.fhir.r4.model.StringType;
import org.junit.jupiter.api.Test;
import org.springframework.beans.factory.annotation.Autowired;

/**
 * What an operator's Prometheus sees on {@code /actuator/prometheus}, scraped over HTTP without a
 * token (as a scraper does) while real deliveries go to a partner's MLLP system.
 */
class MetricsIT extends GatewayIntegrationTest {

    @Autowired
    javax.sql.DataSource dataSource;

    private PrometheusScrape scrape() throws Exception {
        HttpResponse<String> response = http("GET", "/actuator/prometheus", null, null, null);
        assertThat(response.statusCode()).isEqualTo(200);
        return new PrometheusScrape(response.body());
    }

    private String state(Participants.Registered sender, String messageId, String recipient) {
        return Conversations.deliveryStates(client(sender.token()), messageId).get(recipient);
    }

    @Test
    void deliveredRejectedRetriedAndDeadLetteredDeliveries_moveTheirSeries() throws Exception {
        AtomicBoolean reject = new AtomicBoolean();
        AtomicBoolean hang = new AtomicBoolean();
        try (FakeMllpRecipient partner = new FakeMllpRecipient(message -> {
            if (hang.get()) {
                Thread.sleep(3_000); // longer than the gateway's response timeout: the attempt is retried
            }
            return reject.get() ? message.generateACK(ca.uhn.hl7v2.AcknowledgmentCode.AE,
                    new ca.uhn.hl7v2.HL7Exception("Patient unbekannt")) : message.generateACK();
        })) {
            Participants.Registered clinic = Participants.registerNew(this, "Klinik Metriken");
            Participants.Registered care = Participants.registerNew(this, "Pflegedienst Metriken");
            Participants.addEndpoint(admin(), care.organizationId(), "hl7v2-mllp", partner.address(), null);
            String patientId = Conversations.createPatient(client(clinic.token()),
                    Conversations.patient("Metrik", "Erna", Conversations.kvnr()));
            Conversations.uploadConsent(client(clinic.token()), patientId, clinic.organizationId(), care.organizationId());
            PrometheusScrape before = scrape();

            // delivered: counter, latency histogram, route exchanges
            String ok = Conversations.send(client(clinic.token()), Conversations.message(patientId, "angekommen", care.organizationId()));
            await().atMost(Duration.ofSeconds(30)).until(() -> "delivered".equals(state(clinic, ok, care.organizationId())));
            PrometheusScrape delivered = scrape();
            assertThat(delivered.value("carerelay_deliveries_total", "channel", "mllp", "outcome", "delivered"))
                    .isGreaterThanOrEqualTo(before.value("carerelay_deliveries_total", "channel", "mllp", "outcome", "delivered") + 1);
            assertThat(delivered.value("carerelay_delivery_latency_seconds_count", "channel", "mllp"))
                    .isGreaterThanOrEqualTo(before.value("carerelay_delivery_latency_seconds_count", "channel", "mllp") + 1);
            assertThat(delivered.value("carerelay_delivery_latency_seconds_bucket", "channel", "mllp", "le", "+Inf"))
                    .isGreaterThanOrEqualTo(before.value("carerelay_delivery_latency_seconds_bucket", "channel", "mllp", "le", "+Inf") + 1);
            assertThat(delivered.value("carerelay_delivery_latency_seconds_sum", "channel", "mllp"))
                    .isGreaterThan(before.value("carerelay_delivery_latency_seconds_sum", "channel", "mllp"));
            assertThat(delivered.matching("carerelay_delivery_latency_seconds_bucket", "channel", "mllp"))
                    .as("histogram buckets for Prometheus").hasSizeGreaterThan(5);
            // the notification is queued in the fan-out's transaction (the notification route is for one left to do)
            for (String route : new String[] {"fan-out", "delivery-mllp"}) {
                assertThat(delivered.value("carerelay_route_exchanges_total", "route", route, "outcome", "completed"))
                        .as(route).isGreaterThanOrEqualTo(before.value("carerelay_route_exchanges_total", "route", route, "outcome", "completed") + 1);
            }
            assertThat(delivered.value("carerelay_route_processing_seconds_count", "route", "delivery-mllp"))
                    .isGreaterThanOrEqualTo(before.value("carerelay_route_processing_seconds_count", "route", "delivery-mllp") + 1);

            // rejected by the partner (AE): failed for good
            reject.set(true);
            String refused = Conversations.send(client(clinic.token()), Conversations.message(patientId, "abgelehnt", care.organizationId()));
            await().atMost(Duration.ofSeconds(30)).until(() -> "failed".equals(state(clinic, refused, care.organizationId())));
            assertThat(scrape().value("carerelay_deliveries_total", "channel", "mllp", "outcome", "failed"))
                    .isGreaterThanOrEqualTo(before.value("carerelay_deliveries_total", "channel", "mllp", "outcome", "failed") + 1);
            reject.set(false);

            // a partner that does not answer: retried, queued for a while, then parked in the dead-letter queue
            double parkedBefore = scrape().value("carerelay_dead_letters", "stage", "deliver-mllp");
            hang.set(true);
            String slow = Conversations.send(client(clinic.token()), Conversations.message(patientId, "wartet", care.organizationId()));
            await().atMost(Duration.ofSeconds(30)).until(() -> {
                PrometheusScrape s = scrape();
                return s.value("carerelay_deliveries_total", "channel", "mllp", "outcome", "retry")
                        >= before.value("carerelay_deliveries_total", "channel", "mllp", "outcome", "retry") + 1
                        && s.value("carerelay_delivery_oldest_queued_age_seconds", "channel", "mllp") >= 1.0;
            });
            await().atMost(Duration.ofSeconds(60)).until(() -> "failed".equals(state(clinic, slow, care.organizationId())));
            hang.set(false);
            await().atMost(Duration.ofSeconds(15)).until(() -> scrape().value("carerelay_dead_letters", "stage", "deliver-mllp") >= parkedBefore + 1);
            PrometheusScrape parked = scrape();
            assertThat(parked.value("carerelay_deliveries_total", "channel", "mllp", "outcome", "dead-lettered"))
                    .isGreaterThanOrEqualTo(before.value("carerelay_deliveries_total", "channel", "mllp", "outcome", "dead-lettered") + 1);
            assertThat(parked.value("carerelay_route_exchanges_total", "route", "delivery-mllp", "outcome", "failed"))
                    .isGreaterThanOrEqualTo(before.value("carerelay_route_exchanges_total", "route", "delivery-mllp", "outcome", "failed") + 1);

            // the operator retries it once the partner answers again: delivered, the dead letter is gone
            Parameters in = new Parameters();
            in.addParameter("stage", new StringType("deliver-mllp"));
            in.addParameter("message", new StringType(slow));
            admin().operation().onServer().named("$retry-dead-letters").withParameters(in).execute();
            await().atMost(Duration.ofSeconds(30)).until(() -> "delivered".equals(state(clinic, slow, care.organizationId())));
            double parkedAfterPark = parked.value("carerelay_dead_letters", "stage", "deliver-mllp");
            await().atMost(Duration.ofSeconds(15)).until(() -> scrape().value("carerelay_dead_letters", "stage", "deliver-mllp") <= parkedAfterPark - 1);

            // bounded labels only: no message, organisation or patient identifier in any series
            String text = scrape().text;
            for (String id : new String[] {ok, refused, slow, care.organizationId(), clinic.organizationId(), patientId}) {
                assertThat(text).doesNotContain(id);
            }
        }
    }

    @Test
    void scrape_showsListenersHealthQueuesAndEverySeriesTheAlertsUse() throws Exception {
        http("GET", "/fhir/metadata", null, null, null); // at least one HTTP request for Spring's server timer
        await().atMost(Duration.ofSeconds(15)).untilAsserted(() -> {
            PrometheusScrape scrape = scrape();
            assertThat(scrape.names()).containsAll(MetricNames.PROMETHEUS_SERIES);
            assertThat(scrape.value("carerelay_mllp_listener_up", "listener", "mllp-inbound")).isEqualTo(1.0);
            assertThat(scrape.value("carerelay_mllp_listener_up", "listener", "mllp-inbound-tls")).isEqualTo(1.0);
            assertThat(scrape.value("carerelay_health_up")).isEqualTo(1.0);
            for (String stage : new String[] {"fanout", "deliver-fhir", "deliver-mllp", "notify", "invite", "mail"}) {
                assertThat(scrape.matching("carerelay_queue_messages", "stage", stage)).as(stage)
                        .singleElement().satisfies(s -> assertThat(s.value()).isNotNaN().isGreaterThanOrEqualTo(0));
                assertThat(scrape.matching("carerelay_dead_letters", "stage", stage)).as(stage)
                        .singleElement().satisfies(s -> assertThat(s.value()).isNotNaN().isGreaterThanOrEqualTo(0));
            }
            for (String channel : new String[] {"fhir", "mllp", "pull"}) {
                assertThat(scrape.matching("carerelay_delivery_oldest_queued_age_seconds", "channel", channel)).as(channel)
                        .singleElement().satisfies(s -> assertThat(s.value()).isNotNaN().isGreaterThanOrEqualTo(0));
            }
        });
    }

    @Test
    void oldestQueuedDeliveryQuery_readsThePartialIndex_notTheWholeLedger() throws Exception {
        try (java.sql.Connection connection = dataSource.getConnection()) {
            connection.setAutoCommit(false);
            try (java.sql.Statement statement = connection.createStatement()) {
                statement.execute("set local enable_seqscan = off"); // the test ledger is small enough for a scan
                StringBuilder plan = new StringBuilder();
                try (java.sql.ResultSet rs = statement.executeQuery("explain " + org.carerelay.gateway.metrics.PipelineGauges.OLDEST_QUEUED_SQL)) {
                    while (rs.next()) {
                        plan.append(rs.getString(1)).append('\n');
                    }
                }
                assertThat(plan.toString()).contains("delivery_queued_age_idx").doesNotContain("Seq Scan on delivery");
            } finally {
                connection.rollback();
            }
        }
    }
}
