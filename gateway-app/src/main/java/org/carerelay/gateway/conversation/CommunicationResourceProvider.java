package org.carerelay.gateway.conversation;

import ca.uhn.fhir.rest.annotation.Count;
import ca.uhn.fhir.rest.annotation.Create;
import ca.uhn.fhir.rest.annotation.IdParam;
import ca.uhn.fhir.rest.annotation.Offset;
import ca.uhn.fhir.rest.annotation.Operation;
import ca.uhn.fhir.rest.annotation.OperationParam;
import ca.uhn.fhir.rest.annotation.OptionalParam;
import ca.uhn.fhir.rest.annotation.Read;
import ca.uhn.fhir.rest.annotation.ResourceParam;
import ca.uhn.fhir.rest.annotation.Search;
import ca.uhn.fhir.rest.api.MethodOutcome;
import ca.uhn.fhir.rest.api.server.IBundleProvider;
import ca.uhn.fhir.rest.param.DateRangeParam;
import ca.uhn.fhir.rest.param.ReferenceParam;
import ca.uhn.fhir.rest.param.TokenParam;
import ca.uhn.fhir.rest.server.servlet.ServletRequestDetails;
import ca.uhn.fhir.rest.server.IResourceProvider;
import java.util.List;
import org.carerelay.gateway.security.Caller;
import org.carerelay.gateway.security.MessageRateLimiter;
import org.hl7.fhir.r4.model.Reference;
import org.hl7.fhir.r4.model.InstantType;
import org.hl7.fhir.r4.model.Communication;
import org.hl7.fhir.r4.model.IdType;
import org.hl7.fhir.r4.model.Parameters;
import org.hl7.fhir.r4.model.StringType;
import org.springframework.stereotype.Component;

/**
 * Messages. A conversation is its first message (the header); later messages carry
 * {@code partOf} = the header, replies {@code inResponseTo} = the message answered.
 */
@Component
public class CommunicationResourceProvider implements IResourceProvider {

    private final MessageService messages;
    private final DeliveryReport deliveryStatus;
    private final MessageRateLimiter messageLimit;

    public CommunicationResourceProvider(MessageService messages, DeliveryReport deliveryStatus,
            MessageRateLimiter messageLimit) {
        this.messages = messages;
        this.deliveryStatus = deliveryStatus;
        this.messageLimit = messageLimit;
    }

    /**
     * Per recipient: {@code organization}, {@code state} (queued, delivered, failed, held-invited,
     * notified), {@code channel}, {@code attempts}, {@code lastAttempt}, {@code deliveredAt},
     * {@code notifiedAt}, {@code detail}. Sender (and operator) only.
     */
    @Operation(name = "$delivery-status", idempotent = true, returnParameters = {
            @OperationParam(name = "recipient", min = 0, max = OperationParam.MAX_UNLIMITED)})
    public Parameters deliveryStatus(@IdParam IdType id, ServletRequestDetails request) {
        return deliveryStatus.of(id.getIdPart(), Caller.of(request), Caller.clientAddress(request));
    }

    @Override
    public Class<Communication> getResourceType() {
        return Communication.class;
    }

    @Create
    public MethodOutcome create(@ResourceParam Communication message, ServletRequestDetails request) {
        Caller caller = Caller.of(request).requireParticipant(
                "Only registered participants send and read messages; the operator uses $unmask with a reason.");
        messageLimit.requireWithinLimit(caller);
        return messages.accept(message, caller, Caller.clientAddress(request));
    }

    /** Also a vread: a message has one version, {@code 1}. */
    @Read(version = true)
    public Communication read(@IdParam IdType id, ServletRequestDetails request) {
        return messages.read(id.getIdPart(), id.getVersionIdPart(), Caller.of(request));
    }

    /**
     * {@code part-of} finds a whole conversation (the header's id); {@code unread=true} what the
     * caller received and has not marked read.
     */
    @Search
    public IBundleProvider search(
            @OptionalParam(name = "_id") TokenParam id,
            @OptionalParam(name = Communication.SP_PATIENT) ReferenceParam patient,
            @OptionalParam(name = Communication.SP_SUBJECT) ReferenceParam subject,
            @OptionalParam(name = Communication.SP_SENDER) ReferenceParam sender,
            @OptionalParam(name = Communication.SP_RECIPIENT) ReferenceParam recipient,
            @OptionalParam(name = Communication.SP_CATEGORY) TokenParam category,
            @OptionalParam(name = Communication.SP_SENT) DateRangeParam sent,
            @OptionalParam(name = Communication.SP_PART_OF) ReferenceParam partOf,
            @OptionalParam(name = "unread") TokenParam unread,
            @Count Integer count,
            @Offset Integer offset,
            ServletRequestDetails request) {
        ReferenceParam subjectOrPatient = patient != null ? patient : subject;
        MessageQuery query = new MessageQuery(
                id == null ? null : id.getValue(),
                subjectOrPatient == null ? null : subjectOrPatient.getIdPart(),
                sender == null ? null : sender.getIdPart(),
                recipient == null ? null : recipient.getIdPart(),
                category == null ? null : category.getValue(),
                sent,
                partOf == null ? null : partOf.getIdPart(),
                unread == null ? null : Boolean.parseBoolean(unread.getValue()),
                count, offset);
        return messages.search(query, Caller.of(request));
    }

    @Operation(name = "$mark-read", idempotent = false, returnParameters = {
            @OperationParam(name = "communication", type = Reference.class, min = 1, max = 1),
            @OperationParam(name = "readAt", type = InstantType.class, min = 1, max = 1)})
    public Parameters markRead(@IdParam IdType id, ServletRequestDetails request) {
        return messages.markRead(id.getIdPart(), Caller.of(request), Caller.clientAddress(request));
    }

    /** Operator only: the original content of a (masked) message, with a stated reason; audited. */
    @Operation(name = "$unmask", idempotent = false, returnParameters = {
            @OperationParam(name = "return", type = Communication.class, min = 1, max = 1)})
    public Communication unmask(@IdParam IdType id, @OperationParam(name = "reason", min = 1, max = 1) StringType reason,
            ServletRequestDetails request) {
        return messages.unmask(id.getIdPart(), reason == null ? null : reason.getValue(), Caller.of(request),
                Caller.clientAddress(request));
    }
}
