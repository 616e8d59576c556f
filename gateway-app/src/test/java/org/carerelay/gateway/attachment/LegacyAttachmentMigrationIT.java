package org.carerelay.gateway.attachment;

import static org.assertj.core.api.Assertions.assertThat;

import java.nio.charset.StandardCharsets;
import java.security.MessageDigest;
import java.sql.Timestamp;
import java.time.Instant;
import java.util.HexFormat;
import java.util.UUID;
import org.carerelay.gateway.Conversations;
import org.carerelay.gateway.GatewayIntegrationTest;
import org.carerelay.gateway.Participants;
import org.carerelay.gateway.attachment.AttachmentService;
import org.carerelay.gateway.attachment.LegacyAttachmentMigration;
import org.carerelay.routes.crypto.ContentCipher;
import org.hl7.fhir.r4.model.Consent;
import org.junit.jupiter.api.Test;
import org.springframework.beans.factory.annotation.Autowired;
import org.springframework.jdbc.core.simple.JdbcClient;

/** Data of the earlier format (AES-GCM with the data key, consent scans inline) is converted to CMS. */
class LegacyAttachmentMigrationIT extends GatewayIntegrationTest {

    @Autowired
    JdbcClient jdbc;
    @Autowired
    ContentCipher dataKeyCipher;
    @Autowired
    LegacyAttachmentMigration migration;
    @Autowired
    AttachmentService attachments;

    @Test
    void legacyBinaryAndInlineConsentScan_becomeSealedAttachments_withTheSameBytes() throws Exception {
        Participants.Registered clinic = Participants.registerNew(this, "Praxis Altbestand");
        byte[] text = ("Altbefund " + UUID.randomUUID()).getBytes(StandardCharsets.UTF_8);
        String binaryId = UUID.randomUUID().toString();
        jdbc.sql("""
                insert into binary_content (id, content_type, size_bytes, sha256, key_id, data, uploaded_by, created_at, format)
                values (?, 'text/plain', ?, ?, ?, ?, ?, ?, 'aes-gcm')
                """).params(binaryId, text.length, HexFormat.of().formatHex(MessageDigest.getInstance("SHA-256").digest(text)),
                dataKeyCipher.keyId(), dataKeyCipher.encrypt(text, binaryId.getBytes(StandardCharsets.UTF_8)),
                clinic.organizationId(), Timestamp.from(Instant.now())).update();

        String patientId = Conversations.createPatient(client(clinic.token()), Conversations.patient("Altbestand", "Olga", null));
        byte[] scan = Conversations.signedScan();
        Consent legacy = Conversations.consent(patientId, scan, "application/pdf", clinic.organizationId());
        String consentId = UUID.randomUUID().toString();
        legacy.setId(consentId);
        String json = FHIR.newJsonParser().encodeResourceToString(legacy);
        for (String table : new String[] {"fhir_resource", "fhir_resource_history"}) {
            jdbc.sql("insert into " + table + " (resource_type, id, version_id, last_updated, content) values ('Consent', ?, 1, ?, ?::jsonb)")
                    .params(consentId, Timestamp.from(Instant.now()), json).update();
        }

        assertThat(migration.migrate()).isGreaterThanOrEqualTo(3);

        AttachmentService.Meta meta = attachments.requireMeta(binaryId);
        assertThat(meta.format()).isEqualTo("cms");
        assertThat(attachments.readVerified(meta, "test")).isEqualTo(text);
        assertThat(jdbc.sql("select data is null from binary_content where id = ?").param(binaryId).query(Boolean.class).single()).isTrue();

        for (String table : new String[] {"fhir_resource", "fhir_resource_history"}) {
            String content = jdbc.sql("select content::text from " + table + " where resource_type = 'Consent' and id = ?")
                    .param(consentId).query(String.class).single();
            Consent converted = FHIR.newJsonParser().parseResource(Consent.class, content);
            assertThat(converted.getSourceAttachment().hasData()).isFalse();
            String url = converted.getSourceAttachment().getUrl();
            assertThat(url).startsWith("Binary/");
            assertThat(converted.getSourceAttachment().getHash()).isEqualTo(MessageDigest.getInstance("SHA-1").digest(scan));
            AttachmentService.Meta document = attachments.requireMeta(url.substring("Binary/".length()));
            assertThat(document.consentPatient()).isEqualTo(patientId);
            assertThat(attachments.readVerified(document, "test")).isEqualTo(scan);
        }
        // both versions point to one stored document; a second run finds nothing left
        assertThat(migration.migrate()).isZero();
    }
}
