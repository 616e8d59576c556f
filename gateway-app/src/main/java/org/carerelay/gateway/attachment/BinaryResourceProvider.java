package org.carerelay.gateway.attachment;

import ca.uhn.fhir.rest.annotation.Create;
import ca.uhn.fhir.rest.annotation.IdParam;
import ca.uhn.fhir.rest.annotation.Read;
import ca.uhn.fhir.rest.annotation.ResourceParam;
import ca.uhn.fhir.rest.api.MethodOutcome;
import ca.uhn.fhir.rest.server.IResourceProvider;
import ca.uhn.fhir.rest.server.exceptions.ResourceNotFoundException;
import ca.uhn.fhir.rest.server.servlet.ServletRequestDetails;
import org.carerelay.fhir.ErrorCode;
import org.carerelay.gateway.audit.AuditService;
import org.carerelay.gateway.config.CareRelayProperties;
import org.carerelay.gateway.fhir.GatewayException;
import org.carerelay.gateway.security.Caller;
import org.hl7.fhir.r4.model.AuditEvent.AuditEventAction;
import org.hl7.fhir.r4.model.Binary;
import org.hl7.fhir.r4.model.IdType;
import org.springframework.stereotype.Component;

/**
 * Attachments as FHIR Binary resources (JSON/XML, data in base64). The raw byte streams in both
 * directions are served by {@link BinaryStreamingFilter} before a request reaches HAPI.
 */
@Component
public class BinaryResourceProvider implements IResourceProvider {

    private final AttachmentService attachments;
    private final AuditService audit;

    private final long maxInlineBytes;

    public BinaryResourceProvider(AttachmentService attachments, AuditService audit,
            CareRelayProperties props) {
        this.attachments = attachments;
        this.maxInlineBytes = props.fhir().maxRequestBytes();
        this.audit = audit;
    }

    @Override
    public Class<Binary> getResourceType() {
        return Binary.class;
    }

    @Create
    public MethodOutcome create(@ResourceParam Binary binary, ServletRequestDetails request) {
        Caller caller = Caller.of(request);
        if (!caller.isParticipant()) {
            throw new GatewayException(ErrorCode.FORBIDDEN, "Only registered participants upload attachments.");
        }
        AttachmentService.Stored stored;
        try {
            stored = attachments.store(binary.getContentType(), binary.getData(), caller.organizationId());
        } catch (GatewayException e) {
            audit.failure("attachment-upload", AuditEventAction.C, caller, Caller.clientAddress(request), null, e.errorCode().code());
            throw e;
        }
        audit.success("attachment-upload", AuditEventAction.C, caller, Caller.clientAddress(request),
                "Binary/" + stored.id());
        Binary result = new Binary();
        result.setId(new IdType("Binary", stored.id(), "1"));
        result.getMeta().setVersionId("1");
        result.setContentType(stored.contentType());
        // the created Binary without its data, as for a raw upload (HAPI honours Prefer with it)
        return new MethodOutcome(result.getIdElement(), true).setResource(result);
    }

    /** Also a vread: an attachment has one version, {@code 1} (the {@code Location} of its upload). */
    @Read(version = true)
    public Binary read(@IdParam IdType id, ServletRequestDetails request) {
        Caller caller = Caller.of(request);
        String binaryId = id.getIdPart();
        if (!caller.isParticipant() || !attachments.canRead(binaryId, caller.organizationId())) {
            audit.failure("attachment-read", AuditEventAction.R, caller, Caller.clientAddress(request),
                    "Binary/" + binaryId, "not visible");
            throw new ResourceNotFoundException(id);
        }
        if (id.hasVersionIdPart() && !"1".equals(id.getVersionIdPart())) {
            audit.failure("attachment-read", AuditEventAction.R, caller, Caller.clientAddress(request),
                    AuditService.version("Binary", binaryId, id.getVersionIdPart()), "no such version");
            throw new ResourceNotFoundException(id);
        }
        AttachmentService.Meta meta = attachments.requireMeta(binaryId);
        if (meta.size() > maxInlineBytes) {
            throw new GatewayException(ErrorCode.PAYLOAD_TOO_LARGE, "The attachment has " + meta.size()
                    + " bytes, too many to return base64-encoded in a FHIR resource; read it without _format and with"
                    + " an Accept header other than FHIR JSON/XML to get the bytes as a stream.");
        }
        byte[] data = attachments.readVerified(meta, caller.auditName());
        audit.success("attachment-read", AuditEventAction.R, caller, Caller.clientAddress(request),
                AuditService.version("Binary", binaryId, id.getVersionIdPart()));
        Binary binary = new Binary();
        binary.setId(new IdType("Binary", binaryId, "1"));
        binary.setContentType(meta.contentType());
        binary.setData(data);
        return binary;
    }
}
