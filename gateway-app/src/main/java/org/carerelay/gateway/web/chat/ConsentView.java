package org.carerelay.gateway.web.chat;

import java.time.ZoneId;
import java.time.format.DateTimeFormatter;
import java.util.List;

/**
 * The consent box: status text "erteilt" | "widerrufen" | "fehlt", the date (signed/uploaded or
 * revoked), the partners it covers, the revocation reason, and whether a signed document exists.
 */
public record ConsentView(String status, String date, List<Partner> partners, String reason, boolean hasDocument) {

    static final DateTimeFormatter GERMAN_DATE = DateTimeFormatter.ofPattern("dd.MM.yyyy").withZone(ZoneId.of("Europe/Berlin"));

    public static ConsentView missing() {
        return new ConsentView("fehlt", "", List.of(), "", false);
    }

    public boolean active() {
        return "erteilt".equals(status);
    }
}
