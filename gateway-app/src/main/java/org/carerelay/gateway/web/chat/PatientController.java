package org.carerelay.gateway.web.chat;

import jakarta.servlet.http.HttpServletRequest;
import jakarta.servlet.http.HttpServletResponse;
import java.io.IOException;
import java.util.List;
import org.carerelay.gateway.fhir.GatewayException;
import org.carerelay.gateway.web.WebUser;
import org.springframework.http.ContentDisposition;
import org.springframework.http.HttpHeaders;
import org.springframework.http.MediaType;
import org.springframework.http.ResponseEntity;
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
 * Patienten: search, creation, the consent (template, signed scan, partners), the patient's page
 * with its consent and conversations, and the revocation. A patient the organisation does not see
 * is not found, whatever the URL.
 */
@Controller
public class PatientController {

    private final ChatPages pages;

    public PatientController(ChatPages pages) {
        this.pages = pages;
    }

    /** The empty search form. */
    @GetMapping("/patienten")
    public String searchForm(Model model) {
        model.addAttribute("gesucht", false);
        model.addAttribute("patienten", List.of());
        return "patienten";
    }

    /**
     * The search is a POST with the form's CSRF token: KVNR, name and birth date never appear in a
     * URL (access logs, browser history), and a KVNR search (which can give the organisation access
     * to a patient its consent names) cannot be triggered by a link on another site.
     */
    @PostMapping("/patienten")
    public String search(@RequestParam(required = false) String kvnr, @RequestParam(required = false) String nachname,
            @RequestParam(required = false) String geburtsdatum, @AuthenticationPrincipal WebUser user,
            HttpServletRequest request, Model model) {
        List<PatientView> found = List.of();
        try {
            found = pages.searchPatients(kvnr, nachname, geburtsdatum, user.caller(), request.getRemoteAddr());
        } catch (GatewayException e) {
            model.addAttribute("fehler", "Bitte suchen Sie nach der KVNR oder nach Nachname und Geburtsdatum (JJJJ-MM-TT).");
        }
        model.addAttribute("kvnr", kvnr);
        model.addAttribute("nachname", nachname);
        model.addAttribute("geburtsdatum", geburtsdatum);
        model.addAttribute("gesucht", !ChatResources.blank(kvnr) || !ChatResources.blank(nachname) || !ChatResources.blank(geburtsdatum));
        model.addAttribute("patienten", found);
        return "patienten";
    }

    @GetMapping("/patienten/neu")
    public String newPatient(Model model) {
        model.addAttribute("eingabe", new NewPatient("", "", "", "", ""));
        return "patient-neu";
    }

    /** What a person typed into the new-patient form (kept when the form comes back). */
    public record NewPatient(String kvnr, String vorname, String nachname, String geburtsdatum, String geschlecht) {
    }

    @PostMapping("/patienten/neu")
    public String createPatient(@RequestParam(required = false) String kvnr, @RequestParam(required = false) String vorname,
            @RequestParam(required = false) String nachname, @RequestParam(required = false) String geburtsdatum,
            @RequestParam(required = false) String geschlecht, @AuthenticationPrincipal WebUser user,
            HttpServletRequest request, Model model) {
        NewPatient typed = new NewPatient(kvnr, vorname, nachname, geburtsdatum, geschlecht);
        model.addAttribute("eingabe", typed);
        List<String> problems = ChatResources.patientProblems(kvnr, vorname, nachname, geburtsdatum, geschlecht);
        if (!problems.isEmpty()) {
            model.addAttribute("fehler", String.join(" ", problems));
            return "patient-neu";
        }
        try {
            String id = pages.createPatient(ChatResources.patient(kvnr, vorname, nachname, geburtsdatum, geschlecht),
                    user.caller(), request.getRemoteAddr());
            return "redirect:/patienten/" + id + "/einwilligung";
        } catch (GatewayException e) {
            model.addAttribute("fehler", GermanMessages.of(e.errorCode()));
            return "patient-neu";
        }
    }

    @GetMapping("/patienten/{id}/einwilligung")
    public String consentForm(@PathVariable String id, @RequestParam(required = false) String q,
            @RequestParam(required = false) String typ, @RequestParam(required = false) List<String> partner,
            @AuthenticationPrincipal WebUser user, HttpServletRequest request, Model model) {
        return renderConsentForm(id, q, typ, partner, user, request, model);
    }

    @PostMapping("/patienten/{id}/einwilligung")
    public String uploadConsent(@PathVariable String id, @RequestParam(required = false) String q,
            @RequestParam(required = false) String typ, @RequestParam(required = false) List<String> partner,
            @RequestParam(required = false) MultipartFile dokument, @RequestParam(required = false) String aktion,
            @AuthenticationPrincipal WebUser user, HttpServletRequest request, Model model,
            RedirectAttributes redirect) throws IOException {
        pages.requireVisible(id, user.caller());
        if (NewChatController.SEARCH_PARTNERS.equals(aktion)) {
            return renderConsentForm(id, q, typ, partner, user, request, model);
        }
        List<String> partners = partner == null ? List.of() : partner;
        String problem = null;
        if (dokument == null || dokument.isEmpty()) {
            problem = "Bitte wählen Sie die unterschriebene Einwilligung (PDF, JPEG oder PNG).";
        } else if (partners.isEmpty()) {
            problem = "Bitte wählen Sie die Partner, die die Einwilligung abdeckt.";
        }
        if (problem == null) {
            try {
                pages.uploadConsent(id, ChatPages.Upload.of(dokument), partners, user.caller(), request.getRemoteAddr());
                redirect.addFlashAttribute("erfolg", "Die Einwilligung wurde gespeichert.");
                return "redirect:/patienten/" + id;
            } catch (GatewayException e) {
                problem = switch (e.errorCode()) {
                    case UNSUPPORTED_MEDIA_TYPE -> "Die Einwilligung muss eine PDF-, JPEG- oder PNG-Datei sein"
                            + " (und ihr Inhalt muss zum Dateityp passen).";
                    default -> GermanMessages.of(e.errorCode());
                };
            }
        }
        model.addAttribute("fehler", problem);
        return renderConsentForm(id, q, typ, partner, user, request, model);
    }

    private String renderConsentForm(String id, String q, String typ, List<String> partner, WebUser user,
            HttpServletRequest request, Model model) {
        PatientView patient = pages.patient(id, user.caller(), request.getRemoteAddr());
        List<Partner> chosen = pages.partners(partner == null ? List.of() : partner);
        List<String> chosenIds = chosen.stream().map(Partner::id).toList();
        model.addAttribute("patient", patient);
        model.addAttribute("q", q);
        model.addAttribute("typ", typ);
        model.addAttribute("typen", Partner.types());
        model.addAttribute("gewaehltePartner", chosen);
        model.addAttribute("gefundenePartner", pages.searchPartners(q, typ).stream()
                .filter(p -> !chosenIds.contains(p.id()) && !p.id().equals(user.organizationId())).toList());
        return "einwilligung";
    }

    @GetMapping("/patienten/{id}/einwilligungsvorlage")
    public ResponseEntity<byte[]> template(@PathVariable String id, @AuthenticationPrincipal WebUser user,
            HttpServletRequest request) {
        byte[] pdf = pages.consentTemplate(id, user.caller(), request.getRemoteAddr());
        return ResponseEntity.ok().contentType(MediaType.APPLICATION_PDF)
                .header(HttpHeaders.CONTENT_DISPOSITION, ContentDisposition.attachment()
                        .filename("Einwilligung-Vorlage.pdf").build().toString())
                .header(HttpHeaders.CACHE_CONTROL, "no-store")
                .body(pdf);
    }

    @GetMapping("/patienten/{id}/einwilligung/dokument")
    public void document(@PathVariable String id, @AuthenticationPrincipal WebUser user, HttpServletRequest request,
            HttpServletResponse response) throws IOException {
        pages.writeConsentDocument(id, user.caller(), request.getRemoteAddr(), response.getOutputStream(), type -> {
            response.setContentType(type);
            String extension = switch (type) {
                case "image/jpeg" -> ".jpg";
                case "image/png" -> ".png";
                default -> ".pdf";
            };
            response.setHeader(HttpHeaders.CONTENT_DISPOSITION,
                    ContentDisposition.attachment().filename("Einwilligung" + extension).build().toString());
            response.setHeader(HttpHeaders.CACHE_CONTROL, "no-store");
        });
    }

    @GetMapping("/patienten/{id}")
    public String patient(@PathVariable String id, @AuthenticationPrincipal WebUser user, HttpServletRequest request,
            Model model) {
        String address = request.getRemoteAddr();
        PatientView patient = pages.patient(id, user.caller(), address);
        model.addAttribute("patient", patient);
        model.addAttribute("einwilligung", pages.consent(id, user.caller(), address));
        model.addAttribute("konversationen", pages.conversations(id, user.caller(), address));
        return "patient";
    }

    @PostMapping("/patienten/{id}/widerruf")
    public String revoke(@PathVariable String id, @RequestParam(required = false) String grund,
            @AuthenticationPrincipal WebUser user, HttpServletRequest request, RedirectAttributes redirect) {
        pages.requireVisible(id, user.caller());
        try {
            pages.revoke(id, grund, user.caller(), request.getRemoteAddr());
            redirect.addFlashAttribute("erfolg", "Der Widerruf wurde gespeichert. Frühere Nachrichten werden nur noch maskiert angezeigt.");
        } catch (GatewayException e) {
            redirect.addFlashAttribute("fehler", GermanMessages.of(e.errorCode()));
        }
        return "redirect:/patienten/" + id;
    }
}
