package org.carerelay.gateway.web.settings;

import org.carerelay.gateway.fhir.GatewayException;

/** German messages for the settings page's service errors (the API's diagnostics are English). */
final class SettingsMessages {

    private SettingsMessages() {
    }

    static String of(GatewayException e, String context) {
        return switch (e.errorCode()) {
            case CERTIFICATE_INVALID -> "Das Zertifikat kann nicht zur Verschlüsselung verwendet werden. Bitte laden Sie ein "
                    + "gültiges, nicht abgelaufenes X.509-Zertifikat (PEM oder DER) mit einem RSA- oder EC-Schlüssel hoch.";
            case INVALID_RESOURCE, ADDRESS_RANGE_INVALID -> "Die Adresse des Endpunkts ist nicht zulässig. Ein FHIR-Endpunkt hat "
                    + "die Form https://server/fhir, ein MLLP-Endpunkt die Form mllp://server:port; interne Adressen sind "
                    + "nicht erlaubt.";
            case INVALID_REQUEST -> context;
            case NOT_REGISTERED -> "Ihre Einrichtung ist nicht (mehr) registriert.";
            case NOT_FOUND -> "Diesen Eintrag gibt es nicht.";
            case FORBIDDEN -> "Das dürfen Sie nicht.";
            case CONFLICT, VERSION_CONFLICT -> "Der Eintrag wurde inzwischen geändert. Bitte laden Sie die Seite neu.";
            default -> "Das hat nicht geklappt. Bitte versuchen Sie es erneut.";
        };
    }
}
