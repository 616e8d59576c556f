package org.carerelay.gateway.pipeline;

import static org.assertj.core.api.Assertions.assertThat;
import static org.awaitility.Awaitility.await;

import jakarta.jms.Connection;
import jakarta.jms.ConnectionFactory;
import jakarta.jms.Message;
import jakarta.jms.MessageConsumer;
import jakarta.jms.Session;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Set;
import java.util.TreeSet;
import java.util.UUID;
import java.util.concurrent.atomic.AtomicInteger;
import org.apache.activemq.artemis.api.core.SimpleString;
import org.apache.activemq.artemis.api.core.client.ActiveMQClient;
import org.apache.activemq.artemis.core.server.Consumer;
import org.apache.activemq.artemis.core.server.Queue;
import org.apache.activemq.artemis.core.server.embedded.EmbeddedActiveMQ;
import org.apache.camel.CamelContext;
import org.apache.camel.builder.RouteBuilder;
import org.apache.camel.component.jms.JmsConsumer;
import org.carerelay.gateway.GatewayIntegrationTest;
import org.carerelay.gateway.config.CareRelayProperties;
import org.carerelay.gateway.infra.ArtemisClientSettings;
import org.carerelay.routes.pipeline.PipelineListenerContainer;
import org.carerelay.routes.pipeline.PipelineRoutes;
import org.carerelay.routes.pipeline.WorkItem;
import org.carerelay.routes.pipeline.WorkItem.Stage;
import org.junit.jupiter.api.Test;
import org.springframework.beans.factory.annotation.Autowired;
import org.springframework.jms.core.JmsTemplate;

/**
 * The pipeline's consumers on the real embedded broker: each keeps its broker consumer from one work
 * item to the next and buffers none, and what a route sends while it works on an item is committed
 * with that item's acknowledgement or not at all.
 */
class PipelineConsumersIT extends GatewayIntegrationTest {

    @Autowired
    EmbeddedActiveMQ broker;

    @Autowired
    ConnectionFactory connectionFactory;

    @Autowired
    CareRelayProperties properties;

    @Autowired
    WorkQueue workQueue;

    @Autowired
    CamelContext camel;

    @Test
    void theConnectionFactoryBuffersNoMessagesForItsConsumers_andTheClientsFlowControlPoolIsSetToTwoThreads() {
        assertThat(ArtemisClientSettings.artemis(connectionFactory).getConsumerWindowSize()).isZero();
        // every idle consumer hands the broker a credit per receive: a small pool carries them (the
        // pool is the JVM's, made at the client's first use, so its threads are not counted here)
        assertThat(ActiveMQClient.getGlobalFlowControlThreadPoolSize()).isEqualTo(2);
    }

    @Test
    void everyPipelineRoute_consumesThroughThePipelinesListenerContainer() throws Exception {
        for (String route : List.of("fan-out", "delivery-fhir", "delivery-mllp", "notification", "invitation", "dead-letter")) {
            assertThat(((JmsConsumer) camel.getRoute(route).getConsumer()).getListenerContainer()).as(route)
                    .isInstanceOf(PipelineListenerContainer.class);
        }
    }

    @Test
    void consumersStay_fromOneWorkItemToTheNext() {
        String fanOut = PipelineRoutes.queue(properties.pipeline().queuePrefix(), Stage.FANOUT);
        int configured = properties.pipeline().concurrentConsumers();
        Queue queue = broker.getActiveMQServer().locateQueue(SimpleString.of(fanOut));
        await().atMost(Duration.ofSeconds(30)).until(() -> consumerIds(queue).size() == configured);
        Set<Long> before = consumerIds(queue);
        long acknowledged = queue.getMessagesAcknowledged();

        // unknown messages: the fan-out step drops each of them at once
        for (int i = 0; i < 40; i++) {
            workQueue.fanOut("unknown-" + UUID.randomUUID());
        }
        await().atMost(Duration.ofSeconds(60)).until(() -> queue.getMessagesAcknowledged() >= acknowledged + 40);

        assertThat(consumerIds(queue)).as("the broker's consumers of %s after 40 work items", fanOut).isEqualTo(before);
    }

    @Test
    void sendsOfAnAttemptThatFails_areRolledBackWithIt_andCommittedWithTheAttemptThatSucceeds() throws Exception {
        String id = UUID.randomUUID().toString();
        String input = "consumers-it." + id + ".in";
        String routeOut = "consumers-it." + id + ".route-out";
        String templateOut = "consumers-it." + id + ".template-out";
        String fanOut = PipelineRoutes.queue(properties.pipeline().queuePrefix(), Stage.FANOUT);
        // the very endpoint options of the pipeline's consumers, on a queue of this test
        String endpoint = camel.getRoute("fan-out").getEndpoint().getEndpointUri().replace(fanOut, input);
        assertThat(endpoint).contains(input);
        AtomicInteger attempts = new AtomicInteger();
        JmsTemplate template = new JmsTemplate(connectionFactory);
        camel.addRoutes(new RouteBuilder() {
            @Override
            public void configure() {
                from(endpoint).routeId("consumers-it-" + id)
                        .to("jms:queue:" + routeOut)
                        // as a step does with WorkQueue: a JmsTemplate of its own on the same factory
                        .process(exchange -> template.execute(session -> {
                            WorkQueue.send(session, templateOut, WorkItem.fanOut("template-" + id), Duration.ZERO);
                            return null;
                        }, false))
                        .process(exchange -> {
                            if (attempts.incrementAndGet() <= 2) {
                                throw new IllegalStateException("attempt " + attempts.get() + " fails after its sends");
                            }
                        });
            }
        });
        try {
            new JmsTemplate(connectionFactory).send(input, session -> session.createTextMessage(""));
            await().atMost(Duration.ofSeconds(30)).until(() -> attempts.get() >= 3);

            assertThat(drain(routeOut)).as("sent by the route: once, by the third attempt").hasSize(1);
            assertThat(drain(templateOut)).as("sent with a JmsTemplate: once, by the third attempt").hasSize(1);
            assertThat(drain(input)).as("the work item, acknowledged by the third attempt").isEmpty();
            assertThat(attempts.get()).isEqualTo(3);
        } finally {
            camel.getRouteController().stopRoute("consumers-it-" + id);
            camel.removeRoute("consumers-it-" + id);
        }
    }

    private static Set<Long> consumerIds(Queue queue) {
        Set<Long> ids = new TreeSet<>();
        for (Consumer consumer : queue.getConsumers()) {
            ids.add(consumer.sequentialID());
        }
        return ids;
    }

    /** Every message on {@code queue}, waiting up to a second for each one after the first. */
    private List<Message> drain(String queue) throws Exception {
        List<Message> messages = new ArrayList<>();
        try (Connection connection = ArtemisClientSettings.artemis(connectionFactory).createConnection()) {
            connection.start();
            Session session = connection.createSession(false, Session.AUTO_ACKNOWLEDGE);
            MessageConsumer consumer = session.createConsumer(session.createQueue(queue));
            for (Message message = consumer.receive(2_000); message != null; message = consumer.receive(1_000)) {
                messages.add(message);
            }
        }
        return messages;
    }
}
