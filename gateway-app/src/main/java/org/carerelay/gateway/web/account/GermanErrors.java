package org.carerelay.gateway.web.account;

import org.carerelay.fhir.ErrorCode;
import org.carerelay.gateway.fhir.GatewayException;

/** German messages for the service errors the registration and account pages can meet. */
final class GermanErrors {

    private GermanErrors() {
    }

    static String of(GatewayException e) {
        ErrorCode code = e.errorCode();
        return switch (code) {
            case REGISTRATION_CODE_INVALID -> "Der Code stimmt nicht. Bitte prüfen Sie den Code aus dem Schreiben "
                    + "(zum Beispiel die Verwechslung von 0 und O).";
            case REGISTRATION_CODE_EXPIRED -> "Der Code ist abgelaufen oder ungültig geworden. Bitte fordern Sie "
                    + "unten einen neuen Code an.";
            case REGISTRATION_NOT_PENDING -> "Für diese Einrichtung wurde noch kein Code verschickt. Bitte fordern Sie "
                    + "unten einen Code an.";
            case REGISTRATION_NO_CHANNEL -> "Für diese Einrichtung ist im Verzeichnis weder eine Faxnummer noch eine "
                    + "E-Mail-Adresse hinterlegt; bitte wenden Sie sich an den Betreiber.";
            case ORGANIZATION_INACTIVE, ORGANIZATION_DEACTIVATED -> "Diese Einrichtung ist im Verzeichnis deaktiviert.";
            case RATE_LIMITED -> "Zu viele Versuche von dieser Adresse. Bitte versuchen Sie es später erneut.";
            case NOT_FOUND -> "Diese Einrichtung gibt es im Verzeichnis nicht.";
            case INVALID_REQUEST -> "Die Eingaben sind unvollständig oder ungültig.";
            default -> "Das hat nicht geklappt. Bitte versuchen Sie es erneut.";
        };
    }
}
