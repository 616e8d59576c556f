package org.carerelay.gateway.web.account;

import jakarta.servlet.http.HttpServletRequest;
import java.util.Optional;
import org.carerelay.gateway.web.WebUser;
import org.springframework.security.core.annotation.AuthenticationPrincipal;
import org.springframework.stereotype.Controller;
import org.springframework.ui.Model;
import org.springframework.web.bind.annotation.GetMapping;
import org.springframework.web.bind.annotation.PathVariable;
import org.springframework.web.bind.annotation.PostMapping;
import org.springframework.web.bind.annotation.RequestParam;
import org.springframework.web.servlet.mvc.support.RedirectAttributes;

/**
 * {@code /einstellungen/benutzer} (managers only, enforced by the security chain): the
 * organisation's accounts, inviting a colleague, deactivating an account, resetting a second factor.
 */
@Controller
public class UserManagementController {

    static final String PAGE = "/einstellungen/benutzer";

    private final UserAdministration administration;
    private final ColleagueInvitations invitations;

    public UserManagementController(UserAdministration administration, ColleagueInvitations invitations) {
        this.administration = administration;
        this.invitations = invitations;
    }

    @GetMapping(PAGE)
    public String page(@AuthenticationPrincipal WebUser manager, Model model) {
        model.addAttribute("konten", administration.accounts(manager));
        model.addAttribute("ich", manager.userId());
        if (!model.containsAttribute("einladungName")) {
            model.addAttribute("einladungName", "");
            model.addAttribute("einladungEmail", "");
        }
        return "benutzer";
    }

    @PostMapping(PAGE + "/einladen")
    public String invite(@AuthenticationPrincipal WebUser manager, @RequestParam(name = "name", required = false) String name,
            @RequestParam(name = "email", required = false) String email, HttpServletRequest request,
            RedirectAttributes redirect) {
        Optional<String> problem = AccountForms.nameProblem(name).or(() -> AccountForms.emailProblem(email));
        if (problem.isPresent()) {
            return back(redirect, problem.get(), name, email);
        }
        try {
            invitations.invite(manager, name, email, request.getRemoteAddr());
        } catch (ColleagueInvitations.Refused refused) {
            return back(redirect, refused.getMessage(), name, email);
        }
        redirect.addFlashAttribute("erfolg", "Die Einladung an " + email.strip() + " ist verschickt. Der Link gilt 72 Stunden.");
        return "redirect:" + PAGE;
    }

    @PostMapping(PAGE + "/{id}/deaktivieren")
    public String deactivate(@AuthenticationPrincipal WebUser manager, @PathVariable("id") String id,
            HttpServletRequest request, RedirectAttributes redirect) {
        try {
            administration.deactivate(manager, id, request.getRemoteAddr());
            redirect.addFlashAttribute("erfolg", "Das Konto ist deaktiviert; seine Anmeldungen sind beendet.");
        } catch (ColleagueInvitations.Refused refused) {
            redirect.addFlashAttribute("fehler", refused.getMessage());
        }
        return "redirect:" + PAGE;
    }

    @PostMapping(PAGE + "/{id}/faktor-zuruecksetzen")
    public String resetSecondFactor(@AuthenticationPrincipal WebUser manager, @PathVariable("id") String id,
            HttpServletRequest request, RedirectAttributes redirect) {
        administration.resetSecondFactor(manager, id, request.getRemoteAddr());
        redirect.addFlashAttribute("erfolg", "Der zweite Faktor ist zurückgesetzt. Die Person richtet bei der nächsten "
                + "Anmeldung eine neue Authenticator-App ein.");
        return "redirect:" + PAGE;
    }

    private static String back(RedirectAttributes redirect, String message, String name, String email) {
        redirect.addFlashAttribute("fehler", message);
        redirect.addFlashAttribute("einladungName", name == null ? "" : name);
        redirect.addFlashAttribute("einladungEmail", email == null ? "" : email);
        return "redirect:" + PAGE;
    }
}
