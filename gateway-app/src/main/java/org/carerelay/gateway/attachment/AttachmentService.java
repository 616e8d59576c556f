package org.carerelay.gateway.attachment;

import ca.uhn.fhir.rest.server.exceptions.ResourceNotFoundException;
import java.nio.charset.StandardCharsets;
import java.security.MessageDigest;
import java.security.NoSuchAlgorithmException;
import java.sql.Timestamp;
import java.time.Instant;
import java.util.HexFormat;
import java.util.Optional;
import org.carerelay.fhir.ErrorCode;
import org.carerelay.fhir.content.ContentTypes;
import org.carerelay.gateway.config.CareRelayProperties;
import org.carerelay.gateway.fhir.GatewayException;
import org.carerelay.routes.crypto.ContentCipher;
import org.hl7.fhir.r4.model.IdType;
import org.springframework.jdbc.core.simple.JdbcClient;
import org.springframework.stereotype.Service;

/**
 * Attachments (FHIR Binary): type checked against the bytes, size limited, encrypted at rest.
 * Visible to the uploading organisation and to the participants of messages that carry them,
 * unless every such message is masked.
 */
@Service
public class AttachmentService {

    public record Stored(String id, String contentType, long size, String sha256) {
    }

    public record Content(String id, String contentType, byte[] data, String uploadedBy) {
    }

    private final JdbcClient jdbc;
    private final ContentCipher cipher;
    private final CareRelayProperties.Attachments limits;

    public AttachmentService(JdbcClient jdbc, ContentCipher cipher, CareRelayProperties props) {
        this.jdbc = jdbc;
        this.cipher = cipher;
        this.limits = props.attachments();
    }

    /** Checks type and size of an upload; 415 or 413 on refusal. */
    public String checkUpload(String declaredType, byte[] data) {
        if (data == null || data.length == 0) {
            throw new GatewayException(ErrorCode.INVALID_RESOURCE, "The attachment is empty.");
        }
        if (data.length > limits.maxBytes()) {
            throw new GatewayException(ErrorCode.PAYLOAD_TOO_LARGE,
                    "The attachment has " + data.length + " bytes; the limit is " + limits.maxBytes() + ".");
        }
        String type = declaredType == null ? null : ContentTypes.normalize(declaredType);
        if (type == null || !limits.allowedTypes().contains(type)) {
            throw new GatewayException(ErrorCode.UNSUPPORTED_MEDIA_TYPE,
                    "Attachment type " + declaredType + " is not allowed; allowed: " + String.join(", ", limits.allowedTypes()) + ".");
        }
        if (!ContentTypes.matches(type, data)) {
            throw new GatewayException(ErrorCode.UNSUPPORTED_MEDIA_TYPE,
                    "The attachment's bytes are not " + type + (ContentTypes.sniff(data).map(t -> " but " + t).orElse("")) + ".");
        }
        return type;
    }

    public Stored store(String declaredType, byte[] data, String uploaderOrganizationId) {
        String type = checkUpload(declaredType, data);
        String id = java.util.UUID.randomUUID().toString();
        String sha256 = sha256(data);
        byte[] sealed = cipher.encrypt(data, id.getBytes(StandardCharsets.UTF_8));
        jdbc.sql("""
                insert into binary_content (id, content_type, size_bytes, sha256, key_id, data, uploaded_by, created_at)
                values (?, ?, ?, ?, ?, ?, ?, ?)
                """).params(id, type, data.length, sha256, cipher.keyId(), sealed, uploaderOrganizationId,
                Timestamp.from(Instant.now())).update();
        return new Stored(id, type, data.length, sha256);
    }

    public Optional<String> uploader(String id) {
        return jdbc.sql("select uploaded_by from binary_content where id = ?").param(id).query(String.class).optional();
    }

    /** Whether {@code organizationId} may read the attachment now. */
    public boolean canRead(String id, String organizationId) {
        return jdbc.sql("""
                select
                  (exists (select 1 from message_attachment ma join message m on m.id = ma.message_id
                           left join message_recipient r on r.message_id = m.id and r.organization_id = :org
                           where ma.binary_id = :id and (m.sender_org = :org or r.organization_id is not null)
                             and not exists (select 1 from consent_revocation cr where cr.patient_id = m.subject_patient and cr.revoked_at >= m.sent)))
                  or
                  (exists (select 1 from binary_content b where b.id = :id and b.uploaded_by = :org)
                   and not exists (select 1 from message_attachment ma join message m on m.id = ma.message_id
                           where ma.binary_id = :id
                             and exists (select 1 from consent_revocation cr where cr.patient_id = m.subject_patient and cr.revoked_at >= m.sent)))
                """).param("id", id).param("org", organizationId).query(Boolean.class).single();
    }

    /** Decrypted content; integrity failures surface as {@code integrity-failure}. */
    public Content load(String id) {
        return jdbc.sql("select content_type, data, uploaded_by, sha256 from binary_content where id = ?").param(id)
                .query((rs, i) -> {
                    byte[] plain;
                    try {
                        plain = cipher.decrypt(rs.getBytes(2), id.getBytes(StandardCharsets.UTF_8));
                    } catch (ContentCipher.IntegrityException e) {
                        throw new GatewayException(ErrorCode.INTEGRITY_FAILURE, "The stored attachment does not verify.");
                    }
                    if (!sha256(plain).equals(rs.getString(4))) {
                        throw new GatewayException(ErrorCode.INTEGRITY_FAILURE, "The stored attachment does not verify.");
                    }
                    return new Content(id, rs.getString(1), plain, rs.getString(3));
                })
                .optional().orElseThrow(() -> new ResourceNotFoundException(new IdType("Binary", id)));
    }

    static String sha256(byte[] data) {
        try {
            return HexFormat.of().formatHex(MessageDigest.getInstance("SHA-256").digest(data));
        } catch (NoSuchAlgorithmException e) {
            throw new IllegalStateException(e);
        }
    }
}
