package org.carerelay.gateway.attachment;

import ca.uhn.fhir.context.FhirContext;
import java.io.ByteArrayInputStream;
import java.io.IOException;
import java.io.OutputStream;
import java.io.UncheckedIOException;
import java.security.MessageDigest;
import java.security.NoSuchAlgorithmException;
import java.util.Base64;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import org.carerelay.gateway.infra.SafeExceptions;
import org.carerelay.routes.crypto.AttachmentCrypto;
import org.carerelay.routes.crypto.ContentCipher;
import org.carerelay.routes.crypto.Origin;
import org.hl7.fhir.r4.model.Attachment;
import org.hl7.fhir.r4.model.Consent;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;
import org.springframework.boot.ApplicationArguments;
import org.springframework.boot.ApplicationRunner;
import org.springframework.jdbc.core.simple.JdbcClient;
import org.springframework.stereotype.Component;
import org.springframework.transaction.support.TransactionTemplate;

/**
 * Brings data of earlier versions to the CMS format on start, once: attachments encrypted with the
 * data key are re-sealed (signed on behalf of their uploader, encrypted to the storage key), and
 * consent scans that were kept inline in the Consent (current version and history) become sealed
 * attachments referenced by url. Each item is converted in its own transaction; a failure is
 * logged and retried on the next start, nothing is deleted before its replacement is stored.
 */
@Component
public class LegacyAttachmentMigration implements ApplicationRunner {

    private static final Logger log = LoggerFactory.getLogger(LegacyAttachmentMigration.class);

    private final JdbcClient jdbc;
    private final BlobStore blobs;
    private final AttachmentCrypto crypto;
    private final ContentCipher legacyCipher;
    private final AttachmentService attachments;
    private final FhirContext fhirContext;
    private final TransactionTemplate tx;

    public LegacyAttachmentMigration(JdbcClient jdbc, BlobStore blobs, AttachmentCrypto crypto, ContentCipher legacyCipher,
            AttachmentService attachments, FhirContext fhirContext, TransactionTemplate tx) {
        this.jdbc = jdbc;
        this.blobs = blobs;
        this.crypto = crypto;
        this.legacyCipher = legacyCipher;
        this.attachments = attachments;
        this.fhirContext = fhirContext;
        this.tx = tx;
    }

    @Override
    public void run(ApplicationArguments args) {
        try {
            migrate();
        } catch (RuntimeException e) {
            // the gateway still serves everything in its earlier format; the next start tries again
            log.error("Converting earlier attachments to CMS failed: {}", SafeExceptions.describe(e));
        }
    }

    /** Converts what is left; returns the number of attachments and consent versions converted. */
    public int migrate() {
        int converted = 0;
        for (String id : jdbc.sql("select id from binary_content where format = 'aes-gcm' and data is not null")
                .query(String.class).list()) {
            try {
                tx.executeWithoutResult(status -> resealLegacyBinary(id));
                converted++;
            } catch (RuntimeException e) {
                log.error("Attachment Binary/{} could not be converted to CMS ({}); it stays readable as before", id,
                        e.getClass().getSimpleName());
            }
        }
        record Row(String table, String id, int version, String json) {
        }
        List<Row> consents = jdbc.sql("""
                select 'fhir_resource', id, version_id, content::text from fhir_resource
                 where resource_type = 'Consent' and content->'sourceAttachment'->'data' is not null
                union all
                select 'fhir_resource_history', id, version_id, content::text from fhir_resource_history
                 where resource_type = 'Consent' and content->'sourceAttachment'->'data' is not null
                order by 2, 3
                """).query((rs, i) -> new Row(rs.getString(1), rs.getString(2), rs.getInt(3), rs.getString(4))).list();
        Map<String, AttachmentService.Stored> storedBySha = new HashMap<>();
        for (Row row : consents) {
            try {
                tx.executeWithoutResult(status -> {
                    Consent consent = fhirContext.newJsonParser().parseResource(Consent.class, row.json());
                    Attachment document = consent.getSourceAttachment();
                    byte[] data = document.getData();
                    String patientId = consent.getPatient().getReferenceElement().getIdPart();
                    String key = row.id() + ":" + AttachmentService.sha256Hex(data);
                    AttachmentService.Stored stored = storedBySha.get(key);
                    if (stored == null) {
                        String uploader = uploaderOf(row.id());
                        stored = attachments.store(document.getContentType(), new ByteArrayInputStream(data), uploader, patientId);
                    }
                    document.setData(null);
                    document.setUrl("Binary/" + stored.id());
                    document.setSize((int) Math.min(stored.size(), Integer.MAX_VALUE));
                    document.setHash(Base64.getDecoder().decode(stored.sha1Base64()));
                    String json = fhirContext.newJsonParser().encodeResourceToString(consent);
                    jdbc.sql("update " + row.table() + " set content = ?::jsonb where resource_type = 'Consent' and id = ? and version_id = ?")
                            .params(json, row.id(), row.version()).update();
                    storedBySha.put(key, stored);
                });
                converted++;
            } catch (RuntimeException e) {
                log.error("The consent document of Consent/{} version {} could not be converted ({})", row.id(), row.version(),
                        e.getClass().getSimpleName());
            }
        }
        if (converted > 0) {
            log.info("Converted {} attachments and consent document versions to CMS sealing", converted);
        }
        return converted;
    }

    private void resealLegacyBinary(String id) {
        AttachmentService.Meta meta = attachments.requireMeta(id);
        byte[] plain = attachments.readVerified(meta, "migration");
        jdbc.sql("delete from binary_chunk where binary_id = ?").param(id).update();
        BlobStore.CountingOutput blob = blobs.create(id);
        try (OutputStream sealed = crypto.seal(blob, new Origin(meta.uploadedBy(), null), id)) {
            sealed.write(plain);
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        }
        byte[] sha1;
        try {
            sha1 = MessageDigest.getInstance("SHA-1").digest(plain);
        } catch (NoSuchAlgorithmException e) {
            throw new IllegalStateException(e);
        }
        jdbc.sql("""
                update binary_content set format = 'cms', data = null, key_id = ?, sha1 = ?, sealed_bytes = ? where id = ?
                """).params(crypto.currentStorageKeyId(), Base64.getEncoder().encodeToString(sha1), blob.total(), id).update();
    }

    /** The organisation that uploaded the consent, as the audit trail recorded it. */
    private String uploaderOf(String consentId) {
        return jdbc.sql("""
                select agent_who from audit_event where entity_what = ? and subtype_code in ('consent-upload', 'consent-new-version')
                 and agent_who like 'Organization/%' order by recorded limit 1
                """).param("Consent/" + consentId).query(String.class).optional()
                .map(a -> a.substring("Organization/".length())).orElse("unknown");
    }
}
