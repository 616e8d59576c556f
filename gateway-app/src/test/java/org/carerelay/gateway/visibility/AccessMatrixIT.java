package org.carerelay.gateway.visibility;

import static org.assertj.core.api.Assertions.assertThat;
import static org.awaitility.Awaitility.await;

import java.io.IOException;
import java.net.InetSocketAddress;
import java.net.Socket;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.charset.Charset;
import java.nio.charset.StandardCharsets;
import java.time.Duration;
import java.util.ArrayList;
import java.util.EnumMap;
import java.util.EnumSet;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.Set;
import java.util.UUID;
import javax.net.ssl.SSLParameters;
import javax.net.ssl.SSLSocket;
import org.carerelay.fhir.Systems;
import org.carerelay.fhir.hl7.AdtToPatient;
import org.carerelay.gateway.Conversations;
import org.carerelay.gateway.GatewayIntegrationTest;
import org.carerelay.gateway.Mllp;
import org.carerelay.gateway.Participants;
import org.carerelay.gateway.TestPorts;
import org.hl7.fhir.instance.model.api.IBaseResource;
import org.hl7.fhir.r4.model.AuditEvent;
import org.hl7.fhir.r4.model.Binary;
import org.hl7.fhir.r4.model.Bundle;
import org.hl7.fhir.r4.model.Communication;
import org.hl7.fhir.r4.model.Consent;
import org.hl7.fhir.r4.model.Endpoint;
import org.hl7.fhir.r4.model.HumanName;
import org.hl7.fhir.r4.model.Organization;
import org.hl7.fhir.r4.model.Parameters;
import org.hl7.fhir.r4.model.Patient;
import org.hl7.fhir.r4.model.Practitioner;
import org.hl7.fhir.r4.model.PractitionerRole;
import org.hl7.fhir.r4.model.Reference;
import org.hl7.fhir.r4.model.Resource;
import org.hl7.fhir.r4.model.StringType;
import org.hl7.fhir.r4.model.Task;
import org.junit.jupiter.api.Test;

/**
 * The access matrix: every resource, interaction, operation and channel, tried by every kind of
 * caller that must not get what it asks for, against a realistic scene (two organisations K and P
 * with a patient under an active consent, messages with an attachment, the signed scan, an
 * Endpoint with partner credentials, an invitation, the audit trail).
 *
 * <p>Each attempt is one row: a phase (reads run before anything that could change the scene),
 * the kinds of caller it is tried with, the request, and the rule that says when an answer is an
 * <em>unauthorized success</em>:
 * <ul>
 *   <li>a caller without valid credentials (no token, a malformed, deregistered, deactivated or
 *       rotated-away token) gets no 2xx at all, anywhere but the open endpoints;</li>
 *   <li>a read of a protected resource (patient, consent, message, attachment, invitation, audit
 *       event) by a caller that must not see it: any 2xx;</li>
 *   <li>a search: a 2xx whose Bundle holds a protected resource or a marker of one (ids, KVNR,
 *       name, message text, partner credentials), or whose {@code total} counts more than it shows
 *       (or anything for a {@code _summary=count} on protected data);</li>
 *   <li>a write the caller may not make: any 2xx;</li>
 *   <li>an identifier claim: the claimant sees the patient afterwards, the answer reveals it, or
 *       the answer differs (status or resource type) from the same request with an unknown KVNR;</li>
 *   <li>HL7: an {@code AA}, or anything stored or overwritten.</li>
 * </ul>
 * The table printed at the end shows the attempts and unauthorized successes per kind of caller
 * and every failing attempt; the test fails unless there are none. Add a row with {@link #row}.
 */
class AccessMatrixIT extends GatewayIntegrationTest {

    static final Charset LATIN1 = StandardCharsets.ISO_8859_1;
    static final String MRN_AUTHORITY = "KLINIKUM";
    static final HttpClient HTTP = HttpClient.newBuilder().connectTimeout(Duration.ofSeconds(10)).build();

    /** Who is calling. */
    enum Kind {
        NO_TOKEN("no token", false),
        MALFORMED("malformed token", false),
        STRANGER("another organisation (stranger to the data)", true),
        DEREGISTERED("deregistered organisation", false),
        DEACTIVATED("deactivated organisation", false),
        ROTATED_AWAY("rotated-away token", false),
        OUTSIDE_CONSENT("organisation outside the consent", true),
        KVNR_KNOWER("organisation that knows the KVNR", true),
        SPOOFING_PEER("network peer claiming a registered organisation (MLLP)", false),
        CONSENT_AUTHOR("consent author and sender, not the operator", true),
        CONSENT_PARTNER("consent partner and recipient, not the author or operator", true);

        final String label;
        final boolean validCredentials;

        Kind(String label, boolean validCredentials) {
            this.label = label;
            this.validCredentials = validCredentials;
        }
    }

    /** Reads first, so that nothing an attacker might change colours them; identifier claims last. */
    enum Phase { READ, HL7, WRITE, DESTRUCTIVE, HL7_CLAIMS, CLAIMS, LAST }

    static final Set<Kind> ATTACKERS = EnumSet.of(Kind.NO_TOKEN, Kind.MALFORMED, Kind.STRANGER, Kind.DEREGISTERED,
            Kind.DEACTIVATED, Kind.ROTATED_AWAY, Kind.OUTSIDE_CONSENT, Kind.KVNR_KNOWER);
    static final Set<Kind> WITHOUT_CREDENTIALS = EnumSet.of(Kind.NO_TOKEN, Kind.MALFORMED, Kind.DEREGISTERED,
            Kind.DEACTIVATED, Kind.ROTATED_AWAY);
    static final Set<Kind> INSIDERS = EnumSet.of(Kind.CONSENT_AUTHOR, Kind.CONSENT_PARTNER);

    record Attacker(Kind kind, String organizationId, String token) {
        String authorization() {
            return switch (kind) {
                case NO_TOKEN, SPOOFING_PEER -> null;
                case MALFORMED -> "Bearer crt_%%not.a.token;";
                default -> "Bearer " + token;
            };
        }
    }

    record Answer(String request, int status, String body) {
        boolean ok() {
            return status >= 200 && status < 300;
        }
    }

    @FunctionalInterface
    interface Probe {
        Answer run(Attacker who) throws Exception;
    }

    /** Null when the answer gave nothing away; otherwise why it is an unauthorized success. */
    @FunctionalInterface
    interface Judge {
        String unauthorized(Answer answer, Attacker who) throws Exception;
    }

    /**
     * One row of the matrix. {@code open} rows skip the rule that callers without valid
     * credentials get no 2xx (for answers that are public anyway, like a health check reached by
     * a detour).
     */
    record Attempt(Phase phase, String area, String name, Set<Kind> kinds, boolean open, Probe probe, Judge judge) {
    }

    record Result(Attempt attempt, Kind kind, Answer answer, String unauthorized) {
    }

    /** The scene every attacker goes after. */
    static final class Scene {
        Participants.Registered k, p, x, d, s, o, v;
        String pTokenNow, kAlias, pAlias, xAlias, dAlias, oAlias;
        String unregistered, patient, kvnr, family, mrn, consent, consentScan, message, reply, attachment;
        String revokedPatient, revokedConsent, maskedMessage, maskedAttachment, maskedText;
        String endpoint, secret, task, auditEvent, practitioner, practitionerRole, text, replyText;
        Map<Kind, String> ownPatient = new EnumMap<>(Kind.class);
        Organization kEntry;
        Patient patientEntry;
        Endpoint kEndpoint;
        Practitioner practitionerEntry;
        PractitionerRole roleEntry;

        /** Everything an outsider must never get back. */
        List<String> secrets() {
            return List.of(patient, kvnr, family, mrn, consent, consentScan, message, reply, attachment, revokedPatient,
                    revokedConsent, maskedMessage, maskedAttachment, maskedText, secret, task, auditEvent, text, replyText,
                    "kontakt@" + k.organizationId() + ".example.org");
        }
    }

    private final List<Attempt> attempts = new ArrayList<>();
    private final Map<String, String> aliases = new java.util.HashMap<>();
    private Scene scene;
    private Map<Kind, Attacker> attackers;

    // ------------------------------------------------------------------------------------------ the test

    @Test
    void everyKindOfUnauthorizedCaller_getsNothingFromAnyResourceOperationOrChannel() throws Exception {
        scene = buildScene();
        attackers = attackers(scene);
        defineRows(scene);

        List<Result> results = new ArrayList<>();
        for (Phase phase : Phase.values()) {
            for (Attempt attempt : attempts) {
                if (attempt.phase() != phase) {
                    continue;
                }
                for (Kind kind : attempt.kinds()) {
                    results.add(run(attempt, attackers.get(kind)));
                }
            }
        }
        String table = table(results);
        results.forEach(r -> System.out.println("row [" + r.kind() + "] " + r.attempt().area() + " / " + r.attempt().name() + " -> "
                + (r.answer().status() == 0 ? "ACK " + Mllp.field(String.valueOf(r.answer().body()), "MSA", 1) : r.answer().status())));
        System.out.println(table);
        List<Result> failures = results.stream().filter(r -> r.unauthorized() != null).toList();
        assertThat(failures).as(table).isEmpty();
    }

    private Result run(Attempt attempt, Attacker who) throws Exception {
        Answer answer;
        String verdict;
        try {
            answer = attempt.probe().run(who);
            verdict = !attempt.open() && !who.kind().validCredentials && answer.ok()
                    ? "2xx without valid credentials"
                    : attempt.judge().unauthorized(answer, who);
        } catch (IOException e) {
            answer = new Answer(attempt.name(), -1, e.toString());
            verdict = null; // the connection was refused or closed: nothing was given
        }
        return new Result(attempt, who.kind(), answer, verdict);
    }

    static String table(List<Result> results) {
        Map<Kind, int[]> perKind = new EnumMap<>(Kind.class);
        for (Result r : results) {
            int[] counts = perKind.computeIfAbsent(r.kind(), k -> new int[2]);
            counts[0]++;
            if (r.unauthorized() != null) {
                counts[1]++;
            }
        }
        StringBuilder out = new StringBuilder("\nAccess matrix\n");
        out.append(String.format(Locale.ROOT, "%-62s %9s %14s%n", "caller", "attempts", "unauthorized"));
        perKind.forEach((kind, counts) -> out.append(String.format(Locale.ROOT, "%-62s %9d %14d%n", kind.label, counts[0], counts[1])));
        long failures = results.stream().filter(r -> r.unauthorized() != null).count();
        out.append(String.format(Locale.ROOT, "%-62s %9d %14d%n", "total", results.size(), failures));
        out.append(String.format(Locale.ROOT, "access matrix: %d attempts as %d kinds of caller; unauthorized successes: %d%n",
                results.size(), perKind.size(), failures));
        results.stream().filter(r -> r.answer().status() == -1).forEach(r -> out.append(String.format(Locale.ROOT,
                "  no answer [%s] %s / %s: %s%n", r.kind().name(), r.attempt().area(), r.attempt().name(), r.answer().body())));
        results.stream().filter(r -> r.unauthorized() != null).forEach(r -> out.append(String.format(Locale.ROOT,
                "  FAIL [%s] %s / %s: %s -> %d: %s%n", r.kind().name(), r.attempt().area(), r.attempt().name(),
                r.answer().request(), r.answer().status(), r.unauthorized())));
        return out.toString();
    }

    // ------------------------------------------------------------------------------------------ rows

    private void row(Phase phase, String area, String name, Set<Kind> kinds, Probe probe, Judge judge) {
        attempts.add(new Attempt(phase, area, name, kinds, false, probe, judge));
    }

    private void openRow(Phase phase, String area, String name, Set<Kind> kinds, Probe probe, Judge judge) {
        attempts.add(new Attempt(phase, area, name, kinds, true, probe, judge));
    }

    /** Participants may get a 2xx here (public directory data, their own uploads); only the credential rule applies. */
    static final Judge ALLOWED_FOR_PARTICIPANTS = (a, who) -> null;
    /** Nobody but the operator (or the entitled party, which is not among the callers) gets a 2xx. */
    static final Judge ANY_2XX = (a, who) -> a.ok() ? "2xx" : null;

    /** A 2xx whose content (Bundle entries, or the resource) holds any of the markers. */
    private Judge leaks(List<String> markers) {
        return (a, who) -> a.ok() ? leaked(a.body(), markers) : null;
    }

    private Judge leaksSecrets() {
        return (a, who) -> a.ok() ? leaked(a.body(), scene.secrets()) : null;
    }

    static String leaked(String body, List<String> markers) {
        String content = body;
        String trimmed = body.stripLeading();
        if (trimmed.startsWith("{") || trimmed.startsWith("<")) {
            IBaseResource resource;
            try {
                resource = trimmed.startsWith("{") ? FHIR.newJsonParser().parseResource(body) : FHIR.newXmlParser().parseResource(body);
            } catch (RuntimeException e) {
                resource = null;
            }
            if (resource instanceof Bundle bundle) {
                StringBuilder entries = new StringBuilder();
                for (Bundle.BundleEntryComponent entry : bundle.getEntry()) {
                    if (entry.hasResource()) {
                        entries.append(FHIR.newJsonParser().encodeResourceToString(entry.getResource()));
                    }
                }
                // more matches than entries is paging only when a next or previous page is linked
                boolean paged = bundle.getLink(Bundle.LINK_NEXT) != null || bundle.getLink(Bundle.LINK_PREV) != null;
                if (bundle.hasTotal() && bundle.getTotal() > bundle.getEntry().size() && !paged) {
                    return "Bundle.total " + bundle.getTotal() + " counts entries it does not show";
                }
                content = entries.toString();
            }
        }
        for (String marker : markers) {
            if (marker != null && content.contains(marker)) {
                return "reveals " + marker;
            }
        }
        return null;
    }

    /** A {@code _summary=count} search on protected data: any total above zero counts what the caller must not see. */
    static final Judge COUNTS = (a, who) -> {
        if (!a.ok()) {
            return null;
        }
        Bundle bundle = (Bundle) FHIR.newJsonParser().parseResource(a.body());
        return bundle.getTotal() > 0 || !bundle.getEntry().isEmpty() ? "total " + bundle.getTotal() : null;
    };

    private void defineRows(Scene sc) {
        String k = "Organization/" + sc.k.organizationId();
        String p = "Organization/" + sc.p.organizationId();
        String pat = "Patient/" + sc.patient;
        String kvnrToken = enc(Systems.KVNR + "|" + sc.kvnr);
        String mrnToken = enc(AdtToPatient.AUTHORITY_SYSTEM_PREFIX + MRN_AUTHORITY + "|" + sc.mrn);

        // --- Organization, Practitioner, PractitionerRole: the public directory
        row(Phase.READ, "Organization", "read K", ATTACKERS, get("/fhir/Organization/" + sc.k.organizationId()), leaksSecrets());
        row(Phase.READ, "Organization", "search by name", ATTACKERS, get("/fhir/Organization?name=Matrix"), leaksSecrets());
        row(Phase.READ, "Organization", "search registered=true", ATTACKERS, get("/fhir/Organization?registered=true&_count=500"), leaksSecrets());
        row(Phase.READ, "Organization", "vread K", ATTACKERS, get("/fhir/Organization/" + sc.k.organizationId() + "/_history/1"), leaksSecrets());
        row(Phase.READ, "Practitioner", "read", ATTACKERS, get("/fhir/Practitioner/" + sc.practitioner), ALLOWED_FOR_PARTICIPANTS);
        row(Phase.READ, "Practitioner", "search", ATTACKERS, get("/fhir/Practitioner?name=Matrix"), ALLOWED_FOR_PARTICIPANTS);
        row(Phase.READ, "PractitionerRole", "read", ATTACKERS, get("/fhir/PractitionerRole/" + sc.practitionerRole), ALLOWED_FOR_PARTICIPANTS);
        row(Phase.READ, "PractitionerRole", "search by organisation", ATTACKERS, get("/fhir/PractitionerRole?organization=" + k), ALLOWED_FOR_PARTICIPANTS);
        row(Phase.WRITE, "Organization", "create", ATTACKERS, post("/fhir/Organization", json(Participants.newOrganization("Matrix Eindringling", null, null))), ANY_2XX);
        row(Phase.WRITE, "Organization", "update K", ATTACKERS, put("/fhir/Organization/" + sc.k.organizationId(), json(renamed(sc.kEntry))), ANY_2XX);
        row(Phase.WRITE, "Organization", "$import", ATTACKERS, send("POST", "/fhir/Organization/$import", "text/csv",
                ("id,name,type\nmatrix-import-" + UUID.randomUUID().toString().substring(0, 8) + ",Import,other\n").getBytes(StandardCharsets.UTF_8)), ANY_2XX);
        row(Phase.WRITE, "Organization", "$encryption-certificate remove on K", ATTACKERS,
                post("/fhir/Organization/" + sc.k.organizationId() + "/$encryption-certificate", parameters("remove", "true", true)), ANY_2XX);
        row(Phase.WRITE, "Practitioner", "create", ATTACKERS, post("/fhir/Practitioner", json(practitioner("Matrix", "Eindringling"))), ANY_2XX);
        row(Phase.WRITE, "Practitioner", "update", ATTACKERS, put("/fhir/Practitioner/" + sc.practitioner, json(sc.practitionerEntry)), ANY_2XX);
        row(Phase.WRITE, "PractitionerRole", "create", ATTACKERS, post("/fhir/PractitionerRole", json(role(sc.k.organizationId(), null))), ANY_2XX);
        row(Phase.WRITE, "PractitionerRole", "update", ATTACKERS, put("/fhir/PractitionerRole/" + sc.practitionerRole, json(sc.roleEntry)), ANY_2XX);
        row(Phase.DESTRUCTIVE, "Practitioner", "delete", ATTACKERS, delete("/fhir/Practitioner/" + sc.practitioner), ANY_2XX);
        row(Phase.DESTRUCTIVE, "PractitionerRole", "delete", ATTACKERS, delete("/fhir/PractitionerRole/" + sc.practitionerRole), ANY_2XX);
        row(Phase.DESTRUCTIVE, "Organization", "delete (deactivate) K", ATTACKERS, delete("/fhir/Organization/" + sc.k.organizationId()), ANY_2XX);
        row(Phase.DESTRUCTIVE, "Organization", "$rotate-token of K", ATTACKERS, post("/fhir/Organization/" + sc.k.organizationId() + "/$rotate-token", null), ANY_2XX);
        row(Phase.DESTRUCTIVE, "Organization", "$deregister K", ATTACKERS, post("/fhir/Organization/" + sc.k.organizationId() + "/$deregister", null), ANY_2XX);
        Set<Kind> ownOrg = EnumSet.of(Kind.DEREGISTERED, Kind.DEACTIVATED, Kind.ROTATED_AWAY);
        row(Phase.LAST, "Organization", "$encryption-certificate on its own entry", ownOrg,
                who -> post("/fhir/Organization/" + who.organizationId() + "/$encryption-certificate", parameters("remove", "true", true)).run(who),
                ALLOWED_FOR_PARTICIPANTS);
        row(Phase.LAST, "Organization", "$rotate-token of its own entry", ownOrg,
                who -> post("/fhir/Organization/" + who.organizationId() + "/$rotate-token", null).run(who), ALLOWED_FOR_PARTICIPANTS);

        // --- Endpoint: public, but never the partner credentials in Endpoint.header
        row(Phase.READ, "Endpoint", "read K's endpoint", ATTACKERS, get("/fhir/Endpoint/" + sc.endpoint), leaksSecrets());
        row(Phase.READ, "Endpoint", "read K's endpoint as XML", ATTACKERS, get("/fhir/Endpoint/" + sc.endpoint + "?_format=xml"), leaksSecrets());
        row(Phase.READ, "Endpoint", "search by organisation K", ATTACKERS, get("/fhir/Endpoint?organization=" + k), leaksSecrets());
        row(Phase.READ, "Endpoint", "search all", ATTACKERS, get("/fhir/Endpoint?_count=500"), leaksSecrets());
        row(Phase.READ, "Endpoint", "search with _elements=header", ATTACKERS, get("/fhir/Endpoint?organization=" + k + "&_elements=header"), leaksSecrets());
        row(Phase.WRITE, "Endpoint", "create one managed by K", ATTACKERS, post("/fhir/Endpoint", json(endpoint(sc.k.organizationId(), "https://evil.example/fhir"))), ANY_2XX);
        row(Phase.DESTRUCTIVE, "Endpoint", "update K's endpoint (redirect)", ATTACKERS, put("/fhir/Endpoint/" + sc.endpoint,
                json(withAddress(sc.kEndpoint, "https://evil.example/fhir"))), ANY_2XX);
        row(Phase.DESTRUCTIVE, "Endpoint", "update K's endpoint to be managed by the caller", ATTACKERS,
                who -> put("/fhir/Endpoint/" + sc.endpoint, json(managedBy(sc.kEndpoint,
                        who.organizationId() == null ? sc.s.organizationId() : who.organizationId()))).run(who), ANY_2XX);
        row(Phase.DESTRUCTIVE, "Endpoint", "delete K's endpoint", ATTACKERS, delete("/fhir/Endpoint/" + sc.endpoint), ANY_2XX);

        // --- Patient
        row(Phase.READ, "Patient", "read", ATTACKERS, get("/fhir/" + pat), ANY_2XX);
        row(Phase.READ, "Patient", "vread", ATTACKERS, get("/fhir/" + pat + "/_history/1"), ANY_2XX);
        row(Phase.READ, "Patient", "search identifier=KVNR system|value", ATTACKERS, get("/fhir/Patient?identifier=" + kvnrToken), leaksSecrets());
        row(Phase.READ, "Patient", "search identifier=KVNR value only", ATTACKERS, get("/fhir/Patient?identifier=" + sc.kvnr), leaksSecrets());
        row(Phase.READ, "Patient", "search identifier=K's MRN", ATTACKERS, get("/fhir/Patient?identifier=" + mrnToken), leaksSecrets());
        row(Phase.READ, "Patient", "search name", ATTACKERS, get("/fhir/Patient?name=" + sc.family), leaksSecrets());
        row(Phase.READ, "Patient", "search family + birthdate", ATTACKERS, get("/fhir/Patient?family=" + sc.family + "&birthdate=1941-03-17"), leaksSecrets());
        row(Phase.READ, "Patient", "search _id", ATTACKERS, get("/fhir/Patient?_id=" + sc.patient), leaksSecrets());
        row(Phase.READ, "Patient", "search KVNR with _summary=count", ATTACKERS, get("/fhir/Patient?identifier=" + kvnrToken + "&_summary=count"), COUNTS);
        row(Phase.READ, "Patient", "search _id with _revinclude=Consent:patient", ATTACKERS,
                get("/fhir/Patient?_id=" + sc.patient + "&_revinclude=Consent:patient"), leaksSecrets());
        row(Phase.READ, "Patient", "search by POST _search (KVNR)", ATTACKERS, send("POST", "/fhir/Patient/_search",
                "application/x-www-form-urlencoded", ("identifier=" + kvnrToken).getBytes(StandardCharsets.UTF_8)), leaksSecrets());
        row(Phase.READ, "Patient", "$consent-template", ATTACKERS, get("/fhir/" + pat + "/$consent-template"), ANY_2XX);
        row(Phase.WRITE, "Patient", "create a new patient", ATTACKERS, who -> post("/fhir/Patient",
                json(Conversations.patient("Neu", "Nina", Conversations.kvnr()))).run(who), ALLOWED_FOR_PARTICIPANTS);
        row(Phase.DESTRUCTIVE, "Patient", "update", ATTACKERS, put("/fhir/" + pat, json(patientWithAddress(sc, "Angreiferweg 1"))), ANY_2XX);
        row(Phase.DESTRUCTIVE, "Patient", "delete", ATTACKERS, delete("/fhir/" + pat), ANY_2XX);

        // --- identifier claims: a KVNR or an MRN alone grants and reveals nothing (fresh claimant per row)
        Set<Kind> kvnrClaimants = EnumSet.copyOf(WITHOUT_CREDENTIALS);
        kvnrClaimants.add(Kind.KVNR_KNOWER);
        Set<Kind> mrnClaimants = EnumSet.copyOf(WITHOUT_CREDENTIALS);
        mrnClaimants.add(Kind.OUTSIDE_CONSENT);
        claimRow("create a Patient with the known KVNR", kvnrClaimants, false, identifier(Systems.KVNR, sc.kvnr));
        claimRow("conditional create (If-None-Exist) with the known KVNR", kvnrClaimants, true, identifier(Systems.KVNR, sc.kvnr));
        claimRow("create a Patient with K's MRN", mrnClaimants, false,
                identifier(AdtToPatient.AUTHORITY_SYSTEM_PREFIX + MRN_AUTHORITY, sc.mrn));
        kvnrOracleByUpdateRow(sc);
        kvnrSquattingRow();

        // --- Consent
        row(Phase.READ, "Consent", "read", ATTACKERS, get("/fhir/Consent/" + sc.consent), ANY_2XX);
        row(Phase.READ, "Consent", "vread", ATTACKERS, get("/fhir/Consent/" + sc.consent + "/_history/1"), ANY_2XX);
        row(Phase.READ, "Consent", "read the revoked consent", ATTACKERS, get("/fhir/Consent/" + sc.revokedConsent), ANY_2XX);
        row(Phase.READ, "Consent", "search patient", ATTACKERS, get("/fhir/Consent?patient=" + pat), leaksSecrets());
        row(Phase.READ, "Consent", "search status=active", ATTACKERS, get("/fhir/Consent?status=active"), leaksSecrets());
        row(Phase.READ, "Consent", "search patient with _include=Consent:patient", ATTACKERS,
                get("/fhir/Consent?patient=" + pat + "&_include=Consent:patient"), leaksSecrets());
        row(Phase.WRITE, "Consent", "create for the patient naming the caller", ATTACKERS,
                who -> post("/fhir/Consent", json(Conversations.consent(sc.patient, Conversations.signedScan(), "application/pdf",
                        sc.k.organizationId(), sc.p.organizationId(), orgOf(who)))).run(who), ANY_2XX);
        row(Phase.WRITE, "Consent", "create for its own patient reusing the signed scan of another patient", ATTACKERS,
                who -> post("/fhir/Consent", json(consentWithUrl(ownPatientOf(who), sc.consentScan, orgOf(who)))).run(who), ANY_2XX);
        row(Phase.WRITE, "Consent", "create for its own patient with a message attachment as scan", ATTACKERS,
                who -> post("/fhir/Consent", json(consentWithUrl(ownPatientOf(who), sc.attachment, orgOf(who)))).run(who), ANY_2XX);
        row(Phase.DESTRUCTIVE, "Consent", "update adding the caller as partner", ATTACKERS,
                who -> put("/fhir/Consent/" + sc.consent, json(widenedConsent(sc, orgOf(who)))).run(who), ANY_2XX);
        row(Phase.DESTRUCTIVE, "Consent", "update by a partner who is not the author (widening, no new document)",
                EnumSet.of(Kind.CONSENT_PARTNER), put("/fhir/Consent/" + sc.consent, json(widenedConsent(sc, sc.unregistered))), ANY_2XX);
        row(Phase.DESTRUCTIVE, "Consent", "new signed upload by a partner who is not the author (POST, widening)",
                EnumSet.of(Kind.CONSENT_PARTNER), post("/fhir/Consent", json(Conversations.consent(sc.patient, Conversations.signedScan(),
                        "application/pdf", sc.k.organizationId(), sc.p.organizationId(), sc.x.organizationId(), sc.d.organizationId(),
                        sc.unregistered))), ANY_2XX);
        row(Phase.DESTRUCTIVE, "Consent", "author widens the partners reusing the old scan (no newly signed document)",
                EnumSet.of(Kind.CONSENT_AUTHOR), put("/fhir/Consent/" + sc.consent, json(widenedConsent(sc, sc.unregistered))), ANY_2XX);
        row(Phase.DESTRUCTIVE, "Consent", "$revoke", ATTACKERS, post("/fhir/Consent/" + sc.consent + "/$revoke",
                parameters("reason", "Angreifer", false)), ANY_2XX);
        row(Phase.DESTRUCTIVE, "Consent", "delete", ATTACKERS, delete("/fhir/Consent/" + sc.consent), ANY_2XX);

        // --- Communication
        List<String> threadSecrets = List.of(sc.message, sc.reply, sc.text, sc.replyText, sc.attachment);
        row(Phase.READ, "Communication", "read the header", ATTACKERS, get("/fhir/Communication/" + sc.message), ANY_2XX);
        row(Phase.READ, "Communication", "read the reply", ATTACKERS, get("/fhir/Communication/" + sc.reply), ANY_2XX);
        row(Phase.READ, "Communication", "vread", ATTACKERS, get("/fhir/Communication/" + sc.message + "/_history/1"), ANY_2XX);
        row(Phase.READ, "Communication", "search sender=K", ATTACKERS, get("/fhir/Communication?sender=" + k), leaks(threadSecrets));
        row(Phase.READ, "Communication", "search recipient=P", ATTACKERS, get("/fhir/Communication?recipient=" + p), leaks(threadSecrets));
        row(Phase.READ, "Communication", "search patient", ATTACKERS, get("/fhir/Communication?patient=" + pat), leaks(threadSecrets));
        row(Phase.READ, "Communication", "search subject", ATTACKERS, get("/fhir/Communication?subject=" + pat), leaks(threadSecrets));
        row(Phase.READ, "Communication", "search part-of another conversation", ATTACKERS,
                get("/fhir/Communication?part-of=Communication/" + sc.message), leaks(threadSecrets));
        row(Phase.READ, "Communication", "count part-of another conversation", ATTACKERS,
                get("/fhir/Communication?part-of=Communication/" + sc.message + "&_summary=count"), COUNTS);
        row(Phase.READ, "Communication", "search _id", ATTACKERS, get("/fhir/Communication?_id=" + sc.message), leaks(threadSecrets));
        row(Phase.READ, "Communication", "search category=patient-bound", ATTACKERS, get("/fhir/Communication?category=patient-bound"), leaks(threadSecrets));
        row(Phase.READ, "Communication", "search sent since 2000", ATTACKERS, get("/fhir/Communication?sent=ge2000-01-01&_count=500"), leaks(threadSecrets));
        row(Phase.READ, "Communication", "search unread", ATTACKERS, get("/fhir/Communication?unread=true"), leaks(threadSecrets));
        row(Phase.READ, "Communication", "search with _include=Communication:subject", ATTACKERS,
                get("/fhir/Communication?_include=Communication:subject&_count=500"), leaksSecrets());
        row(Phase.READ, "Communication", "search by POST _search (sender=K)", ATTACKERS, send("POST", "/fhir/Communication/_search",
                "application/x-www-form-urlencoded", ("sender=" + enc(k)).getBytes(StandardCharsets.UTF_8)), leaks(threadSecrets));
        row(Phase.READ, "Communication", "$delivery-status", ATTACKERS, get("/fhir/Communication/" + sc.message + "/$delivery-status"), ANY_2XX);
        row(Phase.READ, "Communication", "$delivery-status by a recipient", EnumSet.of(Kind.CONSENT_PARTNER),
                get("/fhir/Communication/" + sc.message + "/$delivery-status"), ANY_2XX);
        row(Phase.READ, "Communication", "read a message masked by the revocation",
                INSIDERS, get("/fhir/Communication/" + sc.maskedMessage), leaks(List.of(sc.maskedText, sc.maskedAttachment)));
        row(Phase.READ, "Communication", "search the messages about a patient who revoked",
                INSIDERS, get("/fhir/Communication?patient=Patient/" + sc.revokedPatient), leaks(List.of(sc.maskedText, sc.maskedAttachment)));
        row(Phase.WRITE, "Communication", "send about the patient", ATTACKERS, post("/fhir/Communication",
                json(Conversations.message(sc.patient, "Angreifer", sc.p.organizationId()))), ANY_2XX);
        row(Phase.WRITE, "Communication", "send about the patient who revoked", INSIDERS, post("/fhir/Communication",
                json(Conversations.message(sc.revokedPatient, "Nach Widerruf", sc.k.organizationId(), sc.p.organizationId()))), ANY_2XX);
        row(Phase.WRITE, "Communication", "join another conversation (partOf)", ATTACKERS, post("/fhir/Communication",
                json(threaded(Conversations.message(null, "Eingeklinkt", sc.k.organizationId()), sc.message, false))), ANY_2XX);
        row(Phase.WRITE, "Communication", "reply to another conversation (inResponseTo)", ATTACKERS, post("/fhir/Communication",
                json(threaded(Conversations.message(null, "Antwort", sc.k.organizationId()), sc.reply, true))), ANY_2XX);
        row(Phase.WRITE, "Communication", "send as K (sender spoofed)", ATTACKERS, post("/fhir/Communication",
                json(spoofedSender(Conversations.message(null, "Im Namen von K", sc.p.organizationId()), sc.k.organizationId()))), ANY_2XX);
        row(Phase.WRITE, "Communication", "forward another's attachment (url)", ATTACKERS, post("/fhir/Communication",
                json(withAttachmentUrl(Conversations.message(null, "Weiterleitung", sc.k.organizationId()), sc.attachment))), ANY_2XX);
        row(Phase.WRITE, "Communication", "forward the consent scan (contentReference)", ATTACKERS, post("/fhir/Communication",
                json(withContentReference(Conversations.message(null, "Scan", sc.k.organizationId()), sc.consentScan))), ANY_2XX);
        row(Phase.WRITE, "Communication", "update", ATTACKERS, put("/fhir/Communication/" + sc.message,
                json(withId(Conversations.message(sc.patient, "Überschrieben", sc.p.organizationId()), sc.message))), ANY_2XX);
        row(Phase.WRITE, "Communication", "delete", ATTACKERS, delete("/fhir/Communication/" + sc.message), ANY_2XX);
        row(Phase.WRITE, "Communication", "$mark-read of P's message", ATTACKERS, post("/fhir/Communication/" + sc.message + "/$mark-read", null), ANY_2XX);
        Set<Kind> unmaskers = EnumSet.copyOf(ATTACKERS);
        unmaskers.addAll(INSIDERS);
        row(Phase.WRITE, "Communication", "$unmask", unmaskers, post("/fhir/Communication/" + sc.message + "/$unmask",
                parameters("reason", "Neugier", false)), ANY_2XX);
        row(Phase.WRITE, "Communication", "$unmask a masked message", unmaskers, post("/fhir/Communication/" + sc.maskedMessage + "/$unmask",
                parameters("reason", "Neugier", false)), ANY_2XX);

        // --- Binary: through HAPI and through the raw stream filter
        binaryReads("message attachment", sc.attachment, ATTACKERS);
        binaryReads("consent scan", sc.consentScan, ATTACKERS);
        Set<Kind> afterRevocation = EnumSet.copyOf(ATTACKERS);
        afterRevocation.addAll(INSIDERS);
        binaryReads("attachment of a message masked by the revocation", sc.maskedAttachment, afterRevocation);
        row(Phase.WRITE, "Binary", "upload raw (stream)", ATTACKERS, send("POST", "/fhir/Binary", "application/pdf", Conversations.signedScan()),
                ALLOWED_FOR_PARTICIPANTS);
        Binary binary = new Binary();
        binary.setContentType("application/pdf");
        binary.setData(Conversations.signedScan());
        row(Phase.WRITE, "Binary", "upload as FHIR Binary", ATTACKERS, post("/fhir/Binary", json(binary)), ALLOWED_FOR_PARTICIPANTS);
        Binary replacement = binary.copy();
        replacement.setId(sc.attachment);
        row(Phase.WRITE, "Binary", "update another's attachment", ATTACKERS, put("/fhir/Binary/" + sc.attachment, json(replacement)), ANY_2XX);
        row(Phase.WRITE, "Binary", "delete another's attachment", ATTACKERS, delete("/fhir/Binary/" + sc.attachment), ANY_2XX);

        // --- Task (invitations)
        List<String> taskSecrets = List.of(sc.task);
        row(Phase.READ, "Task", "read another's invitation", ATTACKERS, get("/fhir/Task/" + sc.task), ANY_2XX);
        row(Phase.READ, "Task", "search all", ATTACKERS, get("/fhir/Task"), leaks(taskSecrets));
        row(Phase.READ, "Task", "search owner=the invited organisation", ATTACKERS, get("/fhir/Task?owner=Organization/" + sc.unregistered), leaks(taskSecrets));
        row(Phase.READ, "Task", "search status=requested", ATTACKERS, get("/fhir/Task?status=requested"), leaks(taskSecrets));
        Task task = new Task();
        task.setStatus(Task.TaskStatus.REQUESTED);
        task.setIntent(Task.TaskIntent.ORDER);
        task.setOwner(new Reference("Organization/" + sc.unregistered));
        row(Phase.WRITE, "Task", "create", ATTACKERS, post("/fhir/Task", json(task)), ANY_2XX);
        Task cancelled = task.copy();
        cancelled.setId(sc.task);
        cancelled.setStatus(Task.TaskStatus.CANCELLED);
        row(Phase.WRITE, "Task", "update (cancel another's invitation)", ATTACKERS, put("/fhir/Task/" + sc.task, json(cancelled)), ANY_2XX);
        row(Phase.WRITE, "Task", "delete", ATTACKERS, delete("/fhir/Task/" + sc.task), ANY_2XX);

        // --- AuditEvent: the operator's only
        Set<Kind> auditReaders = EnumSet.copyOf(ATTACKERS);
        auditReaders.addAll(INSIDERS);
        row(Phase.READ, "AuditEvent", "search", auditReaders, get("/fhir/AuditEvent"), ANY_2XX);
        row(Phase.READ, "AuditEvent", "read", auditReaders, get("/fhir/AuditEvent/" + sc.auditEvent), ANY_2XX);
        row(Phase.READ, "AuditEvent", "search entity=the patient", auditReaders, get("/fhir/AuditEvent?entity=" + pat), ANY_2XX);
        row(Phase.READ, "AuditEvent", "search agent=K", auditReaders, get("/fhir/AuditEvent?agent=" + k), ANY_2XX);
        AuditEvent forged = new AuditEvent();
        forged.getType().setCode("rest");
        forged.setRecorded(new java.util.Date());
        forged.getSource().setObserver(new Reference("Organization/" + sc.k.organizationId()));
        row(Phase.WRITE, "AuditEvent", "create (forge)", auditReaders, post("/fhir/AuditEvent", json(forged)), ANY_2XX);
        AuditEvent overwritten = forged.copy();
        overwritten.setId(sc.auditEvent);
        row(Phase.WRITE, "AuditEvent", "update", auditReaders, put("/fhir/AuditEvent/" + sc.auditEvent, json(overwritten)), ANY_2XX);
        row(Phase.WRITE, "AuditEvent", "delete", auditReaders, delete("/fhir/AuditEvent/" + sc.auditEvent), ANY_2XX);

        // --- Observation is not served on its own (vital signs travel contained in a Communication)
        row(Phase.READ, "Observation", "search subject=the patient", ATTACKERS, get("/fhir/Observation?subject=" + pat), leaksSecrets());

        // --- operator operations, batches, paging
        Set<Kind> nonOperators = EnumSet.copyOf(ATTACKERS);
        nonOperators.addAll(INSIDERS);
        row(Phase.READ, "operation", "$dead-letters", nonOperators, get("/fhir/$dead-letters"), ANY_2XX);
        row(Phase.WRITE, "operation", "$retry-dead-letters", nonOperators, post("/fhir/$retry-dead-letters", parameters("stage", "fanout", false)), ANY_2XX);
        row(Phase.WRITE, "Organization", "$import by a participant", INSIDERS, send("POST", "/fhir/Organization/$import", "text/csv",
                ("id,name,type\nmatrix-import-" + UUID.randomUUID().toString().substring(0, 8) + ",Import,other\n").getBytes(StandardCharsets.UTF_8)), ANY_2XX);
        row(Phase.READ, "batch", "batch of reads of protected resources", ATTACKERS, post("/fhir", batch(pat, "Communication/" + sc.message,
                "Consent/" + sc.consent, "Binary/" + sc.attachment, "Task/" + sc.task)), leaksSecrets());
        row(Phase.READ, "paging", "_getpages with a guessed id", ATTACKERS, get("/fhir?_getpages=" + UUID.randomUUID()), leaksSecrets());

        // --- actuator: health and prometheus are open; the rest is the operator's
        for (String path : List.of("/actuator/metrics", "/actuator/info", "/actuator/env", "/actuator/metrics/jvm.memory.used",
                "/actuator/beans", "/actuator/heapdump")) {
            row(Phase.READ, "actuator", "GET " + path, nonOperators, get(path), ANY_2XX);
        }
        Set<Kind> everyone = EnumSet.copyOf(nonOperators);
        openRow(Phase.READ, "actuator", "GET /actuator/prometheus (open) names no protected id", everyone, get("/actuator/prometheus"),
                (a, who) -> a.ok() ? leaked(a.body(), scene.secrets()) : null);
        for (String path : List.of("/actuator/health/..;/metrics", "/actuator/health/%2e%2e/metrics", "/actuator/prometheus/..;/metrics",
                "/actuator/health;/../metrics", "/actuator//metrics", "/actuator/METRICS")) {
            openRow(Phase.READ, "actuator", "GET " + path + " (path trick)", nonOperators, get(path),
                    (a, who) -> a.ok() && (a.body().contains("\"names\"") || a.body().contains("measurements")) ? "metrics served" : null);
        }

        // --- HL7v2 over MLLP
        hl7Rows(sc);
    }

    /** GET of a Binary as raw stream, as FHIR resource (Accept and _format) and as CMS envelope. */
    private void binaryReads(String what, String id, Set<Kind> kinds) {
        row(Phase.READ, "Binary", "read " + what + " raw (stream)", kinds, send("GET", "/fhir/Binary/" + id, null, null, "*/*"), ANY_2XX);
        row(Phase.READ, "Binary", "read " + what + " as FHIR JSON", kinds, get("/fhir/Binary/" + id), ANY_2XX);
        row(Phase.READ, "Binary", "read " + what + " with _format=json", kinds, send("GET", "/fhir/Binary/" + id + "?_format=json", null, null, "*/*"), ANY_2XX);
        row(Phase.READ, "Binary", "read " + what + " as CMS envelope", kinds,
                send("GET", "/fhir/Binary/" + id, null, null, "application/pkcs7-mime"), ANY_2XX);
        row(Phase.READ, "Binary", "vread " + what, kinds, send("GET", "/fhir/Binary/" + id + "/_history/1", null, null, "*/*"), ANY_2XX);
    }

    /**
     * A Patient create naming a known identifier. Participants claim as a fresh organisation of
     * their kind (so no earlier row's outcome helps), after a control create with an unknown KVNR.
     */
    private void claimRow(String name, Set<Kind> kinds, boolean conditional, org.hl7.fhir.r4.model.Identifier known) {
        Map<Attacker, Answer> controls = new java.util.HashMap<>();
        Map<Attacker, Attacker> claimants = new java.util.HashMap<>();
        Probe probe = who -> {
            Attacker claimant = who.kind().validCredentials ? fresh(who.kind()) : who;
            claimants.put(who, claimant);
            String controlKvnr = Conversations.kvnr();
            Patient control = Conversations.patient("Angreifer", "Anna", null);
            control.addIdentifier().setSystem(known.getSystem()).setValue(Systems.KVNR.equals(known.getSystem())
                    ? controlKvnr : "MRN" + controlKvnr.substring(1));
            controls.put(who, createPatient(claimant, control, conditional ? control.getIdentifierFirstRep() : null));
            Patient claim = Conversations.patient("Angreifer", "Anna", null);
            claim.addIdentifier(known.copy());
            return createPatient(claimant, claim, conditional ? known : null);
        };
        Judge judge = (a, who) -> {
            Attacker claimant = claimants.get(who);
            // the claimed identifier itself may come back: the caller sent it
            List<String> secrets = scene.secrets().stream().filter(m -> !m.equals(known.getValue())).toList();
            String leak = a.ok() ? leaked(a.body(), secrets) : null;
            if (leak != null) {
                return leak;
            }
            Answer control = controls.get(who);
            if (control != null && (control.status() != a.status() || !resourceType(control.body()).equals(resourceType(a.body())))) {
                return "answer differs from an unknown identifier's (" + control.status() + " " + resourceType(control.body())
                        + " vs " + a.status() + " " + resourceType(a.body()) + "): an oracle";
            }
            if (claimant.kind().validCredentials && sees(claimant, scene.patient)) {
                return "the claimant sees the patient afterwards";
            }
            return null;
        };
        row(Phase.CLAIMS, "Patient", name, kinds, probe, judge);
    }

    /**
     * Adding a KVNR to one's own patient by update: the answer must not depend on whether another
     * organisation's patient already has it (compared with adding an unknown KVNR).
     */
    private void kvnrOracleByUpdateRow(Scene sc) {
        Answer[] control = new Answer[1];
        row(Phase.CLAIMS, "Patient", "update its own patient adding the known KVNR", EnumSet.of(Kind.KVNR_KNOWER), who -> {
            control[0] = addKvnr(who, Conversations.kvnr());
            return addKvnr(who, sc.kvnr);
        }, (a, who) -> {
            if (a.ok() && leaked(a.body(), scene.secrets().stream().filter(m -> !m.equals(sc.kvnr)).toList()) != null) {
                return "reveals the patient";
            }
            return control[0].status() != a.status() ? "answer differs from an unknown KVNR's (" + control[0].status()
                    + " vs " + a.status() + "): an oracle" : sees(who, sc.patient) ? "the caller sees the patient afterwards" : null;
        });
    }

    private Answer addKvnr(Attacker who, String kvnr) throws Exception {
        Patient own = Conversations.patient("Eigen", "Ella", null);
        Answer created = createPatient(who, own, null);
        Patient stored = (Patient) FHIR.newJsonParser().parseResource(created.body());
        String id = stored.getIdElement().getIdPart();
        own.setId(id);
        own.addIdentifier().setSystem(Systems.KVNR).setValue(kvnr);
        return call(who, "PUT", "/fhir/Patient/" + id, "application/fhir+json", json(own).getBytes(StandardCharsets.UTF_8), null, Map.of());
    }

    /**
     * Squatting a KVNR: a stranger creates a patient with a KVNR before the clinic does; the
     * clinic's later patient, consent and scan must stay out of the stranger's sight.
     */
    private void kvnrSquattingRow() {
        Attacker[] squatter = new Attacker[1];
        String[] clinicSide = new String[3];
        row(Phase.CLAIMS, "Patient", "create a patient with a KVNR before the clinic does (squatting)", EnumSet.of(Kind.KVNR_KNOWER), who -> {
            squatter[0] = fresh(Kind.KVNR_KNOWER);
            String kvnr = Conversations.kvnr();
            Answer squat = createPatient(squatter[0], Conversations.patient("Platzhalter", "Paul", kvnr), null);
            Attacker clinic = attackers.get(Kind.CONSENT_AUTHOR);
            Answer real = createPatient(clinic, Conversations.patient("Echtname", "Rosemarie", kvnr), null);
            clinicSide[0] = real.ok() ? resourceId(real.body()) : null;
            Answer consent = clinicSide[0] == null ? real : call(clinic, "POST", "/fhir/Consent", "application/fhir+json",
                    json(Conversations.consent(clinicSide[0], Conversations.signedScan(), "application/pdf", scene.k.organizationId(),
                            scene.p.organizationId())).getBytes(StandardCharsets.UTF_8), null, Map.of());
            clinicSide[1] = consent.ok() ? resourceId(consent.body()) : null;
            clinicSide[2] = consent.ok() ? ((Consent) FHIR.newJsonParser().parseResource(consent.body())).getSourceAttachment().getUrl() : null;
            return squat;
        }, (a, who) -> {
            if (clinicSide[1] == null) {
                return "the clinic can no longer create the patient and its consent";
            }
            Attacker s = squatter[0];
            if (call(s, "GET", "/fhir/Consent/" + clinicSide[1], null, null, null, Map.of()).ok()) {
                return "the squatter reads the clinic's consent";
            }
            if (call(s, "GET", "/fhir/" + clinicSide[2], null, null, null, Map.of()).ok()) {
                return "the squatter reads the clinic's signed scan";
            }
            Answer patient = call(s, "GET", "/fhir/Patient/" + clinicSide[0], null, null, null, Map.of());
            return patient.ok() && patient.body().contains("Rosemarie") ? "the squatter sees the clinic's patient" : null;
        });
    }

    private Answer createPatient(Attacker who, Patient patient, org.hl7.fhir.r4.model.Identifier ifNoneExist) throws Exception {
        Map<String, String> headers = new LinkedHashMap<>();
        if (ifNoneExist != null) {
            headers.put("If-None-Exist", "identifier=" + enc(ifNoneExist.getSystem() + "|" + ifNoneExist.getValue()));
        }
        return call(who, "POST", "/fhir/Patient", "application/fhir+json", json(patient).getBytes(StandardCharsets.UTF_8), null, headers);
    }

    private boolean sees(Attacker who, String patientId) throws Exception {
        if (call(who, "GET", "/fhir/Patient/" + patientId, null, null, null, Map.of()).ok()) {
            return true;
        }
        Answer search = call(who, "GET", "/fhir/Patient?identifier=" + enc(Systems.KVNR + "|" + scene.kvnr), null, null, null, Map.of());
        return search.ok() && leaked(search.body(), List.of(patientId)) != null;
    }

    static String resourceId(String body) {
        return ((Resource) FHIR.newJsonParser().parseResource(body)).getIdElement().getIdPart();
    }

    static String resourceType(String body) {
        int i = body.indexOf("\"resourceType\"");
        if (i < 0) {
            return "?";
        }
        int start = body.indexOf('"', body.indexOf(':', i) + 1) + 1;
        return body.substring(start, body.indexOf('"', start));
    }

    // ------------------------------------------------------------------------------------------ HL7 rows

    private void hl7Rows(Scene sc) {
        Set<Kind> spoofer = EnumSet.of(Kind.SPOOFING_PEER);
        Count pInbox = () -> inboxSize(sc.pTokenNow, "patient=Patient/" + sc.patient);
        // an unlisted address claiming K: a document to P about the patient (K and P are consent partners)
        hl7Row(Phase.HL7, "MDM^T02 claiming MSH-4 of K from an unlisted address", spoofer, pInbox,
                who -> mllpFrom("127.0.0.2", HL7_PORT, mdm(sc.kAlias, sc.pAlias, sc.kvnr, "Gefälschter Befund")));
        hl7Row(Phase.HL7, "MDM^T02 claiming K in MSH-3 only (MSH-4 empty), from an unlisted address", spoofer, pInbox,
                who -> mllpFrom("127.0.0.2", HL7_PORT, mdm(sc.kAlias, sc.pAlias, sc.kvnr, "Gefälscht über MSH-3")
                        .replaceFirst("\\|PFLEGE_SW\\|" + sc.kAlias + "\\|", "|" + sc.kAlias + "||")));
        hl7Row(Phase.HL7, "TLS: certificate of another organisation claiming MSH-4 of K", spoofer, pInbox,
                who -> mllpTls(PKI.clientKeystore("CN=" + sc.oAlias + ", O=Matrix, C=DE"),
                        mdm(sc.kAlias, sc.pAlias, sc.kvnr, "Gefälscht über TLS")));
        row(Phase.HL7, "MLLP", "ADT^A08 claiming MSH-4 of K from an unlisted address (address overwrite)", spoofer,
                who -> mllpFrom("127.0.0.2", HL7_PORT, adt("A08", sc.kAlias, sc.kvnr + "^^^KVNR^KVNR", "Angreifer^Anna",
                        "Spoofweg 1^^Angriffsstadt^^66666^DEU")),
                (a, who) -> accepted(a) ? "AA" : patientChanged("Spoofweg"));
        hl7Row(Phase.HL7, "MDM^T02 from the deactivated organisation (a consent partner)", EnumSet.of(Kind.DEACTIVATED),
                () -> inboxSize(sc.k.token(), "sender=Organization/" + sc.x.organizationId()),
                who -> mllpFrom("127.0.0.1", HL7_PORT, mdm(sc.xAlias, sc.kAlias, sc.kvnr, "Nach Deaktivierung")));
        hl7Row(Phase.HL7, "ADT^A01 from the deactivated organisation", EnumSet.of(Kind.DEACTIVATED), () -> 0,
                who -> mllpFrom("127.0.0.1", HL7_PORT, adt("A01", sc.xAlias, Conversations.kvnr() + "^^^KVNR^KVNR", "Neu^Nina", "")));
        hl7Row(Phase.HL7, "MDM^T02 from the deregistered organisation", EnumSet.of(Kind.DEREGISTERED),
                () -> inboxSize(sc.k.token(), "sender=Organization/" + sc.d.organizationId()),
                who -> mllpFrom("127.0.0.1", HL7_PORT, mdm(sc.dAlias, sc.kAlias, sc.kvnr, "Nach Abmeldung")));
        // identifier claims over HL7, each by a fresh organisation of its kind with its own alias
        hl7ClaimRow("ADT^A08 repeating K's MRN in PID-3", Kind.OUTSIDE_CONSENT, "A08", sc.mrn + "^^^" + MRN_AUTHORITY + "^PI", "MrnWeg");
        hl7ClaimRow("ADT^A01 with the known KVNR", Kind.KVNR_KNOWER, "A01", sc.kvnr + "^^^KVNR^KVNR", "KvnrWeg");
        // a registered sender outside the consent writes about the patient by its KVNR: refused, and nothing sticks
        Attacker[] outsider = new Attacker[1];
        row(Phase.HL7_CLAIMS, "MLLP", "MDM^T02 about the patient (by KVNR) from an organisation outside the consent",
                EnumSet.of(Kind.OUTSIDE_CONSENT), who -> {
                    outsider[0] = fresh(Kind.OUTSIDE_CONSENT);
                    String mdm = mdm(aliases.get(outsider[0].organizationId()), sc.kAlias, sc.kvnr, "Von außerhalb")
                            .replace("||19410317|F\r", "||19410317|F|||AussenWeg 1^^Angriffsstadt^^66666^DEU\r");
                    return mllpFrom("127.0.0.1", HL7_PORT, mdm);
                }, (a, who) -> accepted(a) ? "AA" : sees(outsider[0], scene.patient) ? "the sender sees the patient afterwards"
                        : patientChanged("AussenWeg"));
    }

    /** An ADT naming a known identifier, from a fresh registered organisation: it gets no access and overwrites nothing. */
    private void hl7ClaimRow(String name, Kind kind, String event, String pid3, String street) {
        Attacker[] claimant = new Attacker[1];
        row(Phase.HL7_CLAIMS, "MLLP", name, EnumSet.of(kind), who -> {
            claimant[0] = fresh(kind);
            return mllpFrom("127.0.0.1", HL7_PORT, adt(event, aliases.get(claimant[0].organizationId()), pid3, "Angreifer^Anna",
                    street + " 1^^Angriffsstadt^^66666^DEU"));
        }, (a, who) -> {
            String leak = a.body() == null ? null : leaked(a.body(), List.of(scene.patient));
            if (leak != null) {
                return "the ACK " + leak;
            }
            return sees(claimant[0], scene.patient) ? "the sender sees the patient afterwards" : patientChanged(street);
        });
    }

    /** What K sees of the patient now carries the attacker's address. */
    private String patientChanged(String street) throws Exception {
        Answer read = call(attackers.get(Kind.CONSENT_AUTHOR), "GET", "/fhir/Patient/" + scene.patient, null, null, null, Map.of());
        return read.ok() && read.body().contains(street) ? "the patient's address was overwritten" : null;
    }

    interface Count {
        int get() throws Exception;
    }

    /** An HL7 row: not {@code AA}, and the count of what the frame would have stored does not grow. */
    private void hl7Row(Phase phase, String name, Set<Kind> kinds, Count stored, Probe probe) {
        int[] before = new int[1];
        row(phase, "MLLP", name, kinds, who -> {
            before[0] = stored.get();
            return probe.run(who);
        }, (a, who) -> accepted(a) ? "AA" : stored.get() > before[0] ? "stored although not acknowledged"
                : a.body() == null ? null : leaked(a.body(), scene.secrets()));
    }

    static boolean accepted(Answer a) {
        return a.body() != null && "AA".equals(Mllp.field(a.body(), "MSA", 1));
    }

    private int inboxSize(String token, String query) throws Exception {
        Answer a = call(new Attacker(Kind.CONSENT_PARTNER, null, token), "GET", "/fhir/Communication?" + query + "&_count=500",
                null, null, null, Map.of());
        return ((Bundle) FHIR.newJsonParser().parseResource(a.body())).getEntry().size();
    }

    static String msh(String sendingFacility, String receivingFacility, String type) {
        return "MSH|^~\\&|PFLEGE_SW|" + sendingFacility + "|CARERELAY|" + receivingFacility + "|20261203120000||" + type + "|"
                + "M" + UUID.randomUUID().toString().substring(0, 12) + "|P|2.5|||||DEU|8859/1\r";
    }

    static String adt(String event, String sender, String pid3, String name, String address) {
        return msh(sender, "CARERELAY", "ADT^" + event + "^ADT_A01")
                + "EVN|" + event + "|20261203120000\r"
                + "PID|1||" + pid3 + "||" + name + "||19410317|F|||" + address + "\r"
                + "PV1|1|O\r";
    }

    static String mdm(String sender, String recipient, String kvnr, String text) {
        return msh(sender, recipient, "MDM^T02^MDM_T02")
                + "EVN|T02|20261203120000\r"
                + "PID|1||" + kvnr + "^^^KVNR^KVNR||Angreifer^Anna||19410317|F\r"
                + "PV1|1|O\r"
                + "TXA|1|CN|TX|20261203120000||||||||DOC-" + UUID.randomUUID().toString().substring(0, 8) + "||||||AU||AV\r"
                + "OBX|1|TX|^Nachricht||" + text + "||||||F\r";
    }

    /** One frame from a given local address (all of 127/8 is loopback); the ACK, or null when the gateway closed. */
    static Answer mllpFrom(String localAddress, int port, String er7) throws IOException {
        try (Socket socket = new Socket()) {
            socket.bind(new InetSocketAddress(localAddress, 0));
            socket.connect(new InetSocketAddress("127.0.0.1", port), 10_000);
            socket.setSoTimeout(30_000);
            Mllp.writeFrame(socket.getOutputStream(), er7.getBytes(LATIN1));
            String ack = Mllp.readFrame(socket.getInputStream(), LATIN1);
            return new Answer("MLLP from " + localAddress + ": " + er7.substring(0, er7.indexOf('\r')), 0, ack);
        }
    }

    static Answer mllpTls(java.nio.file.Path clientKeystore, String er7) throws IOException {
        try (SSLSocket socket = (SSLSocket) PKI.clientContext(clientKeystore).getSocketFactory().createSocket("127.0.0.1", HL7_TLS_PORT)) {
            SSLParameters parameters = socket.getSSLParameters();
            parameters.setEndpointIdentificationAlgorithm("HTTPS");
            socket.setSSLParameters(parameters);
            socket.setSoTimeout(30_000);
            socket.startHandshake();
            Mllp.writeFrame(socket.getOutputStream(), er7.getBytes(LATIN1));
            return new Answer("MLLP/TLS: " + er7.substring(0, er7.indexOf('\r')), 0, Mllp.readFrame(socket.getInputStream(), LATIN1));
        }
    }

    // ------------------------------------------------------------------------------------------ HTTP

    private Probe get(String path) {
        return send("GET", path, null, null, null);
    }

    private Probe post(String path, String fhirJson) {
        return send("POST", path, fhirJson == null ? null : "application/fhir+json",
                fhirJson == null ? null : fhirJson.getBytes(StandardCharsets.UTF_8));
    }

    private Probe put(String path, String fhirJson) {
        return send("PUT", path, "application/fhir+json", fhirJson.getBytes(StandardCharsets.UTF_8));
    }

    private Probe delete(String path) {
        return send("DELETE", path, null, null);
    }

    private Probe send(String method, String path, String contentType, byte[] body) {
        return send(method, path, contentType, body, null);
    }

    private Probe send(String method, String path, String contentType, byte[] body, String accept) {
        return who -> call(who, method, path, contentType, body, accept, Map.of());
    }

    private Answer call(Attacker who, String method, String path, String contentType, byte[] body, String accept,
            Map<String, String> headers) throws Exception {
        HttpRequest.Builder builder = HttpRequest.newBuilder(URI.create("http://127.0.0.1:" + port + path))
                .timeout(Duration.ofSeconds(60))
                .method(method, body == null ? HttpRequest.BodyPublishers.noBody() : HttpRequest.BodyPublishers.ofByteArray(body));
        if (who.authorization() != null) {
            builder.header("Authorization", who.authorization());
        }
        if (contentType != null) {
            builder.header("Content-Type", contentType);
        }
        builder.header("Accept", accept != null ? accept : path.startsWith("/fhir") ? "application/fhir+json" : "*/*");
        headers.forEach(builder::header);
        HttpResponse<byte[]> response = HTTP.send(builder.build(), HttpResponse.BodyHandlers.ofByteArray());
        return new Answer(method + " " + path, response.statusCode(), new String(response.body(), StandardCharsets.ISO_8859_1));
    }

    static String enc(String s) {
        return java.net.URLEncoder.encode(s, StandardCharsets.UTF_8);
    }

    static String json(IBaseResource resource) {
        return FHIR.newJsonParser().encodeResourceToString(resource);
    }

    // ------------------------------------------------------------------------------------------ resources

    static String parameters(String name, String value, boolean bool) {
        Parameters in = new Parameters();
        if (bool) {
            in.addParameter(name, Boolean.parseBoolean(value));
        } else {
            in.addParameter(name, new StringType(value));
        }
        return json(in);
    }

    static String batch(String... reads) {
        Bundle bundle = new Bundle();
        bundle.setType(Bundle.BundleType.BATCH);
        for (String read : reads) {
            bundle.addEntry().getRequest().setMethod(Bundle.HTTPVerb.GET).setUrl(read);
        }
        return json(bundle);
    }

    static org.hl7.fhir.r4.model.Identifier identifier(String system, String value) {
        return new org.hl7.fhir.r4.model.Identifier().setSystem(system).setValue(value);
    }

    static Organization renamed(Organization org) {
        Organization copy = org.copy();
        copy.setName("Übernommen durch Angreifer");
        return copy;
    }

    static Practitioner practitioner(String family, String given) {
        Practitioner practitioner = new Practitioner();
        practitioner.setActive(true);
        practitioner.addName(new HumanName().setFamily(family).addGiven(given));
        return practitioner;
    }

    static PractitionerRole role(String organizationId, String practitionerId) {
        PractitionerRole role = new PractitionerRole();
        role.setActive(true);
        role.setOrganization(new Reference("Organization/" + organizationId));
        if (practitionerId != null) {
            role.setPractitioner(new Reference("Practitioner/" + practitionerId));
        }
        return role;
    }

    static Endpoint endpoint(String organizationId, String address) {
        Endpoint endpoint = new Endpoint();
        endpoint.setStatus(Endpoint.EndpointStatus.ACTIVE);
        endpoint.getConnectionType().setSystem(Systems.ENDPOINT_CONNECTION_TYPE).setCode("hl7-fhir-rest");
        endpoint.addPayloadType().addCoding().setSystem(Systems.ENDPOINT_PAYLOAD_TYPE).setCode("any");
        endpoint.setAddress(address);
        endpoint.getManagingOrganization().setReference("Organization/" + organizationId);
        return endpoint;
    }

    static Endpoint withAddress(Endpoint endpoint, String address) {
        Endpoint copy = endpoint.copy();
        copy.setAddress(address);
        return copy;
    }

    static Endpoint managedBy(Endpoint endpoint, String organizationId) {
        Endpoint copy = withAddress(endpoint, "https://evil.example/fhir");
        copy.getManagingOrganization().setReference("Organization/" + organizationId);
        return copy;
    }

    static Patient patientWithAddress(Scene sc, String line) {
        Patient patient = sc.patientEntry.copy();
        patient.setId(sc.patient);
        patient.getAddressFirstRep().getLine().clear();
        patient.getAddressFirstRep().addLine(line).setCity("Angriffsstadt");
        return patient;
    }

    static Consent consentWithUrl(String patientId, String binaryId, String partner) {
        Consent consent = Conversations.consent(patientId, null, null, partner);
        consent.getSourceAttachment().setContentType("application/pdf").setUrl("Binary/" + binaryId);
        return consent;
    }

    static Consent widenedConsent(Scene sc, String extraPartner) {
        Consent consent = Conversations.consent(sc.patient, null, null, sc.k.organizationId(), sc.p.organizationId(),
                sc.x.organizationId(), sc.d.organizationId(), extraPartner);
        consent.setId(sc.consent);
        consent.getSourceAttachment().setContentType("application/pdf").setUrl("Binary/" + sc.consentScan);
        return consent;
    }

    static Communication threaded(Communication message, String otherId, boolean reply) {
        if (reply) {
            message.addInResponseTo(new Reference("Communication/" + otherId));
        } else {
            message.addPartOf(new Reference("Communication/" + otherId));
        }
        return message;
    }

    static Communication spoofedSender(Communication message, String organizationId) {
        message.setSender(new Reference("Organization/" + organizationId));
        return message;
    }

    static Communication withAttachmentUrl(Communication message, String binaryId) {
        message.addPayload().getContentAttachment().setUrl("Binary/" + binaryId).setTitle("Befund.pdf");
        return message;
    }

    static Communication withContentReference(Communication message, String binaryId) {
        message.addPayload().setContent(new Reference("Binary/" + binaryId));
        return message;
    }

    static Communication withId(Communication message, String id) {
        message.setId(id);
        return message;
    }

    private String orgOf(Attacker who) {
        return who.organizationId() != null ? who.organizationId() : scene.s.organizationId();
    }

    private String ownPatientOf(Attacker who) {
        return scene.ownPatient.getOrDefault(who.kind(), UUID.randomUUID().toString());
    }

    // ------------------------------------------------------------------------------------------ the scene

    private Attacker fresh(Kind kind) {
        Participants.Registered org = Participants.registerNew(this, "Praxis Matrix " + kind.name().toLowerCase(Locale.ROOT));
        String alias = "MX" + UUID.randomUUID().toString().substring(0, 8).toUpperCase(Locale.ROOT);
        Participants.addHl7Alias(admin(), org.organizationId(), alias);
        aliases.put(org.organizationId(), alias);
        return new Attacker(kind, org.organizationId(), org.token());
    }

    private Map<Kind, Attacker> attackers(Scene sc) {
        Map<Kind, Attacker> all = new EnumMap<>(Kind.class);
        all.put(Kind.NO_TOKEN, new Attacker(Kind.NO_TOKEN, null, null));
        all.put(Kind.MALFORMED, new Attacker(Kind.MALFORMED, null, null));
        all.put(Kind.STRANGER, new Attacker(Kind.STRANGER, sc.s.organizationId(), sc.s.token()));
        all.put(Kind.DEREGISTERED, new Attacker(Kind.DEREGISTERED, sc.d.organizationId(), sc.d.token()));
        all.put(Kind.DEACTIVATED, new Attacker(Kind.DEACTIVATED, sc.x.organizationId(), sc.x.token()));
        all.put(Kind.ROTATED_AWAY, new Attacker(Kind.ROTATED_AWAY, sc.p.organizationId(), sc.p.token()));
        all.put(Kind.OUTSIDE_CONSENT, new Attacker(Kind.OUTSIDE_CONSENT, sc.o.organizationId(), sc.o.token()));
        all.put(Kind.KVNR_KNOWER, new Attacker(Kind.KVNR_KNOWER, sc.v.organizationId(), sc.v.token()));
        all.put(Kind.SPOOFING_PEER, new Attacker(Kind.SPOOFING_PEER, null, null));
        all.put(Kind.CONSENT_AUTHOR, new Attacker(Kind.CONSENT_AUTHOR, sc.k.organizationId(), sc.k.token()));
        all.put(Kind.CONSENT_PARTNER, new Attacker(Kind.CONSENT_PARTNER, sc.p.organizationId(), sc.pTokenNow));
        return all;
    }

    private Scene buildScene() throws Exception {
        Scene sc = new Scene();
        String tag = UUID.randomUUID().toString().substring(0, 6).toUpperCase(Locale.ROOT);
        sc.k = Participants.registerNew(this, "Klinikum Matrix");
        sc.p = Participants.registerNew(this, "Pflegedienst Matrix");
        sc.x = Participants.registerNew(this, "Pflegeheim Matrix (später deaktiviert)");
        sc.d = Participants.registerNew(this, "Praxis Matrix (später abgemeldet)");
        sc.s = Participants.registerNew(this, "Praxis Matrix Fremd");
        sc.o = Participants.registerNew(this, "Praxis Matrix außerhalb");
        sc.v = Participants.registerNew(this, "Praxis Matrix kennt KVNR");
        sc.kAlias = "MXK" + tag;
        sc.pAlias = "MXP" + tag;
        sc.xAlias = "MXX" + tag;
        sc.dAlias = "MXD" + tag;
        sc.oAlias = "MXO" + tag;
        Participants.addHl7Alias(admin(), sc.k.organizationId(), sc.kAlias);
        Participants.addHl7Alias(admin(), sc.p.organizationId(), sc.pAlias);
        Participants.addHl7Alias(admin(), sc.x.organizationId(), sc.xAlias);
        Participants.addHl7Alias(admin(), sc.d.organizationId(), sc.dAlias);
        Participants.addHl7Alias(admin(), sc.o.organizationId(), sc.oAlias);
        sc.unregistered = Participants.create(admin(), Participants.newOrganization(unique("Pflegeheim Matrix eingeladen"),
                "+4930" + (long) (Math.random() * 1_000_000_000L), null));
        var kClient = client(sc.k.token());
        var pClient = client(sc.p.token());

        // the patient, with K's MRN as HL7 would name it, under a consent naming K, P, X and D
        sc.kvnr = Conversations.kvnr();
        sc.family = "Vertraulich" + tag.replaceAll("[0-9]", "Q");
        sc.mrn = "MRN" + (long) (Math.random() * 1_000_000_000L);
        Patient patient = Conversations.patient(sc.family, "Erika", sc.kvnr);
        patient.addIdentifier().setSystem(AdtToPatient.AUTHORITY_SYSTEM_PREFIX + MRN_AUTHORITY).setValue(sc.mrn);
        patient.addAddress().addLine("Geheimweg 7").setPostalCode("10115").setCity("Beispielstadt");
        sc.patient = Conversations.createPatient(kClient, patient);
        sc.patientEntry = patient;
        sc.consent = Conversations.uploadConsent(kClient, sc.patient, sc.k.organizationId(), sc.p.organizationId(),
                sc.x.organizationId(), sc.d.organizationId());
        sc.consentScan = kClient.read().resource(Consent.class).withId(sc.consent).execute().getSourceAttachment().getUrl()
                .replace("Binary/", "");

        // a message with an attachment from K to P, X and D, and P's reply
        sc.attachment = uploadRaw(sc.k.token());
        sc.text = "Befund " + tag + " vertraulich";
        Communication first = Conversations.message(sc.patient, sc.text, sc.p.organizationId(), sc.x.organizationId(), sc.d.organizationId());
        withAttachmentUrl(first, sc.attachment);
        sc.message = Conversations.send(kClient, first);
        sc.replyText = "Antwort " + tag + " vertraulich";
        Communication reply = Conversations.message(sc.patient, sc.replyText, sc.k.organizationId());
        reply.addInResponseTo(new Reference("Communication/" + sc.message));
        sc.reply = Conversations.send(pClient, reply);

        // the outside organisation has its own life: a patient and a networking message to K
        Conversations.send(client(sc.o.token()), Conversations.message(null, "Kollegialer Austausch", sc.k.organizationId()));
        for (var entry : Map.of(Kind.STRANGER, sc.s, Kind.OUTSIDE_CONSENT, sc.o, Kind.KVNR_KNOWER, sc.v).entrySet()) {
            sc.ownPatient.put(entry.getKey(), Conversations.createPatient(client(entry.getValue().token()),
                    Conversations.patient("Eigen", "Emil", Conversations.kvnr())));
        }

        // an invitation: K writes to an organisation that is not registered
        Conversations.send(kClient, Conversations.message(null, "Einladung zur Vernetzung", sc.unregistered));
        await().atMost(Duration.ofSeconds(30)).until(() -> !admin().search().forResource(Task.class)
                .where(Task.OWNER.hasId("Organization/" + sc.unregistered)).returnBundle(Bundle.class).execute().getEntry().isEmpty());
        sc.task = admin().search().forResource(Task.class).where(Task.OWNER.hasId("Organization/" + sc.unregistered))
                .returnBundle(Bundle.class).execute().getEntryFirstRep().getResource().getIdElement().getIdPart();

        // a second patient whose consent K revoked after a message with an attachment
        sc.revokedPatient = Conversations.createPatient(kClient, Conversations.patient("Widerruf" + tag.replaceAll("[0-9]", "W"),
                "Wilma", Conversations.kvnr()));
        sc.revokedConsent = Conversations.uploadConsent(kClient, sc.revokedPatient, sc.k.organizationId(), sc.p.organizationId());
        sc.maskedAttachment = uploadRaw(sc.k.token());
        sc.maskedText = "Vor Widerruf " + tag;
        sc.maskedMessage = Conversations.send(kClient, withAttachmentUrl(
                Conversations.message(sc.revokedPatient, sc.maskedText, sc.p.organizationId()), sc.maskedAttachment));
        kClient.operation().onInstance("Consent/" + sc.revokedConsent).named("$revoke").withNoParameters(Parameters.class).execute();

        // K's FHIR endpoint with the partner's credentials; a practitioner and a role in the directory
        sc.secret = "partner-secret-" + UUID.randomUUID();
        // (a loopback port where nothing listens: deliveries that attackers might cause fail at once)
        Participants.addEndpoint(admin(), sc.k.organizationId(), "hl7-fhir-rest", "http://127.0.0.1:" + TestPorts.free() + "/fhir",
                "Authorization: Bearer " + sc.secret);
        sc.kEndpoint = (Endpoint) admin().search().forResource(Endpoint.class)
                .where(Endpoint.ORGANIZATION.hasId("Organization/" + sc.k.organizationId())).returnBundle(Bundle.class).execute()
                .getEntryFirstRep().getResource();
        sc.endpoint = sc.kEndpoint.getIdElement().getIdPart();
        sc.kEndpoint.setId(sc.endpoint);
        sc.practitionerEntry = practitioner("Matrix", "Maria");
        sc.practitioner = admin().create().resource(sc.practitionerEntry).execute().getId().getIdPart();
        sc.practitionerEntry.setId(sc.practitioner);
        sc.roleEntry = role(sc.k.organizationId(), sc.practitioner);
        sc.practitionerRole = admin().create().resource(sc.roleEntry).execute().getId().getIdPart();
        sc.roleEntry.setId(sc.practitionerRole);
        sc.kEntry = admin().read().resource(Organization.class).withId(sc.k.organizationId()).execute();
        sc.kEntry.getMeta().setVersionId(null);
        sc.kEntry.setId(sc.k.organizationId());

        // the audit trail holds the reads of the patient
        sc.auditEvent = admin().search().forResource(AuditEvent.class).where(AuditEvent.ENTITY.hasId("Patient/" + sc.patient))
                .returnBundle(Bundle.class).execute().getEntryFirstRep().getResource().getIdElement().getIdPart();

        // lost credentials: X deactivated by the operator, D deregistered itself, P rotated its token
        admin().delete().resourceById("Organization", sc.x.organizationId()).execute();
        client(sc.d.token()).operation().onInstance("Organization/" + sc.d.organizationId()).named("$deregister")
                .withNoParameters(Parameters.class).execute();
        sc.pTokenNow = pClient.operation().onInstance("Organization/" + sc.p.organizationId()).named("$rotate-token")
                .withNoParameters(Parameters.class).execute().getParameter("token").getValue().primitiveValue();

        // the scene works for those entitled to it
        assertThat(client(sc.pTokenNow).read().resource(Communication.class).withId(sc.message).execute().getPayload()).isNotEmpty();
        assertThat(Conversations.patientIdByKvnr(client(sc.pTokenNow), sc.kvnr)).isEqualTo(sc.patient);
        return sc;
    }

    private String uploadRaw(String token) throws Exception {
        Answer a = call(new Attacker(Kind.CONSENT_AUTHOR, null, token), "POST", "/fhir/Binary", "application/pdf",
                Conversations.signedScan(), "application/fhir+json", Map.of());
        assertThat(a.status()).as(a.body()).isEqualTo(201);
        return ((Resource) FHIR.newJsonParser().parseResource(a.body())).getIdElement().getIdPart();
    }

}
