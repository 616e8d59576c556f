package org.carerelay.gateway.web.inbox;

import java.io.IOException;
import java.io.InputStream;
import java.util.Base64;
import java.util.List;
import java.util.function.Supplier;
import org.carerelay.fhir.ErrorCode;
import org.carerelay.gateway.attachment.AttachmentService;
import org.carerelay.gateway.audit.AuditService;
import org.carerelay.gateway.consent.ConsentRepository;
import org.carerelay.gateway.conversation.MessageService;
import org.carerelay.gateway.fhir.GatewayException;
import org.carerelay.gateway.security.Caller;
import org.carerelay.gateway.security.MessageRateLimiter;
import org.hl7.fhir.r4.model.Attachment;
import org.hl7.fhir.r4.model.AuditEvent.AuditEventAction;
import org.hl7.fhir.r4.model.Communication;
import org.hl7.fhir.r4.model.Reference;
import org.hl7.fhir.r4.model.StringType;
import org.springframework.stereotype.Service;
import org.springframework.transaction.annotation.Transactional;
import org.springframework.web.multipart.MultipartFile;

/**
 * A reply from the browser: the attachments streamed into the signed-and-encrypted storage with
 * the checks of {@code POST /fhir/Binary}, then a Communication built as an API client builds a
 * reply ({@code partOf} = the conversation's header, {@code inResponseTo} = its newest message,
 * the conversation's subject, the other participants as recipients) accepted by the message
 * service. One transaction: a refusal leaves no attachment record behind.
 */
@Service
public class Replies {

    /** Text of a reply at most (characters). */
    static final int MAX_TEXT = 20_000;

    private final MessageService messages;
    private final AttachmentService attachments;
    private final ConsentRepository consents;
    private final Inbox inbox;
    private final AuditService audit;
    private final MessageRateLimiter messageLimit;

    public Replies(MessageService messages, AttachmentService attachments, ConsentRepository consents, Inbox inbox,
            AuditService audit, MessageRateLimiter messageLimit) {
        this.messages = messages;
        this.attachments = attachments;
        this.consents = consents;
        this.inbox = inbox;
        this.audit = audit;
        this.messageLimit = messageLimit;
    }

    /** Thrown for input the page refuses before any service is called (German text). */
    public static final class Refused extends RuntimeException {
        private static final long serialVersionUID = 1L;

        Refused(String message) {
            super(message);
        }
    }

    /** Sends the reply; returns the new message's id. Not one of the caller's conversations: {@link ConversationNotFound}. */
    @Transactional
    public String reply(String conversationId, String text, List<MultipartFile> files, Caller caller, String clientAddress) {
        List<Communication> shown = inbox.visibleMessages(conversationId, caller);
        if (shown.isEmpty()) {
            audit.failure("message-create", AuditEventAction.C, caller, clientAddress, "Communication/" + conversationId,
                    "not visible");
            throw new ConversationNotFound();
        }
        List<MultipartFile> uploads = files == null ? List.of()
                : files.stream().filter(f -> f != null && !f.isEmpty() && f.getSize() > 0).toList();
        String body = text == null ? "" : text.strip();
        if (body.isEmpty() && uploads.isEmpty()) {
            throw new Refused("Bitte schreiben Sie einen Text oder wählen Sie eine Datei aus.");
        }
        if (body.length() > MAX_TEXT) {
            throw new Refused("Der Text ist zu lang (höchstens " + MAX_TEXT + " Zeichen).");
        }
        messageLimit.requireWithinLimit(caller);
        Communication newest = shown.get(shown.size() - 1);
        List<String> recipients = messages.partnersOf(conversationId, caller);

        Communication reply = new Communication();
        reply.setStatus(Communication.CommunicationStatus.COMPLETED);
        if (newest.hasSubject()) {
            reply.setSubject(new Reference("Patient/" + newest.getSubject().getReferenceElement().getIdPart()));
        }
        reply.addPartOf(new Reference("Communication/" + conversationId));
        reply.addInResponseTo(new Reference("Communication/" + newest.getIdElement().getIdPart()));
        recipients.forEach(r -> reply.addRecipient(new Reference("Organization/" + r)));
        if (!body.isEmpty()) {
            reply.addPayload().setContent(new StringType(body));
        }
        // every declared type and size is checked before the first byte is stored
        for (MultipartFile file : uploads) {
            checkedRun(() -> {
                attachments.allowedType(file.getContentType());
                attachments.checkDeclaredLength(file.getSize());
            }, caller, clientAddress);
        }
        // a conversation whose consent is no longer active is refused by the consent gate before
        // anything is stored (the gate audits the decision as for an API client)
        boolean gateOpen = !newest.hasSubject()
                || consents.stateOf(newest.getSubject().getReferenceElement().getIdPart()).active();
        if (gateOpen) {
            for (MultipartFile file : uploads) {
                AttachmentService.Stored stored = checked(() -> store(file, caller), caller, clientAddress);
                audit.success("attachment-upload", AuditEventAction.C, caller, clientAddress, "Binary/" + stored.id());
                Attachment attachment = new Attachment().setUrl("Binary/" + stored.id()).setContentType(stored.contentType())
                        .setTitle(FileNames.of(file.getOriginalFilename(), stored.id(), stored.contentType()))
                        .setSize((int) Math.min(stored.size(), Integer.MAX_VALUE))
                        .setHash(Base64.getDecoder().decode(stored.sha1Base64()));
                reply.addPayload().setContent(attachment);
            }
        }
        return messages.accept(reply, caller, clientAddress).getId().getIdPart();
    }

    private AttachmentService.Stored store(MultipartFile file, Caller caller) {
        try (InputStream in = file.getInputStream()) {
            return attachments.store(file.getContentType(), in, caller.organizationId(), null);
        } catch (IOException e) {
            throw new GatewayException(ErrorCode.INVALID_REQUEST, "The attachment could not be read completely.");
        }
    }

    private <T> T checked(Supplier<T> step, Caller caller, String clientAddress) {
        try {
            return step.get();
        } catch (GatewayException e) {
            audit.failure("attachment-upload", AuditEventAction.C, caller, clientAddress, null, e.errorCode().code());
            throw e;
        }
    }

    private void checkedRun(Runnable step, Caller caller, String clientAddress) {
        checked(() -> {
            step.run();
            return null;
        }, caller, clientAddress);
    }

    /** The conversation is not one the caller takes part in. */
    public static final class ConversationNotFound extends RuntimeException {
        private static final long serialVersionUID = 1L;
    }
}
