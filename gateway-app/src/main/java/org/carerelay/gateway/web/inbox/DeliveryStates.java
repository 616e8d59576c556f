package org.carerelay.gateway.web.inbox;

/** The delivery states of {@code $delivery-status} in German. */
public final class DeliveryStates {

    private DeliveryStates() {
    }

    public static String german(String state) {
        if (state == null) {
            return "unbekannt";
        }
        return switch (state) {
            case "queued" -> "in Zustellung";
            case "delivered" -> "zugestellt";
            case "failed" -> "Zustellung fehlgeschlagen";
            case "held-invited" -> "eingeladen – wird nach der Registrierung zugestellt";
            case "notified" -> "bereitgestellt, per E-Mail benachrichtigt";
            default -> state;
        };
    }
}
