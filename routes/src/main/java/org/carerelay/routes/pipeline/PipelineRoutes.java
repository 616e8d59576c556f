package org.carerelay.routes.pipeline;

import org.apache.camel.Exchange;
import org.apache.camel.LoggingLevel;
import org.apache.camel.builder.RouteBuilder;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * The routing pipeline on persistent queues: fan-out per recipient, then one stage per channel.
 * Consumers are transacted: a step that throws rolls the JMS message back and the broker redelivers
 * it with exponential backoff (broker address settings); after {@code maxAttempts} deliveries the
 * work item goes to the stage's dead-letter queue {@code <queue>.dlq} (admin operations list and
 * retry those). Routes only wire; the steps live behind {@link PipelineSteps}. A step's failure is
 * rethrown as {@link StepFailedException}, so what the error handler logs holds no message text; an
 * {@link ExpectedRetry} (partner unreachable) is logged as one line per attempt instead.
 */
public class PipelineRoutes extends RouteBuilder {

    private static final Logger RETRIES = LoggerFactory.getLogger(PipelineRoutes.class);

    public record Settings(String queuePrefix, int maxAttempts, int concurrentConsumers, long sweepIntervalMs,
            long reminderIntervalMs) {
    }

    /** The queue a work item came from; its dead letters go to {@code <queue>.dlq}. */
    public static final String DLQ_HEADER = "CareRelayOriginQueue";

    private final PipelineSteps steps;
    private final Settings settings;

    public PipelineRoutes(PipelineSteps steps, Settings settings) {
        this.steps = steps;
        this.settings = settings;
    }

    public String queue(String stage) {
        return settings.queuePrefix() + "." + stage;
    }

    private String consumer(String stage) {
        // the listener container would log every failure again (WARN with the stack trace) after
        // Camel's error handler: it only reports at DEBUG
        return "jms:queue:" + queue(stage) + "?transacted=true&concurrentConsumers=" + settings.concurrentConsumers()
                + "&errorHandlerLoggingLevel=DEBUG&errorHandlerLogStackTrace=false";
    }

    @Override
    public void configure() {
        // an expected retry has been logged in one line by the step (see stage); it still rolls the
        // work item back, but Camel's error handler does not log it again with a stack trace
        onException(ExpectedRetry.class).handled(false)
                .logExhausted(false).logStackTrace(false).logRetryAttempted(false).logHandled(false)
                .logExhaustedMessageHistory(false).logNewException(false);

        from(consumer("fanout")).routeId("fan-out")
                .filter(this::exhausted).setHeader(DLQ_HEADER, constant(queue("fanout"))).to("direct:dead-letter").stop().end()
                .process(exchange -> {
                    try {
                        exchange.getIn().setBody(steps.fanOut(exchange.getIn().getBody(String.class)));
                    } catch (RuntimeException e) {
                        throw new StepFailedException("fan-out", e);
                    }
                }).id("fan-out-ledger")
                .split(body())
                    .process(exchange -> {
                        WorkItem item = exchange.getIn().getBody(WorkItem.class);
                        exchange.getIn().setHeader("CareRelayQueue", queue(item.stage().queueSuffix()));
                        exchange.getIn().setBody(item.body());
                    })
                    .toD("jms:queue:${header.CareRelayQueue}").id("fan-out-emit")
                .end();

        stage(WorkItem.Stage.DELIVER_FHIR, "delivery-fhir", steps::deliverFhir);
        stage(WorkItem.Stage.DELIVER_MLLP, "delivery-mllp", steps::deliverMllp);
        stage(WorkItem.Stage.NOTIFY, "notification", steps::notifyRecipient);
        stage(WorkItem.Stage.INVITE, "invitation", steps::invite);

        from("direct:dead-letter").routeId("dead-letter")
                .process(this::recordDeadLetter)
                .toD("jms:queue:${header." + DLQ_HEADER + "}.dlq").id("dead-letter-park")
                .log(LoggingLevel.WARN, "Work item parked in ${header." + DLQ_HEADER + "}.dlq after ${header.JMSXDeliveryCount} deliveries");

        from("timer:routing-sweeper?period=" + settings.sweepIntervalMs() + "&delay=" + settings.sweepIntervalMs())
                .routeId("routing-sweeper")
                .process(exchange -> steps.sweepPendingJobs());

        from("timer:invitation-reminders?period=" + settings.reminderIntervalMs() + "&delay=" + settings.reminderIntervalMs())
                .routeId("invitation-reminders")
                .process(exchange -> steps.sendDueReminders());
    }

    interface Step {
        void run(String messageId, String recipient);
    }

    private void stage(WorkItem.Stage stage, String routeId, Step step) {
        from(consumer(stage.queueSuffix())).routeId(routeId)
                .filter(this::exhausted).setHeader(DLQ_HEADER, constant(queue(stage.queueSuffix()))).to("direct:dead-letter").stop().end()
                .process(exchange -> {
                    String[] parts = WorkItem.parse(exchange.getIn().getBody(String.class));
                    try {
                        step.run(parts[0], parts[1]);
                    } catch (ExpectedRetry e) {
                        Integer attempt = exchange.getIn().getHeader("JMSXDeliveryCount", Integer.class);
                        boolean last = attempt != null && attempt >= settings.maxAttempts();
                        RETRIES.warn("{}: message {} to {} not delivered in attempt {} of {}, {}: {}", routeId, parts[0], parts[1],
                                attempt, settings.maxAttempts(), last ? "no attempts left (dead letter)" : "retried later",
                                e.getMessage());
                        throw e;
                    } catch (RuntimeException e) {
                        throw new StepFailedException(routeId, e);
                    }
                }).id(routeId + "-step");
    }

    /** True on the delivery after the last allowed attempt (JMSXDeliveryCount is 1-based). */
    private boolean exhausted(Exchange exchange) {
        Integer count = exchange.getIn().getHeader("JMSXDeliveryCount", Integer.class);
        return count != null && count > settings.maxAttempts();
    }

    private void recordDeadLetter(Exchange exchange) {
        String name = exchange.getIn().getHeader(DLQ_HEADER, String.class);
        String body = exchange.getIn().getBody(String.class);
        for (WorkItem.Stage stage : WorkItem.Stage.values()) {
            if (name.equals(queue(stage.queueSuffix()))) {
                try {
                    String[] parts = WorkItem.parse(body);
                    steps.deadLettered(stage, parts[0], parts[1], "gave up after " + settings.maxAttempts() + " attempts");
                } catch (IllegalArgumentException e) {
                    // malformed body: park it as is
                }
            }
        }
    }
}
