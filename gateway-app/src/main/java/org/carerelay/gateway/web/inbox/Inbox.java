package org.carerelay.gateway.web.inbox;

import ca.uhn.fhir.rest.api.server.IBundleProvider;
import ca.uhn.fhir.rest.server.exceptions.ResourceNotFoundException;
import java.time.ZoneId;
import java.time.format.DateTimeFormatter;
import java.util.ArrayList;
import java.util.Collections;
import java.util.Comparator;
import java.util.HashMap;
import java.util.LinkedHashSet;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.Set;
import java.util.TreeMap;
import org.carerelay.fhir.conversation.Masking;
import org.carerelay.gateway.attachment.AttachmentService;
import org.carerelay.gateway.audit.AuditService;
import org.carerelay.gateway.consent.ConsentRepository;
import org.carerelay.gateway.consent.ConsentService;
import org.carerelay.gateway.consent.ConsentState;
import org.carerelay.gateway.conversation.ConversationSummary;
import org.carerelay.gateway.conversation.DeliveryReport;
import org.carerelay.gateway.conversation.MessageQuery;
import org.carerelay.gateway.conversation.MessageService;
import org.carerelay.gateway.directory.DirectoryService;
import org.carerelay.gateway.patient.PatientService;
import org.carerelay.gateway.security.Caller;
import org.carerelay.gateway.store.SearchPage;
import org.carerelay.gateway.visibility.Visibility;
import org.hl7.fhir.instance.model.api.IBaseResource;
import org.hl7.fhir.r4.model.AuditEvent.AuditEventAction;
import org.hl7.fhir.r4.model.Communication;
import org.hl7.fhir.r4.model.Consent;
import org.hl7.fhir.r4.model.DateTimeType;
import org.hl7.fhir.r4.model.Extension;
import org.hl7.fhir.r4.model.Organization;
import org.hl7.fhir.r4.model.Parameters;
import org.hl7.fhir.r4.model.Patient;
import org.hl7.fhir.r4.model.Reference;
import org.springframework.stereotype.Component;

/**
 * What the inbox pages show, read through the same services and visibility decisions as the FHIR
 * API (Communication search, Patient and Consent reads, {@code $delivery-status}, {@code $mark-read})
 * for the signed-in person's organisation, and audited as the API's reads are.
 */
@Component
public class Inbox {

    /** Conversations per page of the Posteingang. */
    public static final int PAGE_SIZE = 50;
    /** Messages shown of one conversation (the newest ones). */
    static final int MAX_MESSAGES = SearchPage.MAX_COUNT;
    private static final ZoneId BERLIN = ZoneId.of("Europe/Berlin");
    private static final DateTimeFormatter DATE = DateTimeFormatter.ofPattern("dd.MM.yyyy").withZone(BERLIN);
    private static final DateTimeFormatter TIME = DateTimeFormatter.ofPattern("dd.MM.yyyy HH:mm").withZone(BERLIN);

    /** The patient of a conversation as the list and the view show it. */
    public record PatientLine(String id, String name, String birthDate, boolean revoked) {
    }

    /** An organisation or patient to filter by. */
    public record Option(String id, String label) {
    }

    /** One row of the Posteingang. */
    public record Item(String conversationId, List<String> partners, PatientLine patient, String lastMessage, int unread) {
        public boolean ungelesen() {
            return unread > 0;
        }
    }

    /** The Posteingang: one page of conversations and the organisation's unread messages overall. */
    public record Overview(List<Item> items, int total, int unreadMessages, int page, int pages, List<Option> partnerOptions,
            List<Option> patientOptions) {
    }

    /** The consent box of a conversation about a patient. */
    public record ConsentBox(String status, String date, List<String> partners, String documentLink) {
    }

    /** An attachment link of a message. */
    public record AttachmentLink(String binaryId, String fileName, String contentType, String size) {
    }

    /** The delivery of a message to one recipient (for messages the organisation sent). */
    public record Delivery(String recipient, String state) {
    }

    /** One message of the conversation view. */
    public record MessageView(String id, String sender, boolean own, String sent, boolean masked, List<String> text,
            List<AttachmentLink> attachments, List<String> recipients, List<Delivery> deliveries, boolean unread) {
    }

    /** The conversation view. */
    public record ConversationView(String conversationId, PatientLine patient, ConsentBox consent, List<String> partners,
            List<MessageView> messages) {
    }

    private final MessageService messages;
    private final PatientService patients;
    private final ConsentService consentService;
    private final ConsentRepository consents;
    private final DirectoryService directory;
    private final DeliveryReport deliveries;
    private final Visibility visibility;
    private final AttachmentService attachments;
    private final AuditService audit;

    public Inbox(MessageService messages, PatientService patients, ConsentService consentService, ConsentRepository consents,
            DirectoryService directory, DeliveryReport deliveries, Visibility visibility, AttachmentService attachments,
            AuditService audit) {
        this.messages = messages;
        this.patients = patients;
        this.consentService = consentService;
        this.consents = consents;
        this.directory = directory;
        this.deliveries = deliveries;
        this.visibility = visibility;
        this.attachments = attachments;
        this.audit = audit;
    }

    /** A page (1-based) of the organisation's conversations; patients shown are audited as a patient search. */
    public Overview overview(ConversationSummary.Filter filter, int page, Caller caller, String clientAddress) {
        int pageNo = Math.max(1, page);
        ConversationSummary.Page found = messages.conversations(filter, PAGE_SIZE, (pageNo - 1) * PAGE_SIZE, caller);
        Map<String, PatientLine> patientLines = new HashMap<>();
        List<IBaseResource> patientsShown = new ArrayList<>();
        List<Item> items = new ArrayList<>();
        Map<String, Option> partnerOptions = new TreeMap<>();
        for (ConversationSummary c : found.items()) {
            c.partners().forEach(p -> partnerOptions.computeIfAbsent(p, id -> new Option(id, name(id))));
            PatientLine patient = null;
            if (c.patientId() != null) {
                patient = patientLines.computeIfAbsent(c.patientId(), id -> patientLine(id, caller, patientsShown));
            }
            items.add(new Item(c.conversationId(), names(c.partners()), patient, TIME.format(c.lastSent()), c.unread()));
        }
        if (!patientsShown.isEmpty()) {
            audit.searchPage("patient-search", caller, clientAddress, patientsShown);
        }
        int pages = Math.max(1, (found.total() + PAGE_SIZE - 1) / PAGE_SIZE);
        List<Option> patientOptions = patientLines.values().stream()
                .map(p -> new Option(p.id(), p.name() + (p.birthDate().isEmpty() ? "" : ", geb. " + p.birthDate())))
                .sorted(Comparator.comparing(Option::label)).toList();
        List<Option> partnerList = partnerOptions.values().stream()
                .sorted(Comparator.comparing(Option::label)).toList();
        return new Overview(items, found.total(), messages.unreadCount(caller), pageNo, pages, partnerList, patientOptions);
    }

    /**
     * The conversation as the organisation sees it (masked messages masked), its patient and consent;
     * marks what the organisation received in it as read. Empty when the organisation takes no part
     * (audited as a refused read, as the API does).
     */
    public Optional<ConversationView> open(String conversationId, Caller caller, String clientAddress) {
        List<Communication> shown = visibleMessages(conversationId, caller);
        if (shown.isEmpty()) {
            audit.failure("message-read", AuditEventAction.R, caller, clientAddress, "Communication/" + conversationId,
                    "not visible");
            return Optional.empty();
        }
        audit.searchPage("message-search", caller, clientAddress, shown);
        String self = caller.organizationId();
        Set<String> unread = unreadIds(conversationId, caller);

        Communication newest = shown.get(shown.size() - 1);
        String patientId = newest.hasSubject() ? newest.getSubject().getReferenceElement().getIdPart() : null;
        PatientLine patient = null;
        ConsentBox consent = null;
        if (patientId != null) {
            List<IBaseResource> patientShown = new ArrayList<>();
            patient = patientLine(patientId, caller, patientShown);
            patientShown.forEach(p -> audit.success("patient-read", AuditEventAction.R, caller, clientAddress,
                    "Patient/" + patientId));
            consent = consentBox(patientId, caller, clientAddress);
        }

        List<MessageView> views = new ArrayList<>();
        for (Communication m : shown) {
            String id = m.getIdElement().getIdPart();
            String sender = m.getSender().getReferenceElement().getIdPart();
            boolean own = self.equals(sender);
            boolean masked = Masking.isMasked(m);
            List<String> text = new ArrayList<>();
            List<AttachmentLink> links = new ArrayList<>();
            for (Communication.CommunicationPayloadComponent payload : m.getPayload()) {
                if (payload.hasContentStringType()) {
                    text.add(payload.getContentStringType().getValue());
                } else if (!masked && payload.hasContentAttachment() && payload.getContentAttachment().hasUrl()) {
                    var a = payload.getContentAttachment();
                    String binaryId = AttachmentService.binaryIdOf(a.getUrl());
                    if (binaryId != null) {
                        links.add(new AttachmentLink(binaryId, FileNames.of(a.getTitle(), binaryId, a.getContentType()),
                                a.getContentType(), a.hasSize() ? GermanErrors.megabytes(a.getSize()) : ""));
                    }
                }
            }
            List<String> recipients = names(m.getRecipient().stream().map(r -> r.getReferenceElement().getIdPart()).toList());
            List<Delivery> delivered = own ? deliveries(id, caller, clientAddress) : List.of();
            views.add(new MessageView(id, name(sender), own, m.hasSent() ? TIME.format(m.getSent().toInstant()) : "",
                    masked, text, links, recipients, delivered, unread.contains(id)));
        }
        for (String id : unread) {
            messages.markRead(id, caller, clientAddress);
        }
        return Optional.of(new ConversationView(conversationId, patient, consent,
                names(messages.partnersOf(conversationId, caller)), views));
    }

    /** The messages of the conversation the organisation sees, oldest first, masked where the consent was revoked. */
    List<Communication> visibleMessages(String conversationId, Caller caller) {
        IBundleProvider found = messages.search(
                new MessageQuery(null, null, null, null, null, null, conversationId, null, MAX_MESSAGES, 0), caller);
        List<IBaseResource> page = found.getResources(0, MAX_MESSAGES);
        List<Communication> shown = new ArrayList<>();
        for (IBaseResource resource : page) {
            IBaseResource visible = visibility.show(caller, resource).resource();
            if (visible instanceof Communication c) {
                shown.add(c);
            }
        }
        Collections.reverse(shown);
        return shown;
    }

    /** Whether the attachment belongs to an unmasked message of the conversation the organisation sees and may be read now. */
    public boolean attachmentOf(String conversationId, String binaryId, Caller caller) {
        if (!attachments.canRead(binaryId, caller.organizationId())) {
            return false;
        }
        for (Communication m : visibleMessages(conversationId, caller)) {
            if (Masking.isMasked(m)) {
                continue;
            }
            for (var payload : m.getPayload()) {
                if (payload.hasContentAttachment() && binaryId.equals(AttachmentService.binaryIdOf(payload.getContentAttachment().getUrl()))) {
                    return true;
                }
            }
        }
        return false;
    }

    /** The file name the attachment was sent with (made safe), from the conversation's message. */
    public String fileNameOf(String conversationId, String binaryId, String contentType, Caller caller) {
        for (Communication m : visibleMessages(conversationId, caller)) {
            for (var payload : m.getPayload()) {
                if (payload.hasContentAttachment() && binaryId.equals(AttachmentService.binaryIdOf(payload.getContentAttachment().getUrl()))) {
                    return FileNames.of(payload.getContentAttachment().getTitle(), binaryId, contentType);
                }
            }
        }
        return FileNames.of(null, binaryId, contentType);
    }

    private Set<String> unreadIds(String conversationId, Caller caller) {
        IBundleProvider found = messages.search(
                new MessageQuery(null, null, null, null, null, null, conversationId, true, MAX_MESSAGES, 0), caller);
        Set<String> ids = new LinkedHashSet<>();
        for (IBaseResource r : found.getResources(0, MAX_MESSAGES)) {
            ids.add(r.getIdElement().getIdPart());
        }
        return ids;
    }

    private PatientLine patientLine(String patientId, Caller caller, List<IBaseResource> shown) {
        ConsentState state = consents.stateOf(patientId);
        try {
            Patient patient = patients.read(patientId, null, caller);
            shown.add(patient);
            String name = patient.hasName() ? patient.getNameFirstRep().getNameAsSingleString() : "(ohne Namen)";
            String born = "";
            if (patient.hasBirthDateElement() && patient.getBirthDateElement().getYear() != null) {
                var b = patient.getBirthDateElement();
                born = String.format("%02d.%02d.%04d", b.getDay(), b.getMonth() + 1, b.getYear());
            }
            return new PatientLine(patientId, name, born, state.revoked());
        } catch (ResourceNotFoundException e) {
            return new PatientLine(patientId, "Patient/in nicht sichtbar", "", state.revoked());
        }
    }

    private ConsentBox consentBox(String patientId, Caller caller, String clientAddress) {
        ConsentState state = consents.stateOf(patientId);
        String link = "/patienten/" + patientId + "/einwilligung/dokument";
        if (state.consentId() == null) {
            return new ConsentBox("fehlt", "", List.of(), null);
        }
        Consent consent;
        try {
            consent = consentService.read(state.consentId(), null, caller);
        } catch (ResourceNotFoundException e) {
            return new ConsentBox(state.revoked() ? "widerrufen" : "fehlt", "", List.of(), null);
        }
        audit.success("consent-read", AuditEventAction.R, caller, clientAddress, "Consent/" + state.consentId());
        List<String> partnerIds = new ArrayList<>();
        if (consent.hasProvision()) {
            for (var actor : consent.getProvision().getActor()) {
                if (actor.hasReference() && "Organization".equals(actor.getReference().getReferenceElement().getResourceType())) {
                    partnerIds.add(actor.getReference().getReferenceElement().getIdPart());
                }
            }
        }
        if (partnerIds.isEmpty()) {
            partnerIds.addAll(state.actors());
        }
        if (state.active()) {
            String date = consent.hasDateTime() ? DATE.format(consent.getDateTime().toInstant()) : "";
            return new ConsentBox("erteilt", date, names(partnerIds), link);
        }
        if (state.revoked()) {
            String date = state.lastRevoked().map(DATE::format).orElseGet(() -> revokedAt(consent));
            return new ConsentBox("widerrufen", date, names(partnerIds), link);
        }
        return new ConsentBox("fehlt", "", names(partnerIds), link);
    }

    private static String revokedAt(Consent consent) {
        Extension revocation = consent.getExtensionByUrl(ConsentService.EXT_REVOCATION);
        if (revocation != null && revocation.getExtensionByUrl("revokedAt") != null
                && revocation.getExtensionByUrl("revokedAt").getValue() instanceof DateTimeType at) {
            return DATE.format(at.getValue().toInstant());
        }
        return "";
    }

    private List<Delivery> deliveries(String messageId, Caller caller, String clientAddress) {
        Parameters report = deliveries.of(messageId, caller, clientAddress);
        List<Delivery> out = new ArrayList<>();
        for (var recipient : report.getParameter()) {
            String org = null;
            String state = null;
            for (var part : recipient.getPart()) {
                if ("organization".equals(part.getName()) && part.getValue() instanceof Reference ref) {
                    org = ref.getReferenceElement().getIdPart();
                } else if ("state".equals(part.getName())) {
                    state = part.getValue().primitiveValue();
                }
            }
            out.add(new Delivery(name(org), DeliveryStates.german(state)));
        }
        return out;
    }

    private List<String> names(List<String> organizationIds) {
        return organizationIds.stream().map(this::name).toList();
    }

    private String name(String organizationId) {
        if (organizationId == null) {
            return "";
        }
        return directory.findOrganization(organizationId).map(Organization::getName)
                .filter(n -> n != null && !n.isBlank()).orElse("Organisation " + organizationId);
    }
}
