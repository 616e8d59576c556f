package org.carerelay.fhir;

import java.util.List;
import java.util.Objects;
import java.util.Optional;
import org.hl7.fhir.r4.model.Identifier;

/**
 * Format and check-digit rules of the German identifiers (IK number, KVNR, LANR, BSNR) checked on
 * every create and update of Organization, Practitioner and Patient, over FHIR and from HL7 PID, so
 * that a mistyped number is refused with {@code identifier-invalid} instead of creating a second,
 * wrong entry. Pure and stateless. Rules and examples: docs/mappings.md, section 7 "German identifiers".
 */
public final class GermanIdentifiers {

    private GermanIdentifiers() {
    }

    /**
     * Why {@code value} is not a valid identifier of {@code system}, in one sentence for the
     * caller (naming the system, never the value), or empty if it is valid or {@code system} is
     * not one of the systems checked here.
     */
    public static Optional<String> problem(String system, String value) {
        if (system == null) {
            return Optional.empty();
        }
        String v = value == null ? "" : value;
        return switch (system) {
            case Systems.IKNR -> !v.matches("[0-9]{9}") ? Optional.of("An IK number (" + Systems.IKNR + ") has 9 digits.")
                    : iknrCheckDigit(v) != digit(v, 8) ? Optional.of("The check digit of the IK number (" + Systems.IKNR
                            + ") is wrong: it is the 9th digit, computed from digits 3 to 8.")
                    : Optional.empty();
            case Systems.KVNR -> !v.matches("[A-Z][0-9]{9}")
                    ? Optional.of("A KVNR (" + Systems.KVNR + ") is one capital letter and nine digits.")
                    : kvnrCheckDigit(v) != digit(v, 9) ? Optional.of("The check digit of the KVNR (" + Systems.KVNR
                            + ") is wrong: it is the last digit, computed from the letter and the 8 digits before it.")
                    : Optional.empty();
            case Systems.LANR -> !v.matches("[0-9]{9}") ? Optional.of("A LANR (" + Systems.LANR + ") has 9 digits.")
                    : lanrCheckDigit(v) != digit(v, 6) ? Optional.of("The check digit of the LANR (" + Systems.LANR
                            + ") is wrong: it is the 7th digit, computed from digits 1 to 6.")
                    : Optional.empty();
            case Systems.BSNR -> !v.matches("[0-9]{9}") ? Optional.of("A BSNR (" + Systems.BSNR + ") has 9 digits.")
                    : Optional.empty();
            default -> Optional.empty();
        };
    }

    /**
     * The first problem among {@code identifiers}, skipping those {@code alreadyStored} holds with
     * the same system and value: an entry stored before these rules existed can still be updated or
     * deactivated, but no new wrong number gets in.
     */
    public static Optional<String> firstProblem(List<Identifier> identifiers, List<Identifier> alreadyStored) {
        for (Identifier identifier : identifiers) {
            boolean stored = alreadyStored.stream().anyMatch(s -> Objects.equals(s.getSystem(), identifier.getSystem())
                    && Objects.equals(s.getValue(), identifier.getValue()));
            Optional<String> problem = stored ? Optional.empty() : problem(identifier.getSystem(), identifier.getValue());
            if (problem.isPresent()) {
                return problem;
            }
        }
        return Optional.empty();
    }

    public static boolean isValid(String system, String value) {
        return problem(system, value).isEmpty();
    }

    /** The check digit of an IK number from its first 8 digits (digits 3–8 count). */
    public static int iknrCheckDigit(String digits) {
        requireDigits(digits, 8);
        int[] weights = {2, 1, 2, 1, 2, 1};
        int sum = 0;
        for (int i = 0; i < 6; i++) {
            sum += crossSum(digit(digits, i + 2) * weights[i]);
        }
        return sum % 10;
    }

    /** The check digit of a KVNR from its letter and the 8 digits after it. */
    public static int kvnrCheckDigit(String kvnr) {
        if (kvnr == null || kvnr.length() < 9 || kvnr.charAt(0) < 'A' || kvnr.charAt(0) > 'Z') {
            throw new IllegalArgumentException("a KVNR starts with a capital letter and 8 digits");
        }
        requireDigits(kvnr.substring(1, 9), 8);
        int letter = kvnr.charAt(0) - 'A' + 1;
        String digits = String.format("%02d", letter) + kvnr.substring(1, 9);
        int sum = 0;
        for (int i = 0; i < 10; i++) {
            sum += crossSum(digit(digits, i) * (i % 2 == 0 ? 1 : 2));
        }
        return sum % 10;
    }

    /** The check digit (7th digit) of a LANR from its first 6 digits. */
    public static int lanrCheckDigit(String digits) {
        requireDigits(digits, 6);
        int sum = 0;
        for (int i = 0; i < 6; i++) {
            sum += digit(digits, i) * (i % 2 == 0 ? 4 : 9);
        }
        int check = 10 - sum % 10;
        return check == 10 ? 0 : check;
    }

    /** The first 8 digits of an IK number with their check digit appended. */
    public static String withIknrCheckDigit(String first8) {
        return first8 + iknrCheckDigit(first8);
    }

    /** A KVNR's letter and 8 digits with the check digit appended. */
    public static String withKvnrCheckDigit(String first9) {
        return first9 + kvnrCheckDigit(first9);
    }

    /** A LANR from the physician's 6 digits and the 2-digit specialty group. */
    public static String lanr(String first6, String specialtyGroup) {
        return first6 + lanrCheckDigit(first6) + specialtyGroup;
    }

    private static void requireDigits(String digits, int atLeast) {
        if (digits == null || digits.length() < atLeast || !digits.substring(0, atLeast).chars().allMatch(c -> c >= '0' && c <= '9')) {
            throw new IllegalArgumentException("at least " + atLeast + " digits expected");
        }
    }

    private static int digit(String s, int index) {
        return s.charAt(index) - '0';
    }

    private static int crossSum(int n) {
        return n / 10 + n % 10;
    }
}
