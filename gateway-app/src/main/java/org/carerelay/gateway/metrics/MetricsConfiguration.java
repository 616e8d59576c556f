package org.carerelay.gateway.metrics;

import io.micrometer.core.instrument.MeterRegistry;
import jakarta.jms.ConnectionFactory;
import java.time.Duration;
import java.util.LinkedHashMap;
import java.util.Map;
import javax.sql.DataSource;
import org.apache.camel.CamelContext;
import org.apache.camel.spring.boot.CamelContextConfiguration;
import org.carerelay.gateway.config.CareRelayProperties;
import org.carerelay.routes.pipeline.WorkItem;
import org.springframework.beans.factory.ObjectProvider;
import org.springframework.beans.factory.annotation.Value;
import org.springframework.boot.health.actuate.endpoint.HealthEndpoint;
import org.springframework.boot.context.event.ApplicationReadyEvent;
import org.springframework.boot.health.contributor.Status;
import org.springframework.context.ApplicationListener;
import org.springframework.context.annotation.Bean;
import org.springframework.context.annotation.Configuration;

/** The gateway's Prometheus metrics beyond Spring's and the JVM's (names in {@link MetricNames}). */
@Configuration(proxyBeanMethods = false)
public class MetricsConfiguration {

    @Bean
    RouteMetrics routeMetrics(MeterRegistry registry) {
        return new RouteMetrics(registry);
    }

    @Bean
    CamelContextConfiguration mllpListenerGauges(MeterRegistry registry) {
        return new CamelContextConfiguration() {
            @Override
            public void beforeApplicationStart(CamelContext camelContext) {
                // the routes exist only once Camel has started
            }

            @Override
            public void afterApplicationStart(CamelContext camelContext) {
                MllpListeners.register(camelContext, registry);
            }
        };
    }

    @Bean
    PipelineGauges pipelineGauges(MeterRegistry registry, CareRelayProperties props, ConnectionFactory jms,
            DataSource dataSource, ObjectProvider<HealthEndpoint> healthEndpoint,
            @Value("${carerelay.metrics.sample-interval:5s}") Duration interval) {
        String prefix = props.pipeline().queuePrefix();
        Map<String, String> stages = new LinkedHashMap<>();
        stages.put("fanout", prefix + ".fanout");
        for (WorkItem.Stage stage : WorkItem.Stage.values()) {
            stages.put(stage.queueSuffix(), prefix + "." + stage.queueSuffix());
        }
        stages.put("mail", props.queue().mail());
        HealthEndpoint health = healthEndpoint.getIfAvailable();
        return new PipelineGauges(registry, stages, () -> new BrokerQueues(jms), dataSource,
                health == null ? null : () -> Status.UP.equals(health.health().getStatus()), interval);
    }

    /** The health and the queues are sampled once everything has started (no probe of a Camel context still starting). */
    @Bean
    ApplicationListener<ApplicationReadyEvent> startPipelineGauges(PipelineGauges gauges) {
        return event -> gauges.start();
    }
}
