package org.carerelay.gateway.directory;

import ca.uhn.fhir.rest.param.TokenParam;
import ca.uhn.fhir.rest.server.exceptions.ResourceNotFoundException;
import java.io.ByteArrayInputStream;
import java.security.cert.CertificateEncodingException;
import java.security.cert.CertificateException;
import java.security.cert.CertificateFactory;
import java.security.cert.X509Certificate;
import java.time.Instant;
import java.util.Arrays;
import java.util.Collection;
import java.util.HashMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.Optional;
import java.util.Set;
import org.carerelay.fhir.ErrorCode;
import org.carerelay.fhir.GermanIdentifiers;
import org.carerelay.fhir.OrganizationTypeMapping;
import org.carerelay.fhir.OrganizationType;
import org.carerelay.fhir.Systems;
import org.carerelay.fhir.Telecoms;
import org.carerelay.fhir.directory.AddressAllowList;
import org.carerelay.gateway.fhir.GatewayException;
import org.carerelay.gateway.registration.OrganizationDirectory;
import org.carerelay.gateway.registration.ParticipantRepository;
import org.carerelay.gateway.store.ResourceStore;
import org.carerelay.gateway.store.SearchBuilder;
import org.carerelay.routes.crypto.EncryptionCertificates;
import org.hl7.fhir.r4.model.Attachment;
import org.hl7.fhir.r4.model.BooleanType;
import org.hl7.fhir.r4.model.ContactPoint;
import org.hl7.fhir.r4.model.Endpoint;
import org.hl7.fhir.r4.model.Extension;
import org.hl7.fhir.r4.model.Identifier;
import org.hl7.fhir.r4.model.Organization;
import org.hl7.fhir.r4.model.Reference;
import org.hl7.fhir.r4.model.StringType;
import org.springframework.stereotype.Service;
import org.springframework.transaction.annotation.Transactional;

/** Rules of the participant directory: what a valid entry is, and how entries relate. */
@Service
public class DirectoryService implements OrganizationDirectory {

    /** Identifier systems that must be unique across organisations. */
    static final Set<String> UNIQUE_SYSTEMS = Set.of(Systems.IKNR, Systems.BSNR, Systems.TELEMATIK_ID, Systems.HL7_FACILITY);

    /**
     * The participant's encryption certificate on its Organization: {@code valueAttachment} with
     * {@code contentType} {@value #CERTIFICATE_CONTENT_TYPE}, {@code data} = the DER bytes and
     * {@code title} = the subject DN. At most one per organisation.
     */
    public static final String EXT_ENCRYPTION_CERTIFICATE = "https://fhir.carerelay.org/StructureDefinition/encryption-certificate";
    public static final String CERTIFICATE_CONTENT_TYPE = "application/pkix-cert";

    private final ResourceStore store;
    private final ParticipantRepository participants;
    private final EndpointSecrets endpointSecrets;
    private final EndpointAddressCheck endpointAddressCheck;

    public DirectoryService(ResourceStore store, ParticipantRepository participants, EndpointSecrets endpointSecrets,
            EndpointAddressCheck endpointAddressCheck) {
        this.store = store;
        this.participants = participants;
        this.endpointSecrets = endpointSecrets;
        this.endpointAddressCheck = endpointAddressCheck;
    }

    public Optional<Organization> findOrganization(String id) {
        return store.read(Organization.class, id);
    }

    /** The entries of {@code ids} the directory has, by id, read in one statement. */
    public Map<String, Organization> findOrganizations(Collection<String> ids) {
        if (ids.isEmpty()) {
            return Map.of();
        }
        Map<String, Organization> found = new HashMap<>();
        store.search(Organization.class, "id in (:ids)", Map.of("ids", List.copyOf(ids)), ids.size(), 0)
                .forEach(entry -> found.put(entry.getIdElement().getIdPart(), entry));
        return found;
    }

    /** Which of {@code ids} the directory has (without reading the entries). */
    public Set<String> organizationsAmong(Collection<String> ids) {
        return store.existing("Organization", ids);
    }

    @Override
    public Organization requireOrganization(String id) {
        return findOrganization(id).orElseThrow(() -> new ResourceNotFoundException("Organization/" + id));
    }

    /**
     * The current entry, its row locked until the surrounding transaction ends: for a change that
     * starts from the stored entry, so a change committed meanwhile (e.g. a deactivation) is seen
     * and not overwritten with the older state. Lock first, then read.
     */
    @Transactional
    public Organization lockOrganization(String id) {
        store.lockVersion("Organization", id, null);
        return requireOrganization(id);
    }

    /** Deactivates the entry (a new version with {@code active = false}) under the row lock. */
    @Transactional
    public Organization deactivate(String id) {
        Organization org = lockOrganization(id);
        org.setActive(false);
        return saveOrganization(org, false);
    }

    /** Checks an organisation entry; throws {@code invalid-resource} / {@code duplicate-identifier}. */
    public void validate(Organization org) {
        validate(org, List.of());
    }

    /**
     * As {@link #validate(Organization)}; identifiers {@code stored} already holds are not checked
     * for their check digit again (entries from before the check can still be changed).
     */
    void validate(Organization org, List<Identifier> stored) {
        if (!org.hasName() || org.getName().isBlank()) {
            throw new GatewayException(ErrorCode.INVALID_RESOURCE, "Organization.name is required.");
        }
        try {
            // ISiK / German base-profile types are kept; the CareRelay type is derived or defaults to "other"
            OrganizationTypeMapping.normalize(org);
        } catch (OrganizationTypeMapping.UnknownTypeException e) {
            throw new GatewayException(ErrorCode.INVALID_RESOURCE, e.getMessage());
        }
        for (ContactPoint cp : org.getTelecom()) {
            if (cp.getSystem() == ContactPoint.ContactPointSystem.EMAIL && !Telecoms.isPlausibleEmail(cp.getValue())) {
                throw new GatewayException(ErrorCode.INVALID_RESOURCE, "Organization.telecom e-mail address is not valid.");
            }
            if (cp.getSystem() == ContactPoint.ContactPointSystem.FAX
                    && (cp.getValue() == null || cp.getValue().replaceAll("\\D", "").length() < 6)) {
                throw new GatewayException(ErrorCode.INVALID_RESOURCE, "Organization.telecom fax number is not valid.");
            }
        }
        Optional<String> problem = GermanIdentifiers.firstProblem(org.getIdentifier(), stored);
        if (problem.isPresent()) {
            throw new GatewayException(ErrorCode.IDENTIFIER_INVALID, problem.get());
        }
        validateEncryptionCertificate(org);
        validateHl7AllowList(org);
        checkUniqueIdentifiers(org);
    }

    /** Entries of the HL7 allow-list an organisation may have; a network needs a range, not a list. */
    static final int MAX_HL7_ALLOWED_ADDRESSES = 64;

    /**
     * The HL7 allow-list ({@link Systems#EXT_HL7_ALLOWED_ADDRESS}): each entry a {@code valueString}
     * with an IPv4/IPv6 address or CIDR range, stored in canonical form; anything else is refused
     * with {@code address-range-invalid} (422). Only the operator writes Organization entries, so an
     * organisation cannot widen its own list (a stolen token must not authorise a new network peer).
     */
    private static void validateHl7AllowList(Organization org) {
        List<Extension> entries = org.getExtensionsByUrl(Systems.EXT_HL7_ALLOWED_ADDRESS);
        if (entries.size() > MAX_HL7_ALLOWED_ADDRESSES) {
            throw new GatewayException(ErrorCode.ADDRESS_RANGE_INVALID, "At most " + MAX_HL7_ALLOWED_ADDRESSES
                    + " HL7 allow-list entries per organisation; use CIDR ranges.");
        }
        for (Extension entry : entries) {
            if (!(entry.getValue() instanceof StringType text) || !text.hasValue()) {
                throw new GatewayException(ErrorCode.ADDRESS_RANGE_INVALID,
                        "The extension " + Systems.EXT_HL7_ALLOWED_ADDRESS + " needs a valueString with an address or CIDR range.");
            }
            try {
                text.setValue(AddressAllowList.parseRange(text.getValue()).toString());
            } catch (IllegalArgumentException e) {
                throw new GatewayException(ErrorCode.ADDRESS_RANGE_INVALID, "HL7 allow-list: " + e.getMessage() + ".");
            }
        }
    }

    /**
     * At most one encryption-certificate extension, a {@code valueAttachment} whose data is one
     * X.509 certificate. A certificate that is new or differs from the stored one must pass
     * {@link EncryptionCertificates#parse} (valid now, suitable key); the one already stored is
     * not re-checked, so an entry whose certificate has since expired can still be saved
     * (deactivated, renamed) — deliveries check validity themselves.
     */
    private void validateEncryptionCertificate(Organization org) {
        List<Extension> extensions = org.getExtensionsByUrl(EXT_ENCRYPTION_CERTIFICATE);
        if (extensions.isEmpty()) {
            return;
        }
        if (extensions.size() > 1) {
            throw new GatewayException(ErrorCode.CERTIFICATE_INVALID, "An organisation has at most one encryption certificate.");
        }
        if (!(extensions.get(0).getValue() instanceof Attachment attachment) || !attachment.hasData()) {
            throw new GatewayException(ErrorCode.CERTIFICATE_INVALID,
                    "The encryption-certificate extension needs a valueAttachment with the certificate as data.");
        }
        if (attachment.hasContentType() && !CERTIFICATE_CONTENT_TYPE.equals(baseMediaType(attachment.getContentType()))) {
            throw new GatewayException(ErrorCode.CERTIFICATE_INVALID,
                    "The encryption certificate's contentType must be " + CERTIFICATE_CONTENT_TYPE + ".");
        }
        byte[] data = attachment.getData();
        String id = org.getIdElement().getIdPart();
        byte[] stored = id == null ? null
                : findOrganization(id).flatMap(DirectoryService::encryptionCertificateExtension)
                        .map(e -> ((Attachment) e.getValue()).getData()).orElse(null);
        if (stored != null && Arrays.equals(stored, data)) {
            return;
        }
        checkEncryptionCertificate(data, Instant.now());
    }

    /**
     * Parses and checks a certificate offered for encryption (PEM or DER).
     *
     * @throws GatewayException {@code certificate-invalid} (422) saying what is wrong
     */
    public static X509Certificate checkEncryptionCertificate(byte[] pemOrDer, Instant now) {
        try {
            return EncryptionCertificates.parse(pemOrDer, now);
        } catch (IllegalArgumentException e) {
            throw new GatewayException(ErrorCode.CERTIFICATE_INVALID, e.getMessage());
        }
    }

    /** The extension value that stores {@code certificate}: DER, content type and subject DN. */
    public static Attachment encryptionCertificateAttachment(X509Certificate certificate) {
        try {
            return new Attachment().setContentType(CERTIFICATE_CONTENT_TYPE).setData(certificate.getEncoded())
                    .setTitle(certificate.getSubjectX500Principal().getName());
        } catch (CertificateEncodingException e) {
            throw new IllegalStateException("certificate cannot be encoded", e);
        }
    }

    /**
     * Stores the certificate as DER with content type and subject DN, whatever form (PEM or DER
     * bytes, with or without title) the operator sent. Leaves unparseable data for
     * {@link #validate} to refuse.
     */
    private static void normalizeEncryptionCertificate(Organization org) {
        List<Extension> extensions = org.getExtensionsByUrl(EXT_ENCRYPTION_CERTIFICATE);
        if (extensions.size() != 1 || !(extensions.get(0).getValue() instanceof Attachment attachment) || !attachment.hasData()) {
            return;
        }
        if (attachment.hasContentType() && !CERTIFICATE_CONTENT_TYPE.equals(baseMediaType(attachment.getContentType()))) {
            return;
        }
        try {
            var certificates = CertificateFactory.getInstance("X.509").generateCertificates(new ByteArrayInputStream(attachment.getData()));
            if (certificates.size() == 1 && certificates.iterator().next() instanceof X509Certificate certificate) {
                Attachment normalized = encryptionCertificateAttachment(certificate);
                attachment.setContentType(normalized.getContentType()).setData(normalized.getData()).setTitle(normalized.getTitle());
            }
        } catch (CertificateException | RuntimeException e) {
            // refused by validate with the reason
        }
    }

    private static String baseMediaType(String contentType) {
        int semicolon = contentType.indexOf(';');
        return (semicolon < 0 ? contentType : contentType.substring(0, semicolon)).trim().toLowerCase(Locale.ROOT);
    }

    private static Optional<Extension> encryptionCertificateExtension(Organization org) {
        return org.getExtensionsByUrl(EXT_ENCRYPTION_CERTIFICATE).stream().findFirst();
    }

    private static X509Certificate readCertificate(byte[] pemOrDer) throws CertificateException {
        return (X509Certificate) CertificateFactory.getInstance("X.509").generateCertificate(new ByteArrayInputStream(pemOrDer));
    }

    /**
     * The encryption certificate an organisation registered, for enveloping its attachments (CMS).
     * Validity is not checked here: check it at delivery time with
     * {@link EncryptionCertificates#check}. Empty when the organisation is unknown or has none.
     *
     * @throws IllegalStateException when the stored certificate cannot be read (never stored so
     *         by the gateway; deliveries must not fall back to sending unencrypted)
     */
    public Optional<X509Certificate> encryptionCertificate(String organizationId) {
        return findOrganization(organizationId).flatMap(DirectoryService::encryptionCertificateExtension).map(extension -> {
            try {
                if (extension.getValue() instanceof Attachment attachment && attachment.hasData()) {
                    return readCertificate(attachment.getData());
                }
            } catch (CertificateException | RuntimeException e) {
                throw new IllegalStateException("The encryption certificate of Organization/" + organizationId + " is unreadable.", e);
            }
            throw new IllegalStateException("The encryption certificate of Organization/" + organizationId + " has no data.");
        });
    }

    /**
     * Registers {@code pemOrDer} (checked with {@link EncryptionCertificates#parse}) as the
     * organisation's encryption certificate, replacing any earlier one; a new version of the entry.
     */
    @Transactional
    public Organization setEncryptionCertificate(String organizationId, byte[] pemOrDer) {
        Organization org = lockOrganization(organizationId);
        X509Certificate certificate = checkEncryptionCertificate(pemOrDer, Instant.now());
        org.getExtension().removeIf(e -> EXT_ENCRYPTION_CERTIFICATE.equals(e.getUrl()));
        org.addExtension(EXT_ENCRYPTION_CERTIFICATE, encryptionCertificateAttachment(certificate));
        return saveOrganization(org, false);
    }

    /**
     * Removes the organisation's encryption certificate (a new version of the entry); the entry as
     * it is when there is none. Not re-validated: taking the certificate away cannot make an entry
     * invalid, and deregistration must not fail over unrelated directory data.
     */
    @Override
    @Transactional
    public Organization removeEncryptionCertificate(String organizationId) {
        Organization org = lockOrganization(organizationId);
        if (!org.getExtension().removeIf(e -> EXT_ENCRYPTION_CERTIFICATE.equals(e.getUrl()))) {
            return org;
        }
        stripComputed(org);
        return store.update(org);
    }

    private void checkUniqueIdentifiers(Organization org) {
        String ownId = org.getIdElement().getIdPart();
        for (Identifier identifier : org.getIdentifier()) {
            if (!UNIQUE_SYSTEMS.contains(identifier.getSystem()) || !identifier.hasValue()) {
                continue;
            }
            SearchBuilder sb = new SearchBuilder()
                    .identifier("identifier", new TokenParam(identifier.getSystem(), identifier.getValue()));
            if (ownId != null) {
                sb.where("id <> :self");
            }
            Map<String, Object> params = new HashMap<>(sb.params());
            if (ownId != null) {
                params.put("self", ownId);
            }
            if (store.count(Organization.class, sb.sql(), params) > 0) {
                throw new GatewayException(ErrorCode.DUPLICATE_IDENTIFIER,
                        "Another organisation already has the identifier " + identifier.getSystem() + "|" + identifier.getValue() + ".");
            }
        }
    }

    /** Removes what only the gateway may set (the registration flag is computed on read). */
    public static void stripComputed(Organization org) {
        org.getExtension().removeIf(e -> Systems.EXT_REGISTERED.equals(e.getUrl()));
    }

    /**
     * Active directory entries (registered or not) whose name contains {@code text}, whose city
     * starts with it, or whose IK number is it; optionally of one organisation type. What the
     * directory search of the API shows to every participant, decorated with the registration flag.
     */
    public List<Organization> searchDirectory(String text, String typeCode, int limit) {
        StringBuilder where = new StringBuilder("coalesce((content->>'active')::boolean, true)");
        Map<String, Object> params = new HashMap<>();
        if (text != null && !text.isBlank()) {
            String t = text.trim();
            where.append(" and ((content->>'name') ilike :q escape '\\'"
                    + " or exists (select 1 from jsonb_array_elements(coalesce(content->'address', '[]'::jsonb)) a"
                    + " where (a->>'city') ilike :qs escape '\\')"
                    + " or exists (select 1 from jsonb_array_elements(coalesce(content->'identifier', '[]'::jsonb)) i"
                    + " where i->>'system' = :ik and i->>'value' = :qv))");
            String like = t.replace("\\", "\\\\").replace("%", "\\%").replace("_", "\\_");
            params.put("q", "%" + like + "%");
            params.put("qs", like + "%");
            params.put("qv", t);
            params.put("ik", Systems.IKNR);
        }
        if (typeCode != null && !typeCode.isBlank()) {
            where.append(" and exists (select 1 from jsonb_array_elements(coalesce(content->'type', '[]'::jsonb)) ty,"
                    + " jsonb_array_elements(coalesce(ty->'coding', '[]'::jsonb)) c where c->>'system' = :tsys and c->>'code' = :tcode)");
            params.put("tsys", Systems.ORGANIZATION_TYPE);
            params.put("tcode", typeCode.trim());
        }
        List<Organization> found = store.search(Organization.class, where.toString(), params, limit, 0);
        decorate(found);
        return found;
    }

    /** Adds the computed registration flag to organisations being returned. */
    public void decorate(List<Organization> organizations) {
        Set<String> registered = participants.registeredAmong(
                organizations.stream().map(o -> o.getIdElement().getIdPart()).toList());
        for (Organization org : organizations) {
            stripComputed(org);
            org.addExtension(Systems.EXT_REGISTERED, new BooleanType(registered.contains(org.getIdElement().getIdPart())));
        }
    }

    @Transactional
    public Organization saveOrganization(Organization org, boolean create) {
        return saveOrganization(org, create, null);
    }

    /**
     * As {@link #saveOrganization(Organization, boolean)}, when the stored entry is at
     * {@code expectedVersion} (a client's {@code If-Match}; null: any version); otherwise
     * {@code version-conflict} (412) before anything is checked or written.
     */
    @Transactional
    public Organization saveOrganization(Organization org, boolean create, String expectedVersion) {
        if (expectedVersion != null) {
            store.lockVersion("Organization", org.getIdElement().getIdPart(), expectedVersion);
        }
        stripComputed(org);
        normalizeEncryptionCertificate(org);
        List<Identifier> stored = create || !org.getIdElement().hasIdPart() ? List.of()
                : store.read(Organization.class, org.getIdElement().getIdPart()).map(Organization::getIdentifier).orElse(List.of());
        validate(org, stored);
        return create ? store.create(org) : store.update(org);
    }

    /**
     * Saves an endpoint and makes sure its managing organisation's {@code Organization.endpoint}
     * points to it. Its header entries (credentials) are stored encrypted, see
     * {@link EndpointSecrets}; the endpoint returned carries them encrypted too.
     */
    @Transactional
    public Endpoint saveEndpoint(Endpoint endpoint, boolean create) {
        return saveEndpoint(endpoint, create, null);
    }

    /** As {@link #saveEndpoint(Endpoint, boolean)}, when the stored endpoint is at {@code expectedVersion} (If-Match). */
    @Transactional
    public Endpoint saveEndpoint(Endpoint endpoint, boolean create, String expectedVersion) {
        if (!create || expectedVersion != null) {
            // the stored endpoint (its sealed secrets) is read under the lock
            store.lockVersion("Endpoint", endpoint.getIdElement().getIdPart(), expectedVersion);
        }
        validateEndpoint(endpoint);
        if (!endpoint.getIdElement().hasIdPart()) {
            endpoint.setId(ResourceStore.newId());
        }
        Endpoint stored = create ? null : store.read(Endpoint.class, endpoint.getIdElement().getIdPart()).orElse(null);
        endpointSecrets.seal(endpoint, stored);
        Endpoint saved = create ? store.create(endpoint) : store.update(endpoint);
        if (saved.hasManagingOrganization()) {
            String orgId = saved.getManagingOrganization().getReferenceElement().getIdPart();
            Organization org = lockOrganization(orgId);
            String ref = "Endpoint/" + saved.getIdElement().getIdPart();
            boolean linked = org.getEndpoint().stream().anyMatch(r -> ref.equals(r.getReferenceElement().toUnqualifiedVersionless().getValue()));
            if (!linked) {
                org.addEndpoint(new Reference(ref));
                stripComputed(org);
                store.update(org);
            }
        }
        return saved;
    }

    public void validateEndpoint(Endpoint endpoint) {
        if (!endpoint.hasConnectionType() || !Systems.ENDPOINT_CONNECTION_TYPE.equals(endpoint.getConnectionType().getSystem())) {
            throw new GatewayException(ErrorCode.INVALID_RESOURCE,
                    "Endpoint.connectionType must be hl7-fhir-rest or hl7v2-mllp from " + Systems.ENDPOINT_CONNECTION_TYPE + ".");
        }
        String type = endpoint.getConnectionType().getCode();
        String address = endpoint.getAddress();
        if (address == null || address.isBlank()) {
            throw new GatewayException(ErrorCode.INVALID_RESOURCE, "Endpoint.address is required.");
        }
        switch (type == null ? "" : type) {
            case "hl7-fhir-rest" -> {
                if (!address.matches("(?i)https?://[^\\s/]+(/\\S*)?")) {
                    throw new GatewayException(ErrorCode.INVALID_RESOURCE, "A hl7-fhir-rest Endpoint.address is the http(s) FHIR base URL.");
                }
            }
            case "hl7v2-mllp" -> {
                if (!address.matches("(?i)mllp://[^\\s:/]+:(\\d{1,5})/?")
                        || Integer.parseInt(address.replaceAll("(?i)mllp://[^\\s:/]+:(\\d{1,5})/?", "$1")) > 65535) {
                    throw new GatewayException(ErrorCode.INVALID_RESOURCE, "A hl7v2-mllp Endpoint.address is mllp://host:port.");
                }
            }
            default -> throw new GatewayException(ErrorCode.INVALID_RESOURCE,
                    "Endpoint.connectionType must be hl7-fhir-rest or hl7v2-mllp.");
        }
        for (var header : endpoint.getHeader()) {
            // sent as an HTTP header with every delivery: a field name, a colon, a value on one line
            if (header.getValue() != null && !header.getValue().matches("[!#$%&'*+.^_`|~0-9A-Za-z-]+:[^\\p{Cntrl}]*")) {
                throw new GatewayException(ErrorCode.INVALID_RESOURCE, "Endpoint.header entries are 'Name: value' on one line.");
            }
        }
        if (endpoint.getStatus() != Endpoint.EndpointStatus.OFF) {
            // an endpoint switched off is never delivered to, and must stay deactivatable
            endpointAddressCheck.check(address);
        }
        if (endpoint.hasManagingOrganization()) {
            String orgId = endpoint.getManagingOrganization().getReferenceElement().getIdPart();
            if (orgId == null || findOrganization(orgId).isEmpty()) {
                throw new GatewayException(ErrorCode.INVALID_RESOURCE, "Endpoint.managingOrganization is not in the directory.");
            }
        }
    }
}
