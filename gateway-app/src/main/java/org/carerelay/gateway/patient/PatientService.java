package org.carerelay.gateway.patient;

import ca.uhn.fhir.rest.api.MethodOutcome;
import ca.uhn.fhir.rest.param.DateParam;
import ca.uhn.fhir.rest.param.StringParam;
import ca.uhn.fhir.rest.param.TokenParam;
import ca.uhn.fhir.rest.server.exceptions.ResourceNotFoundException;
import ca.uhn.fhir.rest.server.servlet.ServletRequestDetails;
import java.time.LocalDate;
import java.time.ZoneId;
import java.util.HashMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.Optional;
import org.carerelay.fhir.ErrorCode;
import org.carerelay.fhir.Systems;
import org.carerelay.gateway.audit.AuditService;
import org.carerelay.gateway.config.CareRelayProperties;
import org.carerelay.gateway.consent.ConsentRepository;
import org.carerelay.gateway.consent.ConsentState;
import org.carerelay.gateway.directory.DirectoryService;
import org.carerelay.gateway.fhir.GatewayException;
import org.carerelay.gateway.fhir.Validation;
import org.carerelay.gateway.security.Caller;
import org.carerelay.gateway.store.ResourceStore;
import org.carerelay.gateway.store.SearchBuilder;
import org.carerelay.routes.letter.ConsentTemplatePdf;
import org.hl7.fhir.r4.model.AuditEvent.AuditEventAction;
import org.hl7.fhir.r4.model.CodeType;
import org.hl7.fhir.r4.model.DateTimeType;
import org.hl7.fhir.r4.model.Extension;
import org.hl7.fhir.r4.model.HumanName;
import org.hl7.fhir.r4.model.IdType;
import org.hl7.fhir.r4.model.Identifier;
import org.hl7.fhir.r4.model.Patient;
import org.hl7.fhir.r4.model.Reference;
import org.springframework.jdbc.core.simple.JdbcClient;
import org.springframework.stereotype.Service;
import org.springframework.transaction.annotation.Transactional;

/** Rules for patients: one per KVNR, visible to creators and conversation participants only. */
@Service
public class PatientService {

    private static final String KVNR_PATTERN = "[A-Z][0-9]{9}";

    public record Query(TokenParam id, StringParam name, StringParam family, StringParam given, DateParam birthDate,
            TokenParam gender, TokenParam identifier) {
    }

    private final ResourceStore store;
    private final PatientAccess access;
    private final ConsentRepository consents;
    private final Validation validation;
    private final AuditService audit;
    private final JdbcClient jdbc;
    private final DirectoryService directory;
    private final CareRelayProperties props;

    public PatientService(ResourceStore store, PatientAccess access, ConsentRepository consents, Validation validation,
            AuditService audit, JdbcClient jdbc, DirectoryService directory, CareRelayProperties props) {
        this.store = store;
        this.access = access;
        this.consents = consents;
        this.validation = validation;
        this.audit = audit;
        this.jdbc = jdbc;
        this.directory = directory;
        this.props = props;
    }

    static Caller requireParticipant(ServletRequestDetails request) {
        Caller caller = Caller.of(request);
        if (!caller.isParticipant()) {
            throw new GatewayException(ErrorCode.FORBIDDEN, "Only registered participants work with patients.");
        }
        return caller;
    }


    @Transactional
    public MethodOutcome create(Patient patient, String conditionalUrl, ServletRequestDetails request) {
        return create(patient, conditionalUrl, requireParticipant(request), Caller.clientAddress(request));
    }

    @Transactional
    public MethodOutcome create(Patient patient, String conditionalUrl, Caller caller, String clientAddress) {
        patient.setId((String) null);
        stripComputed(patient);
        validate(patient);
        Optional<String> kvnr = kvnrOf(patient);
        if (conditionalUrl != null && !conditionalUrl.isBlank()) {
            Optional<String> conditionalKvnr = kvnrFromConditionalUrl(conditionalUrl);
            if (conditionalKvnr.isEmpty()) {
                throw new GatewayException(ErrorCode.INVALID_REQUEST,
                        "If-None-Exist is supported with identifier=" + Systems.KVNR + "|<KVNR> only.");
            }
            if (kvnr.isPresent() && !kvnr.get().equals(conditionalKvnr.get())) {
                throw new GatewayException(ErrorCode.INVALID_REQUEST, "If-None-Exist names another KVNR than the resource.");
            }
            kvnr = conditionalKvnr;
        }
        if (kvnr.isPresent()) {
            String newId = ResourceStore.newId();
            // the primary key on the KVNR decides races: exactly one patient per KVNR
            jdbc.sql("insert into patient_kvnr (kvnr, patient_id) values (?, ?) on conflict do nothing")
                    .params(kvnr.get(), newId).update();
            String owner = jdbc.sql("select patient_id from patient_kvnr where kvnr = ?").param(kvnr.get())
                    .query(String.class).single();
            if (!owner.equals(newId)) {
                access.grant(owner, caller.organizationId(), "created");
                Patient existing = store.read(Patient.class, owner).orElseThrow();
                audit.success("patient-create-existing", AuditEventAction.R, caller, clientAddress, "Patient/" + owner);
                decorate(existing);
                return new MethodOutcome(existing.getIdElement(), false).setResource(existing);
            }
            patient.setId(newId);
        }
        Patient saved = store.create(patient);
        String id = saved.getIdElement().getIdPart();
        access.grant(id, caller.organizationId(), "created");
        audit.success("patient-create", AuditEventAction.C, caller, clientAddress, "Patient/" + id);
        decorate(saved);
        return new MethodOutcome(saved.getIdElement(), true).setResource(saved);
    }

    @Transactional
    public MethodOutcome update(String id, Patient patient, ServletRequestDetails request) {
        Caller caller = requireParticipant(request);
        Patient existing = requireVisible(id, caller);
        stripComputed(patient);
        patient.setId(id);
        validate(patient);
        Optional<String> oldKvnr = kvnrOf(existing);
        Optional<String> newKvnr = kvnrOf(patient);
        if (!oldKvnr.equals(newKvnr)) {
            if (oldKvnr.isPresent()) {
                throw new GatewayException(ErrorCode.INVALID_RESOURCE, "The KVNR of a patient cannot be changed or removed.");
            }
            int inserted = jdbc.sql("insert into patient_kvnr (kvnr, patient_id) values (?, ?) on conflict do nothing")
                    .params(newKvnr.get(), id).update();
            if (inserted == 0) {
                throw new GatewayException(ErrorCode.DUPLICATE_IDENTIFIER, "Another patient already has this KVNR.");
            }
        }
        Patient saved = store.update(patient);
        audit.success("patient-update", AuditEventAction.U, caller, Caller.clientAddress(request), "Patient/" + id);
        decorate(saved);
        return new MethodOutcome(saved.getIdElement(), false).setResource(saved);
    }

    /**
     * HL7v2 ADT (and the PID of documents): the patient known by any of the incoming identifiers
     * (KVNR first) is updated with the incoming demographics, otherwise created; the sender may see
     * it from then on.
     */
    @Transactional
    public Patient upsertFromHl7(Patient incoming, Caller caller, String clientAddress) {
        stripComputed(incoming);
        incoming.setId((String) null);
        Optional<Patient> existing = findByIdentifiers(incoming);
        if (existing.isEmpty()) {
            MethodOutcome created = create(incoming, null, caller, clientAddress);
            return (Patient) created.getResource();
        }
        Patient patient = existing.get();
        String id = patient.getIdElement().getIdPart();
        if (incoming.hasName()) {
            patient.setName(incoming.getName());
        }
        if (incoming.hasBirthDate()) {
            patient.setBirthDateElement(incoming.getBirthDateElement());
        }
        if (incoming.hasGender()) {
            patient.setGender(incoming.getGender());
        }
        if (incoming.hasAddress()) {
            patient.setAddress(incoming.getAddress());
        }
        if (incoming.hasTelecom()) {
            patient.setTelecom(incoming.getTelecom());
        }
        if (incoming.hasDeceased()) {
            patient.setDeceased(incoming.getDeceased());
        }
        boolean hasKvnr = kvnrOf(patient).isPresent();
        for (Identifier identifier : incoming.getIdentifier()) {
            boolean known = patient.getIdentifier().stream().anyMatch(i -> java.util.Objects.equals(i.getSystem(), identifier.getSystem())
                    && java.util.Objects.equals(i.getValue(), identifier.getValue()));
            boolean secondKvnr = Systems.KVNR.equals(identifier.getSystem()) && hasKvnr;
            if (!known && !secondKvnr) {
                patient.addIdentifier(identifier);
                if (Systems.KVNR.equals(identifier.getSystem())) {
                    jdbc.sql("insert into patient_kvnr (kvnr, patient_id) values (?, ?) on conflict do nothing")
                            .params(identifier.getValue(), id).update();
                    hasKvnr = true;
                }
            }
        }
        stripComputed(patient);
        validate(patient);
        Patient saved = store.update(patient);
        access.grant(id, caller.organizationId(), "created");
        audit.success("patient-update", AuditEventAction.U, caller, clientAddress, "Patient/" + id);
        return saved;
    }

    /**
     * The stored patient the incoming one is: by KVNR when it has one; otherwise by another
     * identifier — but never a patient that has a different KVNR.
     */
    private Optional<Patient> findByIdentifiers(Patient incoming) {
        Optional<String> kvnr = kvnrOf(incoming);
        if (kvnr.isPresent()) {
            Optional<Patient> byKvnr = searchByIdentifier(Systems.KVNR, kvnr.get());
            if (byKvnr.isPresent()) {
                return byKvnr;
            }
        }
        for (Identifier identifier : incoming.getIdentifier()) {
            if (!identifier.hasSystem() || !identifier.hasValue() || Systems.KVNR.equals(identifier.getSystem())) {
                continue;
            }
            Optional<Patient> found = searchByIdentifier(identifier.getSystem(), identifier.getValue());
            if (found.isPresent() && (kvnr.isEmpty() || kvnrOf(found.get()).isEmpty())) {
                return found;
            }
        }
        return Optional.empty();
    }

    private Optional<Patient> searchByIdentifier(String system, String value) {
        SearchBuilder sb = new SearchBuilder().identifier("identifier", new TokenParam(system, value));
        List<Patient> found = store.search(Patient.class, sb.sql(), sb.params(), 1, 0);
        return found.stream().findFirst();
    }

    public Patient read(String id, ServletRequestDetails request) {
        Caller caller = requireParticipant(request);
        Patient patient = requireVisible(id, caller);
        decorate(patient);
        return patient;
    }

    /** The patient if {@code caller} may see it; 404 otherwise (existence does not leak). */
    public Patient requireVisible(String id, Caller caller) {
        if (!caller.isParticipant() || !access.canSee(caller.organizationId(), id)) {
            throw new ResourceNotFoundException(new IdType("Patient", id));
        }
        return store.read(Patient.class, id).orElseThrow(() -> new ResourceNotFoundException(new IdType("Patient", id)));
    }

    public List<Patient> search(Query q, Integer count, Integer offset, ServletRequestDetails request) {
        Caller caller = requireParticipant(request);
        SearchBuilder sb = new SearchBuilder()
                .where(PatientAccess.visibleToViewerPredicate())
                .identifier("identifier", q.identifier());
        String names = "(select string_agg(coalesce(n->>'text','') || ' ' || coalesce(n->>'family','') || ' ' || "
                + "coalesce((select string_agg(g, ' ') from jsonb_array_elements_text(coalesce(n->'given','[]'::jsonb)) g),''), ' ') "
                + "from jsonb_array_elements(coalesce(content->'name','[]'::jsonb)) n)";
        sb.textContains(names, q.name());
        sb.textContains("(select string_agg(coalesce(n->>'family',''), ' ') from jsonb_array_elements(coalesce(content->'name','[]'::jsonb)) n)", q.family());
        sb.textContains("(select string_agg(g, ' ') from jsonb_array_elements(coalesce(content->'name','[]'::jsonb)) n, "
                + "jsonb_array_elements_text(coalesce(n->'given','[]'::jsonb)) g)", q.given());
        Map<String, Object> params = new HashMap<>();
        if (q.birthDate() != null && q.birthDate().getValueAsString() != null) {
            sb.where("content->>'birthDate' = :birthDate");
            params.put("birthDate", q.birthDate().getValueAsString());
        }
        if (q.gender() != null && q.gender().getValue() != null) {
            sb.where("content->>'gender' = :gender");
            params.put("gender", q.gender().getValue().toLowerCase(Locale.ROOT));
        }
        if (q.id() != null && q.id().getValue() != null) {
            sb.where("id = :pid");
            params.put("pid", q.id().getValue());
        }
        params.putAll(sb.params());
        params.put("viewer", caller.organizationId());
        int limit = count == null ? 50 : Math.max(0, Math.min(count, 500));
        List<Patient> result = store.search(Patient.class, sb.sql(), params, limit, offset == null ? 0 : Math.max(0, offset));
        result.forEach(this::decorate);
        audit.success("patient-search", AuditEventAction.R, caller, Caller.clientAddress(request), null);
        return result;
    }

    public byte[] consentTemplate(String id, ServletRequestDetails request) {
        Caller caller = requireParticipant(request);
        Patient patient = requireVisible(id, caller);
        String name = patient.getName().stream().findFirst().map(PatientService::display).orElse("");
        String bd = patient.hasBirthDate() ? patient.getBirthDateElement().getValueAsString() : null;
        LocalDate birthDate = bd != null && bd.length() == 10 ? LocalDate.parse(bd) : null; // partial dates stay blank
        String requester = directory.findOrganization(caller.organizationId()).map(o -> o.getName()).orElse(null);
        byte[] pdf = ConsentTemplatePdf.render(new ConsentTemplatePdf.Form(props.operator().name(), props.operator().address(),
                name, birthDate, kvnrOf(patient).orElse(null), requester, LocalDate.now(ZoneId.of("Europe/Berlin"))));
        audit.success("consent-template", AuditEventAction.R, caller, Caller.clientAddress(request), "Patient/" + id);
        return pdf;
    }

    static String display(HumanName name) {
        if (name.hasText()) {
            return name.getText();
        }
        StringBuilder sb = new StringBuilder();
        name.getPrefix().forEach(p -> sb.append(p.getValue()).append(' '));
        name.getGiven().forEach(g -> sb.append(g.getValue()).append(' '));
        if (name.hasFamily()) {
            sb.append(name.getFamily());
        }
        return sb.toString().trim();
    }

    private void validate(Patient patient) {
        validation.require(patient);
        for (Identifier identifier : patient.getIdentifier()) {
            if (Systems.KVNR.equals(identifier.getSystem())
                    && (identifier.getValue() == null || !identifier.getValue().matches(KVNR_PATTERN))) {
                throw new GatewayException(ErrorCode.INVALID_RESOURCE,
                        "A KVNR (" + Systems.KVNR + ") is one capital letter and nine digits.");
            }
        }
        if (patient.getIdentifier().stream().filter(i -> Systems.KVNR.equals(i.getSystem())).count() > 1) {
            throw new GatewayException(ErrorCode.INVALID_RESOURCE, "A patient has at most one KVNR.");
        }
    }

    static Optional<String> kvnrOf(Patient patient) {
        return patient.getIdentifier().stream()
                .filter(i -> Systems.KVNR.equals(i.getSystem()) && i.hasValue())
                .map(Identifier::getValue).findFirst();
    }

    private static Optional<String> kvnrFromConditionalUrl(String conditionalUrl) {
        String query = conditionalUrl.contains("?") ? conditionalUrl.substring(conditionalUrl.indexOf('?') + 1) : conditionalUrl;
        for (String part : query.split("&")) {
            String decoded = java.net.URLDecoder.decode(part, java.nio.charset.StandardCharsets.UTF_8);
            String prefix = "identifier=" + Systems.KVNR + "|";
            if (decoded.startsWith(prefix) && decoded.substring(prefix.length()).matches(KVNR_PATTERN)) {
                return Optional.of(decoded.substring(prefix.length()));
            }
        }
        return Optional.empty();
    }

    static void stripComputed(Patient patient) {
        patient.getExtension().removeIf(e -> Systems.EXT_CONSENT_STATUS.equals(e.getUrl()));
    }

    /** Adds the consent marker, so a client can show a revocation notice before starting a chat. */
    public void decorate(Patient patient) {
        stripComputed(patient);
        ConsentState state = consents.stateOf(patient.getIdElement().getIdPart());
        Extension marker = patient.addExtension().setUrl(Systems.EXT_CONSENT_STATUS);
        String status = state.consentId() == null ? "none" : state.active() ? "active" : "revoked";
        marker.addExtension("status", new CodeType(status));
        if (state.consentId() != null) {
            marker.addExtension("consent", new Reference("Consent/" + state.consentId()));
        }
        if (!state.active()) {
            state.lastRevoked().ifPresent(at -> marker.addExtension("revokedAt", new DateTimeType(java.util.Date.from(at))));
        }
    }
}
