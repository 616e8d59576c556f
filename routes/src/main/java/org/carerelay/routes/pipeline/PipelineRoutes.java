package org.carerelay.routes.pipeline;

import static org.carerelay.routes.pipeline.WorkItem.MESSAGE_ID;
import static org.carerelay.routes.pipeline.WorkItem.RECIPIENT;
import static org.carerelay.routes.pipeline.WorkItem.STAGE;

import org.apache.camel.Exchange;
import org.apache.camel.LoggingLevel;
import org.apache.camel.builder.RouteBuilder;
import org.apache.camel.util.ObjectHelper;
import org.carerelay.routes.pipeline.WorkItem.Stage;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * The routing pipeline on persistent queues {@code <prefix>.<stage>}: fan-out per recipient, then
 * one stage per channel, each a call of {@link PipelineSteps}. A work item is carried by JMS
 * properties (see {@link WorkItem}). Consumers are transacted: a step that throws rolls the work
 * item back and the broker redelivers it with its backoff; after its {@code max-delivery-attempts}
 * the broker moves it to the dead-letter address {@code <prefix>.dead-letter}, and the one
 * dead-letter route records it in the ledger and parks it in {@code <prefix>.<stage>.dlq}, where
 * the operator lists and retries it. A step's failure is logged once here: an {@link ExpectedRetry}
 * (partner unreachable) as one line per attempt, anything else as a {@link StepFailedException},
 * whose text holds no message content.
 */
public class PipelineRoutes extends RouteBuilder {

    private static final Logger log = LoggerFactory.getLogger(PipelineRoutes.class);

    /**
     * {@code maxAttempts} is the broker's {@code max-delivery-attempts} for the stage queues; here
     * it only names the attempt in the log. {@code deliveryConsumers}: consumers of each of the two
     * delivery queues (FHIR, MLLP), whose steps mostly wait for a partner's answer;
     * {@code concurrentConsumers}: of every other queue.
     */
    public record Settings(String queuePrefix, int maxAttempts, int concurrentConsumers, int deliveryConsumers,
            long sweepIntervalMs, long reminderIntervalMs) {

        public Settings(String queuePrefix, int maxAttempts, int concurrentConsumers, long sweepIntervalMs,
                long reminderIntervalMs) {
            this(queuePrefix, maxAttempts, concurrentConsumers, concurrentConsumers, sweepIntervalMs, reminderIntervalMs);
        }
    }

    private final PipelineSteps steps;
    private final Settings settings;

    public PipelineRoutes(PipelineSteps steps, Settings settings) {
        this.steps = steps;
        this.settings = settings;
    }

    public static String queue(String prefix, Stage stage) {
        return prefix + "." + stage.queueSuffix();
    }

    /** Where the broker moves a work item after its last attempt. */
    public static String deadLetterAddress(String prefix) {
        return prefix + ".dead-letter";
    }

    /** Where a dead work item is parked for the operator once the ledger knows. */
    public static String parkingQueue(String prefix, Stage stage) {
        return queue(prefix, stage) + ".dlq";
    }

    /** Work items that reached the dead-letter address without naming their stage. */
    public static String unrecognisedQueue(String prefix) {
        return prefix + ".unrecognised.dlq";
    }

    private String consumer(String queue) {
        return consumer(queue, settings.concurrentConsumers());
    }

    /**
     * A consumer on a locally transacted JMS session that it keeps: the work item is acknowledged
     * in the commit of that session, and whatever a step or the route sends on the way (the
     * fan-out's work items, an upgrade, a parked item) goes out on the same session and with the
     * same commit, because the listener container exposes its session to every send on its thread.
     * No transaction manager is made for it ({@code lazyCreateTransactionManager=false}): with one,
     * the container would open and close a consumer for every work item, and the broker would take
     * back everything the closed consumer had buffered, each time. The container is
     * {@link PipelineListenerContainer}.
     */
    private static String consumer(String queue, int consumers) {
        // the listener container would log every failure again (WARN with the stack trace) after
        // this route: it only reports at DEBUG
        return "jms:queue:" + queue + "?transacted=true&lazyCreateTransactionManager=false&cacheLevelName=CACHE_CONSUMER"
                + "&concurrentConsumers=" + consumers
                + "&consumerType=Custom&messageListenerContainerFactory=#class:" + PipelineListenerContainer.Factory.class.getName()
                + "&errorHandlerLoggingLevel=DEBUG&errorHandlerLogStackTrace=false";
    }

    @Override
    public void configure() {
        String prefix = settings.queuePrefix();
        // every failure is logged once, by reportFailure, and still rolls the work item back
        onException(Exception.class).handled(false)
                .logExhausted(false).logStackTrace(false).logRetryAttempted(false).logHandled(false)
                .logExhaustedMessageHistory(false).logNewException(false)
                .process(this::reportFailure);

        from(consumer(queue(prefix, Stage.FANOUT))).routeId("fan-out")
                .filter(header(MESSAGE_ID).isNull()).process(exchange -> upgrade(exchange, Stage.FANOUT))
                    .to("jms:queue:" + queue(prefix, Stage.FANOUT)).id("fan-out-upgrade").stop().end()
                .bean(steps, "fanOut(${header." + MESSAGE_ID + "})").id("fan-out-ledger")
                .split(body())
                    .setHeader(STAGE, simple("${body.stage.queueSuffix}"))
                    .setHeader(MESSAGE_ID, simple("${body.messageId}"))
                    .setHeader(RECIPIENT, simple("${body.recipient}"))
                    .setBody(constant(""))
                    // one endpoint per queue (there are five), rather than camel-jms's destination header
                    .toD().uri("jms:queue:" + prefix + ".${header." + STAGE + "}").allowOptimisedComponents(false).id("fan-out-emit")
                .end();

        stage(Stage.DELIVER_FHIR, "delivery-fhir", "deliverFhir");
        stage(Stage.DELIVER_MLLP, "delivery-mllp", "deliverMllp");
        stage(Stage.NOTIFY, "notification", "notifyRecipient");
        stage(Stage.INVITE, "invitation", "invite");

        from(consumer(deadLetterAddress(prefix))).routeId("dead-letter")
                .choice()
                    .when(exchange -> WorkItem.fromHeaders(exchange.getIn().getHeaders()).isEmpty())
                        .log(LoggingLevel.WARN, log, "A work item without stage or ids reached the dead-letter address; parked in "
                                + unrecognisedQueue(prefix))
                        .to("jms:queue:" + unrecognisedQueue(prefix)).id("dead-letter-unrecognised")
                    .otherwise()
                        .setBody(exchange -> WorkItem.fromHeaders(exchange.getIn().getHeaders()).orElseThrow())
                        .bean(steps, "deadLettered(${body})").id("dead-letter-ledger")
                        .setBody(constant(""))
                        .toD().uri("jms:queue:" + prefix + ".${header." + STAGE + "}.dlq").allowOptimisedComponents(false).id("dead-letter-park")
                        .log(LoggingLevel.WARN, log, "Work item ${header." + STAGE + "} for message ${header." + MESSAGE_ID
                                + "} parked in " + prefix + ".${header." + STAGE + "}.dlq after the broker's last attempt")
                .end();

        from("timer:routing-sweeper?period=" + settings.sweepIntervalMs() + "&delay=" + settings.sweepIntervalMs())
                .routeId("routing-sweeper")
                .bean(steps, "sweepPendingJobs");

        from("timer:invitation-reminders?period=" + settings.reminderIntervalMs() + "&delay=" + settings.reminderIntervalMs())
                .routeId("invitation-reminders")
                .bean(steps, "sendDueReminders");
    }

    private void stage(Stage stage, String routeId, String method) {
        String queue = queue(settings.queuePrefix(), stage);
        boolean delivery = stage == Stage.DELIVER_FHIR || stage == Stage.DELIVER_MLLP;
        from(consumer(queue, delivery ? settings.deliveryConsumers() : settings.concurrentConsumers())).routeId(routeId)
                .filter(header(MESSAGE_ID).isNull()).process(exchange -> upgrade(exchange, stage))
                    .to("jms:queue:" + queue).id(routeId + "-upgrade").stop().end()
                .bean(steps, method + "(${header." + MESSAGE_ID + "}, ${header." + RECIPIENT + "})").id(routeId + "-step");
    }

    /**
     * A work item of the previous release (ids in the body) goes back on its queue in the current
     * form; it is sent before the old one is acknowledged, so a crash in between leaves two copies,
     * which the ledger makes harmless.
     */
    private static void upgrade(Exchange exchange, Stage stage) {
        WorkItem item = WorkItem.legacy(stage, exchange.getIn().getBody(String.class));
        exchange.getIn().getHeaders().putAll(item.headers());
        exchange.getIn().setBody("");
    }

    private void reportFailure(Exchange exchange) {
        Exception error = exchange.getProperty(Exchange.EXCEPTION_CAUGHT, Exception.class);
        String routeId = exchange.getFromRouteId();
        String messageId = exchange.getIn().getHeader(MESSAGE_ID, String.class);
        String recipient = exchange.getIn().getHeader(RECIPIENT, String.class);
        ExpectedRetry retry = ObjectHelper.getException(ExpectedRetry.class, error);
        if (retry != null) {
            // the broker's delivery count, 1-based; only for the operator's log line
            Integer attempt = exchange.getIn().getHeader("JMSXDeliveryCount", Integer.class);
            boolean last = attempt != null && attempt >= settings.maxAttempts();
            log.warn("{}: message {} to {} not delivered in attempt {} of {}, {}: {}", routeId, messageId, recipient,
                    attempt, settings.maxAttempts(), last ? "no attempts left (dead letter)" : "retried later",
                    retry.getMessage());
            return;
        }
        StepFailedException failure = new StepFailedException(routeId, error);
        log.error("{}: work item for message {} / {} failed; the broker redelivers it", routeId, messageId, recipient, failure);
        // what reaches the listener container holds no message text either
        exchange.setProperty(Exchange.EXCEPTION_CAUGHT, failure);
        exchange.setException(failure);
    }
}
