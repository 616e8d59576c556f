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
import org.carerelay.gateway.fhir.GatewayException;
import org.carerelay.gateway.security.Caller;
import org.hl7.fhir.r4.model.AuditEvent.AuditEventAction;
import org.hl7.fhir.r4.model.Binary;
import org.hl7.fhir.r4.model.IdType;
import org.springframework.stereotype.Component;

/**
 * Attachments: {@code POST /fhir/Binary} with the raw bytes and their Content-Type (or a FHIR
 * Binary resource); reading returns the raw bytes unless FHIR JSON/XML is asked for.
 */
@Component
public class BinaryResourceProvider implements IResourceProvider {

    private final AttachmentService attachments;
    private final AuditService audit;

    public BinaryResourceProvider(AttachmentService attachments, AuditService audit) {
        this.attachments = attachments;
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
        AttachmentService.Stored stored = attachments.store(binary.getContentType(), binary.getData(), caller.organizationId());
        audit.success("attachment-upload", AuditEventAction.C, caller, Caller.clientAddress(request),
                "Binary/" + stored.id());
        Binary result = new Binary();
        result.setId(new IdType("Binary", stored.id(), "1"));
        result.setContentType(stored.contentType());
        return new MethodOutcome(result.getIdElement(), true);
    }

    @Read
    public Binary read(@IdParam IdType id, ServletRequestDetails request) {
        Caller caller = Caller.of(request);
        String binaryId = id.getIdPart();
        if (!caller.isParticipant() || !attachments.canRead(binaryId, caller.organizationId())) {
            audit.failure("attachment-read", AuditEventAction.R, caller, Caller.clientAddress(request),
                    "Binary/" + binaryId, "not visible");
            throw new ResourceNotFoundException(id);
        }
        AttachmentService.Content content = attachments.load(binaryId);
        audit.success("attachment-read", AuditEventAction.R, caller, Caller.clientAddress(request), "Binary/" + binaryId);
        Binary binary = new Binary();
        binary.setId(new IdType("Binary", binaryId, "1"));
        binary.setContentType(content.contentType());
        binary.setData(content.data());
        return binary;
    }
}
