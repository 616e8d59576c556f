package org.carerelay.gateway.visibility;

import static org.assertj.core.api.Assertions.assertThat;

import org.carerelay.gateway.security.Caller;
import org.carerelay.gateway.visibility.VisibilityRules.ConsentState;
import org.carerelay.gateway.visibility.VisibilityRules.Decision;
import org.carerelay.gateway.visibility.VisibilityRules.Kind;
import org.carerelay.gateway.visibility.VisibilityRules.Participation;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.CsvSource;

/** Caller × resource kind × participation × consent state → what the caller sees. */
class VisibilityRulesTest {

    @ParameterizedTest(name = "{0} / {1} / {2} / {3} -> {4}")
    @CsvSource({
            // caller,    kind,       participation, consent,       decision
            // the directory: every registered organisation and the operator
            "PARTICIPANT, DIRECTORY,  NONE,          NOT_REVOKED,   SEE",
            "ADMIN,       DIRECTORY,  NONE,          NOT_REVOKED,   SEE",
            "ANONYMOUS,   DIRECTORY,  NONE,          NOT_REVOKED,   NOT_VISIBLE",
            // invitations: the operator, the invited organisation and the one that invited it
            "ADMIN,       INVITATION, NONE,          NOT_REVOKED,   SEE",
            "PARTICIPANT, INVITATION, TAKES_PART,    NOT_REVOKED,   SEE",
            "PARTICIPANT, INVITATION, NONE,          NOT_REVOKED,   NOT_VISIBLE",
            "ANONYMOUS,   INVITATION, TAKES_PART,    NOT_REVOKED,   NOT_VISIBLE",
            // patients: only organisations that see them; the operator works with organisations
            "PARTICIPANT, PATIENT,    TAKES_PART,    NOT_REVOKED,   SEE",
            "PARTICIPANT, PATIENT,    TAKES_PART,    REVOKED_SINCE, SEE",
            "PARTICIPANT, PATIENT,    NONE,          NOT_REVOKED,   NOT_VISIBLE",
            "ADMIN,       PATIENT,    NONE,          NOT_REVOKED,   NOT_VISIBLE",
            "ADMIN,       PATIENT,    TAKES_PART,    NOT_REVOKED,   NOT_VISIBLE",
            "ANONYMOUS,   PATIENT,    TAKES_PART,    NOT_REVOKED,   NOT_VISIBLE",
            // consents: whoever sees the patient, and the operator
            "PARTICIPANT, CONSENT,    TAKES_PART,    NOT_REVOKED,   SEE",
            "PARTICIPANT, CONSENT,    TAKES_PART,    REVOKED_SINCE, SEE",
            "PARTICIPANT, CONSENT,    NONE,          NOT_REVOKED,   NOT_VISIBLE",
            "ADMIN,       CONSENT,    NONE,          NOT_REVOKED,   SEE",
            "ANONYMOUS,   CONSENT,    TAKES_PART,    NOT_REVOKED,   NOT_VISIBLE",
            // messages: sender and recipients; masked (never deleted) once the consent is revoked
            "PARTICIPANT, MESSAGE,    TAKES_PART,    NOT_REVOKED,   SEE",
            "PARTICIPANT, MESSAGE,    TAKES_PART,    REVOKED_SINCE, MASKED",
            "PARTICIPANT, MESSAGE,    NONE,          NOT_REVOKED,   NOT_VISIBLE",
            "PARTICIPANT, MESSAGE,    NONE,          REVOKED_SINCE, NOT_VISIBLE",
            "ADMIN,       MESSAGE,    NONE,          NOT_REVOKED,   NOT_VISIBLE",
            "ADMIN,       MESSAGE,    TAKES_PART,    REVOKED_SINCE, NOT_VISIBLE",
            "ANONYMOUS,   MESSAGE,    TAKES_PART,    NOT_REVOKED,   NOT_VISIBLE",
            // anything else: deny by default
            "PARTICIPANT, OTHER,      TAKES_PART,    NOT_REVOKED,   NOT_VISIBLE",
            "ADMIN,       OTHER,      TAKES_PART,    NOT_REVOKED,   NOT_VISIBLE",
    })
    void decides(Caller.Kind callerKind, Kind kind, Participation participation, ConsentState consent, Decision expected) {
        Caller caller = switch (callerKind) {
            case ADMIN -> Caller.ADMIN;
            case ANONYMOUS -> Caller.ANONYMOUS;
            case PARTICIPANT -> Caller.participant("org-a");
        };
        assertThat(VisibilityRules.decide(caller, kind, participation, consent)).isEqualTo(expected);
    }

    @Test
    void noCaller_seesNothing() {
        assertThat(VisibilityRules.decide(null, Kind.DIRECTORY, Participation.TAKES_PART, ConsentState.NOT_REVOKED))
                .isEqualTo(Decision.NOT_VISIBLE);
    }

    @ParameterizedTest(name = "{0} -> {1}")
    @CsvSource({
            "Organization, DIRECTORY", "Practitioner, DIRECTORY", "PractitionerRole, DIRECTORY", "Endpoint, DIRECTORY",
            "Task, INVITATION", "Patient, PATIENT", "Consent, CONSENT", "Communication, MESSAGE",
            "Binary, OTHER", "AuditEvent, OTHER", "Observation, OTHER",
    })
    void kindOfResourceType(String type, Kind expected) {
        assertThat(VisibilityRules.kindOf(type)).isEqualTo(expected);
    }

    @ParameterizedTest(name = "{0} / {1} -> {2}")
    @CsvSource({
            "MESSAGE,    SEE,    message-read",
            "MESSAGE,    MASKED, message-read-masked",
            "PATIENT,    SEE,    patient-read",
            "CONSENT,    SEE,    consent-read",
            "DIRECTORY,  SEE,    directory-read",
            "INVITATION, SEE,    task-read",
    })
    void readAuditSubtype(Kind kind, Decision decision, String subtype) {
        assertThat(VisibilityRules.readSubtype(kind, decision)).isEqualTo(subtype);
    }
}
