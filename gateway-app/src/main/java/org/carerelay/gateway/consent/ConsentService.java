package org.carerelay.gateway.consent;

import ca.uhn.fhir.rest.api.MethodOutcome;
import ca.uhn.fhir.rest.server.exceptions.ResourceNotFoundException;
import ca.uhn.fhir.rest.server.servlet.ServletRequestDetails;
import java.time.Instant;
import java.util.ArrayList;
import java.util.Date;
import java.util.LinkedHashSet;
import java.util.List;
import java.util.Map;
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
import org.carerelay.gateway.patient.PatientAccess;
import org.carerelay.gateway.security.Caller;
import org.carerelay.gateway.store.ResourceStore;
import org.hl7.fhir.r4.model.Attachment;
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
 * patient, a change of partners makes a new version, revocation is recorded with its time.
 */
@Service
public class ConsentService {

    /** Extension on a revoked Consent: {@code revokedAt} (valueDateTime) and {@code reason} (valueString). */
    public static final String EXT_REVOCATION = "https://fhir.carerelay.org/StructureDefinition/consent-revocation";
    static final Set<String> DOCUMENT_TYPES = Set.of("application/pdf", "image/jpeg", "image/png");

    private final ResourceStore store;
    private final ConsentRepository consents;
    private final PatientAccess patientAccess;
    private final DirectoryService directory;
    private final Validation validation;
    private final AuditService audit;
    private final CareRelayProperties props;
    private final AttachmentService attachments;

    public ConsentService(ResourceStore store, ConsentRepository consents, PatientAccess patientAccess,
            DirectoryService directory, Validation validation, AuditService audit, CareRelayProperties props,
            AttachmentService attachments) {
        this.attachments = attachments;
        this.store = store;
        this.consents = consents;
        this.patientAccess = patientAccess;
        this.directory = directory;
        this.validation = validation;
        this.audit = audit;
        this.props = props;
    }

    static Caller requireParticipant(ServletRequestDetails request) {
        Caller caller = Caller.of(request);
        if (!caller.isParticipant()) {
            throw new GatewayException(ErrorCode.FORBIDDEN, "Only registered participants upload or revoke consents.");
        }
        return caller;
    }


    /** Upload: a new Consent, or a new version of the patient's active one. */
    @Transactional
    public MethodOutcome upload(Consent consent, ServletRequestDetails request) {
        Caller caller = requireParticipant(request);
        consent.setId((String) null);
        String patientId = checkPatient(consent, caller);
        if (consent.getStatus() != Consent.ConsentState.ACTIVE) {
            throw new GatewayException(ErrorCode.INVALID_RESOURCE, "A new Consent has status 'active'; revoke with $revoke.");
        }
        List<String> actors = checkContent(consent);
        storeDocument(consent, caller.organizationId(), patientId);
        consents.lock(patientId);
        ConsentState state = consents.stateOf(patientId);
        boolean newVersion = state.active();
        if (newVersion) {
            consent.setId(state.consentId());
        }
        if (!consent.hasDateTime()) {
            consent.setDateTime(new Date());
        }
        Consent saved = newVersion ? store.update(consent) : store.create(consent);
        String consentId = saved.getIdElement().getIdPart();
        consents.setCurrent(patientId, consentId, true, actors);
        audit.success(newVersion ? "consent-new-version" : "consent-upload", newVersion ? AuditEventAction.U : AuditEventAction.C,
                caller, Caller.clientAddress(request), "Consent/" + consentId);
        return new MethodOutcome(saved.getIdElement(), !newVersion).setResource(saved);
    }

    /** PUT: {@code inactive} revokes; {@code active} with other partners makes a new version. */
    @Transactional
    public MethodOutcome update(String id, Consent consent, ServletRequestDetails request) {
        Caller caller = requireParticipant(request);
        Consent existing = requireVisible(id, caller);
        String patientId = existing.getPatient().getReferenceElement().getIdPart();
        if (!patientId.equals(consent.getPatient().getReferenceElement().getIdPart())) {
            throw new GatewayException(ErrorCode.INVALID_RESOURCE, "Consent.patient cannot be changed.");
        }
        consents.lock(patientId);
        ConsentState state = consents.stateOf(patientId);
        if (!id.equals(state.consentId()) || !state.active()) {
            throw new GatewayException(ErrorCode.CONFLICT, "Only the patient's active consent can be changed; upload a new one with POST.");
        }
        if (consent.getStatus() == Consent.ConsentState.INACTIVE || consent.getStatus() == Consent.ConsentState.REJECTED) {
            Consent revoked = revokeLocked(existing, patientId, state.actors(), caller, null, request);
            return new MethodOutcome(revoked.getIdElement(), false).setResource(revoked);
        }
        if (consent.getStatus() != Consent.ConsentState.ACTIVE) {
            throw new GatewayException(ErrorCode.INVALID_RESOURCE, "Consent.status is 'active', or 'inactive' to revoke.");
        }
        consent.setId(id);
        List<String> actors = checkContent(consent);
        storeDocument(consent, caller.organizationId(), patientId);
        Consent saved = store.update(consent);
        consents.setCurrent(patientId, id, true, actors);
        audit.success("consent-new-version", AuditEventAction.U, caller, Caller.clientAddress(request), "Consent/" + id);
        return new MethodOutcome(saved.getIdElement(), false).setResource(saved);
    }

    @Transactional
    public Consent revoke(String id, String reason, ServletRequestDetails request) {
        Caller caller = requireParticipant(request);
        Consent existing = requireVisible(id, caller);
        String patientId = existing.getPatient().getReferenceElement().getIdPart();
        consents.lock(patientId);
        ConsentState state = consents.stateOf(patientId);
        if (!id.equals(state.consentId()) || !state.active()) {
            throw new GatewayException(ErrorCode.CONFLICT, "This consent is not active (already revoked or replaced).");
        }
        return revokeLocked(existing, patientId, state.actors(), caller, reason, request);
    }

    private Consent revokeLocked(Consent existing, String patientId, List<String> actors, Caller caller, String reason,
            ServletRequestDetails request) {
        Instant now = Instant.now();
        existing.setStatus(Consent.ConsentState.INACTIVE);
        existing.getExtension().removeIf(e -> EXT_REVOCATION.equals(e.getUrl()));
        Extension revocation = existing.addExtension().setUrl(EXT_REVOCATION);
        revocation.addExtension("revokedAt", new DateTimeType(Date.from(now)));
        if (reason != null && !reason.isBlank()) {
            revocation.addExtension("reason", new StringType(reason));
        }
        Consent saved = store.update(existing);
        consents.setCurrent(patientId, saved.getIdElement().getIdPart(), false, actors);
        consents.recordRevocation(patientId, saved.getIdElement().getIdPart(), now, caller.auditName(), reason);
        audit.success("consent-revoked", AuditEventAction.U, caller, Caller.clientAddress(request), "Consent/" + saved.getIdElement().getIdPart());
        return saved;
    }

    public Consent read(String id, ServletRequestDetails request) {
        Caller caller = Caller.of(request);
        Consent consent;
        try {
            consent = requireVisible(id, caller);
        } catch (ResourceNotFoundException e) {
            audit.failure("consent-read", AuditEventAction.R, caller, Caller.clientAddress(request), "Consent/" + id, "not visible");
            throw e;
        }
        audit.success("consent-read", AuditEventAction.R, caller, Caller.clientAddress(request), "Consent/" + id);
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

    public List<Consent> search(String patientId, String status, ServletRequestDetails request) {
        Caller caller = Caller.of(request);
        StringBuilder where = new StringBuilder("true");
        Map<String, Object> params = new java.util.HashMap<>();
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
        List<Consent> result = store.search(Consent.class, where.toString(), params, 100, 0);
        audit.success("consent-search", AuditEventAction.R, caller, Caller.clientAddress(request), patientId == null ? null : "Patient/" + patientId);
        return result;
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
                    new java.io.ByteArrayInputStream(document.getData()), organizationId, patientId);
            binaryId = stored.id();
            contentType = stored.contentType();
            size = stored.size();
            sha1 = stored.sha1Base64();
        } else {
            binaryId = AttachmentService.binaryIdOf(document.getUrl());
            String id = binaryId;
            AttachmentService.Meta meta = java.util.Optional.ofNullable(id).flatMap(attachments::meta)
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
            document.setHash(java.util.Base64.getDecoder().decode(sha1));
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
