package org.carerelay.gateway.pipeline;

import ca.uhn.fhir.rest.annotation.Operation;
import ca.uhn.fhir.rest.annotation.OperationParam;
import ca.uhn.fhir.rest.server.servlet.ServletRequestDetails;
import jakarta.jms.ConnectionFactory;
import jakarta.jms.JMSException;
import jakarta.jms.Message;
import jakarta.jms.MessageConsumer;
import jakarta.jms.Session;
import jakarta.jms.TextMessage;
import java.time.Duration;
import java.util.Collections;
import java.util.Date;
import java.util.Enumeration;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import org.carerelay.fhir.ErrorCode;
import org.carerelay.gateway.audit.AuditService;
import org.carerelay.gateway.config.CareRelayProperties;
import org.carerelay.gateway.fhir.GatewayException;
import org.carerelay.gateway.security.Caller;
import org.carerelay.routes.pipeline.PipelineRoutes;
import org.carerelay.routes.pipeline.WorkItem;
import org.carerelay.routes.pipeline.WorkItem.Stage;
import org.hl7.fhir.r4.model.AuditEvent.AuditEventAction;
import org.hl7.fhir.r4.model.InstantType;
import org.hl7.fhir.r4.model.IntegerType;
import org.hl7.fhir.r4.model.Parameters;
import org.hl7.fhir.r4.model.StringType;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;
import org.springframework.jms.core.JmsTemplate;
import org.springframework.stereotype.Component;
import org.springframework.transaction.support.TransactionTemplate;

/**
 * Operator operations on the dead-letter queues {@code <queue>.dlq}, where the dead-letter route parks
 * what the broker gave up on: {@code GET /fhir/$dead-letters} lists what is parked (message and recipient ids, stage, when; no content), {@code POST /fhir/$retry-dead-letters}
 * (optional {@code stage}, {@code message}) puts work items back on their queue after the cause is
 * fixed, with the delivery reset to {@code queued}.
 */
@Component
public class DeadLetterAdmin {

    private static final Logger log = LoggerFactory.getLogger(DeadLetterAdmin.class);

    private final JmsTemplate jms;
    private final DeliveryLedger ledger;
    private final TransactionTemplate tx;
    private final AuditService audit;
    private final String prefix;
    private final String mailQueue;

    public DeadLetterAdmin(ConnectionFactory connectionFactory, DeliveryLedger ledger, TransactionTemplate tx,
            AuditService audit, CareRelayProperties props) {
        this.jms = new JmsTemplate(connectionFactory);
        this.jms.setSessionTransacted(true); // a parked item leaves only with the commit of its re-send
        this.ledger = ledger;
        this.tx = tx;
        this.audit = audit;
        this.prefix = props.pipeline().queuePrefix();
        this.mailQueue = props.queue().mail();
    }

    /**
     * The work item a parked message holds: its JMS properties, or for one parked by the previous
     * release its body ({@code messageId|recipient}); empty when neither names one.
     */
    static Optional<WorkItem> workItem(Message parked, Stage stage) throws JMSException {
        Map<String, Object> headers = new HashMap<>();
        for (String name : List.of(WorkItem.STAGE, WorkItem.MESSAGE_ID, WorkItem.RECIPIENT)) {
            if (parked.propertyExists(name)) {
                headers.put(name, parked.getStringProperty(name));
            }
        }
        Optional<WorkItem> item = WorkItem.fromHeaders(headers);
        if (item.isPresent() || !(parked instanceof TextMessage text)) {
            return item;
        }
        try {
            return Optional.of(WorkItem.legacy(stage, text.getText()));
        } catch (IllegalArgumentException malformed) {
            return Optional.empty();
        }
    }

    @Operation(name = "$dead-letters", idempotent = true, returnParameters = {
            @OperationParam(name = "deadLetter", min = 0, max = OperationParam.MAX_UNLIMITED),
            @OperationParam(name = "mailDeadLetters", type = IntegerType.class, min = 1, max = 1)})
    public Parameters list(ServletRequestDetails request) {
        Caller.of(request).requireAdmin();
        Parameters out = new Parameters();
        for (Stage stage : Stage.values()) {
            jms.browse(PipelineRoutes.parkingQueue(prefix, stage), (session, browser) -> {
                Enumeration<?> parked = browser.getEnumeration();
                while (parked.hasMoreElements()) {
                    Message message = (Message) parked.nextElement();
                    var part = out.addParameter().setName("deadLetter");
                    part.addPart().setName("queue").setValue(new StringType(PipelineRoutes.queue(prefix, stage)));
                    part.addPart().setName("item").setValue(new StringType(workItem(message, stage).map(WorkItem::toString).orElse("?")));
                    part.addPart().setName("parkedAt").setValue(new InstantType(new Date(message.getJMSTimestamp())));
                }
                return null;
            });
        }
        Integer mailCount = jms.browse(mailQueue + ".dlq", (session, browser) -> Collections.list(browser.getEnumeration()).size());
        out.addParameter().setName("mailDeadLetters").setValue(new IntegerType(mailCount == null ? 0 : mailCount));
        audit.success("dead-letters-list", AuditEventAction.R, Caller.of(request), Caller.clientAddress(request), null);
        return out;
    }

    @Operation(name = "$retry-dead-letters", idempotent = false, returnParameters = {
            @OperationParam(name = "retried", type = IntegerType.class, min = 1, max = 1)})
    public Parameters retry(@OperationParam(name = "stage", min = 0, max = 1) StringType stage,
            @OperationParam(name = "message", min = 0, max = 1) StringType message, ServletRequestDetails request) {
        Caller.of(request).requireAdmin();
        Optional<Stage> only = stage == null ? Optional.empty() : Stage.ofQueueSuffix(stage.getValue());
        if (stage != null && only.isEmpty()) {
            throw new GatewayException(ErrorCode.INVALID_REQUEST, "Unknown stage; one of fanout, deliver-fhir, deliver-mllp, notify, invite.");
        }
        int moved = 0;
        for (Stage each : Stage.values()) {
            if (only.isPresent() && only.get() != each) {
                continue;
            }
            String parking = PipelineRoutes.parkingQueue(prefix, each);
            Integer parkedCount = jms.browse(parking, (session, browser) -> Collections.list(browser.getEnumeration()).size());
            int count = parkedCount == null ? 0 : parkedCount;
            if (count > 0) {
                String wanted = message == null ? null : message.getValue();
                moved += jms.execute(session -> retryParked(session, each, count, wanted), true);
            }
        }
        audit.success("dead-letters-retry", AuditEventAction.E, Caller.of(request), Caller.clientAddress(request), null);
        Parameters out = new Parameters();
        out.addParameter().setName("retried").setValue(new IntegerType(moved));
        return out;
    }

    /**
     * Takes up to {@code count} items off the stage's parking queue, each in its own transaction of the
     * (transacted) {@code session}: a parked item is acknowledged only in the commit that also sends it
     * back to its stage queue (or, when not the one asked for, to the parking queue again), and that
     * commit comes after the ledger's update committed. Any failure rolls the session back, so the item
     * stays parked (a duplicate is harmless, the ledger decides), and is thrown to the caller.
     */
    private int retryParked(Session session, Stage stage, int count, String wanted) throws JMSException {
        String parking = PipelineRoutes.parkingQueue(prefix, stage);
        int moved = 0;
        try (MessageConsumer consumer = session.createConsumer(session.createQueue(parking))) {
            for (int i = 0; i < count; i++) {
                Message parked = consumer.receiveNoWait();
                if (parked == null) {
                    break;
                }
                try {
                    Optional<WorkItem> item = workItem(parked, stage);
                    if (item.isEmpty()) {
                        // names no work item, so there is nothing to put back: it is removed on purpose
                        log.warn("Removed parked message {} from {}: it names no work item", parked.getJMSMessageID(), parking);
                        session.commit();
                        continue;
                    }
                    WorkItem work = item.get();
                    if (wanted != null && !work.messageId().equals(wanted)) {
                        // not the one asked for: parked again, behind the others
                        WorkQueue.send(session, parking, work, Duration.ZERO);
                        session.commit();
                        continue;
                    }
                    WorkQueue.send(session, PipelineRoutes.queue(prefix, stage), work, Duration.ZERO);
                    if (work.recipient() != null) {
                        tx.executeWithoutResult(s -> ledger.requeue(work.messageId(), work.recipient()));
                    }
                    session.commit();
                    moved++;
                } catch (JMSException | RuntimeException | Error e) {
                    rollback(session, e);
                    throw e;
                }
            }
        }
        return moved;
    }

    private static void rollback(Session session, Throwable cause) {
        try {
            session.rollback();
        } catch (JMSException | RuntimeException e) {
            cause.addSuppressed(e);
        }
    }
}
