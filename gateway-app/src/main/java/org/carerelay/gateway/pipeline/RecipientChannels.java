package org.carerelay.gateway.pipeline;

import java.util.Optional;
import org.carerelay.fhir.Systems;
import org.carerelay.gateway.directory.EndpointSecrets;
import org.carerelay.gateway.store.ResourceStore;
import org.hl7.fhir.r4.model.Endpoint;
import org.hl7.fhir.r4.model.Organization;
import org.hl7.fhir.r4.model.Reference;
import org.springframework.stereotype.Component;

/** Which system endpoint, if any, a registered organisation is reached at. */
@Component
public class RecipientChannels {

    private final ResourceStore store;
    private final EndpointSecrets secrets;

    public RecipientChannels(ResourceStore store, EndpointSecrets secrets) {
        this.store = store;
        this.secrets = secrets;
    }

    /**
     * The first active FHIR REST or MLLP endpoint of the organisation, with its header entries
     * (the partner's credentials) decrypted for the delivery.
     */
    public Optional<Endpoint> systemEndpoint(Organization organization) {
        for (Reference ref : organization.getEndpoint()) {
            String id = ref.getReferenceElement().getIdPart();
            if (id == null) {
                continue;
            }
            Optional<Endpoint> endpoint = store.read(Endpoint.class, id);
            if (endpoint.isPresent() && endpoint.get().getStatus() == Endpoint.EndpointStatus.ACTIVE
                    && Systems.ENDPOINT_CONNECTION_TYPE.equals(endpoint.get().getConnectionType().getSystem())) {
                String code = endpoint.get().getConnectionType().getCode();
                if ("hl7-fhir-rest".equals(code) || "hl7v2-mllp".equals(code)) {
                    return endpoint.map(secrets::reveal);
                }
            }
        }
        return Optional.empty();
    }

    public static Channel channelOf(Endpoint endpoint) {
        return "hl7v2-mllp".equals(endpoint.getConnectionType().getCode()) ? Channel.MLLP : Channel.FHIR;
    }
}
