package org.carerelay.gateway.attachment;

import ca.uhn.fhir.rest.server.exceptions.ResourceNotFoundException;
import io.micrometer.core.instrument.Counter;
import io.micrometer.core.instrument.MeterRegistry;
import java.io.ByteArrayInputStream;
import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.io.InputStream;
import java.io.OutputStream;
import java.io.UncheckedIOException;
import java.nio.charset.StandardCharsets;
import java.security.MessageDigest;
import java.security.NoSuchAlgorithmException;
import java.security.cert.X509Certificate;
import java.sql.Timestamp;
import java.time.Instant;
import java.util.Base64;
import java.util.HexFormat;
import java.util.Optional;
import java.util.Set;
import java.util.UUID;
import org.carerelay.fhir.ErrorCode;
import org.carerelay.fhir.content.ContentInspector;
import org.carerelay.fhir.content.ContentTypes;
import org.carerelay.gateway.audit.AuditService;
import org.carerelay.gateway.config.CareRelayProperties;
import org.carerelay.gateway.directory.DirectoryService;
import org.carerelay.gateway.fhir.GatewayException;
import org.carerelay.routes.crypto.AttachmentCrypto;
import org.carerelay.routes.crypto.ContentCipher;
import org.carerelay.routes.crypto.IntegrityException;
import org.carerelay.routes.crypto.Origin;
import org.hl7.fhir.r4.model.AuditEvent.AuditEventAction;
import org.hl7.fhir.r4.model.AuditEvent.AuditEventOutcome;
import org.hl7.fhir.r4.model.IdType;
import org.hl7.fhir.r4.model.Organization;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;
import org.springframework.jdbc.core.simple.JdbcClient;
import org.springframework.stereotype.Service;
import org.springframework.transaction.annotation.Transactional;

/**
 * Attachments (FHIR Binary, HL7 ED payloads, consent documents): size limited, type checked
 * against the bytes, hashed, signed with CMS on behalf of the sending organisation and encrypted
 * to the gateway's storage key, all while streaming. Nothing is released before its tag and
 * signature have verified. Visible to the uploading organisation and to the participants of
 * messages that carry them unless every such message is masked; a consent document wherever its
 * patient is visible.
 */
@Service
public class AttachmentService {

    private static final Logger log = LoggerFactory.getLogger(AttachmentService.class);

    /** Attachments up to this size are verified and served from memory; larger ones in two passes. */
    static final int IN_MEMORY_BYTES = 4 << 20;
    static final String FORMAT_CMS = "cms";

    /** What was stored: the content type and the digests of the original bytes. */
    public record Stored(String id, String contentType, long size, String sha256, String sha1Base64) {
    }

    /** Metadata of a stored attachment. */
    public record Meta(String id, String contentType, long size, String sha256, String sha1Base64, String uploadedBy,
            String format, String consentPatient) {
    }

    private final JdbcClient jdbc;
    private final BlobStore blobs;
    private final AttachmentCrypto crypto;
    private final ContentCipher legacyCipher;
    private final DirectoryService directory;
    private final AuditService audit;
    private final CareRelayProperties.Attachments limits;
    private final Counter integrityFailures;

    public AttachmentService(JdbcClient jdbc, BlobStore blobs, AttachmentCrypto crypto, ContentCipher legacyCipher,
            DirectoryService directory, AuditService audit, CareRelayProperties props, MeterRegistry meters) {
        this.jdbc = jdbc;
        this.blobs = blobs;
        this.crypto = crypto;
        this.legacyCipher = legacyCipher;
        this.directory = directory;
        this.audit = audit;
        this.limits = props.attachments();
        this.integrityFailures = Counter.builder("carerelay.attachments.integrity.failures")
                .description("Stored attachments whose signature or authentication tag did not verify")
                .register(meters);
    }

    /** The normalised type if it is allowed; 415 otherwise. */
    public String allowedType(String declaredType) {
        String type = declaredType == null ? "" : ContentTypes.normalize(declaredType);
        if (type.isEmpty() || !limits.allowedTypes().contains(type)) {
            throw new GatewayException(ErrorCode.UNSUPPORTED_MEDIA_TYPE, "Attachment type "
                    + (declaredType == null || declaredType.isBlank() ? "(none)" : declaredType)
                    + " is not allowed; allowed: " + String.join(", ", limits.allowedTypes()) + ".");
        }
        return type;
    }

    /** Refuses a declared length over the limit before anything is read. */
    public void checkDeclaredLength(long length) {
        if (length > limits.maxBytes()) {
            throw tooLarge(length);
        }
    }

    @Transactional
    public Stored store(String declaredType, byte[] data, String uploaderOrganizationId) {
        return store(declaredType, new ByteArrayInputStream(data == null ? new byte[0] : data),
                uploaderOrganizationId, null);
    }

    /**
     * Stores an attachment read from {@code data} (not closed here). Joins the caller's
     * transaction, or runs in its own: on any refusal nothing of it remains.
     *
     * @param consentPatient the patient whose consent document this is, or null
     */
    @Transactional
    public Stored store(String declaredType, InputStream data, String uploaderOrganizationId, String consentPatient) {
        String type = allowedType(declaredType);
        String id = UUID.randomUUID().toString();
        jdbc.sql("""
                insert into binary_content (id, content_type, size_bytes, sha256, key_id, format, uploaded_by, created_at, consent_patient)
                values (?, ?, 0, '', ?, ?, ?, ?, ?)
                """).params(id, type, crypto.currentStorageKeyId(), FORMAT_CMS, uploaderOrganizationId,
                Timestamp.from(Instant.now()), consentPatient).update();
        ContentInspector inspector = new ContentInspector(type);
        MessageDigest sha256 = digest("SHA-256");
        MessageDigest sha1 = digest("SHA-1");
        long size = 0;
        BlobStore.CountingOutput blob = blobs.create(id);
        try (OutputStream sealed = crypto.seal(blob, origin(uploaderOrganizationId), id)) {
            byte[] buffer = new byte[64 * 1024];
            int n;
            while ((n = data.read(buffer)) > 0) {
                size += n;
                if (size > limits.maxBytes()) {
                    throw tooLarge(-1);
                }
                inspector.update(buffer, 0, n);
                sha256.update(buffer, 0, n);
                sha1.update(buffer, 0, n);
                sealed.write(buffer, 0, n);
            }
        } catch (IOException e) {
            throw new GatewayException(ErrorCode.INVALID_REQUEST, "The attachment could not be read completely.");
        }
        if (size == 0) {
            throw new GatewayException(ErrorCode.INVALID_RESOURCE, "The attachment is empty.");
        }
        ContentInspector.Result check = inspector.finish();
        if (!check.matches()) {
            throw new GatewayException(ErrorCode.UNSUPPORTED_MEDIA_TYPE,
                    "The attachment's bytes are not " + type + ": " + check.detail() + ".");
        }
        String sha256Hex = HexFormat.of().formatHex(sha256.digest());
        String sha1Base64 = Base64.getEncoder().encodeToString(sha1.digest());
        jdbc.sql("update binary_content set size_bytes = ?, sha256 = ?, sha1 = ?, sealed_bytes = ? where id = ?")
                .params(size, sha256Hex, sha1Base64, blob.total(), id).update();
        return new Stored(id, type, size, sha256Hex, sha1Base64);
    }

    public Optional<Meta> meta(String id) {
        return jdbc.sql("""
                select id, content_type, size_bytes, sha256, sha1, uploaded_by, format, consent_patient
                from binary_content where id = ?
                """).param(id)
                .query((rs, i) -> new Meta(rs.getString(1), rs.getString(2), rs.getLong(3), rs.getString(4),
                        rs.getString(5), rs.getString(6), rs.getString(7), rs.getString(8)))
                .optional();
    }

    public Meta requireMeta(String id) {
        return meta(id).orElseThrow(() -> new ResourceNotFoundException(new IdType("Binary", id)));
    }

    /**
     * The attachment id in a reference such as {@code Binary/<id>}, {@code [base]/Binary/<id>} or
     * {@code Binary/<id>/_history/1}; null when the url names none.
     */
    public static String binaryIdOf(String url) {
        int at = url == null ? -1 : url.lastIndexOf("Binary/");
        String id = at < 0 ? null : url.substring(at + "Binary/".length()).replaceAll("/_history/.*$", "");
        return id == null || id.isBlank() || id.contains("/") ? null : id;
    }

    /** Makes the attachment the consent document of {@code patientId}: visible wherever the patient is. */
    public void markConsentDocument(String id, String patientId) {
        jdbc.sql("update binary_content set consent_patient = ? where id = ?").params(patientId, id).update();
    }

    /** SHA-256 (hex) of every document that has been a consent document of {@code patientId}. */
    public Set<String> consentDocumentHashes(String patientId) {
        return Set.copyOf(jdbc.sql("select sha256 from binary_content where consent_patient = ? and sha256 <> ''")
                .param(patientId).query(String.class).list());
    }

    public long totalBytesOfMessage(String messageId) {
        return jdbc.sql("""
                select coalesce(sum(b.size_bytes), 0) from message_attachment ma join binary_content b on b.id = ma.binary_id
                 where ma.message_id = ?
                """).param(messageId).query(Long.class).single();
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
                  or
                  (exists (select 1 from binary_content b join patient_access pa on pa.patient_id = b.consent_patient
                           where b.id = :id and pa.organization_id = :org))
                """).param("id", id).param("org", organizationId).query(Boolean.class).single();
    }

    /**
     * Writes the original bytes to {@code out} after they verified: attachments up to
     * {@value #IN_MEMORY_BYTES} bytes are decrypted once into memory, larger ones are verified in
     * a first pass and streamed in a second. An integrity failure throws before the first byte.
     */
    public void writeVerified(Meta meta, OutputStream out, String reader) throws IOException {
        if (!FORMAT_CMS.equals(meta.format())) {
            out.write(legacy(meta, reader));
            return;
        }
        if (meta.size() <= IN_MEMORY_BYTES) {
            out.write(readVerified(meta, reader));
            return;
        }
        verify(meta, reader);
        try (InputStream plain = crypto.open(blobs.open(meta.id()), meta.id())) {
            plain.transferTo(out);
        } catch (IntegrityException e) {
            // altered between the passes: the response is cut short, which the client notices
            throw integrityFailure(meta, reader, e);
        }
    }

    /** The verified bytes in memory; for deliveries and FHIR-format reads. */
    public byte[] readVerified(Meta meta, String reader) {
        if (!FORMAT_CMS.equals(meta.format())) {
            return legacy(meta, reader);
        }
        ByteArrayOutputStream buffer = new ByteArrayOutputStream((int) Math.min(meta.size(), Integer.MAX_VALUE - 8));
        try (InputStream plain = crypto.open(blobs.open(meta.id()), meta.id())) {
            plain.transferTo(buffer);
        } catch (IntegrityException e) {
            throw integrityFailure(meta, reader, e);
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        }
        byte[] data = buffer.toByteArray();
        if (!sha256Hex(data).equals(meta.sha256())) {
            throw integrityFailure(meta, reader, new IntegrityException("digest differs from the stored one"));
        }
        return data;
    }

    /**
     * Writes the CMS envelope of the attachment for {@code recipient}'s certificate (the stored
     * signature inside, unchanged), after the stored object verified.
     */
    public void writeEnvelope(Meta meta, X509Certificate recipient, OutputStream out, String reader) throws IOException {
        if (!FORMAT_CMS.equals(meta.format())) {
            throw new GatewayException(ErrorCode.NOT_SUPPORTED,
                    "This attachment was stored before CMS sealing and has no envelope; read it as bytes.");
        }
        verify(meta, reader);
        try (InputStream sealed = blobs.open(meta.id())) {
            crypto.reseal(sealed, meta.id(), recipient, out);
        } catch (IntegrityException e) {
            throw integrityFailure(meta, reader, e);
        }
    }

    /** The envelope in memory, for deliveries. */
    public byte[] envelope(Meta meta, X509Certificate recipient, String reader) {
        ByteArrayOutputStream out = new ByteArrayOutputStream((int) Math.min(meta.size() + 8192, Integer.MAX_VALUE - 8));
        try {
            writeEnvelope(meta, recipient, out, reader);
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        }
        return out.toByteArray();
    }

    /** Reads the whole attachment through verification, discarding the bytes. */
    void verify(Meta meta, String reader) throws IOException {
        MessageDigest sha256 = digest("SHA-256");
        try (InputStream plain = crypto.open(blobs.open(meta.id()), meta.id())) {
            byte[] buffer = new byte[64 * 1024];
            int n;
            while ((n = plain.read(buffer)) > 0) {
                sha256.update(buffer, 0, n);
            }
        } catch (IntegrityException e) {
            throw integrityFailure(meta, reader, e);
        }
        if (!HexFormat.of().formatHex(sha256.digest()).equals(meta.sha256())) {
            throw integrityFailure(meta, reader, new IntegrityException("digest differs from the stored one"));
        }
    }

    private byte[] legacy(Meta meta, String reader) {
        byte[] sealed = jdbc.sql("select data from binary_content where id = ?").param(meta.id()).query(byte[].class).single();
        byte[] plain;
        try {
            plain = legacyCipher.decrypt(sealed, meta.id().getBytes(StandardCharsets.UTF_8));
        } catch (ContentCipher.IntegrityException e) {
            throw integrityFailure(meta, reader, e);
        }
        if (!sha256Hex(plain).equals(meta.sha256())) {
            throw integrityFailure(meta, reader, new IntegrityException("digest differs from the stored one"));
        }
        return plain;
    }

    private GatewayException integrityFailure(Meta meta, String reader, Exception cause) {
        integrityFailures.increment();
        log.error("Attachment Binary/{} failed verification ({}); it is not served", meta.id(),
                cause.getClass().getSimpleName());
        audit.record(new AuditService.Entry("attachment-integrity", AuditEventAction.R, AuditEventOutcome._8,
                reader, null, "Binary/" + meta.id(), "The stored attachment's signature or tag did not verify."));
        return new GatewayException(ErrorCode.INTEGRITY_FAILURE, "The stored attachment does not verify; it is not served.");
    }

    private Origin origin(String organizationId) {
        String name = organizationId == null ? null
                : directory.findOrganization(organizationId).map(Organization::getName).orElse(null);
        return new Origin(organizationId, name);
    }

    private GatewayException tooLarge(long length) {
        return new GatewayException(ErrorCode.PAYLOAD_TOO_LARGE, (length >= 0 ? "The attachment has " + length + " bytes; " : "The attachment exceeds ")
                + "the limit of " + limits.maxBytes() + " bytes.");
    }

    static String sha256Hex(byte[] data) {
        return HexFormat.of().formatHex(digest("SHA-256").digest(data));
    }

    private static MessageDigest digest(String algorithm) {
        try {
            return MessageDigest.getInstance(algorithm);
        } catch (NoSuchAlgorithmException e) {
            throw new IllegalStateException(e);
        }
    }
}
