package org.carerelay.gateway.consent;

import ca.uhn.fhir.rest.annotation.Count;
import ca.uhn.fhir.rest.annotation.Create;
import ca.uhn.fhir.rest.annotation.IdParam;
import ca.uhn.fhir.rest.annotation.Offset;
import ca.uhn.fhir.rest.annotation.Operation;
import ca.uhn.fhir.rest.annotation.OperationParam;
import ca.uhn.fhir.rest.annotation.OptionalParam;
import ca.uhn.fhir.rest.annotation.Read;
import ca.uhn.fhir.rest.annotation.ResourceParam;
import ca.uhn.fhir.rest.annotation.Search;
import ca.uhn.fhir.rest.annotation.Update;
import ca.uhn.fhir.rest.api.MethodOutcome;
import ca.uhn.fhir.rest.api.server.IBundleProvider;
import ca.uhn.fhir.rest.param.ReferenceParam;
import ca.uhn.fhir.rest.param.TokenParam;
import ca.uhn.fhir.rest.server.IResourceProvider;
import ca.uhn.fhir.rest.server.servlet.ServletRequestDetails;
import java.util.List;
import org.carerelay.gateway.security.Caller;
import org.hl7.fhir.r4.model.Consent;
import org.hl7.fhir.r4.model.IdType;
import org.hl7.fhir.r4.model.StringType;
import org.springframework.stereotype.Component;

/** The patient's consent: upload, read (with the scanned document), new versions, revocation. */
@Component
public class ConsentResourceProvider implements IResourceProvider {

    private final ConsentService consents;

    public ConsentResourceProvider(ConsentService consents) {
        this.consents = consents;
    }

    @Override
    public Class<Consent> getResourceType() {
        return Consent.class;
    }

    @Create
    public MethodOutcome create(@ResourceParam Consent consent, ServletRequestDetails request) {
        return consents.upload(consent, Caller.of(request), Caller.clientAddress(request));
    }

    @Update
    public MethodOutcome update(@IdParam IdType id, @ResourceParam Consent consent, ServletRequestDetails request) {
        // HAPI puts the version of an If-Match header into the id (read before anything sets the body's id)
        return consents.update(id.getIdPart(), id.getVersionIdPart(), consent, Caller.of(request),
                Caller.clientAddress(request));
    }

    /** Also a vread ({@code _history/{v}}): every version is kept. */
    @Read(version = true)
    public Consent read(@IdParam IdType id, ServletRequestDetails request) {
        return consents.read(id.getIdPart(), id.getVersionIdPart(), Caller.of(request));
    }

    @Search
    public IBundleProvider search(@OptionalParam(name = Consent.SP_PATIENT) ReferenceParam patient,
            @OptionalParam(name = Consent.SP_STATUS) TokenParam status,
            @Count Integer count,
            @Offset Integer offset,
            ServletRequestDetails request) {
        return consents.search(patient == null ? null : patient.getIdPart(),
                status == null ? null : status.getValue(), count, offset, Caller.of(request));
    }

    /** Revokes the consent: new patient-bound messages are refused, earlier ones masked. */
    @Operation(name = "$revoke", idempotent = false, returnParameters = {
            @OperationParam(name = "return", type = Consent.class, min = 1, max = 1)})
    public Consent revoke(@IdParam IdType id, @OperationParam(name = "reason", min = 0, max = 1) StringType reason,
            ServletRequestDetails request) {
        return consents.revoke(id.getIdPart(), reason == null ? null : reason.getValue(), Caller.of(request),
                Caller.clientAddress(request));
    }
}
