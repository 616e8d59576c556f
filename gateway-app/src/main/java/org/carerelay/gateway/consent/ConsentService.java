package org.carerelay.gateway.consent;

import ca.uhn.fhir.rest.api.MethodOutcome;
import ca.uhn.fhir.rest.api.server.IBundleProvider;
import ca.uhn.fhir.rest.server.exceptions.ResourceNotFoundException;
import java.io.ByteArrayInputStream;
import java.security.MessageDigest;
import java.security.NoSuchAlgorithmException;
import java.time.Instant;
import java.util.ArrayList;
import java.util.Base64;
import java.util.Date;
import java.util.HashMap;
import java.util.HexFormat;
import java.util.LinkedHashSet;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.Set;
import org.carerelay.fhir.ErrorCode;
import org.carerelay.fhir.Systems;
import org.carerelay.fhir.content.ContentTypes;
import org.carerelay.gateway.attachment.AttachmentService;
import org.carerelay.gateway.audit.AuditService;
import org.carerelay.gateway.config.CareRelayProperties;
import org.carerelay.gateway.directory.DirectoryService;
import org.carerelay.gateway.fhir.GatewayException;
import org.carerelay.gateway.fhir.Validation;
import org.carerelay.gateway.security.Caller;
import org.carerelay.gateway.store.ResourceStore;
import org.carerelay.gateway.store.SearchPage;
import org.hl7.fhir.r4.model.Attachment;
import org.hl7.fhir.r4.model.AuditEvent;
import org.hl7.fhir.r4.model.AuditEvent.AuditEventAction;
import org.hl7.fhir.r4.model.Consent;
import org.hl7.fhir.r4.model.DateTimeType;
import org.hl7.fhir.r4.model.Extension;
import org.hl7.fhir.r4.model.IdType;
import org.hl7.fhir.r4.model.StringType;
import org.springframework.stereotype.Service;
import org.springframework.transaction.annotation.Transactional;

/**
 * The patient's signed consent: uploaded once (the scan is required), one active consent per
 * patient, a change of partners makes a new version, revocation is recorded with its time. Only
 * the organisation that uploaded the signed document changes it (adding partners needs a newly
 * signed one); the author or any partner named in it records a revocation; partners are mailed.
 * After a revocation any organisation that still sees the patient may upload a new consent, with
 * a newly signed document, and becomes its author. Partners that joined by consent and are no
 * longer named (narrowed or revoked) lose the patient unless they take part in a conversation.
 */
@Service
public class ConsentService {

    /** Extension on a revoked Consent: {@code revokedAt} (valueDateTime) and {@code reason} (valueString). */
    public static final String EXT_REVOCATION = "https://fhir.carerelay.org/StructureDefinition/consent-revocation";
    static final Set<String> DOCUMENT_TYPES = Set.of("application/pdf", "image/jpeg", "image/png");

    private final ResourceStore store;
    private final ConsentRepository consents;
    private final PatientGrants patientAccess;
    private final DirectoryService directory;
    private final Validation validation;
    private final AuditService audit;
    private final CareRelayProperties props;
    private final AttachmentService attachments;
    private final ConsentNotices notices;

    public ConsentService(ResourceStore store, ConsentRepository consents, PatientGrants patientAccess,
            DirectoryService directory, Validation validation, AuditService audit, CareRelayProperties props,
            AttachmentService attachments, ConsentNotices notices) {
        this.attachments = attachments;
        this.notices = notices;
        this.store = store;
        this.consents = consents;
        this.patientAccess = patientAccess;
        this.directory = directory;
        this.validation = validation;
        this.audit = audit;
        this.props = props;
    }

    private static final String PARTICIPANTS_ONLY = "Only registered participants upload or revoke consents.";


    /** Upload: a new Consent, or a new version of the patient's active one. */
    @Transactional
    public MethodOutcome upload(Consent consent, Caller caller, String clientAddress) {
        caller.requireParticipant(PARTICIPANTS_ONLY);
        consent.setId((String) null);
        String patientId = checkPatient(consent, caller);
        if (consent.getStatus() != Consent.ConsentState.ACTIVE) {
            throw new GatewayException(ErrorCode.INVALID_RESOURCE, "A new Consent has status 'active'; revoke with $revoke.");
        }
        List<String> actors = checkContent(consent);
        consents.lock(patientId);
        ConsentState state = consents.stateOf(patientId);
        boolean newVersion = state.active();
        if (newVersion) {
            requireAuthor(state, caller, clientAddress);
            requireNewDocumentIfWidened(consent, patientId, state, actors, caller, clientAddress);
            consent.setId(state.consentId());
        } else {
            // the first consent, or a new one after a revocation: the patient signs again
            requireNewDocument(consent, patientId, caller, clientAddress,
                    state.consentId() == null ? "Patient/" + patientId : "Consent/" + state.consentId());
        }
        storeDocument(consent, caller.organizationId(), patientId);
        if (!consent.hasDateTime()) {
            consent.setDateTime(new Date());
        }
        Consent saved = newVersion ? store.update(consent) : store.create(consent);
        String consentId = saved.getIdElement().getIdPart();
        consents.setCurrent(patientId, consentId, true, actors, caller.organizationId());
        if (newVersion) {
            patientAccess.removeConsentGrants(patientId, actors);
        }
        audit.success(newVersion ? "consent-new-version" : "consent-upload", newVersion ? AuditEventAction.U : AuditEventAction.C,
                caller, clientAddress, "Consent/" + consentId);
        if (newVersion) {
            notices.notify(ConsentNotices.Kind.CHANGED, consentId, caller.organizationId(), union(state, actors));
        }
        return new MethodOutcome(saved.getIdElement(), !newVersion).setResource(saved);
    }

    /** PUT: {@code inactive} revokes; {@code active} with other partners makes a new version. */
    /**
     * With {@code expectedVersion} (the client's {@code If-Match}) only when the stored version is
     * that one: otherwise {@code version-conflict} (412), nothing changes and nobody is notified.
     */
    @Transactional
    public MethodOutcome update(String id, String expectedVersion, Consent consent, Caller caller,
            String clientAddress) {
        caller.requireParticipant(PARTICIPANTS_ONLY);
        Consent existing = requireVisible(id, caller);
        String patientId = existing.getPatient().getReferenceElement().getIdPart();
        if (!patientId.equals(consent.getPatient().getReferenceElement().getIdPart())) {
            throw new GatewayException(ErrorCode.INVALID_RESOURCE, "Consent.patient cannot be changed.");
        }
        consents.lock(patientId);
        if (expectedVersion != null) {
            // after the patient's lock, in the order every consent change takes them
            store.lockVersion("Consent", id, expectedVersion);
        }
        ConsentState state = consents.stateOf(patientId);
        if (!id.equals(state.consentId()) || !state.active()) {
            throw new GatewayException(ErrorCode.CONFLICT, "Only the patient's active consent can be changed; upload a new one with POST.");
        }
        if (consent.getStatus() == Consent.ConsentState.INACTIVE || consent.getStatus() == Consent.ConsentState.REJECTED) {
            requireMayRevoke(state, caller, clientAddress);
            Consent revoked = revokeLocked(existing, patientId, state, caller, null, clientAddress);
            return new MethodOutcome(revoked.getIdElement(), false).setResource(revoked);
        }
        if (consent.getStatus() != Consent.ConsentState.ACTIVE) {
            throw new GatewayException(ErrorCode.INVALID_RESOURCE, "Consent.status is 'active', or 'inactive' to revoke.");
        }
        requireAuthor(state, caller, clientAddress);
        consent.setId(id);
        List<String> actors = checkContent(consent);
        requireNewDocumentIfWidened(consent, patientId, state, actors, caller, clientAddress);
        storeDocument(consent, caller.organizationId(), patientId);
        Consent saved = store.update(consent);
        consents.setCurrent(patientId, id, true, actors, caller.organizationId());
        patientAccess.removeConsentGrants(patientId, actors);
        audit.success("consent-new-version", AuditEventAction.U, caller, clientAddress, "Consent/" + id);
        notices.notify(ConsentNotices.Kind.CHANGED, id, caller.organizationId(), union(state, actors));
        return new MethodOutcome(saved.getIdElement(), false).setResource(saved);
    }

    @Transactional
    public Consent revoke(String id, String reason, Caller caller, String clientAddress) {
        caller.requireParticipant(PARTICIPANTS_ONLY);
        Consent existing = requireVisible(id, caller);
        String patientId = existing.getPatient().getReferenceElement().getIdPart();
        consents.lock(patientId);
        ConsentState state = consents.stateOf(patientId);
        if (!id.equals(state.consentId()) || !state.active()) {
            throw new GatewayException(ErrorCode.CONFLICT, "This consent is not active (already revoked or replaced).");
        }
        requireMayRevoke(state, caller, clientAddress);
        return revokeLocked(existing, patientId, state, caller, reason, clientAddress);
    }

    /** Only the organisation that uploaded the signed document of the active consent changes it. */
    private void requireAuthor(ConsentState state, Caller caller, String clientAddress) {
        if (state.author() == null || !state.author().equals(caller.organizationId())) {
            refused("consent-change-refused", caller, clientAddress,
                    "Consent/" + state.consentId(), "not the author of the consent");
            throw new GatewayException(ErrorCode.CONSENT_NOT_AUTHOR,
                    "Only the organisation that uploaded the signed consent changes it (a named partner may record a revocation with $revoke).");
        }
    }

    /** The patient may tell any partner named in the consent, or the author, that it revokes. */
    private void requireMayRevoke(ConsentState state, Caller caller, String clientAddress) {
        String org = caller.organizationId();
        if (!(org.equals(state.author()) || state.actors().contains(org))) {
            refused("consent-revoke-refused", caller, clientAddress,
                    "Consent/" + state.consentId(), "neither author nor partner of the consent");
            throw new GatewayException(ErrorCode.CONSENT_NOT_AUTHOR,
                    "A revocation is recorded by the organisation that uploaded the consent or by a partner named in it.");
        }
    }

    /**
     * Naming a partner the current consent does not name needs a document the patient signed for
     * it (see {@link #requireNewDocument}). Narrowing the partners may keep the document.
     */
    private void requireNewDocumentIfWidened(Consent incoming, String patientId, ConsentState state, List<String> newActors,
            Caller caller, String clientAddress) {
        if (!state.actors().containsAll(newActors)) {
            requireNewDocument(incoming, patientId, caller, clientAddress, "Consent/" + state.consentId());
        }
    }

    /**
     * A newly signed document: its bytes differ from every document that has been a consent
     * document of this patient (the current one and every earlier, revoked one), and a Binary named
     * by url is one the caller uploaded that has never been a consent document.
     */
    private void requireNewDocument(Consent incoming, String patientId, Caller caller, String clientAddress,
            String entity) {
        Attachment document = incoming.getSourceAttachment();
        String sha256;
        if (document.hasData()) {
            sha256 = HexFormat.of().formatHex(digest("SHA-256", document.getData()));
        } else {
            String binaryId = AttachmentService.binaryIdOf(document.getUrl());
            AttachmentService.Meta meta = Optional.ofNullable(binaryId).flatMap(attachments::meta)
                    .filter(m -> caller.organizationId().equals(m.uploadedBy()) || patientId.equals(m.consentPatient()))
                    .orElse(null);
            if (meta == null) {
                return; // not the caller's: storeDocument refuses it without telling more
            }
            sha256 = meta.consentPatient() != null ? null : meta.sha256();
        }
        if (sha256 == null || sha256.isEmpty() || attachments.consentDocumentHashes(patientId).contains(sha256)) {
            refused("consent-change-refused", caller, clientAddress, entity, "consent without a newly signed document");
            throw new GatewayException(ErrorCode.CONSENT_NEW_DOCUMENT_REQUIRED,
                    "This consent needs a newly signed consent document in Consent.sourceAttachment"
                            + " (not a document that was already a consent document of this patient).");
        }
    }

    /** Audits a refused change in its own transaction (the request's transaction rolls back). */
    private void refused(String subtype, Caller caller, String clientAddress, String entity, String why) {
        audit.record(new AuditService.Entry(subtype, AuditEventAction.U, AuditEvent.AuditEventOutcome._4,
                caller.auditName(), clientAddress, entity, why));
    }

    private static byte[] digest(String algorithm, byte[] data) {
        try {
            return MessageDigest.getInstance(algorithm).digest(data);
        } catch (NoSuchAlgorithmException e) {
            throw new IllegalStateException(e);
        }
    }

    private static Set<String> union(ConsentState state, List<String> newActors) {
        Set<String> all = new LinkedHashSet<>();
        all.add(state.author());
        all.addAll(state.actors());
        all.addAll(newActors);
        return all;
    }

    private Consent revokeLocked(Consent existing, String patientId, ConsentState state, Caller caller, String reason,
            String clientAddress) {
        List<String> actors = state.actors();
        Instant now = Instant.now();
        existing.setStatus(Consent.ConsentState.INACTIVE);
        existing.getExtension().removeIf(e -> EXT_REVOCATION.equals(e.getUrl()));
        Extension revocation = existing.addExtension().setUrl(EXT_REVOCATION);
        revocation.addExtension("revokedAt", new DateTimeType(Date.from(now)));
        if (reason != null && !reason.isBlank()) {
            revocation.addExtension("reason", new StringType(reason));
        }
        Consent saved = store.update(existing);
        consents.setCurrent(patientId, saved.getIdElement().getIdPart(), false, actors, state.author());
        consents.recordRevocation(patientId, saved.getIdElement().getIdPart(), now, caller.auditName(), reason);
        patientAccess.removeConsentGrants(patientId, List.of());
        audit.success("consent-revoked", AuditEventAction.U, caller, clientAddress, "Consent/" + saved.getIdElement().getIdPart());
        notices.notify(ConsentNotices.Kind.REVOKED, saved.getIdElement().getIdPart(), caller.organizationId(), union(state, actors));
        return saved;
    }

    /**
     * Version {@code version} (null: the current one) of a consent the caller sees; 404 like a read
     * otherwise. The read audit is written by the visibility service.
     */
    public Consent read(String id, String version, Caller caller) {
        Consent consent = requireVisible(id, caller);
        if (version != null) {
            consent = store.readVersion(Consent.class, id, version)
                    .orElseThrow(() -> new ResourceNotFoundException(new IdType("Consent", id, version)));
        }
        return consent;
    }

    /** Every participant of any conversation about the patient (and its creators) sees its consent. */
    public Consent requireVisible(String id, Caller caller) {
        Consent consent = store.read(Consent.class, id).orElseThrow(() -> new ResourceNotFoundException(new IdType("Consent", id)));
        String patientId = consent.getPatient().getReferenceElement().getIdPart();
        if (!caller.isAdmin() && !(caller.isParticipant() && patientAccess.canSee(caller.organizationId(), patientId))) {
            throw new ResourceNotFoundException(new IdType("Consent", id));
        }
        return consent;
    }

    /** One page of the consents of patients the caller sees; the total counts with the same predicate. */
    public IBundleProvider search(String patientId, String status, Integer count, Integer offset,
            Caller caller) {
        StringBuilder where = new StringBuilder("true");
        Map<String, Object> params = new HashMap<>();
        if (!caller.isAdmin()) {
            where.append(" and exists (select 1 from patient_access pa where pa.organization_id = :viewer"
                    + " and 'Patient/' || pa.patient_id = content->'patient'->>'reference')");
            params.put("viewer", caller.organizationId());
        }
        if (patientId != null) {
            where.append(" and content->'patient'->>'reference' = :patient");
            params.put("patient", "Patient/" + patientId);
        }
        if (status != null) {
            where.append(" and content->>'status' = :status");
            params.put("status", status);
        }
        return store.searchPage(Consent.class, where.toString(), params, SearchPage.offset(offset),
                SearchPage.pageSize(count), page -> page);
    }

    private String checkPatient(Consent consent, Caller caller) {
        if (!consent.hasPatient() || consent.getPatient().getReferenceElement().getIdPart() == null
                || !"Patient".equals(consent.getPatient().getReferenceElement().getResourceType())) {
            throw new GatewayException(ErrorCode.INVALID_RESOURCE, "Consent.patient must reference Patient/<id>.");
        }
        String patientId = consent.getPatient().getReferenceElement().getIdPart();
        if (!patientAccess.canSee(caller.organizationId(), patientId)) {
            throw new GatewayException(ErrorCode.INVALID_RESOURCE, "Consent.patient is not a patient known to you.");
        }
        return patientId;
    }

    /** Validates scope, category, document and partners; returns the partner organisation ids. */
    private List<String> checkContent(Consent consent) {
        stripComputed(consent);
        Attachment document = consent.hasSourceAttachment() ? consent.getSourceAttachment() : null;
        if (document == null || !(document.hasData() || document.hasUrl())) {
            throw new GatewayException(ErrorCode.INVALID_RESOURCE,
                    "Consent.sourceAttachment must contain the signed consent document (PDF, JPEG or PNG) as data,"
                            + " or name it as url Binary/<id> after uploading it.");
        }
        validation.require(consent);
        boolean scope = consent.getScope().getCoding().stream()
                .anyMatch(c -> Systems.CONSENT_SCOPE.equals(c.getSystem()) && "patient-privacy".equals(c.getCode()));
        if (!scope) {
            throw new GatewayException(ErrorCode.INVALID_RESOURCE, "Consent.scope must be " + Systems.CONSENT_SCOPE + "|patient-privacy.");
        }
        boolean category = consent.getCategory().stream().flatMap(c -> c.getCoding().stream())
                .anyMatch(c -> Systems.LOINC.equals(c.getSystem()) && Systems.LOINC_PATIENT_CONSENT.equals(c.getCode()));
        if (!category) {
            throw new GatewayException(ErrorCode.INVALID_RESOURCE, "Consent.category must include LOINC 59284-0 (Patient Consent).");
        }
        if (document.hasData()) {
            if (document.getData().length > props.attachments().maxBytes()) {
                throw new GatewayException(ErrorCode.PAYLOAD_TOO_LARGE, "The consent document has " + document.getData().length
                        + " bytes; the limit is " + props.attachments().maxBytes() + ".");
            }
            requireDocumentType(document.getContentType());
        }
        Set<String> actors = new LinkedHashSet<>();
        collectActors(consent.getProvision(), actors);
        if (actors.isEmpty()) {
            throw new GatewayException(ErrorCode.INVALID_RESOURCE,
                    "Consent.provision.actor must name the permitted partner organisations (Organization/<id>).");
        }
        List<String> unknown = new ArrayList<>();
        for (String actor : actors) {
            if (directory.findOrganization(actor).isEmpty()) {
                unknown.add("Organization/" + actor);
            }
        }
        if (!unknown.isEmpty()) {
            throw new GatewayException(ErrorCode.UNKNOWN_RECIPIENT, "Not in the directory: " + String.join(", ", unknown));
        }
        return List.copyOf(actors);
    }

    private static void requireDocumentType(String declared) {
        String type = declared == null ? null : ContentTypes.normalize(declared);
        if (type == null || !DOCUMENT_TYPES.contains(type)) {
            throw new GatewayException(ErrorCode.UNSUPPORTED_MEDIA_TYPE,
                    "The consent document must be application/pdf, image/jpeg or image/png, not " + declared + ".");
        }
    }

    /**
     * Stores the consent document as an attachment (signed, encrypted, visible wherever the
     * patient is) and leaves only its url, size and hash in the Consent.
     */
    private void storeDocument(Consent consent, String organizationId, String patientId) {
        Attachment document = consent.getSourceAttachment();
        String binaryId;
        String contentType;
        long size;
        String sha1;
        if (document.hasData()) {
            AttachmentService.Stored stored = attachments.store(document.getContentType(),
                    new ByteArrayInputStream(document.getData()), organizationId, patientId);
            binaryId = stored.id();
            contentType = stored.contentType();
            size = stored.size();
            sha1 = stored.sha1Base64();
        } else {
            binaryId = AttachmentService.binaryIdOf(document.getUrl());
            String id = binaryId;
            AttachmentService.Meta meta = Optional.ofNullable(id).flatMap(attachments::meta)
                    .filter(m -> organizationId.equals(m.uploadedBy()) || patientId.equals(m.consentPatient()))
                    .orElseThrow(() -> new GatewayException(ErrorCode.INVALID_RESOURCE,
                            "Consent.sourceAttachment.url must name an attachment you uploaded (Binary/<id>) or the patient's consent document."));
            requireDocumentType(meta.contentType());
            attachments.markConsentDocument(id, patientId);
            contentType = meta.contentType();
            size = meta.size();
            sha1 = meta.sha1Base64();
        }
        document.setData(null);
        document.setUrl("Binary/" + binaryId);
        document.setContentType(contentType);
        document.setSize((int) Math.min(size, Integer.MAX_VALUE));
        if (sha1 != null) {
            document.setHash(Base64.getDecoder().decode(sha1));
        }
    }

    private static void collectActors(Consent.ProvisionComponent provision, Set<String> out) {
        if (provision == null) {
            return;
        }
        if (provision.getType() != Consent.ConsentProvisionType.DENY) {
            for (Consent.provisionActorComponent actor : provision.getActor()) {
                var ref = actor.getReference().getReferenceElement();
                if ("Organization".equals(ref.getResourceType()) && ref.getIdPart() != null) {
                    out.add(ref.getIdPart());
                }
            }
            for (Consent.ProvisionComponent nested : provision.getProvision()) {
                collectActors(nested, out);
            }
        }
    }

    static void stripComputed(Consent consent) {
        consent.getExtension().removeIf(e -> EXT_REVOCATION.equals(e.getUrl()));
    }
}
