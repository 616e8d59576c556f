package org.carerelay.gateway.pipeline;

import org.apache.activemq.artemis.api.core.QueueConfiguration;
import org.apache.activemq.artemis.api.core.RoutingType;
import org.apache.activemq.artemis.api.core.SimpleString;
import org.apache.activemq.artemis.core.settings.impl.AddressSettings;
import org.carerelay.gateway.config.CareRelayProperties;
import org.carerelay.gateway.registration.RegistrationService;
import org.carerelay.routes.pipeline.PipelineRoutes;
import org.springframework.boot.artemis.autoconfigure.ArtemisConfigurationCustomizer;
import org.springframework.context.annotation.Bean;
import org.springframework.context.annotation.Configuration;
import org.springframework.stereotype.Component;
import org.springframework.transaction.event.TransactionPhase;
import org.springframework.transaction.event.TransactionalEventListener;

/** Wires the pipeline routes and the broker's redelivery policy for them. */
@Configuration(proxyBeanMethods = false)
public class PipelineConfiguration {

    @Bean
    PipelineRoutes pipelineRoutes(PipelineService steps, CareRelayProperties props) {
        var p = props.pipeline();
        return new PipelineRoutes(steps, new PipelineRoutes.Settings(p.queuePrefix(), p.maxAttempts(), p.concurrentConsumers(),
                p.effectiveDeliveryConsumers(),
                p.sweepInterval().toMillis(), props.invitation().reminderCheckInterval().toMillis()));
    }

    /**
     * Embedded broker: redelivery of rolled-back work items with exponential backoff, and after
     * {@code max-attempts} deliveries the broker moves a work item to the dead-letter address, whose
     * queue exists from the start (a work item dead-lettered to an address without a queue would be
     * dropped) and keeps what the dead-letter route cannot record yet. An external broker needs the
     * same address settings (see the README).
     */
    @Bean
    ArtemisConfigurationCustomizer pipelineRedelivery(CareRelayProperties props) {
        var p = props.pipeline();
        String deadLetters = PipelineRoutes.deadLetterAddress(p.queuePrefix());
        return configuration -> configuration
                .addAddressSetting(p.queuePrefix() + ".#", new AddressSettings()
                        .setRedeliveryDelay(p.redeliveryDelay().toMillis())
                        .setRedeliveryMultiplier(p.redeliveryMultiplier())
                        .setMaxRedeliveryDelay(p.maxRedeliveryDelay().toMillis())
                        .setMaxDeliveryAttempts(p.maxAttempts())
                        .setDeadLetterAddress(SimpleString.of(deadLetters))
                        .setAutoCreateQueues(true)
                        .setAutoCreateAddresses(true))
                .addAddressSetting(deadLetters, new AddressSettings()
                        .setMaxDeliveryAttempts(-1)
                        .setAutoDeleteQueues(false))
                .addQueueConfiguration(QueueConfiguration.of(deadLetters).setRoutingType(RoutingType.ANYCAST).setDurable(true));
    }

    /** Held messages of an organisation that just registered go through fan-out again. */
    @Component
    static class ReleaseOnRegistration {
        private final PipelineService pipeline;

        ReleaseOnRegistration(PipelineService pipeline) {
            this.pipeline = pipeline;
        }

        @TransactionalEventListener(phase = TransactionPhase.AFTER_COMMIT)
        void onRegistered(RegistrationService.OrganizationRegistered event) {
            pipeline.release(event.organizationId());
        }
    }
}
