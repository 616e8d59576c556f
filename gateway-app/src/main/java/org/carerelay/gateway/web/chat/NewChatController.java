package org.carerelay.gateway.web.chat;

import jakarta.servlet.http.HttpServletRequest;
import java.io.IOException;
import java.util.ArrayList;
import java.util.List;
import org.carerelay.gateway.fhir.GatewayException;
import org.carerelay.gateway.web.WebUser;
import org.springframework.security.core.annotation.AuthenticationPrincipal;
import org.springframework.stereotype.Controller;
import org.springframework.ui.Model;
import org.springframework.web.bind.annotation.GetMapping;
import org.springframework.web.bind.annotation.PostMapping;
import org.springframework.web.bind.annotation.RequestParam;
import org.springframework.web.multipart.MultipartFile;

/**
 * Neuer Chat: partners from the directory (registered or to be invited), a patient the
 * organisation sees or a general chat, and the first message with attachments.
 */
@Controller
public class NewChatController {

    static final String SEARCH_PARTNERS = "partner-suchen";
    static final String SEARCH_PATIENTS = "patient-suchen";

    private final ChatPages pages;

    public NewChatController(ChatPages pages) {
        this.pages = pages;
    }

    /** The form state a page carries between searches. */
    record Form(String q, String typ, List<String> partner, String patient, String kvnr, String nachname,
            String geburtsdatum, String text) {
    }

    @GetMapping("/neu")
    public String form(@RequestParam(required = false) String q, @RequestParam(required = false) String typ,
            @RequestParam(required = false) List<String> partner, @RequestParam(required = false) String patient,
            @RequestParam(required = false) String kvnr, @RequestParam(required = false) String nachname,
            @RequestParam(required = false) String geburtsdatum, @AuthenticationPrincipal WebUser user,
            HttpServletRequest request, Model model) {
        return render(new Form(q, typ, partner == null ? List.of() : partner, patient, kvnr, nachname, geburtsdatum, null),
                user, request, model);
    }

    @PostMapping("/neu")
    public String submit(@RequestParam(required = false) String q, @RequestParam(required = false) String typ,
            @RequestParam(required = false) List<String> partner, @RequestParam(required = false) String patient,
            @RequestParam(required = false) String kvnr, @RequestParam(required = false) String nachname,
            @RequestParam(required = false) String geburtsdatum, @RequestParam(required = false) String text,
            @RequestParam(required = false) List<MultipartFile> anhaenge, @RequestParam(required = false) String aktion,
            @AuthenticationPrincipal WebUser user, HttpServletRequest request, Model model) throws IOException {
        Form form = new Form(q, typ, partner == null ? List.of() : partner, patient, kvnr, nachname, geburtsdatum, text);
        if (SEARCH_PARTNERS.equals(aktion) || SEARCH_PATIENTS.equals(aktion)) {
            return render(form, user, request, model);
        }
        List<ChatPages.Upload> files = new ArrayList<>();
        for (MultipartFile file : anhaenge == null ? List.<MultipartFile>of() : anhaenge) {
            if (file != null && !file.isEmpty()) {
                files.add(ChatPages.Upload.of(file));
            }
        }
        String problem = null;
        if (form.partner().isEmpty()) {
            problem = "Bitte wählen Sie mindestens einen Partner.";
        } else if (ChatResources.blank(patient)) {
            problem = "Bitte wählen Sie eine Patientin bzw. einen Patienten oder „Allgemeiner Chat ohne Patientenbezug“.";
        } else if (ChatResources.blank(text) && files.isEmpty()) {
            problem = "Bitte schreiben Sie eine Nachricht oder hängen Sie eine Datei an.";
        }
        if (problem != null) {
            model.addAttribute("fehler", problem);
            return render(form, user, request, model);
        }
        String patientId = ChatResources.GENERAL.equals(patient) ? null : patient.trim();
        try {
            String conversation = pages.startChat(patientId, form.partner(), text, files, user.caller(), request.getRemoteAddr());
            return "redirect:/chat/" + conversation;
        } catch (GatewayException e) {
            model.addAttribute("fehler", GermanMessages.of(e.errorCode()));
            return render(form, user, request, model);
        }
    }

    private String render(Form form, WebUser user, HttpServletRequest request, Model model) {
        String address = request.getRemoteAddr();
        List<Partner> chosen = pages.partners(form.partner());
        List<String> chosenIds = chosen.stream().map(Partner::id).toList();
        List<Partner> found = pages.searchPartners(form.q(), form.typ()).stream()
                .filter(p -> !chosenIds.contains(p.id()) && !p.id().equals(user.organizationId())).toList();
        PatientView chosenPatient = null;
        if (!ChatResources.blank(form.patient()) && !ChatResources.GENERAL.equals(form.patient())) {
            chosenPatient = pages.patient(form.patient().trim(), user.caller(), address);
        }
        List<PatientView> patients = List.of();
        try {
            patients = pages.searchPatients(form.kvnr(), form.nachname(), form.geburtsdatum(), user.caller(), address);
        } catch (GatewayException e) {
            model.addAttribute("fehler", "Bitte suchen Sie nach der KVNR oder nach Nachname und Geburtsdatum (JJJJ-MM-TT).");
        }
        String chosenPatientId = chosenPatient == null ? null : chosenPatient.id();
        model.addAttribute("form", form);
        model.addAttribute("typen", Partner.types());
        model.addAttribute("gewaehltePartner", chosen);
        model.addAttribute("gefundenePartner", found);
        model.addAttribute("gewaehlterPatient", chosenPatient);
        model.addAttribute("gefundenePatienten", patients.stream().filter(p -> !p.id().equals(chosenPatientId)).toList());
        model.addAttribute("allgemein", ChatResources.GENERAL.equals(form.patient()));
        return "chat-neu";
    }
}
