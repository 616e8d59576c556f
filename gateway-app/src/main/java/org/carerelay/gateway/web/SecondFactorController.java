package org.carerelay.gateway.web;

import jakarta.servlet.http.HttpServletRequest;
import jakarta.servlet.http.HttpServletResponse;
import jakarta.servlet.http.HttpSession;
import java.time.Instant;
import java.util.OptionalLong;
import org.carerelay.gateway.audit.AuditService;
import org.hl7.fhir.r4.model.AuditEvent.AuditEventAction;
import org.springframework.security.authentication.UsernamePasswordAuthenticationToken;
import org.springframework.security.core.Authentication;
import org.springframework.security.core.context.SecurityContext;
import org.springframework.security.core.context.SecurityContextHolder;
import org.springframework.security.core.context.SecurityContextHolderStrategy;
import org.springframework.security.web.authentication.logout.SecurityContextLogoutHandler;
import org.springframework.security.web.context.HttpSessionSecurityContextRepository;
import org.springframework.security.web.context.SecurityContextRepository;
import org.springframework.security.web.savedrequest.HttpSessionRequestCache;
import org.springframework.security.web.savedrequest.RequestCache;
import org.springframework.security.web.savedrequest.SavedRequest;
import org.springframework.stereotype.Controller;
import org.springframework.ui.Model;
import org.springframework.web.bind.annotation.GetMapping;
import org.springframework.web.bind.annotation.PostMapping;
import org.springframework.web.bind.annotation.RequestParam;

/**
 * The second factor, after the password: a TOTP code ({@link #VERIFY}), or, for a person who has
 * none yet, setting up an authenticator app ({@link #SETUP}: a new secret, confirmed by a first
 * code). Only then does the session get the inbox's authorities, under a new session id.
 */
@Controller
public class SecondFactorController {

    public static final String VERIFY = "/anmelden/zweiter-faktor";
    public static final String SETUP = "/einrichtung/zweiter-faktor";
    static final String ISSUER = "CareRelay";
    private static final String PENDING_SECRET = SecondFactorController.class.getName() + ".secret";

    private final WebUsers users;
    private final SecurityContextHolderStrategy contexts = SecurityContextHolder.getContextHolderStrategy();
    private final SecurityContextRepository repository = new HttpSessionSecurityContextRepository();
    private final RequestCache requestCache = new HttpSessionRequestCache();

    private final AuditService audit;

    public SecondFactorController(WebUsers users, AuditService audit) {
        this.users = users;
        this.audit = audit;
    }

    @GetMapping(VERIFY)
    public String verifyForm(Authentication auth) {
        WebUser user = (WebUser) auth.getPrincipal();
        if (!users.find(user.userId()).map(WebUsers.Account::totpEnabled).orElse(false)) {
            return "redirect:" + SETUP;
        }
        return "zweiter-faktor";
    }

    @PostMapping(VERIFY)
    public String verify(@RequestParam(name = "code", required = false) String code, Authentication auth, Model model,
            HttpServletRequest request, HttpServletResponse response) {
        WebUser user = (WebUser) auth.getPrincipal();
        if (!users.verifyTotp(user.userId(), code)) {
            auditRefused(user, request);
            if (locked(user)) {
                return signOut(auth, request, response);
            }
            model.addAttribute("fehler", "Der Code stimmt nicht oder wurde schon verwendet. Bitte geben Sie den "
                    + "aktuellen Code aus Ihrer Authenticator-App ein.");
            return "zweiter-faktor";
        }
        return completeSignIn(user, request, response);
    }

    @GetMapping(SETUP)
    public String setupForm(Authentication auth, HttpSession session, Model model) {
        WebUser user = (WebUser) auth.getPrincipal();
        if (users.find(user.userId()).map(WebUsers.Account::totpEnabled).orElse(true)) {
            return "redirect:" + VERIFY;
        }
        byte[] secret = (byte[]) session.getAttribute(PENDING_SECRET);
        if (secret == null) {
            secret = Totp.newSecret();
            session.setAttribute(PENDING_SECRET, secret);
        }
        model.addAttribute("secret", Totp.base32(secret));
        model.addAttribute("otpauth", Totp.otpauthUri(ISSUER, user.email(), secret));
        return "zweiter-faktor-einrichten";
    }

    @PostMapping(SETUP)
    public String setup(@RequestParam(name = "code", required = false) String code, Authentication auth,
            HttpSession session, Model model, HttpServletRequest request, HttpServletResponse response) {
        WebUser user = (WebUser) auth.getPrincipal();
        if (users.find(user.userId()).map(WebUsers.Account::totpEnabled).orElse(true)) {
            return "redirect:" + VERIFY;
        }
        byte[] secret = (byte[]) session.getAttribute(PENDING_SECRET);
        if (secret == null) {
            return "redirect:" + SETUP;
        }
        OptionalLong step = Totp.verify(secret, code, Instant.now(), 0);
        if (step.isEmpty()) {
            users.loginFailed(user.userId());
            auditRefused(user, request);
            if (locked(user)) {
                return signOut(auth, request, response);
            }
            model.addAttribute("secret", Totp.base32(secret));
            model.addAttribute("otpauth", Totp.otpauthUri(ISSUER, user.email(), secret));
            model.addAttribute("fehler", "Der Code stimmt nicht. Bitte prüfen Sie, ob die Uhrzeit Ihres Geräts "
                    + "stimmt, und geben Sie den aktuellen Code ein.");
            return "zweiter-faktor-einrichten";
        }
        session.removeAttribute(PENDING_SECRET);
        if (!users.enableFirstTotp(user.userId(), secret, step.getAsLong())) {
            // locked meanwhile, or another session of this password step set up a secret first
            return signOut(auth, request, response);
        }
        return completeSignIn(user, request, response);
    }

    private void auditRefused(WebUser user, HttpServletRequest request) {
        audit.failure(WebSecurityConfiguration.LOGIN_AUDIT, AuditEventAction.E, user.caller(), request.getRemoteAddr(),
                "Organization/" + user.organizationId(), "second factor refused");
    }

    private boolean locked(WebUser user) {
        return users.locked(user.userId());
    }

    private String signOut(Authentication auth, HttpServletRequest request, HttpServletResponse response) {
        new SecurityContextLogoutHandler().logout(request, response, auth);
        return "redirect:/anmelden?fehler";
    }

    /** Both factors passed: the inbox's authorities, a new session id, on to where the person wanted to go. */
    private String completeSignIn(WebUser user, HttpServletRequest request, HttpServletResponse response) {
        users.loginSucceeded(user.userId());
        audit.success(WebSecurityConfiguration.LOGIN_AUDIT, AuditEventAction.E, user.caller(), request.getRemoteAddr(),
                "Organization/" + user.organizationId());
        request.changeSessionId();
        SecurityContext context = contexts.createEmptyContext();
        context.setAuthentication(UsernamePasswordAuthenticationToken.authenticated(user, null,
                WebAuthorities.afterSecondFactor(user)));
        contexts.setContext(context);
        repository.saveContext(context, request, response);
        SavedRequest saved = requestCache.getRequest(request, response);
        if (saved != null) {
            requestCache.removeRequest(request, response);
            String target = saved.getRedirectUrl();
            String base = request.getScheme() + "://" + request.getServerName() + ":" + request.getServerPort();
            if (target.startsWith(base + "/") && "GET".equals(saved.getMethod())) {
                return "redirect:" + target.substring(base.length());
            }
        }
        return "redirect:/posteingang";
    }
}
