package org.carerelay.gateway.pipeline;

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
                p.sweepInterval().toMillis(), props.invitation().reminderCheckInterval().toMillis()));
    }

    /**
     * Embedded broker: redelivery of rolled-back work items with exponential backoff; the gateway
     * itself parks a work item in {@code <queue>.dlq} after the last attempt, so the broker never
     * drops or dead-letters on its own. An external broker needs the same address settings for
     * {@code carerelay.#} (see the README).
     */
    @Bean
    ArtemisConfigurationCustomizer pipelineRedelivery(CareRelayProperties props) {
        var p = props.pipeline();
        return configuration -> configuration.addAddressSetting(p.queuePrefix() + ".#", new AddressSettings()
                .setRedeliveryDelay(p.redeliveryDelay().toMillis())
                .setRedeliveryMultiplier(p.redeliveryMultiplier())
                .setMaxRedeliveryDelay(p.maxRedeliveryDelay().toMillis())
                .setMaxDeliveryAttempts(-1)
                .setAutoCreateQueues(true)
                .setAutoCreateAddresses(true));
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
