package org.carerelay.gateway.conversation;

import ca.uhn.fhir.context.FhirContext;
import ca.uhn.fhir.rest.api.MethodOutcome;
import ca.uhn.fhir.rest.api.server.IBundleProvider;
import ca.uhn.fhir.rest.server.exceptions.ResourceNotFoundException;
import java.nio.charset.StandardCharsets;
import java.time.Instant;
import java.time.ZoneId;
import java.time.format.DateTimeFormatter;
import java.util.ArrayList;
import java.util.Base64;
import java.util.Date;
import java.util.LinkedHashSet;
import java.util.List;
import java.util.Objects;
import java.util.Optional;
import java.util.Set;
import java.util.UUID;
import org.carerelay.fhir.ErrorCode;
import org.carerelay.fhir.Systems;
import org.carerelay.fhir.content.ContentTypes;
import org.carerelay.gateway.attachment.AttachmentService;
import org.carerelay.gateway.audit.AuditService;
import org.carerelay.gateway.consent.ConsentRepository;
import org.carerelay.gateway.consent.ConsentState;
import org.carerelay.gateway.directory.DirectoryService;
import org.carerelay.gateway.fhir.GatewayException;
import org.carerelay.gateway.fhir.Validation;
import org.carerelay.gateway.kernel.MessageAccepted;
import org.carerelay.gateway.patient.PatientAccess;
import org.carerelay.gateway.security.Caller;
import org.carerelay.gateway.store.SearchPage;
import org.carerelay.routes.crypto.ContentCipher;
import org.hl7.fhir.r4.model.Attachment;
import org.hl7.fhir.r4.model.AuditEvent;
import org.hl7.fhir.r4.model.AuditEvent.AuditEventAction;
import org.hl7.fhir.r4.model.CodeableConcept;
import org.hl7.fhir.r4.model.Communication;
import org.hl7.fhir.r4.model.IdType;
import org.hl7.fhir.r4.model.InstantType;
import org.hl7.fhir.r4.model.Parameters;
import org.hl7.fhir.r4.model.Reference;
import org.springframework.context.ApplicationEventPublisher;
import org.springframework.stereotype.Service;
import org.springframework.transaction.annotation.Transactional;

/**
 * Messages ({@code Communication}): accepted through the consent gate, stored encrypted in one
 * transaction with the {@link MessageAccepted} event (the pipeline takes it from there), shown only
 * to sender and recipients, masked after a revocation.
 */
@Service
public class MessageService {

    public static final String PATIENT_BOUND = "patient-bound";
    public static final String NETWORKING = "networking";
    private static final DateTimeFormatter GERMAN_DATE = DateTimeFormatter.ofPattern("dd.MM.yyyy").withZone(ZoneId.of("Europe/Berlin"));

    private final MessageRepository messages;
    private final ConsentRepository consents;
    private final PatientAccess patientAccess;
    private final DirectoryService directory;
    private final AttachmentService attachments;
    private final ContentCipher cipher;
    private final Validation validation;
    private final AuditService audit;
    private final FhirContext fhirContext;
    private final ApplicationEventPublisher events;

    public MessageService(MessageRepository messages, ConsentRepository consents, PatientAccess patientAccess,
            DirectoryService directory, AttachmentService attachments, ContentCipher cipher, Validation validation,
            AuditService audit, FhirContext fhirContext, ApplicationEventPublisher events) {
        this.events = events;
        this.messages = messages;
        this.consents = consents;
        this.patientAccess = patientAccess;
        this.directory = directory;
        this.attachments = attachments;
        this.cipher = cipher;
        this.validation = validation;
        this.audit = audit;
        this.fhirContext = fhirContext;
    }


    private static final String PARTICIPANTS_ONLY =
            "Only registered participants send and read messages; the operator uses $unmask with a reason.";

    /**
     * Accepts a message from {@code caller} (FHIR or HL7v2 inbound): checks, consent gate, storage
     * and the {@link MessageAccepted} event, all in one transaction (the event publication registry
     * writes the event's publication in it, so a committed message is always handed on).
     */
    @Transactional
    public MethodOutcome accept(Communication message, Caller caller, String clientAddress) {
        if (!caller.isParticipant()) {
            throw new GatewayException(ErrorCode.FORBIDDEN, "Only registered participants send messages.");
        }
        String self = caller.organizationId();
        String senderRef = "Organization/" + self;
        if (message.hasSender() && !senderRef.equals(message.getSender().getReferenceElement().toUnqualifiedVersionless().getValue())) {
            audit.failure("message-create", AuditEventAction.C, caller, clientAddress, null, "sender mismatch");
            throw new GatewayException(ErrorCode.FORBIDDEN, "The sender is always your own organisation (" + senderRef + ").");
        }
        Instant now = Instant.now();
        String id = UUID.randomUUID().toString();
        message.setId(id);
        message.setSender(new Reference(senderRef));
        message.setSent(Date.from(now));
        if (!message.hasStatus()) {
            message.setStatus(Communication.CommunicationStatus.COMPLETED);
        }
        validation.require(message);

        List<String> recipients = recipients(message);
        String patientId = subjectPatient(message, caller);
        String category = categorize(message, patientId);

        String conversationId = id;
        String inResponseTo = null;
        MessageRepository.Row named = null; // a visible message of the conversation this one joins
        if (message.hasPartOf()) {
            named = visibleMessage(message.getPartOf(), self, "partOf");
            conversationId = named.conversationId();
        }
        if (message.hasInResponseTo()) {
            MessageRepository.Row replied = visibleMessage(message.getInResponseTo(), self, "inResponseTo");
            inResponseTo = replied.id();
            if (named != null && !replied.conversationId().equals(conversationId)) {
                throw new GatewayException(ErrorCode.INVALID_RESOURCE, "inResponseTo names a message of another conversation.");
            }
            if (named == null) {
                named = replied;
                conversationId = replied.conversationId();
                message.addPartOf(new Reference("Communication/" + conversationId));
            }
        }
        // every message of a conversation has the header's subject, so the named one stands for it
        if (named != null && !Objects.equals(named.subjectPatient(), patientId)) {
            throw new GatewayException(ErrorCode.INVALID_RESOURCE, "A message has the same subject as its conversation.");
        }

        if (patientId != null) {
            consentGate(patientId, self, recipients, caller, clientAddress);
        }
        Set<String> binaryIds = attachmentsOf(message, self);

        byte[] json = fhirContext.newJsonParser().encodeResourceToString(message).getBytes(StandardCharsets.UTF_8);
        byte[] sealed = cipher.encrypt(json, id.getBytes(StandardCharsets.UTF_8));
        messages.insert(new MessageRepository.NewMessage(id, conversationId, self, patientId, category, now, inResponseTo,
                cipher.keyId(), sealed, recipients, binaryIds));
        if (patientId != null) {
            patientAccess.grantAll(patientId, recipients, "conversation");
        }
        audit.success("message-create", AuditEventAction.C, caller, clientAddress, "Communication/" + id);
        events.publishEvent(new MessageAccepted(id));
        return new MethodOutcome(new IdType("Communication", id, "1"), true).setResource(message);
    }

    private List<String> recipients(Communication message) {
        if (!message.hasRecipient()) {
            throw new GatewayException(ErrorCode.INVALID_RESOURCE, "Communication.recipient names at least one organisation.");
        }
        Set<String> named = new LinkedHashSet<>();
        for (Reference recipient : message.getRecipient()) {
            var ref = recipient.getReferenceElement();
            if (!"Organization".equals(ref.getResourceType()) || ref.getIdPart() == null) {
                throw new GatewayException(ErrorCode.INVALID_RESOURCE, "Recipients are organisations: Organization/<id>.");
            }
            named.add(ref.getIdPart());
        }
        Set<String> known = directory.organizationsAmong(named);
        Set<String> ids = new LinkedHashSet<>();
        List<String> unknown = new ArrayList<>();
        for (String id : named) {
            if (known.contains(id)) {
                ids.add(id);
            } else {
                unknown.add("Organization/" + id);
            }
        }
        if (!unknown.isEmpty()) {
            throw new GatewayException(ErrorCode.UNKNOWN_RECIPIENT, "Not in the directory: " + String.join(", ", unknown));
        }
        return List.copyOf(ids);
    }

    private String subjectPatient(Communication message, Caller caller) {
        if (!message.hasSubject()) {
            return null;
        }
        var ref = message.getSubject().getReferenceElement();
        if (!"Patient".equals(ref.getResourceType()) || ref.getIdPart() == null) {
            throw new GatewayException(ErrorCode.INVALID_RESOURCE, "Communication.subject is a Patient/<id> or absent (general networking).");
        }
        if (!patientAccess.canSee(caller.organizationId(), ref.getIdPart())) {
            throw new GatewayException(ErrorCode.INVALID_RESOURCE, "Communication.subject is not a patient known to you.");
        }
        return ref.getIdPart();
    }

    private static String categorize(Communication message, String patientId) {
        String wanted = patientId == null ? NETWORKING : PATIENT_BOUND;
        for (CodeableConcept cc : message.getCategory()) {
            for (var coding : cc.getCoding()) {
                if (Systems.COMMUNICATION_CATEGORY.equals(coding.getSystem()) && !wanted.equals(coding.getCode())) {
                    throw new GatewayException(ErrorCode.INVALID_RESOURCE, patientId == null
                            ? "A message without a patient is general networking (category networking)."
                            : "A message about a patient has category patient-bound.");
                }
            }
        }
        boolean present = message.getCategory().stream().flatMap(c -> c.getCoding().stream())
                .anyMatch(c -> Systems.COMMUNICATION_CATEGORY.equals(c.getSystem()));
        if (!present) {
            message.addCategory().addCoding().setSystem(Systems.COMMUNICATION_CATEGORY).setCode(wanted)
                    .setDisplay(patientId == null ? "Allgemeine Vernetzung" : "Patientenbezogen");
        }
        return wanted;
    }

    /** The message a thread reference names (its conversation is the header message id); 422 if not visible. */
    private MessageRepository.Row visibleMessage(List<Reference> refs, String viewer, String element) {
        if (refs.size() != 1) {
            throw new GatewayException(ErrorCode.INVALID_RESOURCE, element + " names exactly one message.");
        }
        var ref = refs.get(0).getReferenceElement();
        if (!"Communication".equals(ref.getResourceType()) || ref.getIdPart() == null) {
            throw new GatewayException(ErrorCode.INVALID_RESOURCE, element + " references Communication/<id>.");
        }
        return messages.findVisible(ref.getIdPart(), viewer)
                .orElseThrow(() -> new GatewayException(ErrorCode.INVALID_RESOURCE,
                        element + " names a message you neither sent nor received."));
    }

    /** The consent gate: sender and every recipient must be permitted partners of the active consent. */
    private void consentGate(String patientId, String sender, List<String> recipients, Caller caller,
            String clientAddress) {
        ConsentState state = consents.stateOf(patientId);
        String entity = "Patient/" + patientId;
        if (!state.active()) {
            if (state.revoked()) {
                Instant at = state.lastRevoked().orElseThrow();
                audit.failure("consent-decision", AuditEventAction.E, caller, clientAddress, entity, "consent-revoked");
                throw new GatewayException(ErrorCode.CONSENT_REVOKED,
                        "The patient revoked the consent on " + GERMAN_DATE.format(at) + " (" + at + "); no new messages about this patient.");
            }
            audit.failure("consent-decision", AuditEventAction.E, caller, clientAddress, entity, "consent-missing");
            throw new GatewayException(ErrorCode.CONSENT_MISSING,
                    "Upload the patient's signed consent (Consent with sourceAttachment) before sending messages about the patient.");
        }
        List<String> notCovered = new ArrayList<>();
        if (!state.actors().contains(sender)) {
            notCovered.add("Organization/" + sender + " (sender)");
        }
        for (String recipient : recipients) {
            if (!state.actors().contains(recipient)) {
                notCovered.add("Organization/" + recipient);
            }
        }
        if (!notCovered.isEmpty()) {
            audit.failure("consent-decision", AuditEventAction.E, caller, clientAddress, entity, "recipient-not-covered");
            throw new GatewayException(ErrorCode.RECIPIENT_NOT_COVERED,
                    "Not permitted by the patient's consent (Consent/" + state.consentId() + "): " + String.join(", ", notCovered));
        }
        audit.success("consent-decision", AuditEventAction.E, caller, clientAddress, entity);
    }

    /** Attachment references must be Binaries the sender may use; inline data is stored as Binary. */
    private Set<String> attachmentsOf(Communication message, String sender) {
        Set<String> ids = new LinkedHashSet<>();
        for (Communication.CommunicationPayloadComponent payload : message.getPayload()) {
            if (payload.hasContentAttachment()) {
                Attachment attachment = payload.getContentAttachment();
                if (attachment.hasData()) {
                    AttachmentService.Stored stored = attachments.store(attachment.getContentType(), attachment.getData(), sender);
                    attachment.setData(null);
                    attachment.setUrl("Binary/" + stored.id());
                    attachment.setContentType(stored.contentType());
                    attachment.setSize((int) Math.min(stored.size(), Integer.MAX_VALUE));
                    attachment.setHash(Base64.getDecoder().decode(stored.sha1Base64()));
                    ids.add(stored.id());
                } else if (attachment.hasUrl()) {
                    String binaryId = binaryId(attachment.getUrl());
                    requireUsable(binaryId, sender);
                    AttachmentService.Meta meta = attachments.requireMeta(binaryId);
                    attachment.setUrl("Binary/" + binaryId);
                    if (!attachment.hasContentType()) {
                        attachment.setContentType(meta.contentType());
                    } else if (!meta.contentType().equals(ContentTypes.normalize(attachment.getContentType()))) {
                        throw new GatewayException(ErrorCode.INVALID_RESOURCE, "Attachment.contentType " + attachment.getContentType()
                                + " differs from the uploaded Binary/" + binaryId + " (" + meta.contentType() + ").");
                    }
                    attachment.setSize((int) Math.min(meta.size(), Integer.MAX_VALUE));
                    if (meta.sha1Base64() != null) {
                        attachment.setHash(Base64.getDecoder().decode(meta.sha1Base64()));
                    }
                    ids.add(binaryId);
                } else {
                    throw new GatewayException(ErrorCode.INVALID_RESOURCE, "An attachment has data or a url Binary/<id>.");
                }
            } else if (payload.hasContentReference()) {
                String local = payload.getContentReference().getReference();
                if (local != null && local.startsWith("#")) {
                    boolean contained = message.getContained().stream()
                            .anyMatch(r -> local.substring(1).equals(r.getIdElement().getIdPart()));
                    if (!contained) {
                        throw new GatewayException(ErrorCode.INVALID_RESOURCE, "payload.contentReference " + local + " names no contained resource.");
                    }
                    continue; // e.g. Observations carried inside the message (HL7 ORU^R01)
                }
                var ref = payload.getContentReference().getReferenceElement();
                if ("Binary".equals(ref.getResourceType()) && ref.getIdPart() != null) {
                    requireUsable(ref.getIdPart(), sender);
                    ids.add(ref.getIdPart());
                } else {
                    throw new GatewayException(ErrorCode.INVALID_RESOURCE,
                            "payload.contentReference names an uploaded attachment (Binary/<id>) or a contained resource (#id).");
                }
            }
        }
        return ids;
    }

    private static String binaryId(String url) {
        String id = AttachmentService.binaryIdOf(url);
        if (id == null) {
            throw new GatewayException(ErrorCode.INVALID_RESOURCE, "Attachment url must be Binary/<id> of an uploaded attachment.");
        }
        return id;
    }

    private void requireUsable(String binaryId, String sender) {
        if (!attachments.canRead(binaryId, sender)) {
            throw new GatewayException(ErrorCode.INVALID_RESOURCE, "Binary/" + binaryId + " is not an attachment you uploaded or received.");
        }
    }

    // --- reading

    /**
     * A message is never changed after it was sent: it has one version, {@code 1} (the
     * {@code Location} of its create). Any other {@code version} is 404, as for a message the
     * caller does not see. Whether the caller sees it whole or masked, and the read audit, are
     * decided by the visibility service.
     */
    public Communication read(String id, String version, Caller caller) {
        caller.requireParticipant(PARTICIPANTS_ONLY);
        MessageRepository.Row row = messages.findVisible(id, caller.organizationId())
                .orElseThrow(() -> new ResourceNotFoundException(new IdType("Communication", id)));
        if (version != null && !MESSAGE_VERSION.equals(version)) {
            throw new ResourceNotFoundException(new IdType("Communication", id, version));
        }
        return present(row);
    }

    /** The one version every message has. */
    static final String MESSAGE_VERSION = "1";

    /** One page of the caller's messages that match; the total counts with the same visibility predicate. */
    public IBundleProvider search(MessageQuery query, Caller caller) {
        caller.requireParticipant(PARTICIPANTS_ONLY);
        MessageQuery.Sql sql = query.toSql(caller.organizationId());
        String viewer = caller.organizationId();
        return SearchPage.of(sql.offset(), sql.limit(),
                () -> messages.count(sql.where(), sql.params(), viewer),
                (from, size) -> messages.search(sql.where(), sql.params(), viewer, size, from).stream().map(this::present).toList());
    }

    /**
     * One page of the conversations the caller takes part in, newest last message first, each
     * counted over the messages the caller sent or received (the visibility of a Communication
     * search). No content is decrypted; the caller's view of what it lists is audited by the page
     * that shows it.
     */
    public ConversationSummary.Page conversations(ConversationSummary.Filter filter, int count, int offset, Caller caller) {
        caller.requireParticipant(PARTICIPANTS_ONLY);
        String viewer = caller.organizationId();
        int size = SearchPage.pageSize(count);
        int from = Math.max(0, offset);
        return new ConversationSummary.Page(messages.conversations(filter, viewer, size, from),
                messages.countConversations(filter, viewer));
    }

    /** How many messages the caller received and has not marked read. */
    public int unreadCount(Caller caller) {
        caller.requireParticipant(PARTICIPANTS_ONLY);
        MessageQuery.Sql sql = new MessageQuery(null, null, null, null, null, null, null, true, null, null)
                .toSql(caller.organizationId());
        return messages.count(sql.where(), sql.params(), caller.organizationId());
    }

    /** The other organisations of the messages the caller sees in the conversation (empty: not one of its conversations). */
    public List<String> partnersOf(String conversationId, Caller caller) {
        caller.requireParticipant(PARTICIPANTS_ONLY);
        return messages.partnersOf(conversationId, caller.organizationId());
    }

    /**
     * Decrypts, with the one version a message has. Masking (the patient's consent was revoked after
     * the message was sent) is applied by the visibility service to whatever leaves for a caller.
     */
    Communication present(MessageRepository.Row row) {
        Communication shown = decrypt(row);
        // the one version a message has, as its Location and ETag name it
        shown.setIdElement(new IdType("Communication", row.id(), MESSAGE_VERSION));
        shown.getMeta().setVersionId(MESSAGE_VERSION);
        return shown;
    }

    /** The original content of a stored message, for the delivery pipeline (no caller, no audit). */
    public Communication originalForDelivery(MessageRepository.Row row) {
        return decrypt(row);
    }

    private Communication decrypt(MessageRepository.Row row) {
        byte[] json;
        try {
            json = cipher.decrypt(row.content(), row.id().getBytes(StandardCharsets.UTF_8));
        } catch (ContentCipher.IntegrityException e) {
            throw new GatewayException(ErrorCode.INTEGRITY_FAILURE, "The stored message does not verify.");
        }
        return fhirContext.newJsonParser().parseResource(Communication.class, new String(json, StandardCharsets.UTF_8));
    }

    public Parameters markRead(String id, Caller caller, String clientAddress) {
        caller.requireParticipant(PARTICIPANTS_ONLY);
        if (!messages.isRecipient(id, caller.organizationId())) {
            messages.findVisible(id, caller.organizationId())
                    .orElseThrow(() -> new ResourceNotFoundException(new IdType("Communication", id)));
            throw new GatewayException(ErrorCode.INVALID_REQUEST, "Only a recipient marks a message as read.");
        }
        Instant readAt = messages.markRead(id, caller.organizationId());
        audit.success("message-mark-read", AuditEventAction.U, caller, clientAddress, "Communication/" + id);
        var out = new Parameters();
        out.addParameter().setName("communication").setValue(new Reference("Communication/" + id));
        out.addParameter().setName("readAt").setValue(new InstantType(Date.from(readAt)));
        return out;
    }

    /** The operator reads a message's original content, with a stated reason; always audited. */
    public Communication unmask(String id, String reason, Caller caller, String clientAddress) {
        caller.requireAdmin();
        if (reason == null || reason.isBlank()) {
            throw new GatewayException(ErrorCode.INVALID_REQUEST, "$unmask needs the parameter 'reason'.");
        }
        MessageRepository.Row row = messages.find(id).orElseThrow(() -> new ResourceNotFoundException(new IdType("Communication", id)));
        Communication original = decrypt(row);
        audit.record(new AuditService.Entry("message-unmask", AuditEventAction.R,
                AuditEvent.AuditEventOutcome._0, caller.auditName(), clientAddress,
                "Communication/" + id, "Reason: " + reason.strip()));
        return original;
    }
}
