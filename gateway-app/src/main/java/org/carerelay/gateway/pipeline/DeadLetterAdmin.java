package org.carerelay.gateway.pipeline;

import ca.uhn.fhir.rest.annotation.Operation;
import ca.uhn.fhir.rest.annotation.OperationParam;
import ca.uhn.fhir.rest.server.servlet.ServletRequestDetails;
import jakarta.jms.Message;
import jakarta.jms.TextMessage;
import java.util.Collections;
import java.util.Date;
import java.util.List;
import org.carerelay.fhir.ErrorCode;
import org.carerelay.gateway.audit.AuditService;
import org.carerelay.gateway.config.CareRelayProperties;
import org.carerelay.gateway.fhir.GatewayException;
import org.carerelay.gateway.security.Caller;
import org.carerelay.routes.pipeline.WorkItem;
import org.hl7.fhir.r4.model.AuditEvent.AuditEventAction;
import org.hl7.fhir.r4.model.InstantType;
import org.hl7.fhir.r4.model.IntegerType;
import org.hl7.fhir.r4.model.Parameters;
import org.hl7.fhir.r4.model.StringType;
import org.springframework.jms.core.JmsTemplate;
import org.springframework.stereotype.Component;
import org.springframework.transaction.support.TransactionTemplate;

/**
 * Operator operations on the dead-letter queues: {@code GET /fhir/$dead-letters} lists what is
 * parked (message and recipient ids, stage, when; no content), {@code POST /fhir/$retry-dead-letters}
 * (optional {@code stage}, {@code message}) puts work items back on their queue after the cause is
 * fixed, with the delivery reset to {@code queued}.
 */
@Component
public class DeadLetterAdmin {

    private final JmsTemplate jms;
    private final DeliveryLedger ledger;
    private final TransactionTemplate tx;
    private final AuditService audit;
    private final String prefix;
    private final String mailQueue;

    public DeadLetterAdmin(jakarta.jms.ConnectionFactory connectionFactory, DeliveryLedger ledger, TransactionTemplate tx,
            AuditService audit, CareRelayProperties props) {
        this.jms = new JmsTemplate(connectionFactory);
        this.jms.setReceiveTimeout(JmsTemplate.RECEIVE_TIMEOUT_NO_WAIT);
        this.ledger = ledger;
        this.tx = tx;
        this.audit = audit;
        this.prefix = props.pipeline().queuePrefix();
        this.mailQueue = props.queue().mail();
    }

    private List<String> stageQueues() {
        List<String> queues = new java.util.ArrayList<>();
        queues.add(prefix + ".fanout");
        for (WorkItem.Stage stage : WorkItem.Stage.values()) {
            queues.add(prefix + "." + stage.queueSuffix());
        }
        return queues;
    }

    @Operation(name = "$dead-letters", idempotent = true, returnParameters = {
            @OperationParam(name = "deadLetter", min = 0, max = OperationParam.MAX_UNLIMITED),
            @OperationParam(name = "mailDeadLetters", type = IntegerType.class, min = 1, max = 1)})
    public Parameters list(ServletRequestDetails request) {
        Caller.of(request).requireAdmin();
        Parameters out = new Parameters();
        for (String queue : stageQueues()) {
            jms.browse(queue + ".dlq", (session, browser) -> {
                java.util.Enumeration<?> parked = browser.getEnumeration();
                while (parked.hasMoreElements()) {
                    Message message = (Message) parked.nextElement();
                    var part = out.addParameter().setName("deadLetter");
                    part.addPart().setName("queue").setValue(new StringType(queue));
                    part.addPart().setName("item").setValue(new StringType(message instanceof TextMessage t ? t.getText() : "?"));
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
        String onlyQueue = stage == null ? null : prefix + "." + stage.getValue();
        if (onlyQueue != null && !stageQueues().contains(onlyQueue)) {
            throw new GatewayException(ErrorCode.INVALID_REQUEST, "Unknown stage; one of fanout, deliver-fhir, deliver-mllp, notify, invite.");
        }
        int moved = 0;
        for (String queue : stageQueues()) {
            if (onlyQueue != null && !onlyQueue.equals(queue)) {
                continue;
            }
            Integer parkedCount = jms.browse(queue + ".dlq", (session, browser) -> Collections.list(browser.getEnumeration()).size());
            for (int i = 0; i < (parkedCount == null ? 0 : parkedCount); i++) {
                Message parked = jms.receive(queue + ".dlq");
                if (parked == null) {
                    break;
                }
                String body;
                try {
                    body = parked instanceof TextMessage t ? t.getText() : null;
                } catch (jakarta.jms.JMSException e) {
                    body = null;
                }
                if (body == null) {
                    continue;
                }
                if (message != null && !body.startsWith(message.getValue())) {
                    jms.convertAndSend(queue + ".dlq", body); // not the one asked for: park it again
                    continue;
                }
                if (body.contains("|")) {
                    String[] parts = WorkItem.parse(body);
                    tx.executeWithoutResult(s -> ledger.requeue(parts[0], parts[1]));
                }
                jms.convertAndSend(queue, body);
                moved++;
            }
        }
        audit.success("dead-letters-retry", AuditEventAction.E, Caller.of(request), Caller.clientAddress(request), null);
        Parameters out = new Parameters();
        out.addParameter().setName("retried").setValue(new IntegerType(moved));
        return out;
    }


}
