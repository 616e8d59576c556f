package org.carerelay.gateway.web.account;

import jakarta.servlet.http.HttpServletRequest;
import jakarta.servlet.http.HttpServletResponse;
import java.util.Optional;
import org.springframework.http.HttpStatus;
import org.springframework.stereotype.Controller;
import org.springframework.ui.Model;
import org.springframework.web.bind.annotation.GetMapping;
import org.springframework.web.bind.annotation.PathVariable;
import org.springframework.web.bind.annotation.PostMapping;
import org.springframework.web.bind.annotation.RequestParam;

/** {@code /einladung/{token}}: the invited colleague sets a password; the account is created. */
@Controller
public class InvitationController {

    static final String GONE = "Diese Einladung ist abgelaufen oder wurde schon verwendet. Bitte bitten Sie die Person, "
            + "die Sie eingeladen hat, um eine neue Einladung.";

    private final ColleagueInvitations invitations;

    public InvitationController(ColleagueInvitations invitations) {
        this.invitations = invitations;
    }

    @GetMapping("/einladung/{token}")
    public String page(@PathVariable("token") String token, Model model, HttpServletResponse response) {
        Optional<ColleagueInvitations.Open> open = invitations.open(token);
        if (open.isEmpty()) {
            response.setStatus(HttpStatus.GONE.value());
            model.addAttribute("fehler", GONE);
            model.addAttribute("gueltig", false);
            return "einladung";
        }
        return show(model, token, open.get(), open.get().displayName());
    }

    @PostMapping("/einladung/{token}")
    public String accept(@PathVariable("token") String token, @RequestParam(name = "name", required = false) String name,
            @RequestParam(name = "passwort", required = false) String password,
            @RequestParam(name = "passwort2", required = false) String repeated, Model model,
            HttpServletRequest request, HttpServletResponse response) {
        Optional<ColleagueInvitations.Open> open = invitations.open(token);
        if (open.isEmpty()) {
            response.setStatus(HttpStatus.GONE.value());
            model.addAttribute("fehler", GONE);
            model.addAttribute("gueltig", false);
            return "einladung";
        }
        Optional<String> problem = AccountForms.nameProblem(name)
                .or(() -> AccountForms.passwordProblem(password, repeated, open.get().email()));
        if (problem.isPresent()) {
            model.addAttribute("fehler", problem.get());
            return show(model, token, open.get(), name);
        }
        try {
            invitations.accept(token, name, password, request.getRemoteAddr());
        } catch (ColleagueInvitations.Refused refused) {
            response.setStatus(HttpStatus.GONE.value());
            model.addAttribute("fehler", refused.getMessage());
            model.addAttribute("gueltig", false);
            return "einladung";
        }
        return "redirect:/anmelden?registriert";
    }

    private static String show(Model model, String token, ColleagueInvitations.Open open, String name) {
        model.addAttribute("gueltig", true);
        model.addAttribute("token", token);
        model.addAttribute("email", open.email());
        model.addAttribute("name", name == null ? "" : name);
        model.addAttribute("minPasswort", AccountForms.MIN_PASSWORD);
        return "einladung";
    }
}
