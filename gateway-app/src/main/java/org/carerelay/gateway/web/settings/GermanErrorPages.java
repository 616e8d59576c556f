package org.carerelay.gateway.web.settings;

import jakarta.servlet.RequestDispatcher;
import jakarta.servlet.http.HttpServletRequest;
import java.util.Locale;
import java.util.Optional;
import org.carerelay.gateway.fhir.BrowserErrorPages;
import org.carerelay.gateway.web.WebSecurityConfiguration;
import org.springframework.stereotype.Component;
import org.thymeleaf.ITemplateEngine;
import org.thymeleaf.context.Context;

/**
 * German error pages for a browser's page requests to the web inbox (Accept names
 * {@code text/html}); the API ({@code /fhir}), the actuator and {@code /.well-known} keep their
 * OperationOutcomes. The page says what happened in plain words, never how (no exception text).
 */
@Component
public class GermanErrorPages implements BrowserErrorPages {

    private static final String[] NOT_PAGES = {"/fhir", "/actuator", "/.well-known"};

    private final ITemplateEngine templates;

    public GermanErrorPages(ITemplateEngine templates) {
        this.templates = templates;
    }

    /** Title and explanation of an error page. */
    record Text(String title, String explanation) {
    }

    @Override
    public Optional<String> page(HttpServletRequest request, int status) {
        Object original = request.getAttribute(RequestDispatcher.ERROR_REQUEST_URI);
        String path = original instanceof String uri ? uri : request.getRequestURI();
        if (!isPage(path, request.getHeader("Accept"))) {
            return Optional.empty();
        }
        Text text = text(status, Boolean.TRUE.equals(request.getAttribute(WebSecurityConfiguration.CSRF_EXPIRED)));
        Context context = new Context(Locale.GERMAN);
        context.setVariable("status", status);
        context.setVariable("titel", text.title());
        context.setVariable("erklaerung", text.explanation());
        return Optional.of(templates.process("fehler", context));
    }

    static boolean isPage(String path, String accept) {
        if (path == null || accept == null || !accept.toLowerCase(Locale.ROOT).contains("text/html")) {
            return false;
        }
        for (String api : NOT_PAGES) {
            if (path.equals(api) || path.startsWith(api + "/")) {
                return false;
            }
        }
        return true;
    }

    static Text text(int status, boolean csrfExpired) {
        if (csrfExpired) {
            return new Text("Sitzung abgelaufen", "Die Sitzung ist abgelaufen, bitte laden Sie die Seite neu.");
        }
        return switch (status) {
            case 400 -> new Text("Ungültige Anfrage", "Die Anfrage konnte nicht verarbeitet werden. Bitte prüfen Sie Ihre Eingaben.");
            case 403 -> new Text("Kein Zugriff", "Diese Seite ist für Ihr Konto nicht freigegeben.");
            case 404 -> new Text("Seite nicht gefunden",
                    "Diese Seite gibt es nicht, oder sie ist für Ihre Einrichtung nicht sichtbar.");
            case 405 -> new Text("Aktion nicht möglich", "Diese Aktion ist auf dieser Seite nicht möglich.");
            case 413 -> new Text("Datei zu groß", "Die gesendeten Daten sind zu groß. Bitte wählen Sie eine kleinere Datei.");
            default -> status >= 500
                    ? new Text("Technischer Fehler", "Es ist ein Fehler aufgetreten. Bitte versuchen Sie es später erneut.")
                    : new Text("Anfrage nicht möglich", "Die Anfrage konnte nicht bearbeitet werden.");
        };
    }
}
