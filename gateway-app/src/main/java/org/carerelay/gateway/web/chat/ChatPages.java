package org.carerelay.gateway.web.chat;

import ca.uhn.fhir.rest.param.DateParam;
import ca.uhn.fhir.rest.param.StringParam;
import ca.uhn.fhir.rest.param.TokenParam;
import ca.uhn.fhir.rest.server.exceptions.ResourceNotFoundException;
import java.io.IOException;
import java.io.InputStream;
import java.io.OutputStream;
import java.util.ArrayList;
import java.util.Date;
import java.util.LinkedHashMap;
import java.util.LinkedHashSet;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.Set;
import java.util.function.Consumer;
import org.carerelay.fhir.ErrorCode;
import org.carerelay.fhir.Systems;
import org.carerelay.gateway.attachment.AttachmentService;
import org.carerelay.gateway.audit.AuditService;
import org.carerelay.gateway.consent.ConsentService;
import org.carerelay.gateway.conversation.MessageQuery;
import org.carerelay.gateway.conversation.MessageService;
import org.carerelay.gateway.directory.DirectoryService;
import org.carerelay.gateway.fhir.GatewayException;
import org.carerelay.gateway.patient.PatientService;
import org.carerelay.gateway.security.Caller;
import org.hl7.fhir.r4.model.AuditEvent.AuditEventAction;
import org.hl7.fhir.r4.model.Communication;
import org.hl7.fhir.r4.model.Consent;
import org.hl7.fhir.r4.model.DateTimeType;
import org.hl7.fhir.r4.model.Extension;
import org.hl7.fhir.r4.model.IdType;
import org.hl7.fhir.r4.model.Organization;
import org.hl7.fhir.r4.model.Patient;
import org.springframework.stereotype.Component;
import org.springframework.transaction.annotation.Transactional;
import org.springframework.web.multipart.MultipartFile;

/**
 * What the chat and patient pages do, on the same services and access decisions as the API:
 * every call names the signed-in person's {@link Caller}; every view of patient data is audited.
 */
@Component
public class ChatPages {

    static final int RESULTS = 25;

    /** What a signed consent scan may be (as the API's consent upload allows). */
    static final Set<String> CONSENT_DOCUMENT_TYPES = Set.of("application/pdf", "image/jpeg", "image/png");

    private final DirectoryService directory;
    private final PatientService patients;
    private final ConsentService consents;
    private final AttachmentService attachments;
    private final MessageService messages;
    private final AuditService audit;

    public ChatPages(DirectoryService directory, PatientService patients, ConsentService consents,
            AttachmentService attachments, MessageService messages, AuditService audit) {
        this.directory = directory;
        this.patients = patients;
        this.consents = consents;
        this.attachments = attachments;
        this.messages = messages;
        this.audit = audit;
    }

    /** A file a person chose: its name, declared type, declared size and content. */
    public interface Upload {
        String fileName();

        String contentType();

        long size();

        InputStream open() throws IOException;

        static Upload of(MultipartFile file) {
            return new Upload() {
                public String fileName() {
                    return file.getOriginalFilename();
                }

                public String contentType() {
                    return file.getContentType();
                }

                public long size() {
                    return file.getSize();
                }

                public InputStream open() throws IOException {
                    return file.getInputStream();
                }
            };
        }
    }

    /** Directory entries matching a search (nothing without a search term or type). */
    public List<Partner> searchPartners(String text, String type) {
        if (ChatResources.blank(text) && ChatResources.blank(type)) {
            return List.of();
        }
        return directory.searchDirectory(text, type, RESULTS).stream().map(Partner::of).toList();
    }

    /** The directory entries with these ids (unknown ones left out), in the given order. */
    public List<Partner> partners(List<String> ids) {
        List<Organization> found = new ArrayList<>();
        for (String id : new LinkedHashSet<>(ids)) {
            directory.findOrganization(id).ifPresent(found::add);
        }
        directory.decorate(found);
        return found.stream().map(Partner::of).toList();
    }

    /**
     * The patients the caller sees with this KVNR, or this last name and birth date (audited as a
     * search); nothing without a criterion.
     */
    public List<PatientView> searchPatients(String kvnr, String family, String birthDate, Caller caller, String address) {
        boolean byKvnr = !ChatResources.blank(kvnr);
        boolean byName = !ChatResources.blank(family) || !ChatResources.blank(birthDate);
        if (!byKvnr && !byName) {
            return List.of();
        }
        TokenParam identifier = byKvnr ? new TokenParam(Systems.KVNR, kvnr.trim().toUpperCase(Locale.ROOT)) : null;
        StringParam familyParam = ChatResources.blank(family) ? null : new StringParam(family.trim());
        DateParam birth = null;
        if (!ChatResources.blank(birthDate)) {
            birth = new DateParam(ChatResources.birthDate(birthDate)
                    .orElseThrow(() -> new GatewayException(ErrorCode.INVALID_REQUEST, "birth date")).toString());
        }
        List<Patient> found = patients.search(new PatientService.Query(null, null, familyParam, null, birth, null, identifier),
                RESULTS, 0, caller, address).getResources(0, RESULTS).stream().map(Patient.class::cast).toList();
        audit.searchPage("patient-search", caller, address, found);
        return found.stream().map(PatientView::of).toList();
    }

    /** A patient the caller sees (404 otherwise), audited as a read. */
    public PatientView patient(String id, Caller caller, String address) {
        Patient patient = patients.read(id, null, caller);
        audit.success("patient-read", AuditEventAction.R, caller, address, "Patient/" + id);
        return PatientView.of(patient);
    }

    /** Only checks that the caller sees the patient (404 otherwise); shows nothing. */
    public void requireVisible(String patientId, Caller caller) {
        patients.requireVisible(patientId, caller);
    }

    /** The consent box of a patient the caller sees (audited as a read of the consent). */
    public ConsentView consent(String patientId, Caller caller, String address) {
        Patient patient = patients.read(patientId, null, caller);
        Extension marker = patient.getExtensionByUrl(Systems.EXT_CONSENT_STATUS);
        Extension ref = marker == null ? null : marker.getExtensionByUrl("consent");
        if (ref == null) {
            return ConsentView.missing();
        }
        String consentId = new IdType(ref.getValue().castToReference(ref.getValue()).getReference()).getIdPart();
        Consent consent = consents.read(consentId, null, caller);
        audit.success("consent-read", AuditEventAction.R, caller, address, "Consent/" + consentId);
        boolean active = consent.getStatus() == Consent.ConsentState.ACTIVE;
        Date date = consent.getDateTime();
        String reason = "";
        Extension revocation = consent.getExtensionByUrl(ConsentService.EXT_REVOCATION);
        if (!active && revocation != null) {
            if (revocation.getExtensionByUrl("revokedAt") != null) {
                date = ((DateTimeType) revocation.getExtensionByUrl("revokedAt").getValue()).getValue();
            }
            if (revocation.getExtensionByUrl("reason") != null) {
                reason = revocation.getExtensionByUrl("reason").getValue().primitiveValue();
            }
        }
        List<String> actors = new ArrayList<>();
        for (Consent.provisionActorComponent actor : consent.getProvision().getActor()) {
            String id = actor.getReference().getReferenceElement().getIdPart();
            if (id != null) {
                actors.add(id);
            }
        }
        return new ConsentView(active ? "erteilt" : "widerrufen",
                date == null ? "" : ConsentView.GERMAN_DATE.format(date.toInstant()), partners(actors), reason,
                consent.hasSourceAttachment() && consent.getSourceAttachment().hasUrl());
    }

    /** The consent template PDF for a patient the caller sees (404 otherwise; audited by the service). */
    public byte[] consentTemplate(String patientId, Caller caller, String address) {
        return patients.consentTemplate(patientId, caller, address);
    }

    /**
     * Writes the signed document of the patient's current consent (the exact stored bytes, verified)
     * and returns its content type; 404 when the caller does not see the patient or there is none.
     */
    public String writeConsentDocument(String patientId, Caller caller, String address, OutputStream out,
            Consumer<String> beforeWriting) throws IOException {
        Patient patient = patients.read(patientId, null, caller);
        Extension marker = patient.getExtensionByUrl(Systems.EXT_CONSENT_STATUS);
        Extension ref = marker == null ? null : marker.getExtensionByUrl("consent");
        if (ref == null) {
            throw new ResourceNotFoundException(new IdType("Consent", "none"));
        }
        String consentId = new IdType(ref.getValue().castToReference(ref.getValue()).getReference()).getIdPart();
        Consent consent = consents.read(consentId, null, caller);
        String binaryId = consent.hasSourceAttachment() ? AttachmentService.binaryIdOf(consent.getSourceAttachment().getUrl()) : null;
        AttachmentService.Meta meta = binaryId == null ? null : attachments.meta(binaryId)
                .filter(m -> patientId.equals(m.consentPatient())).orElse(null);
        if (meta == null) {
            throw new ResourceNotFoundException(new IdType("Consent", consentId));
        }
        audit.success("consent-document-read", AuditEventAction.R, caller, address, "Binary/" + binaryId);
        beforeWriting.accept(meta.contentType());
        attachments.writeVerified(meta, out, caller.organizationId());
        return meta.contentType();
    }

    /** A new patient (the service decides on the KVNR and on joining an existing record); its id. */
    public String createPatient(Patient patient, Caller caller, String address) {
        return patients.create(patient, null, caller, address).getId().getIdPart();
    }

    /**
     * Stores the signed scan as the patient's consent document and uploads the consent naming
     * {@code partnerIds} and the caller's own organisation (which sends about the patient, so the
     * consent must cover it too), in one transaction: on any refusal nothing of it remains.
     */
    @Transactional
    public String uploadConsent(String patientId, Upload scan, List<String> partnerIds, Caller caller, String address)
            throws IOException {
        patients.requireVisible(patientId, caller);
        String type = scan.contentType() == null ? "" : scan.contentType().toLowerCase(Locale.ROOT).strip();
        if (!CONSENT_DOCUMENT_TYPES.contains(type.split(";")[0].strip())) {
            throw new GatewayException(ErrorCode.UNSUPPORTED_MEDIA_TYPE, "consent document type " + type);
        }
        if (partnerIds.isEmpty()) {
            throw new GatewayException(ErrorCode.INVALID_RESOURCE, "no partner");
        }
        // stored as the caller's upload; the consent service makes it the patient's consent document
        ChatResources.StoredFile stored = store(scan, caller, null);
        List<String> covered = new ArrayList<>(new LinkedHashSet<>(partnerIds));
        covered.remove(caller.organizationId());
        covered.add(0, caller.organizationId());
        Consent consent = ChatResources.consent(patientId, stored, covered);
        return consents.upload(consent, caller, address).getId().getIdPart();
    }

    /** Records the patient's revocation of its current consent (any reason may be blank). */
    public void revoke(String patientId, String reason, Caller caller, String address) {
        Patient patient = patients.read(patientId, null, caller);
        Extension marker = patient.getExtensionByUrl(Systems.EXT_CONSENT_STATUS);
        Extension ref = marker == null ? null : marker.getExtensionByUrl("consent");
        if (ref == null) {
            throw new GatewayException(ErrorCode.CONFLICT, "no consent");
        }
        String consentId = new IdType(ref.getValue().castToReference(ref.getValue()).getReference()).getIdPart();
        consents.revoke(consentId, ChatResources.blank(reason) ? null : reason.strip(), caller, address);
    }

    /**
     * Stores the attachments and accepts the first message of a new conversation, in one
     * transaction (a refused message leaves no attachment behind); the conversation id.
     */
    @Transactional
    public String startChat(String patientId, List<String> partnerIds, String text, List<Upload> files, Caller caller,
            String address) throws IOException {
        List<ChatResources.StoredFile> stored = new ArrayList<>();
        for (Upload file : files) {
            stored.add(store(file, caller, null));
        }
        Communication message = ChatResources.firstMessage(patientId, partnerIds, text, stored);
        return messages.accept(message, caller, address).getId().getIdPart();
    }

    /** The conversations about a patient the caller takes part in: id and date of the newest message, newest first. */
    public List<ConversationLink> conversations(String patientId, Caller caller, String address) {
        List<Communication> found = messages.search(new MessageQuery(null, patientId, null, null, null, null, null, null,
                100, 0), caller).getResources(0, 100).stream().map(Communication.class::cast).toList();
        Map<String, ConversationLink> byConversation = new LinkedHashMap<>();
        for (Communication c : found) {
            String conversation = c.hasPartOf() ? c.getPartOfFirstRep().getReferenceElement().getIdPart() : c.getIdElement().getIdPart();
            String sent = c.hasSent() ? ConsentView.GERMAN_DATE.format(c.getSent().toInstant()) : "";
            byConversation.putIfAbsent(conversation, new ConversationLink(conversation, sent));
        }
        if (!found.isEmpty()) {
            audit.searchPage("message-search", caller, address, found);
        }
        return List.copyOf(byConversation.values());
    }

    /** A conversation about the patient: its id (the first message's) and the date of its newest message. */
    public record ConversationLink(String id, String lastSent) {
    }

    private ChatResources.StoredFile store(Upload file, Caller caller, String consentPatient) throws IOException {
        String type = attachments.allowedType(file.contentType());
        attachments.checkDeclaredLength(file.size());
        try (InputStream in = file.open()) {
            AttachmentService.Stored stored = attachments.store(type, in, caller.organizationId(), consentPatient);
            return new ChatResources.StoredFile(stored.id(), stored.contentType(), title(file.fileName()));
        }
    }

    private static String title(String fileName) {
        if (fileName == null || fileName.isBlank()) {
            return "Anhang";
        }
        String name = fileName.replace('\\', '/');
        name = name.substring(name.lastIndexOf('/') + 1).replaceAll("[\\p{Cntrl}]", "").strip();
        return name.length() > 200 ? name.substring(0, 200) : name.isEmpty() ? "Anhang" : name;
    }
}
