package org.carerelay.gateway.patient;

import ca.uhn.fhir.rest.api.MethodOutcome;
import ca.uhn.fhir.rest.api.server.IBundleProvider;
import ca.uhn.fhir.rest.param.BaseParam;
import ca.uhn.fhir.rest.param.DateParam;
import ca.uhn.fhir.rest.param.ParamPrefixEnum;
import ca.uhn.fhir.rest.param.StringParam;
import ca.uhn.fhir.rest.param.TokenParam;
import ca.uhn.fhir.rest.server.exceptions.ResourceNotFoundException;
import java.net.URLDecoder;
import java.nio.charset.StandardCharsets;
import java.time.LocalDate;
import java.time.ZoneId;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.Date;
import java.util.Objects;
import java.util.function.BiConsumer;
import java.util.function.Consumer;
import java.util.HashMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.Optional;
import org.carerelay.fhir.ErrorCode;
import org.carerelay.fhir.GermanIdentifiers;
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
import org.carerelay.gateway.store.SearchPage;
import org.carerelay.routes.letter.ConsentTemplatePdf;
import org.hl7.fhir.r4.model.AuditEvent;
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

/**
 * Rules for patients: one canonical patient per KVNR, visible to its creators, conversation
 * participants and joined consent partners only; an identifier match alone grants nothing.
 */
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
    private final PatientIndex index;

    public PatientService(ResourceStore store, PatientAccess access, ConsentRepository consents, Validation validation,
            AuditService audit, JdbcClient jdbc, DirectoryService directory, CareRelayProperties props, PatientIndex index) {
        this.index = index;
        this.store = store;
        this.access = access;
        this.consents = consents;
        this.validation = validation;
        this.audit = audit;
        this.jdbc = jdbc;
        this.directory = directory;
        this.props = props;
    }

    private static final String PARTICIPANTS_ONLY = "Only registered participants work with patients.";

    @Transactional
    public MethodOutcome create(Patient patient, String conditionalUrl, Caller caller, String clientAddress) {
        return create(patient, conditionalUrl, caller.requireParticipant(PARTICIPANTS_ONLY), clientAddress, true);
    }

    /**
     * {@code mayJoin}: whether a caller named in the active consent of a record with this KVNR joins
     * it (an explicit FHIR create does; an inbound HL7 message never does).
     */
    private MethodOutcome create(Patient patient, String conditionalUrl, Caller caller, String clientAddress, boolean mayJoin) {
        patient.setId((String) null);
        stripComputed(patient);
        Optional<String> kvnr = kvnrOf(patient);
        // the KVNR's check digit is decided below: an entry stored before that rule is still found by it
        validate(patient, kvnr.map(k -> List.of(new Identifier().setSystem(Systems.KVNR).setValue(k))).orElse(List.of()));
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
        Optional<String> kvnrProblem = kvnr.flatMap(k -> GermanIdentifiers.problem(Systems.KVNR, k));
        if (kvnrProblem.isPresent()) {
            // a KVNR with a wrong check digit only finds an entry the caller may see; it never makes a new one
            Optional<String> existing = existingWithInvalidKvnr(kvnr.get(), caller, clientAddress, mayJoin);
            if (existing.isEmpty()) {
                throw new GatewayException(ErrorCode.IDENTIFIER_INVALID, kvnrProblem.get());
            }
            return existing(existing.get(), caller, clientAddress);
        }
        if (kvnr.isPresent()) {
            String newId = ResourceStore.newId();
            String kvnrHash = index.kvnr(kvnr.get());
            // the primary key on the KVNR decides races: exactly one canonical patient per KVNR
            jdbc.sql("insert into patient_kvnr (kvnr, patient_id) values (?, ?) on conflict do nothing")
                    .params(kvnrHash, newId).update();
            String canonical = jdbc.sql("select patient_id from patient_kvnr where kvnr = ?").param(kvnrHash)
                    .query(String.class).single();
            if (!canonical.equals(newId)) {
                Optional<String> known = mayJoin ? resolveKvnr(kvnr.get(), caller, clientAddress) : seenRecord(kvnr.get(), caller);
                if (known.isEmpty()) {
                    // a KVNR match alone grants nothing: the caller gets a record of its own, answered like
                    // a first create; the primary key makes a concurrent repeat find that same record
                    jdbc.sql("insert into patient_kvnr_local (kvnr, organization_id, patient_id) values (?, ?, ?) on conflict do nothing")
                            .params(kvnrHash, caller.organizationId(), newId).update();
                    known = localRecord(kvnr.get(), caller.organizationId()).filter(id -> !id.equals(newId));
                    if (known.isEmpty()) {
                        audit.record(new AuditService.Entry("patient-kvnr-collision", AuditEventAction.C,
                                AuditEvent.AuditEventOutcome._0, caller.auditName(), clientAddress,
                                "Patient/" + canonical, "The KVNR of Patient/" + canonical + " was sent by an organisation that"
                                        + " may not see that patient; it got a separate record, Patient/" + newId + "."));
                    }
                }
                if (known.isPresent()) {
                    return existing(known.get(), caller, clientAddress);
                }
            }
            patient.setId(newId);
        }
        Patient saved = store.create(patient);
        index.reindex(saved);
        String id = saved.getIdElement().getIdPart();
        access.grant(id, caller.organizationId(), "created");
        indexIdentifiers(id, saved.getIdentifier(), caller.organizationId());
        audit.success("patient-create", AuditEventAction.C, caller, clientAddress, "Patient/" + id);
        decorate(saved);
        return new MethodOutcome(saved.getIdElement(), true).setResource(saved);
    }

    /**
     * A new version of a patient the caller sees. With {@code expectedVersion} (the client's
     * {@code If-Match}) only when the stored version is that one: otherwise {@code version-conflict}
     * (412) and nothing changes. A patient the caller does not see is 404 either way.
     */
    @Transactional
    public MethodOutcome update(String id, String expectedVersion, Patient patient, Caller caller, String clientAddress) {
        caller.requireParticipant(PARTICIPANTS_ONLY);
        if (!access.canSee(caller.organizationId(), id)) {
            throw new ResourceNotFoundException(new IdType("Patient", id)); // before If-Match: existence does not leak
        }
        // lock first, then read: the checks below (KVNR unchanged) run against the version this update replaces
        Integer locked = store.lockVersion("Patient", id, expectedVersion);
        Patient existing = requireVisible(id, caller);
        stripComputed(patient);
        patient.setId(id);
        validate(patient, existing.getIdentifier());
        Optional<String> oldKvnr = kvnrOf(existing);
        Optional<String> newKvnr = kvnrOf(patient);
        if (!oldKvnr.equals(newKvnr)) {
            if (oldKvnr.isPresent()) {
                throw new GatewayException(ErrorCode.INVALID_RESOURCE, "The KVNR of a patient cannot be changed or removed.");
            }
            claimKvnr(newKvnr.get(), id, caller);
        }
        // only what this caller added: the body repeats the identifiers other organisations assigned
        List<Identifier> added = patient.getIdentifier().stream()
                .filter(i -> existing.getIdentifier().stream().noneMatch(e -> sameIdentifier(e, i))).toList();
        Patient saved = store.updateLocked(patient, locked);
        index.reindex(saved, existing);
        indexIdentifiers(id, added, caller.organizationId());
        audit.success("patient-update", AuditEventAction.U, caller, clientAddress, "Patient/" + id);
        decorate(saved);
        return new MethodOutcome(saved.getIdElement(), false).setResource(saved);
    }

    /**
     * HL7v2 ADT (and the PID of documents): the patient the sender already sees under one of the
     * incoming identifiers (KVNR first; other identifiers only as assigned by this sender) is
     * updated with the incoming demographics, otherwise a patient is created for the sender. A
     * patient the sender cannot see is never linked, granted or overwritten.
     */
    @Transactional
    public Patient upsertFromHl7(Patient incoming, Caller caller, String clientAddress) {
        stripComputed(incoming);
        incoming.setId((String) null);
        // read without a lock: a message that repeats what is stored (the PID of every MDM^T02, an
        // ADT^A08 sent for a visit) writes nothing, so it need not wait for, nor hold up, the other
        // messages about the same patient; it is ordered before any update committed after this read
        Optional<Known> existing = findByIdentifiers(incoming, caller);
        if (existing.isEmpty()) {
            MethodOutcome created = create(incoming, null, caller, clientAddress, false);
            return (Patient) created.getResource();
        }
        Patient current = existing.get().patient();
        boolean identifiersIndexed = existing.get().identifiersIndexed();
        String id = current.getIdElement().getIdPart();
        stripComputed(current);
        Patient patient = current.copy();
        List<String> newKvnrs = new ArrayList<>();
        merge(patient, incoming, newKvnrs::add);
        stripComputed(patient);
        if (store.sameContent(patient, current)) {
            return unchanged(id, current, incoming, identifiersIndexed, caller, clientAddress);
        }
        if (newKvnrs.isEmpty() && !anotherKvnr(incoming, current)) {
            // the common case, no KVNR to claim: validated against the version read and written as the
            // next one in one statement, which applies only while that version is still the stored one
            // (no lock taken before); a refusal, like an unchanged message, is ordered at the read
            validate(patient, current.getIdentifier());
            if (store.updateIfStill(patient, Integer.parseInt(current.getMeta().getVersionId()))) {
                return updated(id, patient, current, incoming, identifiersIndexed, caller, clientAddress);
            }
            // another version was written meanwhile: locked, read again and decided again below
        }
        Integer locked = store.lockVersion("Patient", id, null);
        boolean changedMeanwhile = !current.getMeta().getVersionId().equals(String.valueOf(locked));
        Patient before = changedMeanwhile ? store.read(Patient.class, id).orElseThrow() : current; // the version this update replaces
        stripComputed(before);
        if (anotherKvnr(incoming, before)) {
            // it got another KVNR since the lookup above: another person, whom that lookup would not have matched
            return upsertFromHl7(incoming, caller, clientAddress);
        }
        if (changedMeanwhile) {
            patient = before.copy();
            newKvnrs.clear();
            merge(patient, incoming, newKvnrs::add);
            stripComputed(patient);
            if (store.sameContent(patient, before)) {
                return unchanged(id, before, incoming, identifiersIndexed, caller, clientAddress); // changed to what the message says
            }
        }
        for (String kvnr : newKvnrs) {
            claimKvnr(kvnr, id, caller);
        }
        List<Identifier> stored = before.getIdentifier();
        validate(patient, stored);
        return updated(id, store.updateLocked(patient, locked), before, incoming, identifiersIndexed, caller, clientAddress);
    }

    /** The stored patient has another KVNR than the incoming one: another person. */
    private static boolean anotherKvnr(Patient incoming, Patient stored) {
        return kvnrOf(incoming).isPresent() && kvnrOf(stored).isPresent() && !kvnrOf(incoming).equals(kvnrOf(stored));
    }

    /**
     * What follows a new version written from a message: the search index (against {@code replaced},
     * the version it replaces), the sender's identifiers (unless {@code identifiersIndexed}: the
     * lookup found them all indexed for this patient already), the audit.
     */
    private Patient updated(String id, Patient saved, Patient replaced, Patient incoming, boolean identifiersIndexed, Caller caller,
            String clientAddress) {
        index.reindex(saved, replaced);
        if (!identifiersIndexed) {
            indexIdentifiers(id, incoming.getIdentifier(), caller.organizationId());
        }
        audit.success("patient-update", AuditEventAction.U, caller, clientAddress, "Patient/" + id);
        return saved;
    }

    /**
     * The incoming demographics over the stored ones, and the incoming identifiers the patient does
     * not have yet (never a second KVNR); {@code newKvnr} is told of a KVNR the patient gets.
     */
    private static void merge(Patient patient, Patient incoming, Consumer<String> newKvnr) {
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
            boolean known = patient.getIdentifier().stream().anyMatch(i -> sameIdentifier(i, identifier));
            boolean secondKvnr = Systems.KVNR.equals(identifier.getSystem()) && hasKvnr;
            if (!known && !secondKvnr) {
                patient.addIdentifier(identifier);
                if (Systems.KVNR.equals(identifier.getSystem())) {
                    newKvnr.accept(identifier.getValue());
                    hasKvnr = true;
                }
            }
        }
    }

    /**
     * What the message says is what is stored, to the letter: that version was validated when it
     * was written; no new version (compared as JSON: a more precise date parses to the same value
     * as a year). The sender's identifiers are indexed unless {@code identifiersIndexed} (the lookup
     * found them all indexed for this patient already).
     */
    private Patient unchanged(String id, Patient stored, Patient incoming, boolean identifiersIndexed, Caller caller,
            String clientAddress) {
        if (!identifiersIndexed) {
            indexIdentifiers(id, incoming.getIdentifier(), caller.organizationId());
        }
        audit.success("patient-update", AuditEventAction.U, caller, clientAddress, "Patient/" + id);
        return stored;
    }

    /**
     * The stored patient the incoming one is, among those the caller may see: by KVNR when it has
     * one (a record it already sees, never one it would join); otherwise by another identifier the caller itself assigned —
     * but never a patient that has a different KVNR.
     */
    private Optional<Known> findByIdentifiers(Patient incoming, Caller caller) {
        String org = caller.organizationId();
        Optional<String> kvnr = kvnrOf(incoming);
        if (kvnr.isPresent()) {
            // only a record the sender already sees: a message never joins one (a consent naming the
            // sender may have been written by anyone who knew the KVNR); found and read in one
            // statement, which also tells whether the identifiers the message brings are indexed for it
            Map<String, Object> params = new HashMap<>(Map.of("kvnr", index.kvnr(kvnr.get()), "org", org));
            List<ResourceStore.Found<Patient>> known = store.search(Patient.class, "id = (" + SEEN_RECORD + ")", params,
                    identifiersIndexed(incoming.getIdentifier(), params), 1, 0);
            if (!known.isEmpty()) {
                return Optional.of(new Known(known.get(0).resource(), known.get(0).condition()));
            }
        }
        for (Identifier identifier : incoming.getIdentifier()) {
            if (!indexable(identifier)) {
                continue;
            }
            Optional<Patient> found = jdbc.sql("select patient_id from patient_identifier where assigner_org = ? and system = ? and value = ? and hashed")
                    .params(org, identifier.getSystem(), index.identifier(identifier.getSystem(), identifier.getValue()))
                    .query(String.class).optional()
                    .filter(id -> access.canSee(org, id))
                    .flatMap(id -> store.read(Patient.class, id));
            if (found.isPresent() && (kvnr.isEmpty() || kvnrOf(found.get()).isEmpty())) {
                return found.map(patient -> new Known(patient, false));
            }
        }
        return Optional.empty();
    }

    /** A stored patient an incoming one is, and whether the identifiers it brings are all indexed for it. */
    private record Known(Patient patient, boolean identifiersIndexed) {
    }

    /**
     * SQL condition on a patient row ({@code fhir_resource.id}): each of {@code identifiers} that
     * {@link #indexIdentifiers} would index has a row for this patient already (a row with a hashed
     * value is never deleted; the start-up conversion deletes only plaintext ones), so indexing them
     * again would write nothing. Its parameters go into {@code params}.
     */
    private String identifiersIndexed(List<Identifier> identifiers, Map<String, Object> params) {
        List<String> rows = new ArrayList<>();
        for (Identifier identifier : identifiers) {
            if (indexable(identifier)) {
                int i = rows.size();
                params.put("indexedSystem" + i, identifier.getSystem());
                params.put("indexedValue" + i, index.identifier(identifier.getSystem(), identifier.getValue()));
                rows.add("(:indexedSystem" + i + ", :indexedValue" + i + ")");
            }
        }
        if (rows.isEmpty()) {
            return "true";
        }
        return "not exists (select 1 from (values " + String.join(", ", rows) + ") as i(system, value) where not exists "
                + "(select 1 from patient_identifier pi where pi.patient_id = fhir_resource.id and pi.system = i.system and pi.value = i.value))";
    }

    /** An identifier kept in {@code patient_identifier}: with system and value, not the KVNR (it has tables of its own). */
    private static boolean indexable(Identifier identifier) {
        return identifier.getSystemElement().hasValue() && identifier.getValueElement().hasValue()
                && !Systems.KVNR.equals(identifier.getSystem());
    }

    /**
     * The patient a KVNR stands for, for this caller (explicit FHIR create): a record holding that
     * KVNR it already sees, else every record whose active consent names the caller (it joins them:
     * it may see them from now on), else nothing.
     */
    private Optional<String> resolveKvnr(String kvnr, Caller caller, String clientAddress) {
        Optional<String> seen = seenRecord(kvnr, caller);
        return seen.isPresent() ? seen : joinByConsent(kvnr, caller, clientAddress).stream().findFirst();
    }

    /**
     * Every patient holding KVNR {@code :kvnr}, ranked: the caller's ({@code :org}) own record (0),
     * the canonical patient (1), the records other organisations made for it (2).
     */
    private static final String RECORDS_WITH_KVNR = """
            select patient_id, 0 as rank from patient_kvnr_local where kvnr = :kvnr and organization_id = :org
            union all select patient_id, 1 from patient_kvnr where kvnr = :kvnr
            union all select patient_id, 2 from patient_kvnr_local where kvnr = :kvnr and organization_id <> :org""";

    /**
     * The first of the records holding KVNR {@code :kvnr} ({@link #RECORDS_WITH_KVNR}) that the
     * caller {@code :org} already sees.
     */
    private static final String SEEN_RECORD = "select r.patient_id from (" + RECORDS_WITH_KVNR + ") r "
            + "where exists (select 1 from patient_access a where a.patient_id = r.patient_id and a.organization_id = :org) "
            + "order by r.rank, r.patient_id limit 1";

    /** Every patient holding this KVNR, in the order of {@link #RECORDS_WITH_KVNR} (then by id). */
    private List<String> recordsWithKvnr(String kvnr, String organizationId) {
        return jdbc.sql("select patient_id from (" + RECORDS_WITH_KVNR + ") r group by patient_id order by min(rank), patient_id")
                .param("kvnr", index.kvnr(kvnr)).param("org", organizationId).query(String.class).list();
    }

    /**
     * The first record holding this KVNR that the caller already sees, in the same order (one
     * statement; an HL7v2 message looks it up and reads it in one, see {@link #findByIdentifiers}).
     */
    private Optional<String> seenRecord(String kvnr, Caller caller) {
        return jdbc.sql(SEEN_RECORD).param("kvnr", index.kvnr(kvnr)).param("org", caller.organizationId())
                .query(String.class).optional();
    }

    /** Joins the caller to every record holding this KVNR whose active consent names it; the records joined. */
    private List<String> joinByConsent(String kvnr, Caller caller, String clientAddress) {
        String org = caller.organizationId();
        List<String> joined = new ArrayList<>();
        for (String id : recordsWithKvnr(kvnr, org)) {
            if (!access.canSee(org, id) && consents.stateOf(id).activeActor(org)) {
                access.grant(id, org, "consent");
                audit.success("patient-join-by-consent", AuditEventAction.R, caller, clientAddress, "Patient/" + id);
                joined.add(id);
            }
        }
        return joined;
    }

    private Optional<String> localRecord(String kvnr, String organizationId) {
        return jdbc.sql("select patient_id from patient_kvnr_local where kvnr = ? and organization_id = ?")
                .params(index.kvnr(kvnr), organizationId).query(String.class).optional()
                .filter(id -> access.canSee(organizationId, id));
    }

    /**
     * A KVNR added to a patient that had none: it becomes the canonical patient for it, or — when
     * another patient is canonical — the caller's own record for it. Only a caller that sees the
     * other patient learns that it exists.
     */
    private void claimKvnr(String kvnr, String patientId, Caller caller) {
        String org = caller.organizationId();
        String key = index.kvnr(kvnr);
        if (jdbc.sql("insert into patient_kvnr (kvnr, patient_id) values (?, ?) on conflict do nothing")
                .params(key, patientId).update() > 0) {
            return;
        }
        boolean taken = seenRecord(kvnr, caller).isPresent() || jdbc.sql(
                "insert into patient_kvnr_local (kvnr, organization_id, patient_id) values (?, ?, ?) on conflict do nothing")
                .params(key, org, patientId).update() == 0;
        if (taken) {
            throw new GatewayException(ErrorCode.DUPLICATE_IDENTIFIER, "Another patient you see already has this KVNR.");
        }
    }

    /**
     * Identifiers other than the KVNR are scoped to the organisation that first added them to the
     * patient: {@code identifiers} are the ones this caller itself sent; one that some organisation
     * already holds for this patient stays that organisation's.
     */
    private void indexIdentifiers(String patientId, List<Identifier> identifiers, String organizationId) {
        for (Identifier identifier : identifiers) {
            if (indexable(identifier)) {
                String value = index.identifier(identifier.getSystem(), identifier.getValue());
                jdbc.sql("""
                        insert into patient_identifier (assigner_org, system, value, patient_id, hashed)
                        select ?, ?, ?, ?, true
                        where not exists (select 1 from patient_identifier where patient_id = ? and system = ? and value = ?)
                        on conflict do nothing""")
                        .params(organizationId, identifier.getSystem(), value, patientId, patientId, identifier.getSystem(), value)
                        .update();
            }
        }
    }

    private static boolean sameIdentifier(Identifier a, Identifier b) {
        return Objects.equals(a.getSystem(), b.getSystem()) && Objects.equals(a.getValue(), b.getValue());
    }

    /**
     * A participant named in the active consent of a patient finds it by its KVNR and joins it — every
     * record holding that KVNR whose consent names it, not only the canonical one;
     * for everyone else a KVNR search shows only the patients it already sees.
     */
    private void joinByKvnrSearch(TokenParam identifier, Caller caller, String clientAddress) {
        if (identifier == null || identifier.getValue() == null || !identifier.getValue().matches(KVNR_PATTERN)
                || (identifier.getSystem() != null && !identifier.getSystem().isEmpty() && !Systems.KVNR.equals(identifier.getSystem()))) {
            return;
        }
        joinByConsent(identifier.getValue(), caller, clientAddress);
    }

    /**
     * Version {@code version} of a patient the caller sees (null: the current one); 404 like a read
     * otherwise. What the caller is shown, and the read audit, are decided by the visibility service.
     */
    public Patient read(String id, String version, Caller caller) {
        caller.requireParticipant(PARTICIPANTS_ONLY);
        Patient patient = requireVisible(id, caller);
        if (version != null) {
            patient = store.readVersion(Patient.class, id, version)
                    .orElseThrow(() -> new ResourceNotFoundException(new IdType("Patient", id, version)));
        }
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

    @Transactional
    /**
     * One page ({@code _count}, {@code _offset}) of the patients the caller sees that match; the
     * total counts with the same visibility predicate.
     */
    public IBundleProvider search(Query q, Integer count, Integer offset, Caller caller,
            String clientAddress) {
        caller.requireParticipant(PARTICIPANTS_ONLY);
        for (BaseParam param : Arrays.asList(q.id(), q.name(), q.family(), q.given(),
                q.birthDate(), q.gender(), q.identifier())) {
            SearchBuilder.refuseMissingModifier(param); // an unsupported filter must not widen the answer to every patient
        }
        joinByKvnrSearch(q.identifier(), caller, clientAddress);
        List<String> where = new ArrayList<>();
        where.add(PatientAccess.visibleToViewerPredicate());
        Map<String, Object> params = new HashMap<>();
        // demographics are stored encrypted: every criterion is an exact match of a keyed hash
        BiConsumer<String, String> require = (kind, value) -> {
            String param = "h" + params.size();
            where.add(PatientIndex.has(kind, param));
            params.put(param, index.hash(kind, value));
        };
        TokenParam identifier = q.identifier();
        if (identifier != null && !identifier.isEmpty()) {
            boolean hasSystem = identifier.getSystem() != null && !identifier.getSystem().isBlank();
            boolean hasValue = identifier.getValue() != null && !identifier.getValue().isBlank();
            if (hasSystem && hasValue) {
                where.add(PatientIndex.has(PatientIndex.IDENTIFIER, "hid"));
                params.put("hid", index.identifier(identifier.getSystem(), identifier.getValue()));
            } else if (hasValue) {
                require.accept(PatientIndex.IDENTIFIER_VALUE, identifier.getValue());
            } else if (hasSystem) {
                require.accept(PatientIndex.IDENTIFIER_SYSTEM, identifier.getSystem());
            }
        }
        nameTokens(q.name()).forEach(t -> require.accept(PatientIndex.NAME, t));
        nameTokens(q.family()).forEach(t -> require.accept(PatientIndex.FAMILY, t));
        nameTokens(q.given()).forEach(t -> require.accept(PatientIndex.GIVEN, t));
        if (q.birthDate() != null && q.birthDate().getValueAsString() != null) {
            if (q.birthDate().getPrefix() != null && q.birthDate().getPrefix() != ParamPrefixEnum.EQUAL) {
                throw new GatewayException(ErrorCode.INVALID_REQUEST, "birthdate is matched exactly (no prefix such as ge or lt).");
            }
            require.accept(PatientIndex.BIRTHDATE, q.birthDate().getValueAsString());
        }
        if (q.gender() != null && q.gender().getValue() != null) {
            require.accept(PatientIndex.GENDER, q.gender().getValue().toLowerCase(Locale.ROOT));
        }
        if (q.id() != null && q.id().getValue() != null) {
            where.add("id = :pid");
            params.put("pid", q.id().getValue());
        }
        params.put("viewer", caller.organizationId());
        return store.searchPage(Patient.class, String.join(" and ", where), params,
                SearchPage.offset(offset), SearchPage.pageSize(count), page -> {
                    page.forEach(this::decorate);
                    return page;
                });
    }

    public byte[] consentTemplate(String id, Caller caller, String clientAddress) {
        caller.requireParticipant(PARTICIPANTS_ONLY);
        Patient patient = requireVisible(id, caller);
        String name = patient.getName().stream().findFirst().map(PatientService::display).orElse("");
        String bd = patient.hasBirthDate() ? patient.getBirthDateElement().getValueAsString() : null;
        LocalDate birthDate = bd != null && bd.length() == 10 ? LocalDate.parse(bd) : null; // partial dates stay blank
        String requester = directory.findOrganization(caller.organizationId()).map(o -> o.getName()).orElse(null);
        byte[] pdf = ConsentTemplatePdf.render(new ConsentTemplatePdf.Form(props.operator().name(), props.operator().address(),
                name, birthDate, kvnrOf(patient).orElse(null), requester, LocalDate.now(ZoneId.of("Europe/Berlin"))));
        audit.success("consent-template", AuditEventAction.R, caller, clientAddress, "Patient/" + id);
        return pdf;
    }

    /** The whitespace-separated, normalised words of a name search value; each must match a whole name part. */
    private static List<String> nameTokens(StringParam param) {
        if (param == null || param.getValue() == null || param.getValue().isBlank()) {
            return List.of();
        }
        return List.of(PatientIndex.normalize(param.getValue()).split(" "));
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

    /**
     * The entry a KVNR stored before check digits were checked leads the caller to, as a create with
     * that KVNR would (its own or a joined record); empty where there is none the caller may see.
     */
    private Optional<String> existingWithInvalidKvnr(String kvnr, Caller caller, String clientAddress, boolean mayJoin) {
        String kvnrHash = index.kvnr(kvnr);
        Optional<String> canonical = jdbc.sql("select patient_id from patient_kvnr where kvnr = ?").param(kvnrHash)
                .query(String.class).optional();
        if (canonical.isEmpty()) {
            return Optional.empty();
        }
        Optional<String> known = mayJoin ? resolveKvnr(kvnr, caller, clientAddress) : seenRecord(kvnr, caller);
        return known.or(() -> localRecord(kvnr, caller.organizationId()));
    }

    private MethodOutcome existing(String id, Caller caller, String clientAddress) {
        Patient existing = store.read(Patient.class, id).orElseThrow();
        audit.success("patient-create-existing", AuditEventAction.R, caller, clientAddress, "Patient/" + id);
        decorate(existing);
        return new MethodOutcome(existing.getIdElement(), false).setResource(existing);
    }


    /** {@code stored}: the identifiers the record already had (not checked for a check digit again). */
    private void validate(Patient patient, List<Identifier> stored) {
        validation.require(patient);
        // KVNR (and any other German identifier a patient carries): format and check digit
        Optional<String> problem = GermanIdentifiers.firstProblem(patient.getIdentifier(), stored);
        if (problem.isPresent()) {
            throw new GatewayException(ErrorCode.IDENTIFIER_INVALID, problem.get());
        }
        if (patient.getIdentifier().stream().filter(i -> Systems.KVNR.equals(i.getSystem())).count() > 1) {
            throw new GatewayException(ErrorCode.INVALID_RESOURCE, "A patient has at most one KVNR.");
        }
    }

    static Optional<String> kvnrOf(Patient patient) {
        return patient.getIdentifier().stream()
                .filter(i -> Systems.KVNR.equals(i.getSystem()) && i.getValueElement().hasValue())
                .map(Identifier::getValue).findFirst();
    }

    private static Optional<String> kvnrFromConditionalUrl(String conditionalUrl) {
        String query = conditionalUrl.contains("?") ? conditionalUrl.substring(conditionalUrl.indexOf('?') + 1) : conditionalUrl;
        for (String part : query.split("&")) {
            String decoded = URLDecoder.decode(part, StandardCharsets.UTF_8);
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
            state.lastRevoked().ifPresent(at -> marker.addExtension("revokedAt", new DateTimeType(Date.from(at))));
        }
    }
}
