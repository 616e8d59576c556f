package org.carerelay.gateway.web.inbox;

import jakarta.servlet.http.HttpServletRequest;
import jakarta.servlet.http.HttpServletResponse;
import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.util.List;
import java.util.Optional;
import org.carerelay.gateway.attachment.AttachmentService;
import org.carerelay.gateway.audit.AuditService;
import org.carerelay.gateway.config.CareRelayProperties;
import org.carerelay.gateway.conversation.ConversationSummary;
import org.carerelay.gateway.fhir.GatewayException;
import org.carerelay.gateway.security.Caller;
import org.carerelay.gateway.web.WebUser;
import org.hl7.fhir.r4.model.AuditEvent.AuditEventAction;
import org.springframework.http.ContentDisposition;
import org.springframework.security.core.annotation.AuthenticationPrincipal;
import org.springframework.stereotype.Controller;
import org.springframework.ui.Model;
import org.springframework.web.bind.annotation.GetMapping;
import org.springframework.web.bind.annotation.PathVariable;
import org.springframework.web.bind.annotation.PostMapping;
import org.springframework.web.bind.annotation.RequestParam;
import org.springframework.web.multipart.MultipartFile;
import org.springframework.web.servlet.mvc.support.RedirectAttributes;

/** Posteingang, conversation view, reply and attachment download of the web inbox. */
@Controller
public class InboxController {

    /** Ids in URLs: what the gateway issues (UUIDs), nothing else reaches a service. */
    private static final String ID = "[A-Za-z0-9\\-.]{1,64}";

    private final Inbox inbox;
    private final Replies replies;
    private final AttachmentService attachments;
    private final AuditService audit;
    private final CareRelayProperties.Attachments limits;

    public InboxController(Inbox inbox, Replies replies, AttachmentService attachments, AuditService audit, CareRelayProperties props) {
        this.inbox = inbox;
        this.replies = replies;
        this.attachments = attachments;
        this.audit = audit;
        this.limits = props.attachments();
    }

    @GetMapping("/posteingang")
    public String inbox(@AuthenticationPrincipal WebUser user, @RequestParam(required = false) String patient,
            @RequestParam(required = false) String partner, @RequestParam(required = false) String ungelesen,
            @RequestParam(required = false, defaultValue = "1") String seite, HttpServletRequest request, Model model) {
        String patientFilter = id(patient);
        String partnerFilter = id(partner);
        boolean unreadOnly = ungelesen != null && !ungelesen.isBlank() && !"0".equals(ungelesen);
        var filter = new ConversationSummary.Filter(patientFilter, partnerFilter, unreadOnly);
        model.addAttribute("uebersicht", inbox.overview(filter, page(seite), user.caller(), request.getRemoteAddr()));
        model.addAttribute("filterPatient", patientFilter == null ? "" : patientFilter);
        model.addAttribute("filterPartner", partnerFilter == null ? "" : partnerFilter);
        model.addAttribute("filterUngelesen", unreadOnly);
        if ((patient != null && !patient.isBlank() && patientFilter == null)
                || (partner != null && !partner.isBlank() && partnerFilter == null)) {
            model.addAttribute("fehler", "Der Filter enthält eine ungültige Kennung.");
        }
        return "posteingang";
    }

    @GetMapping("/chat/{conversationId}")
    public String conversation(@AuthenticationPrincipal WebUser user, @PathVariable String conversationId,
            HttpServletRequest request, HttpServletResponse response, Model model) {
        Caller caller = user.caller();
        Optional<Inbox.ConversationView> view = id(conversationId) == null ? Optional.empty()
                : inbox.open(conversationId, caller, request.getRemoteAddr());
        if (view.isEmpty()) {
            if (id(conversationId) == null) {
                audit.failure("message-read", AuditEventAction.R, caller, request.getRemoteAddr(), null, "not visible");
            }
            return notFound(response);
        }
        model.addAttribute("chat", view.get());
        model.addAttribute("erlaubteTypen", String.join(", ", limits.allowedTypes()));
        model.addAttribute("maxGroesse", GermanErrors.megabytes(limits.maxBytes()));
        return "chat";
    }

    @PostMapping("/chat/{conversationId}/antwort")
    public String reply(@AuthenticationPrincipal WebUser user, @PathVariable String conversationId,
            @RequestParam(required = false) String text, @RequestParam(name = "anhaenge", required = false) List<MultipartFile> files,
            HttpServletRequest request, HttpServletResponse response, RedirectAttributes redirect, Model model) {
        if (id(conversationId) == null) {
            return notFound(response);
        }
        try {
            replies.reply(conversationId, text, files, user.caller(), request.getRemoteAddr());
            redirect.addFlashAttribute("erfolg", "Ihre Antwort wurde gesendet.");
        } catch (Replies.ConversationNotFound e) {
            return notFound(response);
        } catch (Replies.Refused e) {
            return refused(user, conversationId, e.getMessage(), text, request, response, model);
        } catch (GatewayException e) {
            return refused(user, conversationId, GermanErrors.of(e.errorCode(), limits.maxBytes(), limits.allowedTypes()),
                    text, request, response, model);
        }
        return "redirect:/chat/" + conversationId;
    }

    /**
     * A refused reply: the conversation again, with the reason and what the person typed. Rendered
     * in this answer rather than kept for a redirect, so the typed text is never stored in the
     * session (which lives in the database).
     */
    private String refused(WebUser user, String conversationId, String why, String text, HttpServletRequest request,
            HttpServletResponse response, Model model) {
        String page = conversation(user, conversationId, request, response, model);
        if ("chat".equals(page)) {
            response.setStatus(422);
            model.addAttribute("fehler", why);
            model.addAttribute("entwurf", text);
        }
        return page;
    }

    @GetMapping("/chat/{conversationId}/anhang/{binaryId}")
    public String download(@AuthenticationPrincipal WebUser user, @PathVariable String conversationId,
            @PathVariable String binaryId, HttpServletRequest request, HttpServletResponse response) throws IOException {
        Caller caller = user.caller();
        String address = request.getRemoteAddr();
        if (id(conversationId) == null || id(binaryId) == null || !inbox.attachmentOf(conversationId, binaryId, caller)) {
            audit.failure("attachment-read", AuditEventAction.R, caller, address,
                    id(binaryId) == null ? null : "Binary/" + binaryId, "not visible");
            return notFound(response);
        }
        AttachmentService.Meta meta = attachments.requireMeta(binaryId);
        String fileName = inbox.fileNameOf(conversationId, binaryId, meta.contentType(), caller);
        byte[] bytes;
        try {
            bytes = meta.size() <= 4L << 20 ? attachments.readVerified(meta, caller.auditName()) : null;
        } catch (GatewayException e) {
            audit.failure("attachment-read", AuditEventAction.R, caller, address, "Binary/" + binaryId, e.errorCode().code());
            response.setStatus(422);
            return "chat-unbekannt";
        }
        response.setContentType(meta.contentType());
        response.setContentLengthLong(meta.size());
        response.setHeader("X-Content-Type-Options", "nosniff");
        response.setHeader("Cache-Control", "no-store");
        response.setHeader("Content-Disposition",
                ContentDisposition.attachment().filename(fileName, StandardCharsets.UTF_8).build().toString());
        // audited before the first byte leaves, so the trail is complete when the download is
        audit.success("attachment-read", AuditEventAction.R, caller, address, "Binary/" + binaryId);
        if (bytes != null) {
            response.getOutputStream().write(bytes);
        } else {
            attachments.writeVerified(meta, response.getOutputStream(), caller.auditName());
        }
        return null;
    }

    private static String notFound(HttpServletResponse response) {
        response.setStatus(HttpServletResponse.SC_NOT_FOUND);
        return "chat-unbekannt";
    }

    /** The id if it has the shape of one, else null. */
    private static String id(String value) {
        if (value == null) {
            return null;
        }
        String v = value.strip();
        return v.matches(ID) ? v : null;
    }

    private static int page(String value) {
        try {
            return Math.max(1, Math.min(Integer.parseInt(value.strip()), 100_000));
        } catch (NumberFormatException e) {
            return 1;
        }
    }
}
