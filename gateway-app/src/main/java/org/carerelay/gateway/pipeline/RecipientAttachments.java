package org.carerelay.gateway.pipeline;

import java.io.IOException;
import java.io.OutputStream;
import java.security.cert.X509Certificate;
import java.time.Instant;
import java.util.Optional;
import org.carerelay.gateway.attachment.AttachmentService;
import org.carerelay.gateway.directory.DirectoryService;
import org.carerelay.gateway.fhir.GatewayException;
import org.carerelay.routes.crypto.EncryptionCertificates;
import org.hl7.fhir.r4.model.Communication;
import org.springframework.stereotype.Component;

/**
 * An attachment as it leaves for one recipient: a CMS envelope for the recipient's registered
 * encryption certificate (the gateway's signature inside), or the verified original bytes when
 * the recipient registered none. A registered certificate that is no longer valid stops the
 * delivery instead of falling back to unencrypted bytes.
 */
@Component
public class RecipientAttachments {

    public static final String PKCS7_MIME = "application/pkcs7-mime";
    public static final String PKCS7_ENVELOPED = PKCS7_MIME + "; smime-type=enveloped-data";
    /** Marks an Attachment whose Binary is a CMS envelope of the original {@code contentType}. */
    public static final String EXT_ENVELOPE = "https://fhir.carerelay.org/StructureDefinition/attachment-envelope";

    /** The recipient's certificate cannot be used; the delivery fails with this reason. */
    public static final class CertificateUnusable extends RuntimeException {
        CertificateUnusable(String message) {
            super(message);
        }
    }

    private final AttachmentService attachments;
    private final DirectoryService directory;

    public RecipientAttachments(AttachmentService attachments, DirectoryService directory) {
        this.attachments = attachments;
        this.directory = directory;
    }

    /** An attachment planned for a recipient: sent as is, or enveloped for {@code certificate}. */
    public record Planned(AttachmentService.Meta meta, X509Certificate certificate, String reader) {
        public boolean enveloped() {
            return certificate != null;
        }

        public String contentType() {
            return enveloped() ? PKCS7_ENVELOPED : meta.contentType();
        }
    }

    /** The attachment a payload of a stored message carries ({@code Binary/<id>}), or null. */
    static String binaryIdOf(Communication.CommunicationPayloadComponent payload) {
        if (payload.hasContentAttachment() && payload.getContentAttachment().hasUrl()) {
            return AttachmentService.binaryIdOf(payload.getContentAttachment().getUrl());
        }
        if (payload.hasContentReference() && "Binary".equals(payload.getContentReference().getReferenceElement().getResourceType())) {
            return payload.getContentReference().getReferenceElement().getIdPart();
        }
        return null;
    }

    /** The size of all attachments of a message, to size delivery leases and timeouts. */
    public long totalBytes(String messageId) {
        return attachments.totalBytesOfMessage(messageId);
    }

    /** Decides how the attachment leaves; nothing is read yet. */
    public Planned plan(String binaryId, String recipientOrganizationId) {
        AttachmentService.Meta meta = attachments.requireMeta(binaryId);
        String reader = "delivery to Organization/" + recipientOrganizationId;
        Optional<X509Certificate> certificate = directory.encryptionCertificate(recipientOrganizationId);
        if (certificate.isPresent()) {
            try {
                EncryptionCertificates.check(certificate.get(), Instant.now());
            } catch (IllegalArgumentException e) {
                throw new CertificateUnusable("encryption certificate of the recipient not usable: " + e.getMessage());
            }
        }
        return new Planned(meta, certificate.orElse(null), reader);
    }

    /**
     * Streams what {@link #plan} decided into {@code out}; the stored object is verified before
     * the first byte is written ({@code integrity-failure} otherwise).
     */
    public void write(Planned planned, OutputStream out) throws IOException {
        if (planned.enveloped()) {
            attachments.writeEnvelope(planned.meta(), planned.certificate(), out, planned.reader());
        } else {
            attachments.writeVerified(planned.meta(), out, planned.reader());
        }
    }

    /**
     * What {@link #plan} decided, in memory, for channels that cannot stream (HL7v2).
     *
     * @throws GatewayException {@code integrity-failure} when the stored attachment does not verify
     */
    public byte[] read(Planned planned) {
        return planned.enveloped() ? attachments.envelope(planned.meta(), planned.certificate(), planned.reader())
                : attachments.readVerified(planned.meta(), planned.reader());
    }
}
