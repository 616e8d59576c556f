package org.carerelay.gateway.web.inbox;

import java.util.List;
import java.util.Locale;
import org.carerelay.fhir.ErrorCode;

/** The German text shown on a page for a refusal of the services (never the English detail or a trace). */
public final class GermanErrors {

    private GermanErrors() {
    }

    public static String of(ErrorCode code, long maxBytes, List<String> allowedTypes) {
        return switch (code) {
            case UNSUPPORTED_MEDIA_TYPE -> "Dieser Dateityp ist nicht erlaubt (oder der Inhalt passt nicht zum Dateityp). Erlaubt sind: "
                    + String.join(", ", allowedTypes) + ".";
            case PAYLOAD_TOO_LARGE -> "Die Datei ist zu groß. Erlaubt sind höchstens " + megabytes(maxBytes) + " je Datei.";
            case CONSENT_REVOKED -> "Die Einwilligung der Patientin bzw. des Patienten wurde widerrufen: "
                    + "Zu dieser Person können keine Nachrichten mehr gesendet werden.";
            case CONSENT_MISSING -> "Für diese Patientin bzw. diesen Patienten liegt keine gültige Einwilligung vor. "
                    + "Bitte laden Sie zuerst die unterschriebene Einwilligung hoch.";
            case RECIPIENT_NOT_COVERED -> "Die Einwilligung der Patientin bzw. des Patienten umfasst nicht alle Beteiligten dieses Chats.";
            case UNKNOWN_RECIPIENT -> "Ein Empfänger ist nicht im Verzeichnis.";
            case INVALID_RESOURCE, INVALID_REQUEST -> "Die Nachricht konnte nicht gesendet werden: Angaben unvollständig oder ungültig.";
            case FORBIDDEN -> "Dazu ist Ihre Organisation nicht berechtigt.";
            case INTEGRITY_FAILURE -> "Die gespeicherte Datei ließ sich nicht prüfen und wird nicht ausgeliefert.";
            case RATE_LIMITED -> "Zu viele Nachrichten in kurzer Zeit. Bitte versuchen Sie es später erneut.";
            case SERVICE_UNAVAILABLE -> "Der Dienst ist vorübergehend nicht erreichbar. Bitte versuchen Sie es später erneut.";
            default -> "Die Aktion ist fehlgeschlagen. Bitte versuchen Sie es erneut.";
        };
    }

    static String megabytes(long bytes) {
        if (bytes < 1024 * 1024) {
            return String.format(Locale.GERMANY, "%,d KB", Math.max(1, bytes / 1024));
        }
        return String.format(Locale.GERMANY, "%,.1f MB", bytes / (1024.0 * 1024.0)).replace(",0 MB", " MB");
    }
}
