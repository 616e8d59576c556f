package org.carerelay.gateway.pipeline;

import ca.uhn.fhir.rest.server.exceptions.ResourceNotFoundException;
import java.util.Date;
import org.carerelay.fhir.ErrorCode;
import org.carerelay.gateway.audit.AuditService;
import org.carerelay.gateway.conversation.DeliveryReport;
import org.carerelay.gateway.conversation.MessageRepository;
import org.carerelay.gateway.fhir.GatewayException;
import org.carerelay.gateway.security.Caller;
import org.hl7.fhir.r4.model.AuditEvent.AuditEventAction;
import org.hl7.fhir.r4.model.IdType;
import org.hl7.fhir.r4.model.InstantType;
import org.hl7.fhir.r4.model.IntegerType;
import org.hl7.fhir.r4.model.Parameters;
import org.hl7.fhir.r4.model.Reference;
import org.hl7.fhir.r4.model.StringType;
import org.springframework.stereotype.Component;

/** {@code $delivery-status}: the ledger of one message, for its sender (and the operator). */
@Component
public class DeliveryStatus implements DeliveryReport {

    private final MessageRepository messages;
    private final DeliveryLedger ledger;
    private final AuditService audit;

    public DeliveryStatus(MessageRepository messages, DeliveryLedger ledger, AuditService audit) {
        this.messages = messages;
        this.ledger = ledger;
        this.audit = audit;
    }

    @Override
    public Parameters of(String messageId, Caller caller, String clientAddress) {
        MessageRepository.Row row = messages.find(messageId)
                .orElseThrow(() -> new ResourceNotFoundException(new IdType("Communication", messageId)));
        if (!caller.isAdmin() && !(caller.isParticipant() && row.senderOrg().equals(caller.organizationId()))) {
            if (caller.isParticipant() && messages.isRecipient(messageId, caller.organizationId())) {
                throw new GatewayException(ErrorCode.FORBIDDEN, "Only the sender sees the delivery status.");
            }
            throw new ResourceNotFoundException(new IdType("Communication", messageId));
        }
        Parameters out = new Parameters();
        for (String recipient : messages.recipientsOf(messageId)) {
            var part = out.addParameter().setName("recipient");
            part.addPart().setName("organization").setValue(new Reference("Organization/" + recipient));
            var entry = ledger.find(messageId, recipient);
            part.addPart().setName("state").setValue(new StringType(entry.map(e -> e.state().text()).orElse(DeliveryState.QUEUED.text())));
            part.addPart().setName("channel").setValue(new StringType(entry.map(e -> e.channel().text()).orElse("pending")));
            part.addPart().setName("attempts").setValue(new IntegerType(entry.map(DeliveryLedger.Entry::attempts).orElse(0)));
            entry.map(DeliveryLedger.Entry::lastAttempt).ifPresent(t -> part.addPart().setName("lastAttempt").setValue(new InstantType(Date.from(t))));
            entry.map(DeliveryLedger.Entry::deliveredAt).ifPresent(t -> part.addPart().setName("deliveredAt").setValue(new InstantType(Date.from(t))));
            entry.map(DeliveryLedger.Entry::notifiedAt).ifPresent(t -> part.addPart().setName("notifiedAt").setValue(new InstantType(Date.from(t))));
            // the sender sees a generic reason for transport failures; the operator the full one
            entry.map(e -> caller.isAdmin() ? e.detailForOperator() : e.detail())
                    .ifPresent(d -> part.addPart().setName("detail").setValue(new StringType(d)));
        }
        audit.success("delivery-status", AuditEventAction.R, caller,
                clientAddress, "Communication/" + messageId);
        return out;
    }
}
