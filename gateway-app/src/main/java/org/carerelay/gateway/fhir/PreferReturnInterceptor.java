package org.carerelay.gateway.fhir;

import ca.uhn.fhir.interceptor.api.Hook;
import ca.uhn.fhir.interceptor.api.Interceptor;
import ca.uhn.fhir.interceptor.api.Pointcut;
import ca.uhn.fhir.rest.api.Constants;
import ca.uhn.fhir.rest.api.RestOperationTypeEnum;
import ca.uhn.fhir.rest.api.server.RequestDetails;
import ca.uhn.fhir.rest.api.server.ResponseDetails;

/**
 * {@code Prefer: return=OperationOutcome} on a create or update: HAPI returns the resource for
 * {@code representation} (its default) and nothing for {@code minimal} from the providers'
 * MethodOutcome, but an OperationOutcome only when a provider made one; this adds it for every
 * provider (the version itself is in {@code Location} and {@code ETag}).
 */
@Interceptor
public class PreferReturnInterceptor {

    @Hook(Pointcut.SERVER_OUTGOING_RESPONSE)
    public boolean addOutcome(RequestDetails request, ResponseDetails response) {
        RestOperationTypeEnum type = request.getRestOperationType();
        if ((type == RestOperationTypeEnum.CREATE || type == RestOperationTypeEnum.UPDATE)
                && PreferReturn.of(request.getHeader(Constants.HEADER_PREFER)) == PreferReturn.OPERATION_OUTCOME
                && response.getResponseResource() == null) {
            // HAPI sets Location and ETag only after this hook: the outcome names the type, they the version
            String what = request.getResourceName();
            String text = response.getResponseCode() == 201 ? "Created " + what + "."
                    : type == RestOperationTypeEnum.CREATE ? what + " exists already (conditional create); nothing was created."
                    : "Updated " + what + ".";
            response.setResponseResource(PreferReturn.outcome(text));
        }
        return true;
    }
}
