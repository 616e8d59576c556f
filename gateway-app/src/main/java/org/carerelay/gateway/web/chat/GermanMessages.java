package org.carerelay.gateway.web.chat;

import org.carerelay.fhir.ErrorCode;

/** German sentences for the service refusals a person can meet on the chat and patient pages. */
public final class GermanMessages {

    private GermanMessages() {
    }

    public static String of(ErrorCode code) {
        if (code == null) {
            return "Das hat nicht geklappt. Bitte versuchen Sie es erneut.";
        }
        return switch (code) {
            case IDENTIFIER_INVALID -> "Die Krankenversichertennummer (KVNR) ist ungültig: bitte prüfen Sie"
                    + " den Buchstaben, die neun Ziffern und die Prüfziffer.";
            case CONSENT_MISSING -> "Für diese Patientin bzw. diesen Patienten liegt keine gültige Einwilligung vor."
                    + " Bitte laden Sie zuerst die unterschriebene Einwilligung hoch.";
            case CONSENT_REVOKED -> "Die Einwilligung dieser Patientin bzw. dieses Patienten wurde widerrufen."
                    + " Nachrichten zu ihr oder ihm sind nur mit einer neuen, unterschriebenen Einwilligung möglich.";
            case RECIPIENT_NOT_COVERED -> "Die Einwilligung deckt nicht alle gewählten Partner ab."
                    + " Wählen Sie nur Partner, die in der Einwilligung genannt sind, oder laden Sie eine neue Einwilligung hoch.";
            case UNKNOWN_RECIPIENT -> "Ein gewählter Partner steht nicht im Verzeichnis.";
            case UNSUPPORTED_MEDIA_TYPE -> "Dieser Dateityp ist nicht erlaubt (oder der Inhalt passt nicht zum Dateityp).";
            case PAYLOAD_TOO_LARGE -> "Die Datei ist zu groß.";
            case CONSENT_NOT_AUTHOR -> "Das darf nur die Organisation, die die Einwilligung hochgeladen hat,"
                    + " oder ein in ihr genannter Partner.";
            case CONSENT_NEW_DOCUMENT_REQUIRED -> "Dafür ist ein neu unterschriebenes Einwilligungsdokument nötig"
                    + " (nicht eines, das schon einmal hochgeladen wurde).";
            case CONFLICT, VERSION_CONFLICT -> "Die Einwilligung wurde inzwischen geändert oder ist nicht mehr aktiv.";
            case RATE_LIMITED -> "Zu viele Nachrichten in kurzer Zeit. Bitte versuchen Sie es gleich noch einmal.";
            case ORGANIZATION_INACTIVE, ORGANIZATION_DEACTIVATED -> "Ein gewählter Partner ist nicht mehr aktiv.";
            case SERVICE_UNAVAILABLE -> "Der Dienst ist gerade nicht erreichbar. Bitte versuchen Sie es später erneut.";
            case FORBIDDEN -> "Das ist Ihrer Organisation nicht erlaubt.";
            case INVALID_RESOURCE, INVALID_REQUEST -> "Die Angaben sind unvollständig oder ungültig. Bitte prüfen Sie das Formular.";
            default -> "Das hat nicht geklappt. Bitte prüfen Sie Ihre Angaben und versuchen Sie es erneut.";
        };
    }
}
