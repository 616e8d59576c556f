package org.carerelay.gateway.attachment;

import static org.assertj.core.api.Assertions.assertThat;
import static org.awaitility.Awaitility.await;

import ca.uhn.fhir.rest.server.exceptions.BaseServerResponseException;
import io.micrometer.core.instrument.MeterRegistry;
import java.io.ByteArrayInputStream;
import java.io.ByteArrayOutputStream;
import java.io.OutputStream;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.ByteBuffer;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.security.KeyPair;
import java.security.KeyPairGenerator;
import java.security.MessageDigest;
import java.security.PrivateKey;
import java.security.cert.CertificateFactory;
import java.security.cert.X509Certificate;
import java.security.spec.ECGenParameterSpec;
import java.time.Duration;
import java.time.Instant;
import java.util.Arrays;
import java.util.Collection;
import java.util.List;
import java.util.UUID;
import java.util.concurrent.TimeUnit;
import javax.crypto.Cipher;
import javax.crypto.spec.GCMParameterSpec;
import javax.crypto.spec.SecretKeySpec;
import org.bouncycastle.cert.X509CertificateHolder;
import org.bouncycastle.cert.jcajce.JcaX509CertificateConverter;
import org.bouncycastle.cms.CMSAlgorithm;
import org.bouncycastle.cms.CMSAuthEnvelopedData;
import org.bouncycastle.cms.CMSAuthEnvelopedDataStreamGenerator;
import org.bouncycastle.cms.CMSEnvelopedData;
import org.bouncycastle.cms.CMSSignedData;
import org.bouncycastle.cms.RecipientInformation;
import org.bouncycastle.cms.SignerInformation;
import org.bouncycastle.cms.jcajce.JcaSimpleSignerInfoVerifierBuilder;
import org.bouncycastle.cms.jcajce.JceCMSContentEncryptorBuilder;
import org.bouncycastle.cms.jcajce.JceKeyAgreeAuthEnvelopedRecipient;
import org.bouncycastle.cms.jcajce.JceKeyAgreeRecipientInfoGenerator;
import org.bouncycastle.cms.jcajce.JceKeyTransEnvelopedRecipient;
import org.bouncycastle.jce.provider.BouncyCastleProvider;
import org.bouncycastle.operator.OutputAEADEncryptor;
import org.carerelay.fhir.ErrorCode;
import org.carerelay.gateway.Conversations;
import org.carerelay.gateway.FakeFhirRecipient;
import org.carerelay.gateway.GatewayIntegrationTest;
import org.carerelay.gateway.Participants;
import org.carerelay.gateway.TestPki;
import org.carerelay.routes.crypto.EncryptionCertificates;
import org.carerelay.routes.crypto.GatewayKeys;
import org.hl7.fhir.r4.model.Attachment;
import org.hl7.fhir.r4.model.Binary;
import org.hl7.fhir.r4.model.Communication;
import org.hl7.fhir.r4.model.Consent;
import org.hl7.fhir.r4.model.Organization;
import org.hl7.fhir.r4.model.Parameters;
import org.hl7.fhir.r4.model.StringType;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import org.springframework.beans.factory.annotation.Autowired;
import org.springframework.jdbc.core.simple.JdbcClient;

/**
 * Attachments end to end: streamed upload and download, hashes in the message, the CMS envelope
 * for a registered certificate (checked with Bouncy Castle and with openssl where present),
 * tampered ciphertext, consent documents, and delivery to a FHIR recipient with a certificate.
 */
class AttachmentIT extends GatewayIntegrationTest {

    static Participants.Registered clinic;
    static Participants.Registered partner;
    static Participants.Registered hospital;
    static KeyPair partnerKey;
    static X509Certificate partnerCertificate;
    static KeyPair hospitalKey;
    static FakeFhirRecipient hospitalServer;

    @Autowired
    JdbcClient jdbc;
    @Autowired
    MeterRegistry meters;
    @Autowired
    GatewayKeys gatewayKeys;

    @TempDir
    Path tmp;

    @BeforeEach
    void setUp() throws Exception {
        if (clinic == null) {
            clinic = Participants.registerNew(this, "Praxis Anhang");
            partner = Participants.registerNew(this, "Pflegedienst Anhang");
            hospital = Participants.registerNew(this, "Klinikum Anhang");
            partnerKey = TestPki.rsaKeyPair();
            partnerCertificate = certificate(partnerKey, "CN=Pflegedienst Anhang");
            registerCertificate(partner, partnerCertificate);
            hospitalKey = TestPki.rsaKeyPair();
            registerCertificate(hospital, certificate(hospitalKey, "CN=Klinikum Anhang"));
            hospitalServer = new FakeFhirRecipient();
            Participants.addEndpoint(admin(), hospital.organizationId(), "hl7-fhir-rest", hospitalServer.baseUrl(), null);
        }
    }

    @AfterAll
    static void stop() {
        if (hospitalServer != null) {
            hospitalServer.close();
        }
    }

    @Test
    void rawUpload_isStoredSealed_andReadBackAsTheOriginalBytes() throws Exception {
        byte[] text = marker("Befundtext").getBytes(StandardCharsets.UTF_8);
        HttpResponse<byte[]> upload = send("POST", "/fhir/Binary", clinic.token(), "text/plain; charset=utf-8", null, text);
        assertThat(upload.statusCode()).isEqualTo(201);
        String id = idFrom(upload);
        assertThat(new String(upload.body(), StandardCharsets.UTF_8)).contains("\"resourceType\":\"Binary\"").contains(id);

        HttpResponse<byte[]> read = send("GET", "/fhir/Binary/" + id, clinic.token(), null, null, null);
        assertThat(read.statusCode()).isEqualTo(200);
        assertThat(read.headers().firstValue("Content-Type")).hasValueSatisfying(v -> assertThat(v).startsWith("text/plain"));
        assertThat(read.body()).isEqualTo(text);

        // nothing of the plaintext in the database
        String needle = new String(text, StandardCharsets.UTF_8).substring(0, 20);
        assertThat(jdbc.sql("select count(*) from binary_chunk where position(convert_to(?, 'UTF8') in data) > 0")
                .param(needle).query(Long.class).single()).isZero();
        assertThat(jdbc.sql("select data is null from binary_content where id = ?").param(id).query(Boolean.class).single()).isTrue();
        assertThat(jdbc.sql("select sha256 from binary_content where id = ?").param(id).query(String.class).single())
                .isEqualTo(java.util.HexFormat.of().formatHex(MessageDigest.getInstance("SHA-256").digest(text)));
    }

    @Test
    void messageAttachment_carriesSizeAndSha1Hash() throws Exception {
        byte[] pdf = Conversations.signedScan();
        String id = idFrom(send("POST", "/fhir/Binary", clinic.token(), "application/pdf", null, pdf));
        Communication message = Conversations.message(null, "Arztbrief", partner.organizationId());
        message.addPayload().setContent(new Attachment().setUrl("Binary/" + id));
        String messageId = Conversations.send(client(clinic.token()), message);

        Communication read = client(partner.token()).read().resource(Communication.class).withId(messageId).execute();
        Attachment attachment = read.getPayload().stream().filter(p -> p.hasContentAttachment()).findFirst().orElseThrow()
                .getContentAttachment();
        assertThat(attachment.getContentType()).isEqualTo("application/pdf");
        assertThat(attachment.getSize()).isEqualTo(pdf.length);
        assertThat(attachment.getHash()).isEqualTo(MessageDigest.getInstance("SHA-1").digest(pdf));
    }

    @Test
    void envelope_forTheCallersCertificate_decryptsAndVerifiesAgainstTheGatewayCa() throws Exception {
        byte[] pdf = Conversations.signedScan();
        String id = idFrom(send("POST", "/fhir/Binary", clinic.token(), "application/pdf", null, pdf));
        Communication message = Conversations.message(null, "Befund", partner.organizationId());
        message.addPayload().setContent(new Attachment().setUrl("Binary/" + id));
        Conversations.send(client(clinic.token()), message);

        HttpResponse<byte[]> envelope = send("GET", "/fhir/Binary/" + id, partner.token(), null, "application/pkcs7-mime", null);
        assertThat(envelope.statusCode()).isEqualTo(200);
        assertThat(envelope.headers().firstValue("Content-Type")).hasValueSatisfying(v -> assertThat(v).startsWith("application/pkcs7-mime"));
        X509Certificate ca = gatewayCa();
        assertThat(openWithBouncyCastle(envelope.body(), partnerKey.getPrivate(), ca, clinic.organizationId())).isEqualTo(pdf);

        if (opensslAvailable()) {
            Path env = Files.write(tmp.resolve("attachment.p7m"), envelope.body());
            Path key = Files.writeString(tmp.resolve("key.pem"), TestPki.pem("PRIVATE KEY", partnerKey.getPrivate().getEncoded()));
            Path cert = Files.writeString(tmp.resolve("cert.pem"), EncryptionCertificates.toPem(partnerCertificate));
            Path caFile = Files.writeString(tmp.resolve("ca.pem"), caPem());
            openssl("cms", "-decrypt", "-binary", "-inform", "DER", "-in", env.toString(), "-inkey", key.toString(),
                    "-recip", cert.toString(), "-outform", "DER", "-out", tmp.resolve("signed.der").toString());
            openssl("cms", "-verify", "-binary", "-inform", "DER", "-in", tmp.resolve("signed.der").toString(),
                    "-CAfile", caFile.toString(), "-out", tmp.resolve("plain.pdf").toString());
            assertThat(Files.readAllBytes(tmp.resolve("plain.pdf"))).isEqualTo(pdf);
        }

        // no certificate registered: a clear refusal, not unencrypted bytes
        HttpResponse<byte[]> refused = send("GET", "/fhir/Binary/" + id, clinic.token(), null, "application/pkcs7-mime", null);
        assertThat(refused.statusCode()).isEqualTo(ErrorCode.ENCRYPTION_CERTIFICATE_MISSING.httpStatus());
        assertThat(new String(refused.body(), StandardCharsets.UTF_8)).contains("encryption-certificate-missing");
    }

    @Test
    void flippedByteInTheStoredCiphertext_isNeverServed_butAuditedAndCounted() throws Exception {
        byte[] text = marker("Laborwerte").repeat(2000).getBytes(StandardCharsets.UTF_8);
        String id = idFrom(send("POST", "/fhir/Binary", clinic.token(), "text/plain", null, text));
        double before = failures();
        jdbc.sql("update binary_chunk set data = overlay(data placing decode(lpad(to_hex(255 - get_byte(data, length(data) / 2)), 2, '0'), 'hex')"
                + " from length(data) / 2 + 1 for 1) where binary_id = ? and seq = 0").param(id).update();

        HttpResponse<byte[]> raw = send("GET", "/fhir/Binary/" + id, clinic.token(), null, null, null);
        assertThat(raw.statusCode()).isEqualTo(ErrorCode.INTEGRITY_FAILURE.httpStatus());
        assertThat(new String(raw.body(), StandardCharsets.UTF_8)).contains("integrity-failure").doesNotContain("Laborwerte");

        BaseServerResponseException fhirRead = org.assertj.core.api.Assertions.catchThrowableOfType(BaseServerResponseException.class,
                () -> client(clinic.token()).read().resource(Binary.class).withId(id).execute());
        assertThat(errorCodeOf(fhirRead)).isEqualTo(ErrorCode.INTEGRITY_FAILURE);

        assertThat(failures()).isGreaterThanOrEqualTo(before + 2);
        assertThat(jdbc.sql("select count(*) from audit_event where subtype_code = 'attachment-integrity' and entity_what = ?")
                .param("Binary/" + id).query(Long.class).single()).isGreaterThanOrEqualTo(2);
    }

    @Test
    void storedAttachmentCopiedOverAnotherOne_isNeverServedUnderTheOtherId() throws Exception {
        byte[] secret = marker("Diagnose A").getBytes(StandardCharsets.UTF_8);
        byte[] harmless = marker("Terminbestaetigung B").getBytes(StandardCharsets.UTF_8);
        String a = idFrom(send("POST", "/fhir/Binary", clinic.token(), "text/plain", null, secret));
        String b = idFrom(send("POST", "/fhir/Binary", clinic.token(), "text/plain", null, harmless));
        // someone with write access to the database copies A's sealed bytes (and digest) over B
        jdbc.sql("delete from binary_chunk where binary_id = ?").param(b).update();
        jdbc.sql("insert into binary_chunk (binary_id, seq, data) select ?, seq, data from binary_chunk where binary_id = ?")
                .params(b, a).update();
        jdbc.sql("update binary_content set sha256 = (select sha256 from binary_content where id = ?), "
                + "size_bytes = (select size_bytes from binary_content where id = ?) where id = ?").params(a, a, b).update();

        HttpResponse<byte[]> read = send("GET", "/fhir/Binary/" + b, clinic.token(), null, null, null);
        assertThat(read.statusCode()).isEqualTo(ErrorCode.INTEGRITY_FAILURE.httpStatus());
        assertThat(new String(read.body(), StandardCharsets.UTF_8)).doesNotContain("Diagnose");
        assertThat(send("GET", "/fhir/Binary/" + a, clinic.token(), null, null, null).body()).isEqualTo(secret);
    }

    @Test
    void attachmentStoredInThePreviousFormat_isStillServed_asBytesAndAsEnvelope() throws Exception {
        byte[] pdf = Conversations.signedScan();
        String id = idFrom(send("POST", "/fhir/Binary", clinic.token(), "application/pdf", null, pdf));
        Communication message = Conversations.message(null, "Altbefund", partner.organizationId());
        message.addPayload().setContent(new Attachment().setUrl("Binary/" + id));
        Conversations.send(client(clinic.token()), message);
        rewriteInThePreviousFormat(id);
        assertThat(jdbc.sql("select get_byte(data, 0) from binary_chunk where binary_id = ? and seq = 0").param(id)
                .query(Integer.class).single()).as("a DER/BER ContentInfo now").isEqualTo(0x30);

        assertThat(send("GET", "/fhir/Binary/" + id, clinic.token(), null, null, null).body()).isEqualTo(pdf);
        HttpResponse<byte[]> envelope = send("GET", "/fhir/Binary/" + id, partner.token(), null, "application/pkcs7-mime", null);
        assertThat(envelope.statusCode()).isEqualTo(200);
        assertThat(openWithBouncyCastle(envelope.body(), partnerKey.getPrivate(), gatewayCa(), clinic.organizationId())).isEqualTo(pdf);
    }

    /**
     * Rewrites a stored attachment the way earlier versions stored it: one CMS AuthEnvelopedData
     * (AES-256-GCM, ECDH to the storage key) whose content is the stored ContentInfo(SignedData).
     * The SignedData is taken out as the README describes the current format.
     */
    private void rewriteInThePreviousFormat(String id) throws Exception {
        ByteArrayOutputStream stored = new ByteArrayOutputStream();
        jdbc.sql("select data from binary_chunk where binary_id = ? order by seq").param(id).query(byte[].class).list()
                .forEach(stored::writeBytes);
        byte[] sealed = stored.toByteArray();
        assertThat(Arrays.copyOf(sealed, 4)).isEqualTo("CRG1".getBytes(StandardCharsets.US_ASCII));
        int header = 8 + ByteBuffer.wrap(sealed, 4, 4).getInt();
        BouncyCastleProvider bc = new BouncyCastleProvider();
        PrivateKey storageKey = gatewayKeys.currentStorageKey().privateKey();
        byte[] key = new CMSAuthEnvelopedData(Arrays.copyOfRange(sealed, 8, header)).getRecipientInfos()
                .getRecipients().iterator().next()
                .getContent(new JceKeyAgreeAuthEnvelopedRecipient(storageKey).setProvider(bc));
        byte[] objectId = id.getBytes(StandardCharsets.UTF_8);
        int chunk = 12 + (1 << 20) + 16;
        ByteArrayOutputStream signedData = new ByteArrayOutputStream();
        for (int off = header, index = 0; off < sealed.length; off += chunk, index++) {
            int end = Math.min(sealed.length, off + chunk);
            Cipher gcm = Cipher.getInstance("AES/GCM/NoPadding");
            gcm.init(Cipher.DECRYPT_MODE, new SecretKeySpec(key, "AES"),
                    new GCMParameterSpec(128, sealed, off, 12));
            gcm.updateAAD(ByteBuffer.allocate(4 + objectId.length + 9).putInt(objectId.length).put(objectId).putLong(index)
                    .put((byte) (end == sealed.length ? 1 : 0)).array());
            signedData.writeBytes(gcm.doFinal(sealed, off + 12, end - off - 12));
        }

        KeyPairGenerator ec = KeyPairGenerator.getInstance("EC");
        ec.initialize(new ECGenParameterSpec("secp256r1"));
        KeyPair ephemeral = ec.generateKeyPair();
        CMSAuthEnvelopedDataStreamGenerator generator = new CMSAuthEnvelopedDataStreamGenerator();
        generator.addRecipientInfoGenerator(new JceKeyAgreeRecipientInfoGenerator(
                CMSAlgorithm.ECDH_SHA256KDF, ephemeral.getPrivate(), ephemeral.getPublic(),
                CMSAlgorithm.AES256_WRAP).addRecipient(gatewayKeys.currentStorageKey().certificate()).setProvider(bc));
        ByteArrayOutputStream previous = new ByteArrayOutputStream();
        try (OutputStream out = generator.open(previous, (OutputAEADEncryptor)
                new JceCMSContentEncryptorBuilder(CMSAlgorithm.AES256_GCM).build())) {
            out.write(signedData.toByteArray());
        }
        jdbc.sql("delete from binary_chunk where binary_id = ?").param(id).update();
        jdbc.sql("insert into binary_chunk (binary_id, seq, data) values (?, 0, ?)").params(id, previous.toByteArray()).update();
    }

    @Test
    void cdaDocuments_areAccepted_otherXmlIsNot() throws Exception {
        byte[] cda = ("<?xml version=\"1.0\" encoding=\"UTF-8\"?>\n<ClinicalDocument xmlns=\"urn:hl7-org:v3\">"
                + "<title>Entlassbrief</title></ClinicalDocument>").getBytes(StandardCharsets.UTF_8);
        HttpResponse<byte[]> ok = send("POST", "/fhir/Binary", clinic.token(), "application/hl7-cda+xml", null, cda);
        assertThat(ok.statusCode()).isEqualTo(201);
        assertThat(send("GET", "/fhir/Binary/" + idFrom(ok), clinic.token(), null, null, null).body()).isEqualTo(cda);
        byte[] html = "<?xml version=\"1.0\"?><html><body>x</body></html>".getBytes(StandardCharsets.UTF_8);
        assertThat(send("POST", "/fhir/Binary", clinic.token(), "text/xml", null, html).statusCode()).isEqualTo(415);
        assertThat(send("POST", "/fhir/Binary", clinic.token(), "application/zip", null, new byte[] {'P', 'K', 3, 4}).statusCode())
                .isEqualTo(415);
        assertThat(send("POST", "/fhir/Binary", null, "application/pdf", null, Conversations.signedScan()).statusCode()).isEqualTo(401);
    }

    @Test
    void uploadThatOutgrowsTheLimitWhileStreaming_gets413_andLeavesNothingBehind() throws Exception {
        long before = jdbc.sql("select count(*) from binary_content where uploaded_by = ?").param(clinic.organizationId())
                .query(Long.class).single();
        long chunksBefore = jdbc.sql("select count(*) from binary_chunk").query(Long.class).single();
        // no Content-Length: the limit (512 KiB in the tests) is only noticed while the body streams in
        byte[] text = "Verlaufsbericht, Zeile fuer Zeile.\n".repeat(15_000).getBytes(StandardCharsets.UTF_8);
        HttpRequest request = HttpRequest.newBuilder(URI.create("http://127.0.0.1:" + port + "/fhir/Binary"))
                .header("Authorization", "Bearer " + clinic.token()).header("Content-Type", "text/plain")
                .POST(HttpRequest.BodyPublishers.ofInputStream(() -> new ByteArrayInputStream(text))).build();
        HttpResponse<String> response = HttpClient.newHttpClient().send(request, HttpResponse.BodyHandlers.ofString());
        assertThat(response.statusCode()).isEqualTo(413);
        assertThat(response.body()).contains("payload-too-large");
        assertThat(jdbc.sql("select count(*) from binary_content where uploaded_by = ?").param(clinic.organizationId())
                .query(Long.class).single()).isEqualTo(before);
        assertThat(jdbc.sql("select count(*) from binary_chunk").query(Long.class).single()).isEqualTo(chunksBefore);
    }

    @Test
    void consentDocument_isStoredAsSealedAttachment_visibleToThePartners() throws Exception {
        String patientId = Conversations.createPatient(client(clinic.token()), Conversations.patient("Dokument", "Erna", null));
        byte[] scan = Conversations.signedScan();
        String consentId = client(clinic.token()).create().resource(Conversations.consent(patientId, scan, "application/pdf",
                clinic.organizationId(), partner.organizationId())).execute().getId().getIdPart();
        Consent consent = client(clinic.token()).read().resource(Consent.class).withId(consentId).execute();
        Attachment document = consent.getSourceAttachment();
        assertThat(document.hasData()).isFalse();
        assertThat(document.getUrl()).startsWith("Binary/");
        assertThat(document.getSize()).isEqualTo(scan.length);
        assertThat(document.getHash()).isEqualTo(MessageDigest.getInstance("SHA-1").digest(scan));
        assertThat(jdbc.sql("select count(*) from fhir_resource where id = ? and content::text like '%\"data\"%'").param(consentId)
                .query(Long.class).single()).isZero();

        Communication message = Conversations.message(patientId, "Übernahme", partner.organizationId());
        Conversations.send(client(clinic.token()), message);
        HttpResponse<byte[]> read = send("GET", "/fhir/" + document.getUrl(), partner.token(), null, null, null);
        assertThat(read.statusCode()).isEqualTo(200);
        assertThat(read.body()).isEqualTo(scan);
    }

    @Test
    void deliveryToARecipientWithCertificate_carriesTheEnvelope() throws Exception {
        byte[] pdf = Conversations.signedScan();
        String id = idFrom(send("POST", "/fhir/Binary", clinic.token(), "application/pdf", null, pdf));
        int before = hospitalServer.binaryResources.size();
        Communication message = Conversations.message(null, "Verlegungsbericht", hospital.organizationId());
        message.addPayload().setContent(new Attachment().setUrl("Binary/" + id).setTitle("Bericht.pdf"));
        Conversations.send(client(clinic.token()), message);

        await().atMost(Duration.ofSeconds(30)).until(() -> hospitalServer.binaryResources.size() > before
                && !hospitalServer.communications.isEmpty());
        Binary delivered = hospitalServer.binaryResources.get(before);
        assertThat(delivered.getContentType()).startsWith("application/pkcs7-mime");
        assertThat(openWithBouncyCastle(delivered.getData(), hospitalKey.getPrivate(), gatewayCa(), clinic.organizationId()))
                .isEqualTo(pdf);
        Communication received = hospitalServer.communications.get(hospitalServer.communications.size() - 1);
        Attachment attachment = received.getPayload().stream().filter(p -> p.hasContentAttachment()).findFirst().orElseThrow()
                .getContentAttachment();
        assertThat(attachment.getContentType()).isEqualTo("application/pdf");
        assertThat(attachment.getExtensionByUrl("https://fhir.carerelay.org/StructureDefinition/attachment-envelope")).isNotNull();
        assertThat(attachment.getHash()).isEqualTo(MessageDigest.getInstance("SHA-1").digest(pdf));
    }

    @Test
    void aRetryAfterTheCommunicationCreateFailed_refersToTheBinaryAlreadyUploaded_insteadOfUploadingItAgain() throws Exception {
        int binariesBefore = hospitalServer.binaryResources.size();
        int communicationsBefore = hospitalServer.communications.size();
        hospitalServer.communicationFailures.add(503); // the Binary is taken, the create after it answered 503
        String messageId = sendWithAttachment("Nachtrag Befund");

        await().atMost(Duration.ofSeconds(60)).until(() -> "delivered".equals(recipientPart(messageId, "state")));
        assertThat(hospitalServer.communicationFailures).isEmpty();
        assertThat(hospitalServer.binaryResources).as("one upload of the one attachment").hasSize(binariesBefore + 1);
        assertThat(hospitalServer.communications).hasSize(communicationsBefore + 1);
        assertThat(lastAttachmentUrl()).isEqualTo(hospitalServer.binaryIds.get(binariesBefore));
        assertThat(uploadRows(messageId)).as("forgotten once delivered").isZero();
    }

    @Test
    void aRecipientThatRefusesACommunicationReferringToAnEarlierUpload_getsAFreshUpload() throws Exception {
        int binariesBefore = hospitalServer.binaryResources.size();
        // 503 after the first upload; then 422 for the Communication that refers to it (the server removed it, say)
        hospitalServer.communicationFailures.addAll(List.of(503, 422));
        String messageId = sendWithAttachment("Nachtrag Labor");

        await().atMost(Duration.ofSeconds(90)).until(() -> "delivered".equals(recipientPart(messageId, "state")));
        assertThat(hospitalServer.communicationFailures).isEmpty();
        assertThat(hospitalServer.binaryResources).as("uploaded again after the refusal").hasSize(binariesBefore + 2);
        assertThat(lastAttachmentUrl()).isEqualTo(hospitalServer.binaryIds.get(binariesBefore + 1));
        assertThat(uploadRows(messageId)).isZero();
    }

    private String sendWithAttachment(String text) throws Exception {
        byte[] pdf = Conversations.signedScan();
        String id = idFrom(send("POST", "/fhir/Binary", clinic.token(), "application/pdf", null, pdf));
        Communication message = Conversations.message(null, text, hospital.organizationId());
        message.addPayload().setContent(new Attachment().setUrl("Binary/" + id).setTitle("Nachtrag.pdf"));
        return Conversations.send(client(clinic.token()), message);
    }

    private String lastAttachmentUrl() {
        Communication received = hospitalServer.communications.get(hospitalServer.communications.size() - 1);
        return received.getPayload().stream().filter(p -> p.hasContentAttachment()).findFirst().orElseThrow()
                .getContentAttachment().getUrl();
    }

    private long uploadRows(String messageId) {
        return jdbc.sql("select count(*) from delivery_binary where message_id = ?").param(messageId).query(Long.class).single();
    }

    @Test
    void deliveryOfATamperedAttachment_failsForGood_andNothingReachesTheRecipient() throws Exception {
        byte[] pdf = Conversations.signedScan();
        String id = idFrom(send("POST", "/fhir/Binary", clinic.token(), "application/pdf", null, pdf));
        jdbc.sql("update binary_chunk set data = overlay(data placing decode(lpad(to_hex(255 - get_byte(data, length(data) / 2)), 2, '0'), 'hex')"
                + " from length(data) / 2 + 1 for 1) where binary_id = ? and seq = 0").param(id).update();
        int binariesBefore = hospitalServer.binaryResources.size();
        int communicationsBefore = hospitalServer.communications.size();
        Communication message = Conversations.message(null, "Laborbefund", hospital.organizationId());
        message.addPayload().setContent(new Attachment().setUrl("Binary/" + id));
        String messageId = Conversations.send(client(clinic.token()), message);

        await().atMost(Duration.ofSeconds(30)).until(() -> "failed".equals(recipientPart(messageId, "state")));
        assertThat(recipientPart(messageId, "detail")).contains("integrity-failure");
        assertThat(hospitalServer.binaryResources).hasSize(binariesBefore);
        assertThat(hospitalServer.communications).hasSize(communicationsBefore);
    }

    private String recipientPart(String messageId, String name) {
        return Conversations.deliveryPart(client(clinic.token()), messageId, name);
    }

    @Test
    void caCertificates_arePublishedWithoutToken() throws Exception {
        HttpResponse<String> response = HttpClient.newHttpClient().send(HttpRequest.newBuilder(
                URI.create("http://127.0.0.1:" + port + "/.well-known/carerelay/ca.pem")).GET().build(), HttpResponse.BodyHandlers.ofString());
        assertThat(response.statusCode()).isEqualTo(200);
        Collection<? extends java.security.cert.Certificate> certificates = CertificateFactory.getInstance("X.509")
                .generateCertificates(new ByteArrayInputStream(response.body().getBytes(StandardCharsets.US_ASCII)));
        assertThat(certificates).hasSize(2);
    }

    // --- helpers

    private double failures() {
        var counter = meters.find("carerelay.attachments.integrity.failures").counter();
        return counter == null ? 0 : counter.count();
    }

    static String marker(String prefix) {
        return prefix + "-" + UUID.randomUUID() + " Kalium 4,1 mmol/l; Natrium 139 mmol/l. ";
    }

    private String caPem() throws Exception {
        return HttpClient.newHttpClient().send(HttpRequest.newBuilder(
                URI.create("http://127.0.0.1:" + port + "/.well-known/carerelay/ca.pem")).GET().build(),
                HttpResponse.BodyHandlers.ofString()).body();
    }

    private X509Certificate gatewayCa() throws Exception {
        Collection<? extends java.security.cert.Certificate> all = CertificateFactory.getInstance("X.509")
                .generateCertificates(new ByteArrayInputStream(caPem().getBytes(StandardCharsets.US_ASCII)));
        return all.stream().map(X509Certificate.class::cast).filter(c -> c.getBasicConstraints() >= 0).findFirst().orElseThrow();
    }

    /** Decrypts the envelope, verifies the signature and its chain to the CA, returns the content. */
    static byte[] openWithBouncyCastle(byte[] envelope, PrivateKey key, X509Certificate ca, String expectedOrg) throws Exception {
        CMSEnvelopedData enveloped = new CMSEnvelopedData(envelope);
        RecipientInformation recipient = enveloped.getRecipientInfos().getRecipients().iterator().next();
        byte[] signedBytes = recipient.getContent(new JceKeyTransEnvelopedRecipient(key));
        CMSSignedData signed = new CMSSignedData(signedBytes);
        SignerInformation signer = signed.getSignerInfos().getSigners().iterator().next();
        @SuppressWarnings("unchecked")
        X509CertificateHolder signerCert = (X509CertificateHolder) signed.getCertificates().getMatches(signer.getSID()).iterator().next();
        assertThat(signer.verify(new JcaSimpleSignerInfoVerifierBuilder().build(signerCert))).isTrue();
        X509Certificate jca = new JcaX509CertificateConverter().getCertificate(signerCert);
        jca.verify(ca.getPublicKey());
        // the signer info names the sending organisation (CAdES signer-attributes)
        assertThat(signer.getSignedAttributes().get(new org.bouncycastle.asn1.ASN1ObjectIdentifier("1.2.840.113549.1.9.16.2.18")))
                .isNotNull();
        assertThat(new String(signer.getSignedAttributes().get(new org.bouncycastle.asn1.ASN1ObjectIdentifier("1.2.840.113549.1.9.16.2.18"))
                .getAttrValues().getObjectAt(0).toASN1Primitive().getEncoded(), StandardCharsets.UTF_8)).contains(expectedOrg);
        return (byte[]) signed.getSignedContent().getContent();
    }

    private void registerCertificate(Participants.Registered org, X509Certificate certificate) {
        Parameters in = new Parameters();
        in.addParameter().setName("certificate").setValue(new StringType(EncryptionCertificates.toPem(certificate)));
        client(org.token()).operation().onInstance("Organization/" + org.organizationId()).named("$encryption-certificate")
                .withParameters(in).returnResourceType(Organization.class).execute();
    }

    private static X509Certificate certificate(KeyPair key, String subject) {
        return TestPki.encryptionCertificate(key, subject, Instant.now().minusSeconds(3600), Instant.now().plus(Duration.ofDays(365)));
    }

    private HttpResponse<byte[]> send(String method, String path, String token, String contentType, String accept, byte[] body)
            throws Exception {
        HttpRequest.Builder request = HttpRequest.newBuilder(URI.create("http://127.0.0.1:" + port + path))
                .method(method, body == null ? HttpRequest.BodyPublishers.noBody() : HttpRequest.BodyPublishers.ofByteArray(body));
        if (token != null) {
            request.header("Authorization", "Bearer " + token);
        }
        if (contentType != null) {
            request.header("Content-Type", contentType);
        }
        if (accept != null) {
            request.header("Accept", accept);
        }
        return HttpClient.newHttpClient().send(request.build(), HttpResponse.BodyHandlers.ofByteArray());
    }

    private static String idFrom(HttpResponse<byte[]> upload) {
        assertThat(upload.statusCode()).as(new String(upload.body(), StandardCharsets.UTF_8)).isEqualTo(201);
        return upload.headers().firstValue("Location").orElseThrow().replaceAll(".*/Binary/([^/]+).*", "$1");
    }

    static boolean opensslAvailable() {
        try {
            Process p = new ProcessBuilder("openssl", "version").redirectErrorStream(true).start();
            return p.waitFor(10, TimeUnit.SECONDS) && p.exitValue() == 0;
        } catch (Exception e) {
            System.out.println("openssl not on PATH: the openssl check of the envelope is skipped");
            return false;
        }
    }

    private static void openssl(String... args) throws Exception {
        List<String> command = new java.util.ArrayList<>(List.of("openssl"));
        command.addAll(List.of(args));
        Process p = new ProcessBuilder(command).redirectErrorStream(true).start();
        String output = new String(p.getInputStream().readAllBytes(), StandardCharsets.UTF_8);
        assertThat(p.waitFor(60, TimeUnit.SECONDS)).isTrue();
        assertThat(p.exitValue()).as(String.join(" ", command) + "\n" + output).isZero();
    }
}
