package org.carerelay.gateway.directory;

import ca.uhn.fhir.rest.server.exceptions.ResourceNotFoundException;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.Set;
import org.carerelay.fhir.ErrorCode;
import org.carerelay.fhir.OrganizationType;
import org.carerelay.fhir.Systems;
import org.carerelay.fhir.Telecoms;
import org.carerelay.gateway.fhir.GatewayException;
import org.carerelay.gateway.registration.ParticipantRepository;
import org.carerelay.gateway.store.ResourceStore;
import org.carerelay.gateway.store.SearchBuilder;
import org.hl7.fhir.r4.model.BooleanType;
import org.hl7.fhir.r4.model.ContactPoint;
import org.hl7.fhir.r4.model.Endpoint;
import org.hl7.fhir.r4.model.Identifier;
import org.hl7.fhir.r4.model.Organization;
import org.hl7.fhir.r4.model.Reference;
import org.springframework.stereotype.Service;
import org.springframework.transaction.annotation.Transactional;

/** Rules of the participant directory: what a valid entry is, and how entries relate. */
@Service
public class DirectoryService {

    /** Identifier systems that must be unique across organisations. */
    static final Set<String> UNIQUE_SYSTEMS = Set.of(Systems.IKNR, Systems.BSNR, Systems.TELEMATIK_ID, Systems.HL7_FACILITY);

    private final ResourceStore store;
    private final ParticipantRepository participants;

    public DirectoryService(ResourceStore store, ParticipantRepository participants) {
        this.store = store;
        this.participants = participants;
    }

    public Optional<Organization> findOrganization(String id) {
        return store.read(Organization.class, id);
    }

    public Organization requireOrganization(String id) {
        return findOrganization(id).orElseThrow(() -> new ResourceNotFoundException("Organization/" + id));
    }

    /** Checks an organisation entry; throws {@code invalid-resource} / {@code duplicate-identifier}. */
    public void validate(Organization org) {
        if (!org.hasName() || org.getName().isBlank()) {
            throw new GatewayException(ErrorCode.INVALID_RESOURCE, "Organization.name is required.");
        }
        boolean typed = org.getType().stream().flatMap(t -> t.getCoding().stream())
                .anyMatch(c -> Systems.ORGANIZATION_TYPE.equals(c.getSystem()));
        if (!typed || OrganizationType.of(org).isEmpty()) {
            throw new GatewayException(ErrorCode.INVALID_RESOURCE,
                    "Organization.type needs a coding of " + Systems.ORGANIZATION_TYPE + " (one of "
                            + String.join(", ", java.util.Arrays.stream(OrganizationType.values()).map(OrganizationType::code).toList())
                            + ").");
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
        for (Identifier identifier : org.getIdentifier()) {
            if (identifier.hasSystem() && Systems.IKNR.equals(identifier.getSystem())
                    && (identifier.getValue() == null || !identifier.getValue().matches("\\d{9}"))) {
                throw new GatewayException(ErrorCode.INVALID_RESOURCE, "An IK number has 9 digits.");
            }
            if (identifier.hasSystem() && Systems.BSNR.equals(identifier.getSystem())
                    && (identifier.getValue() == null || !identifier.getValue().matches("\\d{9}"))) {
                throw new GatewayException(ErrorCode.INVALID_RESOURCE, "A BSNR has 9 digits.");
            }
        }
        checkUniqueIdentifiers(org);
    }

    private void checkUniqueIdentifiers(Organization org) {
        String ownId = org.getIdElement().getIdPart();
        for (Identifier identifier : org.getIdentifier()) {
            if (!UNIQUE_SYSTEMS.contains(identifier.getSystem()) || !identifier.hasValue()) {
                continue;
            }
            SearchBuilder sb = new SearchBuilder()
                    .identifier("identifier", new ca.uhn.fhir.rest.param.TokenParam(identifier.getSystem(), identifier.getValue()));
            if (ownId != null) {
                sb.where("id <> :self");
            }
            Map<String, Object> params = new java.util.HashMap<>(sb.params());
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
        stripComputed(org);
        validate(org);
        return create ? store.create(org) : store.update(org);
    }

    /**
     * Saves an endpoint and makes sure its managing organisation's {@code Organization.endpoint}
     * points to it.
     */
    @Transactional
    public Endpoint saveEndpoint(Endpoint endpoint, boolean create) {
        validateEndpoint(endpoint);
        Endpoint saved = create ? store.create(endpoint) : store.update(endpoint);
        if (saved.hasManagingOrganization()) {
            String orgId = saved.getManagingOrganization().getReferenceElement().getIdPart();
            Organization org = requireOrganization(orgId);
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
        if (endpoint.hasManagingOrganization()) {
            String orgId = endpoint.getManagingOrganization().getReferenceElement().getIdPart();
            if (orgId == null || findOrganization(orgId).isEmpty()) {
                throw new GatewayException(ErrorCode.INVALID_RESOURCE, "Endpoint.managingOrganization is not in the directory.");
            }
        }
    }
}
