package org.carerelay.gateway.crypto;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.catchThrowableOfType;

import ca.uhn.fhir.rest.client.api.IGenericClient;
import ca.uhn.fhir.rest.server.exceptions.BaseServerResponseException;
import java.nio.charset.StandardCharsets;
import java.security.KeyPair;
import java.security.cert.X509Certificate;
import java.time.Duration;
import java.time.Instant;
import org.carerelay.fhir.ErrorCode;
import org.carerelay.gateway.GatewayIntegrationTest;
import org.carerelay.gateway.Participants;
import org.carerelay.gateway.TestPki;
import org.carerelay.gateway.directory.DirectoryService;
import org.carerelay.routes.crypto.EncryptionCertificates;
import org.hl7.fhir.r4.model.Attachment;
import org.hl7.fhir.r4.model.AuditEvent;
import org.hl7.fhir.r4.model.Base64BinaryType;
import org.hl7.fhir.r4.model.BooleanType;
import org.hl7.fhir.r4.model.Bundle;
import org.hl7.fhir.r4.model.ContactPoint.ContactPointSystem;
import org.hl7.fhir.r4.model.Organization;
import org.hl7.fhir.r4.model.Parameters;
import org.hl7.fhir.r4.model.StringType;
import org.hl7.fhir.r4.model.Type;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.springframework.beans.factory.annotation.Autowired;

class EncryptionCertificateIT extends GatewayIntegrationTest {

    private static KeyPair rsaKey;

    @Autowired
    DirectoryService directory;

    @BeforeAll
    static void rsaKey() {
        rsaKey = TestPki.rsaKeyPair();
    }

    @Test
    void capabilityStatement_listsTheOperation() {
        org.hl7.fhir.r4.model.CapabilityStatement cs = anonymous().capabilities()
                .ofType(org.hl7.fhir.r4.model.CapabilityStatement.class).execute();
        var orgOps = cs.getRestFirstRep().getResource().stream().filter(r -> r.getType().equals("Organization"))
                .findFirst().orElseThrow().getOperation().stream().map(o -> o.getName()).toList();
        assertThat(orgOps).contains("encryption-certificate");
    }

    @Test
    void ownOrganization_registersPemAsValueString_storedAsDerAndReadBack() throws Exception {
        Participants.Registered p = Participants.registerNew(this, "Praxis Zertifikat");
        X509Certificate certificate = rsaCertificate("Praxis Zertifikat", Instant.now().minus(Duration.ofHours(1)),
                Instant.now().plus(Duration.ofDays(365)));

        Organization returned = setCertificate(client(p.token()), p.organizationId(),
                new StringType(EncryptionCertificates.toPem(certificate)));
        assertCarries(returned, certificate);
        assertThat(returned.getMeta().getVersionId()).isEqualTo("2");

        Organization readBack = client(p.token()).read().resource(Organization.class).withId(p.organizationId()).execute();
        assertCarries(readBack, certificate);
        assertThat(directory.encryptionCertificate(p.organizationId())).contains(certificate);

        Bundle audit = admin().search().forResource(AuditEvent.class)
                .where(AuditEvent.SUBTYPE.exactly().code("encryption-certificate"))
                .and(AuditEvent.ENTITY.hasId("Organization/" + p.organizationId()))
                .returnBundle(Bundle.class).execute();
        assertThat(audit.getEntry()).isNotEmpty();
    }

    @Test
    void operator_registersDerAsValueBase64Binary_keepingEveryOtherField() throws Exception {
        Organization entry = Participants.newOrganization(unique("Klinik DER"), "+49 30 5557777", "klinik@der.example.org");
        String orgId = Participants.create(admin(), entry);
        X509Certificate certificate = rsaCertificate("Klinik DER", Instant.now().minus(Duration.ofHours(1)),
                Instant.now().plus(Duration.ofDays(30)));

        Organization returned = setCertificate(admin(), orgId, new Base64BinaryType(certificate.getEncoded()));
        assertCarries(returned, certificate);

        Organization readBack = admin().read().resource(Organization.class).withId(orgId).execute();
        assertCarries(readBack, certificate);
        assertThat(readBack.getName()).isEqualTo(entry.getName());
        assertThat(readBack.getTelecom()).extracting(t -> t.getSystem()).containsExactly(ContactPointSystem.FAX, ContactPointSystem.EMAIL);
        assertThat(readBack.getAddressFirstRep().getCity()).isEqualTo("Berlin");
        assertThat(directory.encryptionCertificate(orgId)).contains(certificate);

        // PEM bytes in valueBase64Binary work too, and replace the earlier certificate
        X509Certificate replacement = rsaCertificate("Klinik DER neu", Instant.now().minus(Duration.ofHours(1)),
                Instant.now().plus(Duration.ofDays(60)));
        Organization replaced = setCertificate(admin(), orgId,
                new Base64BinaryType(EncryptionCertificates.toPem(replacement).getBytes(StandardCharsets.US_ASCII)));
        assertCarries(replaced, replacement);
        assertThat(replaced.getExtensionsByUrl(DirectoryService.EXT_ENCRYPTION_CERTIFICATE)).hasSize(1);
    }

    @Test
    void expiredGarbageCaOrWeakCertificates_areRefusedWith422() throws Exception {
        Participants.Registered p = Participants.registerNew(this, "Praxis Abgelaufen");
        X509Certificate expired = rsaCertificate("Abgelaufen", Instant.now().minus(Duration.ofDays(400)),
                Instant.now().minus(Duration.ofDays(35)));

        assertRefused(client(p.token()), p.organizationId(), new StringType(EncryptionCertificates.toPem(expired)),
                ErrorCode.CERTIFICATE_INVALID, "expired");
        assertRefused(client(p.token()), p.organizationId(),
                new Base64BinaryType("this is not a certificate".getBytes(StandardCharsets.UTF_8)), ErrorCode.CERTIFICATE_INVALID, null);
        assertRefused(client(p.token()), p.organizationId(), new StringType("-----BEGIN CERTIFICATE-----\nAAAA\n-----END CERTIFICATE-----\n"),
                ErrorCode.CERTIFICATE_INVALID, null);
        // a CA certificate that only signs certificates: its key usage allows no encryption
        assertRefused(client(p.token()), p.organizationId(), new StringType(EncryptionCertificates.toPem(PKI.caCertificate())),
                ErrorCode.CERTIFICATE_INVALID, "key usage");

        Organization unchanged = admin().read().resource(Organization.class).withId(p.organizationId()).execute();
        assertThat(unchanged.getExtensionByUrl(DirectoryService.EXT_ENCRYPTION_CERTIFICATE)).isNull();
        assertThat(unchanged.getMeta().getVersionId()).isEqualTo("1");
        assertThat(directory.encryptionCertificate(p.organizationId())).isEmpty();
    }

    @Test
    void missingOrBothParameters_areRefusedWith400() throws Exception {
        Participants.Registered p = Participants.registerNew(this, "Praxis Leer");
        BaseServerResponseException none = catchThrowableOfType(BaseServerResponseException.class,
                () -> client(p.token()).operation().onInstance("Organization/" + p.organizationId()).named("$encryption-certificate")
                        .withParameters(new Parameters()).returnResourceType(Organization.class).execute());
        assertThat(none.getStatusCode()).isEqualTo(400);
        assertThat(errorCodeOf(none)).isEqualTo(ErrorCode.INVALID_REQUEST);

        X509Certificate certificate = rsaCertificate("Beides", Instant.now().minus(Duration.ofHours(1)),
                Instant.now().plus(Duration.ofDays(30)));
        Parameters both = new Parameters();
        both.addParameter().setName("certificate").setValue(new StringType(EncryptionCertificates.toPem(certificate)));
        both.addParameter().setName("remove").setValue(new BooleanType(true));
        BaseServerResponseException e = catchThrowableOfType(BaseServerResponseException.class,
                () -> client(p.token()).operation().onInstance("Organization/" + p.organizationId()).named("$encryption-certificate")
                        .withParameters(both).returnResourceType(Organization.class).execute());
        assertThat(e.getStatusCode()).isEqualTo(400);
    }

    @Test
    void anotherParticipant_cannotSetOrRemoveTheCertificate() throws Exception {
        Participants.Registered owner = Participants.registerNew(this, "Praxis Eigentum");
        Participants.Registered intruder = Participants.registerNew(this, "Praxis Fremd");
        X509Certificate own = rsaCertificate("Eigentum", Instant.now().minus(Duration.ofHours(1)), Instant.now().plus(Duration.ofDays(30)));
        setCertificate(client(owner.token()), owner.organizationId(), new StringType(EncryptionCertificates.toPem(own)));

        X509Certificate foreign = rsaCertificate("Fremd", Instant.now().minus(Duration.ofHours(1)), Instant.now().plus(Duration.ofDays(30)));
        BaseServerResponseException set = catchThrowableOfType(BaseServerResponseException.class,
                () -> setCertificate(client(intruder.token()), owner.organizationId(), new StringType(EncryptionCertificates.toPem(foreign))));
        assertThat(set.getStatusCode()).isEqualTo(403);
        assertThat(errorCodeOf(set)).isEqualTo(ErrorCode.FORBIDDEN);

        BaseServerResponseException remove = catchThrowableOfType(BaseServerResponseException.class,
                () -> removeCertificate(client(intruder.token()), owner.organizationId()));
        assertThat(remove.getStatusCode()).isEqualTo(403);
        assertThat(errorCodeOf(remove)).isEqualTo(ErrorCode.FORBIDDEN);

        BaseServerResponseException anonymous = catchThrowableOfType(BaseServerResponseException.class,
                () -> removeCertificate(anonymous(), owner.organizationId()));
        assertThat(anonymous.getStatusCode()).isIn(401, 403);

        assertThat(directory.encryptionCertificate(owner.organizationId())).contains(own);
    }

    @Test
    void remove_deletesTheExtension() throws Exception {
        Participants.Registered p = Participants.registerNew(this, "Praxis Entfernen");
        X509Certificate certificate = rsaCertificate("Entfernen", Instant.now().minus(Duration.ofHours(1)),
                Instant.now().plus(Duration.ofDays(30)));
        setCertificate(client(p.token()), p.organizationId(), new StringType(EncryptionCertificates.toPem(certificate)));
        assertThat(directory.encryptionCertificate(p.organizationId())).isPresent();

        Organization returned = removeCertificate(client(p.token()), p.organizationId());
        assertThat(returned.getExtensionByUrl(DirectoryService.EXT_ENCRYPTION_CERTIFICATE)).isNull();
        Organization readBack = admin().read().resource(Organization.class).withId(p.organizationId()).execute();
        assertThat(readBack.getExtensionByUrl(DirectoryService.EXT_ENCRYPTION_CERTIFICATE)).isNull();
        assertThat(readBack.getMeta().getVersionId()).isEqualTo("3");
        assertThat(directory.encryptionCertificate(p.organizationId())).isEmpty();

        // removing again changes nothing
        assertThat(removeCertificate(client(p.token()), p.organizationId()).getMeta().getVersionId()).isEqualTo("3");
    }

    @Test
    void operatorPut_validatesTheExtension_andStoresDer() throws Exception {
        String orgId = Participants.create(admin(), Participants.newOrganization(unique("Pflegeheim PUT"), "+49 30 5558888", null));

        Organization withExpired = admin().read().resource(Organization.class).withId(orgId).execute();
        X509Certificate expired = rsaCertificate("PUT abgelaufen", Instant.now().minus(Duration.ofDays(400)),
                Instant.now().minus(Duration.ofDays(1)));
        withExpired.addExtension(DirectoryService.EXT_ENCRYPTION_CERTIFICATE,
                new Attachment().setContentType(DirectoryService.CERTIFICATE_CONTENT_TYPE).setData(expired.getEncoded()));
        BaseServerResponseException e = catchThrowableOfType(BaseServerResponseException.class,
                () -> admin().update().resource(withExpired).execute());
        assertThat(e.getStatusCode()).isEqualTo(422);
        assertThat(errorCodeOf(e)).isEqualTo(ErrorCode.CERTIFICATE_INVALID);

        Organization withGarbage = admin().read().resource(Organization.class).withId(orgId).execute();
        withGarbage.addExtension(DirectoryService.EXT_ENCRYPTION_CERTIFICATE, new Attachment().setData(new byte[] {1, 2, 3}));
        e = catchThrowableOfType(BaseServerResponseException.class, () -> admin().update().resource(withGarbage).execute());
        assertThat(errorCodeOf(e)).isEqualTo(ErrorCode.CERTIFICATE_INVALID);

        Organization withValid = admin().read().resource(Organization.class).withId(orgId).execute();
        X509Certificate valid = rsaCertificate("PUT gültig", Instant.now().minus(Duration.ofHours(1)), Instant.now().plus(Duration.ofDays(30)));
        withValid.addExtension(DirectoryService.EXT_ENCRYPTION_CERTIFICATE,
                new Attachment().setData(EncryptionCertificates.toPem(valid).getBytes(StandardCharsets.US_ASCII)));
        admin().update().resource(withValid).execute();
        Organization stored = admin().read().resource(Organization.class).withId(orgId).execute();
        assertCarries(stored, valid);
        assertThat(directory.encryptionCertificate(orgId)).contains(valid);

        // the stored certificate is kept by later saves, e.g. deactivation
        admin().delete().resourceById("Organization", orgId).execute();
        assertThat(directory.encryptionCertificate(orgId)).contains(valid);
    }

    @Test
    void deregistration_removesTheCertificate() throws Exception {
        Participants.Registered p = Participants.registerNew(this, "Praxis Abschied");
        X509Certificate certificate = rsaCertificate("Abschied", Instant.now().minus(Duration.ofHours(1)),
                Instant.now().plus(Duration.ofDays(30)));
        setCertificate(client(p.token()), p.organizationId(), new StringType(EncryptionCertificates.toPem(certificate)));

        client(p.token()).operation().onInstance("Organization/" + p.organizationId())
                .named("$deregister").withNoParameters(Parameters.class).execute();

        Organization entry = admin().read().resource(Organization.class).withId(p.organizationId()).execute();
        assertThat(entry.getExtensionByUrl(DirectoryService.EXT_ENCRYPTION_CERTIFICATE)).isNull();
        assertThat(directory.encryptionCertificate(p.organizationId())).isEmpty();
    }

    private static Organization setCertificate(IGenericClient client, String orgId, Type value) {
        Parameters in = new Parameters();
        in.addParameter().setName("certificate").setValue(value);
        return client.operation().onInstance("Organization/" + orgId).named("$encryption-certificate")
                .withParameters(in).returnResourceType(Organization.class).execute();
    }

    private static Organization removeCertificate(IGenericClient client, String orgId) {
        Parameters in = new Parameters();
        in.addParameter().setName("remove").setValue(new BooleanType(true));
        return client.operation().onInstance("Organization/" + orgId).named("$encryption-certificate")
                .withParameters(in).returnResourceType(Organization.class).execute();
    }

    private static void assertRefused(IGenericClient client, String orgId, Type value, ErrorCode code, String diagnosticsContain) {
        BaseServerResponseException e = catchThrowableOfType(BaseServerResponseException.class,
                () -> setCertificate(client, orgId, value));
        assertThat(e).as("refusal").isNotNull();
        assertThat(e.getStatusCode()).isEqualTo(422);
        assertThat(errorCodeOf(e)).isEqualTo(code);
        if (diagnosticsContain != null) {
            assertThat(e.getMessage()).contains(diagnosticsContain);
        }
    }

    private static void assertCarries(Organization org, X509Certificate certificate) throws Exception {
        org.hl7.fhir.r4.model.Extension extension = org.getExtensionByUrl(DirectoryService.EXT_ENCRYPTION_CERTIFICATE);
        assertThat(extension).as("encryption-certificate extension").isNotNull();
        Attachment attachment = (Attachment) extension.getValue();
        assertThat(attachment.getContentType()).isEqualTo("application/pkix-cert");
        assertThat(attachment.getData()).isEqualTo(certificate.getEncoded());
        assertThat(attachment.getTitle()).isEqualTo(certificate.getSubjectX500Principal().getName());
    }

    /** RSA-2048 end-entity certificate for key transport (self-signed; only the key and validity matter). */
    private static X509Certificate rsaCertificate(String cn, Instant notBefore, Instant notAfter) {
        return TestPki.encryptionCertificate(rsaKey, "CN=" + cn + ", O=CareRelay Test, C=DE", notBefore, notAfter);
    }
}
