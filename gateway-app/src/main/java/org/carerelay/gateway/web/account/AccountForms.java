package org.carerelay.gateway.web.account;

import java.util.Locale;
import java.util.Optional;
import org.carerelay.fhir.Telecoms;

/**
 * The rules for what a person types when an account is created (registration and invitation):
 * a name, a plausible e-mail address, and a password of at least {@value #MIN_PASSWORD} characters,
 * typed twice the same, that is not the e-mail address. Each rule answers with a German message.
 */
public final class AccountForms {

    public static final int MIN_PASSWORD = 12;
    static final int MAX_PASSWORD = 200;
    static final int MAX_NAME = 200;

    private AccountForms() {
    }

    /** The first problem with the person's name, if any. */
    public static Optional<String> nameProblem(String name) {
        if (name == null || name.isBlank()) {
            return Optional.of("Bitte geben Sie Ihren Namen ein.");
        }
        if (name.strip().length() > MAX_NAME) {
            return Optional.of("Der Name ist zu lang (höchstens " + MAX_NAME + " Zeichen).");
        }
        if (name.chars().anyMatch(Character::isISOControl) || name.contains("://")) {
            // the name goes into the invitation mail: one line of plain text, no links
            return Optional.of("Bitte geben Sie den Namen in einer Zeile und ohne Links ein.");
        }
        return Optional.empty();
    }

    /** The first problem with the e-mail address, if any. */
    public static Optional<String> emailProblem(String email) {
        if (email == null || email.isBlank()) {
            return Optional.of("Bitte geben Sie Ihre E-Mail-Adresse ein.");
        }
        if (!Telecoms.isPlausibleEmail(email.strip())) {
            return Optional.of("Die E-Mail-Adresse ist nicht gültig.");
        }
        return Optional.empty();
    }

    /** The first problem with the password and its repetition for the account {@code email}, if any. */
    public static Optional<String> passwordProblem(String password, String repeated, String email) {
        if (password == null || password.isEmpty()) {
            return Optional.of("Bitte wählen Sie ein Passwort.");
        }
        if (password.length() < MIN_PASSWORD) {
            return Optional.of("Das Passwort ist zu kurz: Es muss mindestens " + MIN_PASSWORD + " Zeichen lang sein.");
        }
        if (password.length() > MAX_PASSWORD) {
            return Optional.of("Das Passwort ist zu lang (höchstens " + MAX_PASSWORD + " Zeichen).");
        }
        if (email != null && password.strip().toLowerCase(Locale.ROOT).equals(email.strip().toLowerCase(Locale.ROOT))) {
            return Optional.of("Das Passwort darf nicht Ihre E-Mail-Adresse sein.");
        }
        if (!password.equals(repeated)) {
            return Optional.of("Die beiden Passwörter stimmen nicht überein. Bitte geben Sie das Passwort zweimal gleich ein.");
        }
        return Optional.empty();
    }
}
