package org.carerelay.fhir;

import java.util.Optional;
import org.hl7.fhir.r4.model.ContactPoint;
import org.hl7.fhir.r4.model.ContactPoint.ContactPointSystem;
import org.hl7.fhir.r4.model.Organization;

/** Fax numbers, e-mail addresses and their masked forms. */
public final class Telecoms {

    private Telecoms() {
    }

    public static Optional<String> first(Organization organization, ContactPointSystem system) {
        return organization.getTelecom().stream()
                .filter(cp -> cp.getSystem() == system && cp.hasValue() && !cp.getValue().isBlank())
                .filter(cp -> !cp.hasPeriod() || !cp.getPeriod().hasEnd())
                .map(ContactPoint::getValue)
                .map(String::trim)
                .findFirst();
    }

    /**
     * The digits a fax-over-email gateway expects in the local part: the number in international
     * form without the leading {@code +} or {@code 00}; a national number (leading {@code 0}) gets
     * the country code {@code defaultCountryCode}. {@code +49 (30) 123-456} gives {@code 4930123456}.
     */
    public static String faxDigits(String number, String defaultCountryCode) {
        String trimmed = number.trim();
        String digits = trimmed.replaceAll("\\D", "");
        if (trimmed.startsWith("+")) {
            return digits;
        }
        if (digits.startsWith("00")) {
            return digits.substring(2);
        }
        if (digits.startsWith("0")) {
            return defaultCountryCode + digits.substring(1);
        }
        return digits;
    }

    /** {@code +49 30 1234567} → {@code +49 30 ****567}: enough to recognise, not to dial. */
    public static String maskNumber(String number) {
        StringBuilder sb = new StringBuilder(number.trim());
        int digitsSeen = 0;
        int totalDigits = (int) number.chars().filter(Character::isDigit).count();
        for (int i = 0; i < sb.length(); i++) {
            if (Character.isDigit(sb.charAt(i))) {
                digitsSeen++;
                if (digitsSeen > 4 && digitsSeen <= totalDigits - 3) {
                    sb.setCharAt(i, '*');
                }
            }
        }
        return sb.toString();
    }

    /** {@code info@klinik.example.org} → {@code i***@klinik.example.org}. */
    public static String maskEmail(String address) {
        int at = address.indexOf('@');
        if (at <= 0) {
            return "***";
        }
        return address.charAt(0) + "***" + address.substring(at);
    }

    /** A pragmatic syntax check: one {@code @}, a dotted domain, no blanks or angle brackets. */
    public static boolean isPlausibleEmail(String address) {
        return address != null && address.length() <= 254
                && address.matches("[^@\\s<>\"(),;:]+@[^@\\s<>\"(),;:]+\\.[A-Za-z0-9-]{2,}");
    }
}
