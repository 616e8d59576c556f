package org.carerelay.gateway.web.e2e;

import static org.assertj.core.api.Assertions.assertThat;

import java.net.http.HttpResponse;
import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.EnumMap;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.UUID;
import org.carerelay.gateway.Conversations;
import org.carerelay.gateway.GatewayIntegrationTest;
import org.carerelay.gateway.Participants;
import org.carerelay.gateway.web.SecondFactorController;
import org.carerelay.gateway.web.WebAccounts;
import org.carerelay.gateway.web.WebSession;
import org.carerelay.gateway.web.WebUsers;
import org.hl7.fhir.r4.model.Bundle;
import org.hl7.fhir.r4.model.Communication;
import org.hl7.fhir.r4.model.Consent;
import org.hl7.fhir.r4.model.Patient;
import org.hl7.fhir.r4.model.Reference;
import org.hl7.fhir.r4.model.Resource;
import org.junit.jupiter.api.Test;
import org.springframework.beans.factory.annotation.Autowired;
import org.springframework.beans.factory.annotation.Qualifier;
import org.springframework.mock.web.MockHttpServletRequest;
import org.springframework.web.servlet.mvc.method.annotation.RequestMappingHandlerMapping;
import org.springframework.web.util.ServletRequestPathUtils;

/**
 * The access matrix of the web inbox, twin of the API's: every page and download of the inbox
 * that names a conversation, patient, attachment, consent document, consent template or user
 * account, asked for organisation A's objects by callers that must not get them:
 * <ul>
 *   <li>a signed-in person of another organisation B (A's ids typed into the URL),</li>
 *   <li>nobody signed in (with the anonymous CSRF token of the login page),</li>
 *   <li>A's own person after the password only (no second factor yet),</li>
 *   <li>A's own, fully signed-in person posting without the CSRF token (a forged cross-site form).</li>
 * </ul>
 * An attempt is an <em>unauthorized success</em> when it gets a 2xx where it must not, a redirect
 * anywhere but the login steps, a page or file holding any of A's data (names, KVNR, message texts,
 * the e-mail addresses of A's staff, the document bytes), or when a write shows its effect
 * (a reply in A's conversation, a revoked or added consent, a deactivated account).
 *
 * <p>Control: where the page exists (a handler is mapped for it), A's own person must be able to
 * open it — otherwise a 404 for everyone would prove nothing. Pages not built yet answer 404 to
 * all; the table counts them. The test fails unless there are no unauthorized successes and every
 * existing page passes its control.
 */
class WebAccessMatrixIT extends GatewayIntegrationTest {

    enum Kind {
        OWNER("organisation A's own person (control)"),
        STRANGER("signed-in person of organisation B"),
        NOT_SIGNED_IN("not signed in"),
        PASSWORD_ONLY("A's person after the password only"),
        NO_CSRF("A's person, POST without CSRF token");

        final String label;

        Kind(String label) {
            this.label = label;
        }
    }

    enum Style { READ, SEARCH, WRITE }

    /** One URL of the contract with A's ids filled in. */
    record Cell(String area, String method, String path, Style style, Map<String, String> form, boolean multipart,
            boolean ownerControl) {
        String request() {
            return method + " " + path;
        }
    }

    record Answer(int status, String location, String body, byte[] bytes) {
    }

    record Result(Cell cell, Kind kind, Answer answer, String unauthorized) {
    }

    @Autowired
    WebUsers users;

    @Autowired
    @Qualifier("requestMappingHandlerMapping")
    RequestMappingHandlerMapping mappings;

    private String tag;
    private Participants.Registered a;
    private Participants.Registered b;
    private Participants.Registered p;
    private WebAccounts.Login aPerson;
    private WebAccounts.Login aColleague;
    private WebAccounts.Login bPerson;
    private String patient;
    private String kvnr;
    private String family;
    private String consent;
    private String consentScan;
    private String conversation;
    private String attachment;
    private String bConversation;
    private String text;
    private String replyText;
    private byte[] attachmentBytes;
    private byte[] scanBytes;
    private String attack;

    @Test
    void anotherOrganisation_noSession_passwordOnly_andForgedPosts_getNothingOfAnotherOrganisationsInbox() {
        buildScene();
        List<Cell> cells = cells();
        Map<Kind, WebSession> sessions = sessions();
        List<Result> results = new ArrayList<>();
        List<String> controls = new ArrayList<>();
        int present = 0;

        // reads and searches first, then the forged writes; the owner's controls on the reads
        for (Cell cell : cells) {
            if (cell.style() == Style.WRITE) {
                continue;
            }
            if (exists(cell)) {
                present++;
            }
            if (exists(cell) && cell.ownerControl()) {
                Answer own = send(sessions.get(Kind.OWNER), cell, true);
                String control = control(cell, own);
                if (control != null) {
                    controls.add(cell.request() + " -> " + own.status() + ": " + control);
                }
            }
            for (Kind kind : List.of(Kind.STRANGER, Kind.NOT_SIGNED_IN, Kind.PASSWORD_ONLY)) {
                Answer answer = send(sessions.get(kind), cell, true);
                results.add(new Result(cell, kind, answer, judge(cell, kind, answer, sessions.get(kind))));
            }
        }
        for (Cell cell : cells) {
            if (cell.style() != Style.WRITE) {
                continue;
            }
            if (exists(cell)) {
                present++;
            }
            for (Kind kind : List.of(Kind.STRANGER, Kind.NOT_SIGNED_IN, Kind.PASSWORD_ONLY, Kind.NO_CSRF)) {
                Answer answer = send(sessions.get(kind), cell, kind != Kind.NO_CSRF);
                results.add(new Result(cell, kind, answer, judge(cell, kind, answer, sessions.get(kind))));
            }
        }
        // the writes left no trace
        List<String> effects = effects(sessions.get(Kind.OWNER));

        String table = table(results, cells.size(), present, controls, effects);
        results.forEach(r -> System.out.println("row [" + r.kind() + "] " + r.cell().request() + " -> " + r.answer().status()
                + (r.answer().location().isEmpty() ? "" : " " + r.answer().location())));
        System.out.println(table);
        assertThat(results.stream().filter(r -> r.unauthorized() != null).toList()).as(table).isEmpty();
        assertThat(effects).as(table).isEmpty();
        assertThat(controls).as(table).isEmpty();
    }

    // ------------------------------------------------------------------------------------------ the URLs

    private List<Cell> cells() {
        String chat = "/chat/" + conversation;
        String pat = "/patienten/" + patient;
        List<Cell> cells = new ArrayList<>();
        // conversations and their attachments
        cells.add(read("conversation", chat));
        cells.add(read("attachment", chat + "/anhang/" + attachment));
        // A's binaries under B's own conversation: nobody's URL, so no owner control
        cells.add(new Cell("attachment via own conversation", "GET", "/chat/" + bConversation + "/anhang/" + attachment,
                Style.READ, Map.of(), false, false));
        cells.add(new Cell("consent document via own conversation", "GET", "/chat/" + bConversation + "/anhang/" + consentScan,
                Style.READ, Map.of(), false, false));
        cells.add(search("inbox filtered by A's patient", "/posteingang?patient=" + patient));
        cells.add(search("inbox filtered by A's partner", "/posteingang?partner=" + p.organizationId()));
        // patients, consent, template
        cells.add(read("patient", pat));
        cells.add(read("consent upload page", pat + "/einwilligung"));
        cells.add(read("consent template", pat + "/einwilligungsvorlage"));
        cells.add(read("consent document", pat + "/einwilligung/dokument"));
        cells.add(search("patient search by A's KVNR", "/patienten", Map.of("kvnr", kvnr)));
        cells.add(search("patient search by A's patient's name", "/patienten", Map.of("nachname", family, "geburtsdatum", "1941-03-17")));
        cells.add(search("new chat with A's patient chosen", "/neu?patient=" + patient));
        // user accounts
        cells.add(search("user list", "/einstellungen/benutzer"));
        // writes
        cells.add(write("reply to A's conversation", chat + "/antwort", Map.of("text", attack), true));
        cells.add(write("revocation of A's patient's consent", pat + "/widerruf", Map.of("grund", attack), false));
        cells.add(write("consent upload for A's patient", pat + "/einwilligung",
                Map.of("partner", b.organizationId(), "aktion", "hochladen"), true));
        cells.add(write("new chat about A's patient", "/neu",
                Map.of("patient", patient, "partner", p.organizationId(), "text", "Neuer Chat " + tag,
                        "aktion", "starten"), true));
        cells.add(write("deactivate A's account", "/einstellungen/benutzer/" + aColleague.userId() + "/deaktivieren", Map.of(), false));
        cells.add(write("reset A's second factor", "/einstellungen/benutzer/" + aColleague.userId() + "/faktor-zuruecksetzen",
                Map.of(), false));
        cells.add(write("invite a colleague into A", "/einstellungen/benutzer/einladen",
                Map.of("name", "Eindringling", "email", "eindringling-" + tag + "@example.org"), false));
        return cells;
    }

    private static Cell read(String area, String path) {
        return new Cell(area, "GET", path, Style.READ, Map.of(), false, true);
    }

    private static Cell search(String area, String path) {
        return new Cell(area, "GET", path, Style.SEARCH, Map.of(), false, true);
    }

    /** A search form (POST: search criteria never go into a URL). */
    private static Cell search(String area, String path, Map<String, String> form) {
        return new Cell(area, "POST", path, Style.SEARCH, form, false, true);
    }

    private static Cell write(String area, String path, Map<String, String> form, boolean multipart) {
        return new Cell(area, "POST", path, Style.WRITE, form, multipart, true);
    }

    // ------------------------------------------------------------------------------------------ judging

    /** Null when the answer gave nothing away. */
    private String judge(Cell cell, Kind kind, Answer answer, WebSession session) {
        String leak = leaked(answer, cell);
        if (leak != null) {
            return leak;
        }
        int status = answer.status();
        if (status >= 500) {
            return "server error " + status;
        }
        if (kind != Kind.STRANGER) {
            // the login steps are the only way on
            if (status >= 200 && status < 300) {
                return "2xx";
            }
            if (status >= 300 && status < 400 && !toLogin(answer.location())) {
                return "redirect to " + answer.location();
            }
            return null;
        }
        if (cell.style() == Style.READ && status >= 200 && status < 300) {
            return "2xx";
        }
        if (status >= 300 && status < 400) {
            if (cell.style() == Style.WRITE && answer.location().contains("/chat/") && !answer.location().contains(bConversation)) {
                // a redirect into a chat: the write went through unless that chat shows nothing of A's
                HttpResponse<String> followed = session.get(answer.location());
                String followedLeak = leaked(new Answer(followed.statusCode(), "", followed.body(), null), cell);
                if (followed.statusCode() == 200 && followedLeak != null) {
                    return "wrote into " + answer.location() + ", " + followedLeak;
                }
            }
            if (answer.location().contains(patient) || answer.location().contains(conversation)) {
                return "redirect to A's object " + answer.location();
            }
        }
        return null;
    }

    private String leaked(Answer answer, Cell cell) {
        String body = answer.body();
        String asked = java.net.URLDecoder.decode(cell.path(), StandardCharsets.UTF_8) + " " + cell.form().values();
        List<String> markers = new ArrayList<>(markers());
        markers.add("data-patient=\"" + patient + "\"");
        markers.add("data-konversation=\"" + conversation + "\"");
        for (String marker : markers) {
            // what the caller typed may be echoed in the form (a search field); it reveals nothing
            if (!asked.contains(marker) && body.contains(marker)) {
                return "reveals " + marker;
            }
        }
        if (answer.bytes() != null && answer.bytes().length > 0) {
            if (java.util.Arrays.equals(answer.bytes(), attachmentBytes) || java.util.Arrays.equals(answer.bytes(), scanBytes)) {
                return "hands out A's document";
            }
        }
        return null;
    }

    private List<String> markers() {
        return List.of(kvnr, family, text, replyText, aPerson.email(), aColleague.email());
    }

    private static boolean toLogin(String location) {
        String path = location.replaceFirst("^https?://[^/]+", "");
        return path.startsWith("/anmelden") || path.startsWith(SecondFactorController.SETUP);
    }

    /** Null when A's own person gets its own object, as it must where the page exists. */
    private String control(Cell cell, Answer own) {
        if (own.status() != 200) {
            return "the owner does not get its own object";
        }
        if (cell.style() == Style.READ && cell.path().endsWith("/anhang/" + attachment)
                && cell.path().startsWith("/chat/" + conversation)
                && !java.util.Arrays.equals(own.bytes(), attachmentBytes)) {
            return "the owner gets other bytes than the attachment";
        }
        if (cell.path().endsWith("/einwilligung/dokument") && !java.util.Arrays.equals(own.bytes(), scanBytes)) {
            return "the owner gets other bytes than the signed consent";
        }
        if (cell.path().equals("/patienten/" + patient) && !own.body().contains(family)) {
            return "the owner's patient page does not show the patient";
        }
        if (cell.path().equals("/chat/" + conversation) && !own.body().contains(text)) {
            return "the owner's conversation does not show its message";
        }
        return null;
    }

    /** What a forged write would have left behind: each entry is an unauthorized effect. */
    private List<String> effects(WebSession owner) {
        List<String> effects = new ArrayList<>();
        Consent now = client(a.token()).read().resource(Consent.class).withId(consent).execute();
        if (now.getStatus() != Consent.ConsentState.ACTIVE) {
            effects.add("A's consent is " + now.getStatus().toCode());
        }
        Bundle consents = client(a.token()).search().forResource(Consent.class)
                .where(Consent.PATIENT.hasId("Patient/" + patient)).returnBundle(Bundle.class).execute();
        if (consents.getEntry().size() != 1) {
            effects.add("A's patient has " + consents.getEntry().size() + " consents");
        }
        for (Bundle.BundleEntryComponent entry : client(a.token()).search().forResource(Communication.class).count(200)
                .returnBundle(Bundle.class).execute().getEntry()) {
            if (FHIR.newJsonParser().encodeResourceToString(entry.getResource()).contains(attack)) {
                effects.add("A sees a forged message " + entry.getResource().getIdElement().getIdPart());
            }
        }
        for (Bundle.BundleEntryComponent entry : client(p.token()).search().forResource(Communication.class).count(200)
                .returnBundle(Bundle.class).execute().getEntry()) {
            if (FHIR.newJsonParser().encodeResourceToString(entry.getResource()).contains(attack)) {
                effects.add("the partner received a forged message " + entry.getResource().getIdElement().getIdPart());
            }
        }
        WebUsers.Account colleague = users.find(aColleague.userId()).orElseThrow();
        if (!colleague.active()) {
            effects.add("A's account was deactivated");
        }
        if (!colleague.totpEnabled()) {
            effects.add("A's account lost its second factor");
        }
        if (users.ofOrganization(a.organizationId()).stream().anyMatch(u -> u.email().startsWith("eindringling-"))) {
            effects.add("an account was invited into A");
        }
        HttpResponse<String> chat = owner.get("/chat/" + conversation);
        if (chat.body().contains(attack)) {
            effects.add("A's conversation shows the forged reply");
        }
        return effects;
    }

    // ------------------------------------------------------------------------------------------ sending

    private Answer send(WebSession session, Cell cell, boolean withCsrf) {
        if (cell.method().equals("GET")) {
            HttpResponse<byte[]> response = session.getBytes(cell.path());
            String body = new String(response.body(), StandardCharsets.UTF_8);
            return new Answer(response.statusCode(), WebSession.location(response), body, response.body());
        }
        Map<String, String> form = new LinkedHashMap<>(cell.form());
        if (!withCsrf) {
            form.put("_csrf", "");
        }
        HttpResponse<String> response = cell.multipart()
                ? session.postMultipart(cell.path(), form, Map.of(cell.path().endsWith("/einwilligung") ? "dokument" : "anhaenge",
                        new WebSession.FilePart("scan.pdf", "application/pdf", Conversations.signedScan())))
                : session.post(cell.path(), form);
        return new Answer(response.statusCode(), WebSession.location(response), response.body(), null);
    }

    /** Whether the inbox has a page (a mapped handler) for this request. */
    private boolean exists(Cell cell) {
        MockHttpServletRequest request = new MockHttpServletRequest(cell.method(), cell.path().replaceFirst("\\?.*", ""));
        request.setContentType(cell.multipart() ? "multipart/form-data; boundary=x" : "application/x-www-form-urlencoded");
        ServletRequestPathUtils.parseAndCache(request);
        return mappings.getHandlerMethods().keySet().stream()
                .filter(info -> !info.getPatternValues().contains("/error") && !info.getPatternValues().contains("/**"))
                .anyMatch(info -> info.getMatchingCondition(request) != null);
    }

    private Map<Kind, WebSession> sessions() {
        Map<Kind, WebSession> sessions = new EnumMap<>(Kind.class);
        sessions.put(Kind.OWNER, WebSession.signIn(webUrl(), aPerson));
        sessions.put(Kind.STRANGER, WebSession.signIn(webUrl(), bPerson));
        WebSession anonymous = new WebSession(webUrl());
        anonymous.get("/anmelden"); // a valid anonymous CSRF token: the forms are refused for want of a person
        sessions.put(Kind.NOT_SIGNED_IN, anonymous);
        WebSession halfway = new WebSession(webUrl());
        halfway.get("/anmelden");
        halfway.post("/anmelden", Map.of("email", aPerson.email(), "passwort", aPerson.password()));
        halfway.get(SecondFactorController.VERIFY);
        sessions.put(Kind.PASSWORD_ONLY, halfway);
        sessions.put(Kind.NO_CSRF, WebSession.signIn(webUrl(), aPerson));
        return sessions;
    }

    // ------------------------------------------------------------------------------------------ the scene

    private void buildScene() {
        tag = UUID.randomUUID().toString().substring(0, 6).toUpperCase(Locale.ROOT);
        a = Participants.registerNew(this, "Praxis A Webmatrix");
        b = Participants.registerNew(this, "Pflegeheim B Webmatrix");
        p = Participants.registerNew(this, "Pflegedienst P Webmatrix");
        aPerson = WebAccounts.newUser(users, a.organizationId(), "Anna Vertraulich" + letters(), true);
        aColleague = WebAccounts.newUser(users, a.organizationId(), "Carl Kollege", false);
        bPerson = WebAccounts.newUser(users, b.organizationId(), "Bernd Fremd", true);
        var aClient = client(a.token());

        kvnr = Conversations.kvnr();
        family = "Geheimnis" + letters();
        Patient entry = Conversations.patient(family, "Erika", kvnr);
        patient = Conversations.createPatient(aClient, entry);
        consent = Conversations.uploadConsent(aClient, patient, a.organizationId(), p.organizationId());
        consentScan = aClient.read().resource(Consent.class).withId(consent).execute().getSourceAttachment().getUrl()
                .replace("Binary/", "");
        scanBytes = binary(a.token(), consentScan);

        attachmentBytes = Conversations.signedScan();
        attachment = upload(a.token(), attachmentBytes);
        text = "Befund " + tag + " nur fuer P";
        Communication first = Conversations.message(patient, text, p.organizationId());
        first.addPayload().getContentAttachment().setUrl("Binary/" + attachment).setTitle("Befund.pdf");
        conversation = Conversations.send(aClient, first);
        replyText = "Antwort " + tag + " nur fuer A";
        Communication reply = Conversations.message(patient, replyText, a.organizationId());
        reply.addInResponseTo(new Reference("Communication/" + conversation));
        Conversations.send(client(p.token()), reply);
        bConversation = Conversations.send(client(b.token()), Conversations.message(null, "Allgemeine Frage von B " + tag,
                p.organizationId()));
        attack = "ANGRIFF-" + tag;
        assertThat(attachmentBytes).isNotEmpty();
        assertThat(scanBytes).isNotEmpty();
    }

    private String letters() {
        return tag.replaceAll("[0-9]", "Q");
    }

    private String upload(String token, byte[] data) {
        try {
            HttpResponse<String> created = http("POST", "/fhir/Binary", token, "application/pdf", data);
            assertThat(created.statusCode()).as(created.body()).isEqualTo(201);
            return ((Resource) FHIR.newJsonParser().parseResource(created.body())).getIdElement().getIdPart();
        } catch (Exception e) {
            throw new AssertionError(e);
        }
    }

    private byte[] binary(String token, String id) {
        try {
            var response = java.net.http.HttpClient.newHttpClient().send(java.net.http.HttpRequest
                    .newBuilder(java.net.URI.create(baseUrl() + "/Binary/" + id)).header("Authorization", "Bearer " + token)
                    .header("Accept", "application/pdf").build(), HttpResponse.BodyHandlers.ofByteArray());
            assertThat(response.statusCode()).isEqualTo(200);
            return response.body();
        } catch (Exception e) {
            throw new AssertionError(e);
        }
    }

    // ------------------------------------------------------------------------------------------ the report

    static String table(List<Result> results, int urls, int present, List<String> controls, List<String> effects) {
        Map<Kind, int[]> perKind = new EnumMap<>(Kind.class);
        for (Result r : results) {
            int[] counts = perKind.computeIfAbsent(r.kind(), k -> new int[2]);
            counts[0]++;
            if (r.unauthorized() != null) {
                counts[1]++;
            }
        }
        StringBuilder out = new StringBuilder("\nWeb access matrix\n");
        out.append(String.format(Locale.ROOT, "%-46s %9s %14s%n", "caller", "attempts", "unauthorized"));
        perKind.forEach((kind, counts) -> out.append(String.format(Locale.ROOT, "%-46s %9d %14d%n", kind.label, counts[0], counts[1])));
        long failures = results.stream().filter(r -> r.unauthorized() != null).count();
        out.append(String.format(Locale.ROOT, "%-46s %9d %14d%n", "total", results.size(), failures));
        out.append(String.format(Locale.ROOT, "web access matrix: %d attempts on %d URLs (%d with a page today, "
                + "owner controls failed: %d); unauthorized successes: %d, unauthorized effects: %d%n",
                results.size(), urls, present, controls.size(), failures, effects.size()));
        results.stream().filter(r -> r.unauthorized() != null).forEach(r -> out.append(String.format(Locale.ROOT,
                "  FAIL [%s] %s / %s -> %d %s: %s%n", r.kind().name(), r.cell().area(), r.cell().request(), r.answer().status(),
                r.answer().location(), r.unauthorized())));
        controls.forEach(c -> out.append("  CONTROL ").append(c).append('\n'));
        effects.forEach(e -> out.append("  EFFECT ").append(e).append('\n'));
        return out.toString();
    }
}
