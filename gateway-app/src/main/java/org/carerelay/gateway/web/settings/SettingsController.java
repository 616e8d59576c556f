package org.carerelay.gateway.web.settings;

import jakarta.servlet.http.HttpServletRequest;
import java.io.IOException;
import org.carerelay.gateway.fhir.GatewayException;
import org.carerelay.gateway.registration.RegistrationService;
import org.carerelay.gateway.web.WebUser;
import org.carerelay.gateway.web.WebUsers;
import org.hl7.fhir.r4.model.Parameters;
import org.springframework.security.core.annotation.AuthenticationPrincipal;
import org.springframework.stereotype.Controller;
import org.springframework.ui.Model;
import org.springframework.web.bind.annotation.GetMapping;
import org.springframework.web.bind.annotation.PathVariable;
import org.springframework.web.bind.annotation.PostMapping;
import org.springframework.web.bind.annotation.RequestParam;
import org.springframework.web.multipart.MultipartFile;
import org.springframework.web.servlet.mvc.support.RedirectAttributes;

/**
 * Einstellungen: the organisation's notification address, encryption certificate, endpoints and
 * API token. Everyone signed in sees them; changing them needs {@code ROLE_MANAGER} (enforced by the
 * security configuration for every POST under {@code /einstellungen}).
 */
@Controller
public class SettingsController {

    static final String PAGE = "/einstellungen";
    /** Certificates are a few kilobytes; anything much larger is not one. */
    static final int MAX_CERTIFICATE_BYTES = 64 * 1024;

    private final RegistrationService registration;
    private final OrganizationSettings settings;
    private final WebUsers users;

    public SettingsController(RegistrationService registration, OrganizationSettings settings, WebUsers users) {
        this.registration = registration;
        this.settings = settings;
        this.users = users;
    }

    @GetMapping(PAGE)
    public String page(@AuthenticationPrincipal WebUser user, Model model) {
        fill(user, model);
        return "einstellungen";
    }

    @PostMapping(PAGE + "/benachrichtigung")
    public String notificationAddress(@AuthenticationPrincipal WebUser user, @RequestParam(defaultValue = "") String benachrichtigung,
            HttpServletRequest request, Model model, RedirectAttributes redirect) {
        try {
            registration.changeContactEmail(user.organizationId(), benachrichtigung, user.caller(), request.getRemoteAddr());
        } catch (GatewayException e) {
            return failed(user, model, SettingsMessages.of(e, "Bitte geben Sie eine gültige E-Mail-Adresse an."));
        }
        redirect.addFlashAttribute("erfolg", "Die Benachrichtigungsadresse wurde gespeichert.");
        return "redirect:" + PAGE;
    }

    @PostMapping(PAGE + "/zertifikat")
    public String uploadCertificate(@AuthenticationPrincipal WebUser user, @RequestParam(required = false) MultipartFile zertifikat,
            HttpServletRequest request, Model model, RedirectAttributes redirect) throws IOException {
        if (zertifikat == null || zertifikat.isEmpty()) {
            return failed(user, model, "Bitte wählen Sie eine Zertifikatsdatei (PEM oder DER) aus.");
        }
        if (zertifikat.getSize() > MAX_CERTIFICATE_BYTES) {
            return failed(user, model, "Die Datei ist zu groß für ein Zertifikat (höchstens 64 KB).");
        }
        try {
            settings.uploadCertificate(zertifikat.getBytes(), user.caller(), request.getRemoteAddr());
        } catch (GatewayException e) {
            return failed(user, model, SettingsMessages.of(e, "Das Zertifikat konnte nicht gelesen werden."));
        }
        redirect.addFlashAttribute("erfolg", "Das Verschlüsselungszertifikat wurde gespeichert.");
        return "redirect:" + PAGE;
    }

    @PostMapping(PAGE + "/zertifikat/entfernen")
    public String removeCertificate(@AuthenticationPrincipal WebUser user, HttpServletRequest request, RedirectAttributes redirect) {
        settings.removeCertificate(user.caller(), request.getRemoteAddr());
        redirect.addFlashAttribute("erfolg", "Das Verschlüsselungszertifikat wurde entfernt.");
        return "redirect:" + PAGE;
    }

    @PostMapping(PAGE + "/endpunkte")
    public String addEndpoint(@AuthenticationPrincipal WebUser user, @RequestParam(defaultValue = "") String typ,
            @RequestParam(defaultValue = "") String adresse, HttpServletRequest request, Model model, RedirectAttributes redirect) {
        if (!typ.equals("hl7-fhir-rest") && !typ.equals("hl7v2-mllp")) {
            return failed(user, model, "Bitte wählen Sie die Art des Endpunkts (FHIR oder MLLP).");
        }
        if (adresse.isBlank()) {
            return failed(user, model, "Bitte geben Sie die Adresse des Endpunkts an.");
        }
        try {
            settings.addEndpoint(typ, adresse, user.caller(), request.getRemoteAddr());
        } catch (GatewayException e) {
            return failed(user, model, SettingsMessages.of(e, "Die Adresse des Endpunkts ist nicht zulässig."));
        }
        redirect.addFlashAttribute("erfolg", "Der Endpunkt wurde angelegt.");
        return "redirect:" + PAGE;
    }

    @PostMapping(PAGE + "/endpunkte/{endpointId}/abschalten")
    public String deactivateEndpoint(@AuthenticationPrincipal WebUser user, @PathVariable String endpointId,
            HttpServletRequest request, Model model, RedirectAttributes redirect) {
        try {
            settings.deactivateEndpoint(endpointId, user.caller(), request.getRemoteAddr());
        } catch (GatewayException e) {
            return failed(user, model, SettingsMessages.of(e, "Der Endpunkt konnte nicht abgeschaltet werden."));
        }
        redirect.addFlashAttribute("erfolg", "Der Endpunkt wurde abgeschaltet.");
        return "redirect:" + PAGE;
    }

    /**
     * The new token is rendered into this one answer only (no redirect, nothing stored): shown once.
     * The token opens the whole API without a second factor, so issuing it takes a fresh code from
     * the manager's authenticator app (a wrong one counts towards the lockout).
     */
    @PostMapping(PAGE + "/token")
    public String rotateToken(@AuthenticationPrincipal WebUser user, @RequestParam(name = "code", required = false) String code,
            HttpServletRequest request, Model model) {
        if (!users.verifyTotp(user.userId(), code)) {
            return failed(user, model, "Bitte bestätigen Sie mit dem aktuellen Code aus Ihrer Authenticator-App; "
                    + "der eingegebene Code stimmt nicht oder wurde schon verwendet.");
        }
        Parameters rotated;
        try {
            rotated = registration.rotateToken(user.organizationId(), user.caller(), request.getRemoteAddr());
        } catch (GatewayException e) {
            return failed(user, model, SettingsMessages.of(e, "Das Token konnte nicht erneuert werden."));
        }
        model.addAttribute("neuesToken", rotated.getParameter("token").getValue().primitiveValue());
        model.addAttribute("erfolg", "Ein neues API-Token wurde ausgestellt; das bisherige gilt nicht mehr.");
        fill(user, model);
        return "einstellungen";
    }

    private String failed(WebUser user, Model model, String message) {
        model.addAttribute("fehler", message);
        fill(user, model);
        return "einstellungen";
    }

    private void fill(WebUser user, Model model) {
        model.addAttribute("benachrichtigungsadresse",
                registration.contactEmail(user.organizationId(), user.caller()).orElse(""));
        model.addAttribute("zertifikat", settings.certificate(user.caller()).orElse(null));
        model.addAttribute("endpunkte", settings.endpoints(user.caller()));
        model.addAttribute("darfAendern", user.manager());
    }
}
