package org.carerelay.gateway.fhir;

import ca.uhn.fhir.interceptor.api.Hook;
import ca.uhn.fhir.interceptor.api.Interceptor;
import ca.uhn.fhir.interceptor.api.Pointcut;
import ca.uhn.fhir.rest.api.RequestTypeEnum;
import ca.uhn.fhir.rest.api.server.RequestDetails;
import java.util.regex.Pattern;
import org.carerelay.fhir.ErrorCode;

/**
 * FHIR interactions the gateway does not offer, answered {@code 405 not-supported} as the error
 * catalogue says (HAPI would call them malformed requests): batch and transaction
 * ({@code POST} on the base) and the history interactions without a version: system
 * ({@code _history}), type ({@code X/_history}) and instance ({@code X/{id}/_history}). Reading
 * one version ({@code X/{id}/_history/{v}}) is not a history interaction and is left alone.
 */
@Interceptor
public class UnsupportedInteractions {

    private static final Pattern HISTORY = Pattern.compile("^(?:[A-Za-z]+/(?:[^/]+/)?)?_history/?$");

    @Hook(Pointcut.SERVER_INCOMING_REQUEST_PRE_HANDLER_SELECTED)
    public boolean refuse(RequestDetails request) {
        String path = request.getRequestPath() == null ? "" : request.getRequestPath();
        if (request.getRequestType() == RequestTypeEnum.POST && path.replace("/", "").isEmpty()) {
            throw notSupported("Batch and transaction Bundles are not supported; send each resource by itself.");
        }
        if (HISTORY.matcher(path).matches()) {
            throw notSupported("The history interactions are not supported; read a version with X/{id}/_history/{version}.");
        }
        return true;
    }

    private static GatewayException notSupported(String message) {
        return new GatewayException(ErrorCode.NOT_SUPPORTED, message);
    }
}
