package org.carerelay.gateway.fhir;

import ca.uhn.fhir.interceptor.api.Hook;
import ca.uhn.fhir.interceptor.api.Interceptor;
import ca.uhn.fhir.interceptor.api.Pointcut;
import ca.uhn.fhir.rest.api.server.ResponseDetails;
import java.util.List;
import java.util.Map;
import org.hl7.fhir.r4.model.OperationDefinition;
import org.hl7.fhir.r4.model.OperationDefinition.OperationDefinitionParameterComponent;
import org.hl7.fhir.r4.model.OperationDefinition.OperationParameterUse;

/**
 * What HAPI cannot derive from the {@code @Operation} annotations of the providers, added to the
 * OperationDefinitions the server serves ({@code GET /fhir/OperationDefinition/…}) so that each
 * parameter has a type or parts (opd-1): the parts of the repeating out parameters
 * ({@code $delivery-status} {@code recipient}, {@code $dead-letters} {@code deadLetter}), and the
 * type of {@code $encryption-certificate}'s {@code certificate}, which takes PEM as
 * {@code valueString} or DER/PEM as {@code valueBase64Binary} (declared {@code string}, the
 * alternative named in its documentation).
 */
@Interceptor
public class OperationDefinitionDetails {

    record Part(String name, String type, int min, String max) {
    }

    /** Parts per operation code and parameter name. */
    static final Map<String, List<Part>> PARTS = Map.of(
            "delivery-status/recipient", List.of(
                    new Part("organization", "Reference", 1, "1"),
                    new Part("state", "string", 1, "1"),
                    new Part("channel", "string", 1, "1"),
                    new Part("attempts", "integer", 1, "1"),
                    new Part("lastAttempt", "instant", 0, "1"),
                    new Part("deliveredAt", "instant", 0, "1"),
                    new Part("notifiedAt", "instant", 0, "1"),
                    new Part("detail", "string", 0, "1")),
            "dead-letters/deadLetter", List.of(
                    new Part("queue", "string", 1, "1"),
                    new Part("item", "string", 1, "1"),
                    new Part("parkedAt", "instant", 1, "1")));

    @Hook(Pointcut.SERVER_OUTGOING_RESPONSE)
    public boolean complete(ResponseDetails response) {
        if (response.getResponseResource() instanceof OperationDefinition definition) {
            complete(definition);
        }
        return true;
    }

    static void complete(OperationDefinition definition) {
        for (OperationDefinitionParameterComponent parameter : definition.getParameter()) {
            String key = definition.getCode() + "/" + parameter.getName();
            List<Part> parts = PARTS.get(key);
            if (parts != null && parameter.getUse() == OperationParameterUse.OUT && !parameter.hasPart()) {
                for (Part part : parts) {
                    parameter.addPart().setName(part.name()).setUse(OperationParameterUse.OUT)
                            .setMin(part.min()).setMax(part.max()).setType(part.type());
                }
            }
            if (key.equals("encryption-certificate/certificate") && !parameter.hasType()) {
                parameter.setType("string").setDocumentation("The certificate: PEM as valueString, or DER or PEM as "
                        + "valueBase64Binary. Exactly one X.509 certificate, valid now, RSA >= 2048 bits or EC P-256/384/521.");
            }
        }
    }
}
