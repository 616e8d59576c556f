package org.carerelay.gateway.web.settings;

import java.security.cert.X509Certificate;
import java.time.Instant;
import java.util.List;
import java.util.Optional;
import org.carerelay.fhir.ErrorCode;
import org.carerelay.fhir.Systems;
import org.carerelay.gateway.audit.AuditService;
import org.carerelay.gateway.directory.DirectoryService;
import org.carerelay.gateway.fhir.GatewayException;
import org.carerelay.gateway.security.Caller;
import org.carerelay.gateway.store.ResourceStore;
import org.hl7.fhir.r4.model.AuditEvent.AuditEventAction;
import org.hl7.fhir.r4.model.Coding;
import org.hl7.fhir.r4.model.Endpoint;
import org.hl7.fhir.r4.model.Organization;
import org.hl7.fhir.r4.model.Reference;
import org.springframework.stereotype.Service;
import org.springframework.transaction.annotation.Transactional;

/**
 * The organisation's own directory settings as the settings page changes them: the encryption
 * certificate and the endpoints, through {@link DirectoryService}'s checks and with the API's rules
 * (a participant changes only itself and the endpoints it manages), audited as the API audits them.
 */
@Service
public class OrganizationSettings {

    static final String CERTIFICATE_AUDIT = "encryption-certificate";

    private final DirectoryService directory;
    private final ResourceStore store;
    private final AuditService audit;

    public OrganizationSettings(DirectoryService directory, ResourceStore store, AuditService audit) {
        this.directory = directory;
        this.store = store;
        this.audit = audit;
    }

    /** What the page shows of a certificate: subject and validity. */
    public record CertificateInfo(String subject, Instant notAfter) {
    }

    /** One endpoint of the organisation as the page lists it (no header secrets). */
    public record EndpointInfo(String id, String type, String address, String status) {
    }

    public Optional<CertificateInfo> certificate(Caller caller) {
        String org = caller.organizationId();
        return directory.encryptionCertificate(org).map(OrganizationSettings::info);
    }

    private static CertificateInfo info(X509Certificate certificate) {
        return new CertificateInfo(certificate.getSubjectX500Principal().getName(), certificate.getNotAfter().toInstant());
    }

    public CertificateInfo uploadCertificate(byte[] pemOrDer, Caller caller, String clientAddress) {
        String org = caller.organizationId();
        String entity = "Organization/" + org;
        try {
            directory.setEncryptionCertificate(org, pemOrDer);
        } catch (GatewayException e) {
            audit.failure(CERTIFICATE_AUDIT, AuditEventAction.U, caller, clientAddress, entity, e.errorCode().code());
            throw e;
        }
        audit.success(CERTIFICATE_AUDIT, AuditEventAction.U, caller, clientAddress, entity);
        return directory.encryptionCertificate(org).map(OrganizationSettings::info).orElseThrow();
    }

    public void removeCertificate(Caller caller, String clientAddress) {
        String org = caller.organizationId();
        directory.removeEncryptionCertificate(org);
        audit.success(CERTIFICATE_AUDIT, AuditEventAction.U, caller, clientAddress, "Organization/" + org);
    }

    /** The organisation's endpoints, as listed in its directory entry. */
    public List<EndpointInfo> endpoints(Caller caller) {
        Organization org = directory.requireOrganization(caller.organizationId());
        return org.getEndpoint().stream()
                .map(ref -> ref.getReferenceElement().getIdPart())
                .map(id -> store.read(Endpoint.class, id))
                .flatMap(Optional::stream)
                .filter(e -> managedBy(e, caller))
                .map(e -> new EndpointInfo(e.getIdElement().getIdPart(), e.getConnectionType().getCode(), e.getAddress(),
                        e.getStatus() == null ? "" : e.getStatus().toCode()))
                .toList();
    }

    /** A new endpoint ({@code hl7-fhir-rest} or {@code hl7v2-mllp}) checked as the API's create checks it. */
    @Transactional
    public String addEndpoint(String connectionType, String address, Caller caller, String clientAddress) {
        Endpoint endpoint = new Endpoint();
        endpoint.setStatus(Endpoint.EndpointStatus.ACTIVE);
        endpoint.setConnectionType(new Coding(Systems.ENDPOINT_CONNECTION_TYPE, connectionType == null ? "" : connectionType, null));
        endpoint.setAddress(address == null ? null : address.trim());
        endpoint.setManagingOrganization(new Reference("Organization/" + caller.organizationId()));
        endpoint.addPayloadType().addCoding(new Coding("http://hl7.org/fhir/endpoint-payload-type", "any", null));
        Endpoint saved = directory.saveEndpoint(endpoint, true);
        String id = saved.getIdElement().getIdPart();
        audit.success("directory-change", AuditEventAction.C, caller, clientAddress, "Endpoint/" + id);
        return id;
    }

    /** Switches the endpoint off, as the API's delete does; only an endpoint the organisation manages. */
    @Transactional
    public void deactivateEndpoint(String endpointId, Caller caller, String clientAddress) {
        Endpoint endpoint = store.read(Endpoint.class, endpointId).filter(e -> managedBy(e, caller))
                .orElseThrow(() -> new GatewayException(ErrorCode.NOT_FOUND, null));
        endpoint.setStatus(Endpoint.EndpointStatus.OFF);
        directory.saveEndpoint(endpoint, false);
        audit.success("directory-change", AuditEventAction.D, caller, clientAddress, "Endpoint/" + endpointId);
    }

    private static boolean managedBy(Endpoint endpoint, Caller caller) {
        String managing = endpoint.hasManagingOrganization()
                ? endpoint.getManagingOrganization().getReferenceElement().getIdPart() : null;
        return caller.isParticipant() && caller.organizationId().equals(managing);
    }
}
