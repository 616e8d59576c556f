package org.carerelay.gateway.pipeline;

import static org.assertj.core.api.Assertions.assertThat;

import java.util.Set;
import java.util.TreeSet;
import org.apache.activemq.artemis.core.server.Queue;
import org.apache.activemq.artemis.core.server.embedded.EmbeddedActiveMQ;
import org.carerelay.gateway.GatewayIntegrationTest;
import org.carerelay.gateway.config.CareRelayProperties;
import org.carerelay.routes.pipeline.PipelineRoutes;
import org.carerelay.routes.pipeline.WorkItem.Stage;
import org.junit.jupiter.api.Test;
import org.springframework.beans.factory.annotation.Autowired;

/**
 * The pipeline's consumers stay open on the broker. A consumer that is opened for every receive
 * and closed after it hands its prefetched work items back to the queue each time: with a backlog,
 * the broker did little but move the same work items between consumers, and the backlog grew.
 */
class BrokerConsumersIT extends GatewayIntegrationTest {

    @Autowired
    EmbeddedActiveMQ broker;

    @Autowired
    CareRelayProperties properties;

    private Set<Long> consumerIds(Stage stage) {
        Queue queue = broker.getActiveMQServer().locateQueue(PipelineRoutes.queue(properties.pipeline().queuePrefix(), stage));
        Set<Long> ids = new TreeSet<>();
        if (queue != null) {
            queue.getConsumers().forEach(consumer -> ids.add(consumer.sequentialID()));
        }
        return ids;
    }

    @Test
    void idlePipelineConsumers_stayOpenOnTheBroker_insteadOfReopeningForEveryReceive() throws Exception {
        for (Stage stage : new Stage[] {Stage.FANOUT, Stage.DELIVER_MLLP, Stage.NOTIFY}) {
            Set<Long> before = consumerIds(stage);
            // several receive timeouts (1 s each) of an idle consumer
            Thread.sleep(3_500);
            Set<Long> after = consumerIds(stage);
            assertThat(before).as("consumers of %s", stage).isNotEmpty();
            assertThat(after).as("consumers of %s 3.5 s later: the same ones", stage).isEqualTo(before);
        }
    }
}
