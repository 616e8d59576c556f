package org.carerelay.gateway.patient;

import ca.uhn.fhir.parser.IParser;
import ca.uhn.fhir.rest.annotation.ConditionalUrlParam;
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
import ca.uhn.fhir.rest.param.DateParam;
import ca.uhn.fhir.rest.param.StringParam;
import ca.uhn.fhir.rest.param.TokenParam;
import ca.uhn.fhir.rest.server.IResourceProvider;
import ca.uhn.fhir.rest.server.servlet.ServletRequestDetails;
import jakarta.servlet.http.HttpServletResponse;
import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.util.List;
import org.carerelay.gateway.fhir.RequestGuardFilter;
import org.carerelay.gateway.security.Caller;
import org.hl7.fhir.r4.model.Binary;
import org.hl7.fhir.r4.model.IdType;
import org.hl7.fhir.r4.model.Patient;
import org.springframework.stereotype.Component;

/**
 * Patients: created and searched by registered participants, visible only to their creators and
 * to participants of conversations about them. Read and search results carry the consent marker
 * ({@code https://fhir.carerelay.org/StructureDefinition/consent-status}).
 */
@Component
public class PatientResourceProvider implements IResourceProvider {

    private final PatientService patients;

    public PatientResourceProvider(PatientService patients) {
        this.patients = patients;
    }

    @Override
    public Class<Patient> getResourceType() {
        return Patient.class;
    }

    /**
     * Conditional by KVNR ({@code http://fhir.de/sid/gkv/kvid-10}; {@code If-None-Exist} too): the
     * patient the caller already sees, or whose active consent names it, is returned (200) instead
     * of a twin; anyone else gets a record of its own, answered like a first create.
     */
    @Create
    public MethodOutcome create(@ResourceParam Patient patient, @ConditionalUrlParam String conditionalUrl,
            ServletRequestDetails request) {
        return patients.create(patient, conditionalUrl, Caller.of(request), Caller.clientAddress(request));
    }

    @Update
    public MethodOutcome update(@IdParam IdType id, @ResourceParam Patient patient, ServletRequestDetails request) {
        // HAPI puts the version of an If-Match header into the id (read before anything sets the body's id)
        return patients.update(id.getIdPart(), id.getVersionIdPart(), patient, Caller.of(request), Caller.clientAddress(request));
    }

    /** Also a vread ({@code _history/{v}}): every version is kept. */
    @Read(version = true)
    public Patient read(@IdParam IdType id, ServletRequestDetails request) {
        return patients.read(id.getIdPart(), id.getVersionIdPart(), Caller.of(request));
    }

    @Search
    public IBundleProvider search(
            @OptionalParam(name = "_id") TokenParam id,
            @OptionalParam(name = Patient.SP_NAME) StringParam name,
            @OptionalParam(name = Patient.SP_FAMILY) StringParam family,
            @OptionalParam(name = Patient.SP_GIVEN) StringParam given,
            @OptionalParam(name = Patient.SP_BIRTHDATE) DateParam birthDate,
            @OptionalParam(name = Patient.SP_GENDER) TokenParam gender,
            @OptionalParam(name = Patient.SP_IDENTIFIER) TokenParam identifier,
            @Count Integer count,
            @Offset Integer offset,
            ServletRequestDetails request) {
        return patients.search(new PatientService.Query(id, name, family, given, birthDate, gender, identifier),
                count, offset, Caller.of(request), Caller.clientAddress(request));
    }

    /**
     * The pre-filled German consent form (PDF) to print, have signed, scan and upload as Consent:
     * the PDF itself, or, when the client asks for FHIR ({@code Accept: application/fhir+json} or
     * {@code +xml}, {@code _format}), a Binary resource with the PDF in {@code data}.
     */
    @Operation(name = "$consent-template", idempotent = true, manualResponse = true, returnParameters = {
            @OperationParam(name = "return", type = Binary.class, min = 1, max = 1)})
    public void consentTemplate(@IdParam IdType id, ServletRequestDetails request) throws IOException {
        byte[] pdf = patients.consentTemplate(id.getIdPart(), Caller.of(request), Caller.clientAddress(request));
        HttpServletResponse response = request.getServletResponse();
        response.setStatus(200);
        if (RequestGuardFilter.asksForFhirResource(request.getServletRequest())) {
            boolean xml = RequestGuardFilter.wantsXml(request.getServletRequest());
            Binary binary = new Binary();
            binary.setContentType("application/pdf");
            binary.setData(pdf);
            IParser parser = xml ? request.getFhirContext().newXmlParser() : request.getFhirContext().newJsonParser();
            byte[] body = parser.encodeResourceToString(binary).getBytes(StandardCharsets.UTF_8);
            response.setContentType((xml ? "application/fhir+xml" : "application/fhir+json") + ";charset=UTF-8");
            response.setContentLength(body.length);
            response.getOutputStream().write(body);
        } else {
            response.setContentType("application/pdf");
            response.setHeader("Content-Disposition", "attachment; filename=\"einwilligung.pdf\"");
            response.setContentLength(pdf.length);
            response.getOutputStream().write(pdf);
        }
        response.getOutputStream().flush();
    }
}
