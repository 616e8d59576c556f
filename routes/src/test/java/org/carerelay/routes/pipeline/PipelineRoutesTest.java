package org.carerelay.routes.pipeline;

import static org.assertj.core.api.Assertions.assertThat;

import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.concurrent.CopyOnWriteArrayList;
import org.apache.camel.CamelContext;
import org.apache.camel.Exchange;
import org.apache.camel.RoutesBuilder;
import org.apache.camel.builder.AdviceWith;
import org.apache.camel.component.mock.MockComponent;
import org.apache.camel.component.mock.MockEndpoint;
import org.apache.camel.test.junit5.CamelTestSupport;
import org.apache.camel.test.junit5.TestExecutionConfiguration;
import org.carerelay.routes.pipeline.WorkItem.Stage;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;

/**
 * The pipeline routes as wiring, without a broker: each JMS consumer is replaced by a direct
 * endpoint, every queue the routes send to is a mock, and the steps are a fake. An exchange that
 * ends with an exception is what the broker would roll back and redeliver; one that ends without
 * is acknowledged.
 */
class PipelineRoutesTest extends CamelTestSupport {

    private static final String PREFIX = "carerelay";
    private static final int MAX_ATTEMPTS = 4;

    private final FakeSteps steps = new FakeSteps();

    @Override
    public void configureTest(TestExecutionConfiguration configuration) {
        super.configureTest(configuration);
        configuration.withUseAdviceWith(true);
    }

    @Override
    protected CamelContext createCamelContext() throws Exception {
        CamelContext context = super.createCamelContext();
        context.addComponent("jms", new MockComponent()); // every queue is a mock endpoint
        return context;
    }

    @Override
    protected RoutesBuilder createRouteBuilder() {
        return new PipelineRoutes(steps, new PipelineRoutes.Settings(PREFIX, MAX_ATTEMPTS, 2, 60_000, 60_000));
    }

    @BeforeEach
    void replaceBrokerConsumers() throws Exception {
        for (String route : List.of("fan-out", "delivery-fhir", "delivery-mllp", "notification", "invitation", "dead-letter",
                "routing-sweeper", "invitation-reminders")) {
            AdviceWith.adviceWith(context, route, advice -> advice.replaceFromWith("direct:" + route));
        }
        context.start();
    }

    private Exchange deliver(String route, WorkItem item) {
        return template.send("direct:" + route, exchange -> {
            exchange.getIn().setBody("");
            exchange.getIn().getHeaders().putAll(item.headers());
        });
    }

    private MockEndpoint queue(Stage stage) {
        return getMockEndpoint("jms:queue:" + PipelineRoutes.queue(PREFIX, stage));
    }

    private MockEndpoint parked(Stage stage) {
        return getMockEndpoint("jms:queue:" + PipelineRoutes.parkingQueue(PREFIX, stage));
    }

    @Test
    void deliveryQueues_haveTheirOwnConsumerCount_theOtherQueuesKeepTheirs() throws Exception {
        try (org.apache.camel.impl.DefaultCamelContext other = new org.apache.camel.impl.DefaultCamelContext()) {
            new PipelineRoutes(steps, new PipelineRoutes.Settings(PREFIX, MAX_ATTEMPTS, 2, 7, 60_000, 60_000))
                    .addRoutesToCamelContext(other);
            Map<String, String> inputs = new HashMap<>();
            for (var route : other.getRouteDefinitions()) {
                inputs.put(route.getRouteId(), route.getInput().getEndpointUri());
            }

            assertThat(inputs.get("delivery-mllp")).contains("concurrentConsumers=7");
            assertThat(inputs.get("delivery-fhir")).contains("concurrentConsumers=7");
            for (String route : List.of("fan-out", "notification", "invitation", "dead-letter")) {
                assertThat(inputs.get(route)).as(route).contains("concurrentConsumers=2");
            }
        }
    }

    @Test
    void fanOut_sendsEachPlannedWorkItemToItsStageQueue_withTheIdsAsHeaders() throws Exception {
        steps.planned = List.of(new WorkItem(Stage.DELIVER_FHIR, "m1", "org-a"), new WorkItem(Stage.NOTIFY, "m1", "org-a"),
                new WorkItem(Stage.INVITE, "m1", "org-b"));
        queue(Stage.DELIVER_FHIR).expectedMessageCount(1);
        queue(Stage.DELIVER_FHIR).expectedHeaderReceived(WorkItem.MESSAGE_ID, "m1");
        queue(Stage.DELIVER_FHIR).expectedHeaderReceived(WorkItem.RECIPIENT, "org-a");
        queue(Stage.DELIVER_FHIR).expectedHeaderReceived(WorkItem.STAGE, "deliver-fhir");
        queue(Stage.NOTIFY).expectedMessageCount(1);
        queue(Stage.INVITE).expectedHeaderReceived(WorkItem.RECIPIENT, "org-b");

        Exchange done = deliver("fan-out", WorkItem.fanOut("m1"));

        assertThat(done.getException()).isNull();
        assertThat(steps.calls).containsExactly("fanOut m1");
        MockEndpoint.assertIsSatisfied(context);
        assertThat(queue(Stage.DELIVER_MLLP).getReceivedCounter()).isZero();
        assertThat(queue(Stage.DELIVER_FHIR).getExchanges().get(0).getIn().getBody(String.class)).isEmpty();
    }

    @Test
    void delivered_stepIsCalledOnce_andTheWorkItemAcknowledged() {
        Exchange done = deliver("delivery-fhir", new WorkItem(Stage.DELIVER_FHIR, "m1", "org-a"));

        assertThat(done.getException()).isNull();
        assertThat(steps.calls).containsExactly("deliverFhir m1 org-a");
    }

    @Test
    void partnerUnreachable_isRolledBackForTheBrokersRetry_withoutRetryingInTheRoute() {
        steps.failure = new ExpectedRetry("connection refused");

        Exchange done = deliver("delivery-mllp", new WorkItem(Stage.DELIVER_MLLP, "m1", "org-a"));

        assertThat(done.getException()).isInstanceOf(ExpectedRetry.class);
        assertThat(steps.calls).containsExactly("deliverMllp m1 org-a");
    }

    @Test
    void failedForGood_isRecordedByTheStep_andTheWorkItemAcknowledged() {
        steps.outcome = "failed: recipient refused";

        Exchange done = deliver("delivery-fhir", new WorkItem(Stage.DELIVER_FHIR, "m1", "org-a"));

        assertThat(done.getException()).isNull();
        assertThat(steps.calls).containsExactly("deliverFhir m1 org-a", "failed: recipient refused");
    }

    @Test
    void unexpectedError_isRolledBack_andWhatReachesTheListenerHoldsNoMessageText() {
        steps.failure = new IllegalStateException("row for patient Erika Mustermann violates a constraint");

        Exchange done = deliver("notification", new WorkItem(Stage.NOTIFY, "m1", "org-a"));

        assertThat(done.getException()).isInstanceOf(StepFailedException.class);
        assertThat(done.getException().getMessage()).contains("IllegalStateException").doesNotContain("Mustermann");
    }

    @Test
    void leasedByAnotherAttempt_aCopyIsScheduledBeforeTheOriginalIsAcknowledged() throws Exception {
        queue(Stage.DELIVER_MLLP).expectedMessageCount(1);
        queue(Stage.DELIVER_MLLP).expectedHeaderReceived(WorkItem.MESSAGE_ID, "m1");
        steps.onLeased = item -> template.sendBodyAndHeaders("jms:queue:" + PipelineRoutes.queue(PREFIX, item.stage()), "",
                item.headers());
        steps.outcome = "leased: rescheduled";

        Exchange done = deliver("delivery-mllp", new WorkItem(Stage.DELIVER_MLLP, "m1", "org-a"));

        MockEndpoint.assertIsSatisfied(context);
        assertThat(done.getException()).as("acknowledged only after the copy was sent").isNull();
        assertThat(steps.calls).containsExactly("deliverMllp m1 org-a", "leased: rescheduled");
    }

    @Test
    void deadLetter_isRecordedInTheLedger_andParkedInTheStagesDeadLetterQueue() throws Exception {
        parked(Stage.DELIVER_FHIR).expectedMessageCount(1);
        parked(Stage.DELIVER_FHIR).expectedHeaderReceived(WorkItem.MESSAGE_ID, "m1");
        parked(Stage.DELIVER_FHIR).expectedHeaderReceived(WorkItem.RECIPIENT, "org-a");

        Exchange done = deliver("dead-letter", new WorkItem(Stage.DELIVER_FHIR, "m1", "org-a"));

        assertThat(done.getException()).isNull();
        assertThat(steps.calls).containsExactly("deadLettered deliver-fhir m1|org-a");
        MockEndpoint.assertIsSatisfied(context);
    }

    @Test
    void deadLetterThatCannotBeRecorded_isRolledBack_andNotParked() throws Exception {
        steps.failure = new IllegalStateException("database down");

        Exchange done = deliver("dead-letter", new WorkItem(Stage.DELIVER_FHIR, "m1", "org-a"));

        assertThat(done.getException()).isInstanceOf(StepFailedException.class);
        assertThat(parked(Stage.DELIVER_FHIR).getReceivedCounter()).isZero();
    }

    @Test
    void deadLetterWithoutStageOrIds_isParkedAsUnrecognised_withoutTouchingTheLedger() throws Exception {
        MockEndpoint unrecognised = getMockEndpoint("jms:queue:" + PipelineRoutes.unrecognisedQueue(PREFIX));
        unrecognised.expectedBodiesReceived("something else");

        Exchange done = template.send("direct:dead-letter", exchange -> exchange.getIn().setBody("something else"));

        assertThat(done.getException()).isNull();
        assertThat(steps.calls).isEmpty();
        MockEndpoint.assertIsSatisfied(context);
    }

    @Test
    void workItemOfThePreviousRelease_goesBackOnItsQueueWithHeaders_beforeItIsWorkedOn() throws Exception {
        queue(Stage.DELIVER_FHIR).expectedMessageCount(1);
        queue(Stage.DELIVER_FHIR).expectedHeaderReceived(WorkItem.MESSAGE_ID, "m1");
        queue(Stage.DELIVER_FHIR).expectedHeaderReceived(WorkItem.RECIPIENT, "org-a");
        queue(Stage.DELIVER_FHIR).expectedHeaderReceived(WorkItem.STAGE, "deliver-fhir");
        queue(Stage.FANOUT).expectedMessageCount(1);
        queue(Stage.FANOUT).expectedHeaderReceived(WorkItem.MESSAGE_ID, "m2");

        Exchange stage = template.send("direct:delivery-fhir", exchange -> exchange.getIn().setBody("m1|org-a"));
        Exchange fanOut = template.send("direct:fan-out", exchange -> exchange.getIn().setBody("m2"));

        assertThat(stage.getException()).isNull();
        assertThat(fanOut.getException()).isNull();
        assertThat(steps.calls).as("worked on when the upgraded copy comes back").isEmpty();
        MockEndpoint.assertIsSatisfied(context);
    }

    @Test
    void malformedWorkItemOfThePreviousRelease_isRolledBack_untilTheBrokerDeadLettersIt() {
        Exchange done = template.send("direct:invitation", exchange -> exchange.getIn().setBody("no separator"));

        assertThat(done.getException()).isInstanceOf(StepFailedException.class);
        assertThat(steps.calls).isEmpty();
    }

    @Test
    void timers_callTheSweeperAndTheReminders() {
        template.sendBody("direct:routing-sweeper", null);
        template.sendBody("direct:invitation-reminders", null);

        assertThat(steps.calls).containsExactly("sweepPendingJobs", "sendDueReminders");
    }

    /** Records every call; fails, reports an outcome or hands back a leased item as a test asks. */
    static final class FakeSteps implements PipelineSteps {
        final List<String> calls = new CopyOnWriteArrayList<>();
        List<WorkItem> planned = List.of();
        RuntimeException failure;
        String outcome;
        java.util.function.Consumer<WorkItem> onLeased;

        private void step(Stage stage, String name, String messageId, String recipient) {
            calls.add(name + " " + messageId + " " + recipient);
            if (failure != null) {
                throw failure;
            }
            if (onLeased != null) {
                onLeased.accept(new WorkItem(stage, messageId, recipient));
            }
            if (outcome != null) {
                calls.add(outcome);
            }
        }

        @Override
        public List<WorkItem> fanOut(String messageId) {
            calls.add("fanOut " + messageId);
            return new ArrayList<>(planned);
        }

        @Override
        public void deliverFhir(String messageId, String recipient) {
            step(Stage.DELIVER_FHIR, "deliverFhir", messageId, recipient);
        }

        @Override
        public void deliverMllp(String messageId, String recipient) {
            step(Stage.DELIVER_MLLP, "deliverMllp", messageId, recipient);
        }

        @Override
        public void notifyRecipient(String messageId, String recipient) {
            step(Stage.NOTIFY, "notifyRecipient", messageId, recipient);
        }

        @Override
        public void invite(String messageId, String recipient) {
            step(Stage.INVITE, "invite", messageId, recipient);
        }

        @Override
        public void deadLettered(WorkItem item) {
            if (failure != null) {
                throw failure;
            }
            calls.add("deadLettered " + item.stage().queueSuffix() + " " + item);
        }

        @Override
        public int sweepPendingJobs() {
            calls.add("sweepPendingJobs");
            return 0;
        }

        @Override
        public int sendDueReminders() {
            calls.add("sendDueReminders");
            return 0;
        }
    }
}
