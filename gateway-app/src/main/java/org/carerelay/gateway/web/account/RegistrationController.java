package org.carerelay.gateway.web.account;

import jakarta.servlet.http.HttpServletRequest;
import java.util.ArrayList;
import java.util.List;
import java.util.Optional;
import org.carerelay.gateway.directory.UnregisteredOrganizations;
import org.carerelay.gateway.directory.UnregisteredOrganizations.Candidate;
import org.carerelay.gateway.fhir.GatewayException;
import org.springframework.stereotype.Controller;
import org.springframework.ui.Model;
import org.springframework.web.bind.annotation.GetMapping;
import org.springframework.web.bind.annotation.PostMapping;
import org.springframework.web.bind.annotation.RequestParam;

/**
 * {@code /registrieren}: an organisation that received a letter with a code registers in the
 * browser; the person who does it becomes the organisation's first account (its manager).
 */
@Controller
public class RegistrationController {

    static final String PAGE = "/registrieren";
    static final String ALREADY_REGISTERED = "Diese Einrichtung ist bereits registriert. Bitte bitten Sie die Person, "
            + "die die Benutzer Ihrer Einrichtung verwaltet, um eine Einladung per E-Mail.";

    private final WebRegistration registration;
    private final UnregisteredOrganizations directory;

    public RegistrationController(WebRegistration registration, UnregisteredOrganizations directory) {
        this.registration = registration;
        this.directory = directory;
    }

    @GetMapping(PAGE)
    public String page(@RequestParam(name = "q", required = false) String q, Model model) {
        return show(model, q, null, null, null, null);
    }

    @PostMapping(PAGE)
    public String register(@RequestParam(name = "q", required = false) String q,
            @RequestParam(name = "organisation", required = false) String organisation,
            @RequestParam(name = "code", required = false) String code,
            @RequestParam(name = "name", required = false) String name,
            @RequestParam(name = "email", required = false) String email,
            @RequestParam(name = "passwort", required = false) String password,
            @RequestParam(name = "passwort2", required = false) String repeated,
            Model model, HttpServletRequest request) {
        Optional<String> problem = organisation == null || organisation.isBlank()
                ? Optional.of("Bitte suchen und wählen Sie Ihre Einrichtung.")
                : code == null || code.isBlank() ? Optional.of("Bitte geben Sie den Code aus dem Schreiben ein.")
                : AccountForms.nameProblem(name)
                        .or(() -> AccountForms.emailProblem(email))
                        .or(() -> AccountForms.passwordProblem(password, repeated, email));
        if (problem.isPresent()) {
            model.addAttribute("fehler", problem.get());
            return show(model, q, organisation, code, name, email);
        }
        try {
            registration.register(organisation, code, name.strip(), email.strip(), password, request.getRemoteAddr());
        } catch (WebRegistration.Refused refused) {
            model.addAttribute("fehler", refused.reason() == WebRegistration.Refused.Reason.ALREADY_REGISTERED
                    ? ALREADY_REGISTERED
                    : "Zu dieser E-Mail-Adresse gibt es schon ein Konto. Bitte wählen Sie eine andere Adresse.");
            return show(model, q, organisation, code, name, email);
        } catch (GatewayException e) {
            model.addAttribute("fehler", GermanErrors.of(e));
            return show(model, q, organisation, code, name, email);
        }
        return "redirect:/anmelden?registriert";
    }

    /** A letter with a (new) code for the chosen organisation, to its fax number or e-mail address on record. */
    @PostMapping(PAGE + "/code")
    public String requestCode(@RequestParam(name = "q", required = false) String q,
            @RequestParam(name = "organisation", required = false) String organisation,
            @RequestParam(name = "name", required = false) String name,
            @RequestParam(name = "email", required = false) String email,
            Model model, HttpServletRequest request) {
        if (organisation == null || organisation.isBlank()) {
            model.addAttribute("fehler", "Bitte suchen und wählen Sie Ihre Einrichtung.");
            return show(model, q, null, null, name, email);
        }
        try {
            registration.requestCode(organisation, request.getRemoteAddr());
            model.addAttribute("erfolg", "Das Schreiben mit dem Code ist unterwegs, an die Faxnummer (oder E-Mail-Adresse) "
                    + "Ihrer Einrichtung aus dem Verzeichnis. Ein noch gültiger Code bleibt gültig.");
        } catch (WebRegistration.Refused refused) {
            model.addAttribute("fehler", ALREADY_REGISTERED);
        } catch (GatewayException e) {
            model.addAttribute("fehler", GermanErrors.of(e));
        }
        return show(model, q, organisation, null, name, email);
    }

    private String show(Model model, String q, String organisation, String code, String name, String email) {
        List<Candidate> found = new ArrayList<>(directory.search(q));
        if (organisation != null && found.stream().noneMatch(c -> c.id().equals(organisation))) {
            directory.candidate(organisation).ifPresent(c -> found.add(0, c));
        }
        model.addAttribute("q", q == null ? "" : q);
        model.addAttribute("gesucht", q != null && !q.isBlank());
        model.addAttribute("zuKurz", q != null && !q.isBlank() && q.strip().length() < UnregisteredOrganizations.MIN_QUERY);
        model.addAttribute("treffer", found);
        model.addAttribute("organisation", organisation);
        model.addAttribute("code", code == null ? "" : code);
        model.addAttribute("name", name == null ? "" : name);
        model.addAttribute("email", email == null ? "" : email);
        model.addAttribute("minPasswort", AccountForms.MIN_PASSWORD);
        return "registrieren";
    }
}
