package org.carerelay.gateway.pipeline;

import jakarta.annotation.PreDestroy;
import java.net.URI;
import java.time.Instant;
import java.util.ArrayList;
import java.util.List;
import org.carerelay.fhir.Systems;
import org.carerelay.fhir.hl7.CommunicationToMdm;
import org.carerelay.fhir.hl7.MdmToCommunication;
import org.carerelay.gateway.config.CareRelayProperties;
import org.carerelay.gateway.conversation.MessageRepository;
import org.carerelay.gateway.conversation.MessageService;
import org.carerelay.gateway.directory.DirectoryService;
import org.carerelay.gateway.hl7.OwnFrames;
import org.carerelay.gateway.store.ResourceStore;
import org.carerelay.routes.egress.EgressPolicy;
import org.carerelay.routes.mllp.MllpSender;
import org.hl7.fhir.r4.model.Communication;
import org.hl7.fhir.r4.model.IdType;
import org.hl7.fhir.r4.model.Identifier;
import org.hl7.fhir.r4.model.Organization;
import org.hl7.fhir.r4.model.Patient;
import org.springframework.stereotype.Component;

/**
 * Delivery to care software over MLLP: the message as MDM^T02 (v2.5.1). AA = delivered; AE/AR =
 * failed, with the ACK text kept; timeout or connection error = retried. TXA-12 carries the
 * message id, MSH-10 a control id derived from message and recipient, so the receiver can detect a
 * repeated delivery; the control id is recorded in {@link OwnFrames} before sending, so a frame that
 * comes back to the gateway's own listener is refused.
 */
@Component
public class MllpDelivery {

    private final DeliveryAttempt attempt;
    private final RecipientAttachments recipientAttachments;
    private final ResourceStore store;
    private final DirectoryService directory;
    private final MllpSender sender;
    private final CareRelayProperties.Pipeline settings;
    private final long maxFrameBytes;
    private final OwnFrames ownFrames;
    private final MessageRepository messageRows;
    private final MessageService messageService;
    private final DeliveryLedger ledger;

    public MllpDelivery(DeliveryAttempt attempt, RecipientAttachments recipientAttachments, ResourceStore store, DirectoryService directory,
            CareRelayProperties props, EgressPolicy egress, OwnFrames ownFrames, MessageRepository messageRows,
            MessageService messageService, DeliveryLedger ledger) {
        this.attempt = attempt;
        this.ledger = ledger;
        this.messageRows = messageRows;
        this.messageService = messageService;
        this.ownFrames = ownFrames;
        this.recipientAttachments = recipientAttachments;
        this.store = store;
        this.directory = directory;
        this.settings = props.pipeline();
        this.maxFrameBytes = props.hl7().maxFrameBytes();
        this.sender = new MllpSender(settings.connectTimeout(), settings.responseTimeout(), egress,
                new MllpSender.Pool(settings.mllpMaxConnections(), settings.mllpIdleTimeout()));
    }

    /** Closes the kept connections to recipients. */
    @PreDestroy
    void close() {
        sender.close();
    }

    public void deliver(String messageId, String recipient) {
        attempt.run(messageId, recipient, settings.responseTimeout().plus(settings.connectTimeout()).multipliedBy(2), this::send);
    }

    private DeliveryAttempt.Outcome send(DeliveryAttempt.Context context) {
        URI address = URI.create(context.endpoint().getAddress());
        Communication communication = context.communication();
        Patient patient = context.message().subjectPatient() == null ? null
                : store.read(Patient.class, context.message().subjectPatient()).orElse(null);
        long encodedBytes = recipientAttachments.totalBytes(context.message().id()) / 3 * 4;
        if (encodedBytes + 65_536 > maxFrameBytes) {
            // an HL7v2 message holds its attachments in Base64; it is never sent in part
            return DeliveryAttempt.Outcome.permanentFailure("attachments too large for one HL7v2 message: about " + encodedBytes
                    + " bytes in Base64, frame limit " + maxFrameBytes + " (carerelay.hl7.max-frame-bytes)");
        }
        List<CommunicationToMdm.AttachmentContent> contents = new ArrayList<>();
        for (Communication.CommunicationPayloadComponent payload : communication.getPayload()) {
            String binaryId = RecipientAttachments.binaryIdOf(payload);
            if (binaryId != null) {
                String title = payload.hasContentAttachment() ? payload.getContentAttachment().getTitle() : null;
                RecipientAttachments.Planned planned =
                        recipientAttachments.plan(binaryId, context.recipient().getIdElement().getIdPart());
                contents.add(new CommunicationToMdm.AttachmentContent(binaryId,
                        planned.enveloped() ? RecipientAttachments.PKCS7_MIME : planned.meta().contentType(),
                        recipientAttachments.read(planned), title));
            }
        }
        Organization from = directory.findOrganization(context.message().senderOrg()).orElse(null);
        String controlId = OwnFrames.controlId(context.message().id(), context.recipient().getIdElement().getIdPart());
        var mdm = CommunicationToMdm.map(new CommunicationToMdm.Input(communication, patient,
                contents, "CareRelay", facility(from), "", facility(context.recipient()), controlId, Instant.now(),
                parentDocument(communication, context.recipient().getIdElement().getIdPart())));
        ownFrames.recordSent(controlId); // committed before the frame leaves: it is refused if it comes back
        MllpSender.Result result = sender.send(address.getHost(), address.getPort(), mdm);
        return switch (result.outcome()) {
            case ACCEPTED -> DeliveryAttempt.Outcome.delivered("MLLP " + result.ackCode());
            case REJECTED -> DeliveryAttempt.Outcome.permanentFailure("MLLP " + result.ackCode()
                    + (result.detail() == null ? "" : ": " + result.detail()));
            case RETRY -> DeliveryAttempt.Outcome.retry("MLLP " + (result.detail() == null ? "no answer" : result.detail()));
            case REFUSED -> DeliveryAttempt.Outcome.refused(result.detail());
        };
    }

    /**
     * TXA-13 of a reply: the document it answers ({@code inResponseTo}), under the number the
     * recipient knows it by — the document number its own system gave (TXA-12 of the MDM it sent us,
     * all of the EI as sent: number, namespace, universal id and its type) when the recipient wrote
     * it; CareRelay's TXA-12 ({@code <id>^CareRelay}) when the gateway delivered the parent to this
     * recipient over MLLP. {@code null} (TXA-13 empty) for a message that is no reply, and for a
     * parent the recipient never got as a document: a number it never saw would thread nothing.
     */
    CommunicationToMdm.DocumentNumber parentDocument(Communication communication, String recipientOrg) {
        if (!communication.hasInResponseTo()) {
            return null;
        }
        IdType parentId = new IdType(communication.getInResponseToFirstRep().getReference());
        if (!parentId.hasIdPart() || !"Communication".equals(parentId.getResourceType())) {
            return null;
        }
        // only a parent the recipient sees, and only its own number: nothing about other messages leaks
        MessageRepository.Row parent = messageRows.findVisible(parentId.getIdPart(), recipientOrg).orElse(null);
        if (parent == null) {
            return null;
        }
        if (!parent.masked() && recipientOrg.equals(parent.senderOrg())) {
            for (Identifier identifier : messageService.originalForDelivery(parent).getIdentifier()) {
                if (MdmToCommunication.DOCUMENT_NUMBER_SYSTEM.equals(identifier.getSystem()) && identifier.hasValue()) {
                    Identifier authority = identifier.getAssigner().getIdentifier();
                    return new CommunicationToMdm.DocumentNumber(identifier.getValue(),
                            identifier.getAssigner().getDisplay(), authority.getValue(), authority.getType().getText());
                }
            }
        }
        boolean deliveredHere = ledger.find(parent.id(), recipientOrg)
                .filter(entry -> entry.channel() == Channel.MLLP && entry.state() == DeliveryState.DELIVERED).isPresent();
        return deliveredHere ? new CommunicationToMdm.DocumentNumber(parent.id(), CommunicationToMdm.NAMESPACE) : null;
    }

    /** MSH-4/MSH-6: the HL7 alias, else IK number, BSNR or Telematik-ID, else the directory id. */
    static String facility(Organization org) {
        if (org == null) {
            return "";
        }
        for (String system : new String[] {Systems.HL7_FACILITY, Systems.IKNR, Systems.BSNR, Systems.TELEMATIK_ID}) {
            for (Identifier identifier : org.getIdentifier()) {
                if (system.equals(identifier.getSystem()) && identifier.hasValue()) {
                    return identifier.getValue();
                }
            }
        }
        return org.getIdElement().getIdPart();
    }
}
