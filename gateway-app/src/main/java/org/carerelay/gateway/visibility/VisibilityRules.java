package org.carerelay.gateway.visibility;

import org.carerelay.gateway.security.Caller;

/**
 * What a caller sees of a stored resource: the whole of it, a masked form, or nothing (and then
 * not even that it exists). A plain function of who calls, what kind of resource it is, whether
 * the caller's organisation takes part in it and the state of the patient's consent, so that
 * every channel (FHIR today, a web inbox tomorrow) gets the same answer. Deny by default: a kind
 * not named here is never shown.
 *
 * <p>Taking part means: for a patient, the organisation sees it (created it, takes part in a
 * conversation about it, or joined it through the consent); for a consent, the organisation sees
 * its patient; for a message, the organisation sent or received it; for an invitation, the
 * organisation was invited or sent a message that invited it.
 */
public final class VisibilityRules {

    /** The kinds of resources the gateway shows. */
    public enum Kind { DIRECTORY, INVITATION, PATIENT, CONSENT, MESSAGE, OTHER }

    /** Whether the caller's organisation takes part in the resource (see the class comment). */
    public enum Participation { NONE, TAKES_PART }

    /** For a message about a patient: whether the consent was revoked after the message was sent. */
    public enum ConsentState { NOT_REVOKED, REVOKED_SINCE }

    public enum Decision { SEE, MASKED, NOT_VISIBLE }

    private VisibilityRules() {
    }

    public static Decision decide(Caller caller, Kind kind, Participation participation, ConsentState consent) {
        if (caller == null || !(caller.isAdmin() || caller.isParticipant())) {
            return Decision.NOT_VISIBLE;
        }
        boolean takesPart = caller.isParticipant() && participation == Participation.TAKES_PART;
        return switch (kind) {
            // the directory is public to every registered organisation and to the operator
            case DIRECTORY -> Decision.SEE;
            case INVITATION, CONSENT -> caller.isAdmin() || takesPart ? Decision.SEE : Decision.NOT_VISIBLE;
            // the operator works with organisations, not with patients
            case PATIENT -> takesPart ? Decision.SEE : Decision.NOT_VISIBLE;
            // a revoked consent masks what was sent before it, it never deletes it; the operator
            // reads a message only through $unmask, with a stated reason
            case MESSAGE -> !takesPart ? Decision.NOT_VISIBLE
                    : consent == ConsentState.REVOKED_SINCE ? Decision.MASKED : Decision.SEE;
            case OTHER -> Decision.NOT_VISIBLE;
        };
    }

    /** The kind of a FHIR resource type. */
    public static Kind kindOf(String resourceType) {
        if (resourceType == null) {
            return Kind.OTHER;
        }
        return switch (resourceType) {
            case "Organization", "Practitioner", "PractitionerRole", "Endpoint" -> Kind.DIRECTORY;
            case "Task" -> Kind.INVITATION;
            case "Patient" -> Kind.PATIENT;
            case "Consent" -> Kind.CONSENT;
            case "Communication" -> Kind.MESSAGE;
            default -> Kind.OTHER;
        };
    }

    /** The audit subtype prefix of reads and searches of {@code kind} ({@code <prefix>-read}, {@code <prefix>-search}). */
    public static String auditPrefix(Kind kind) {
        return switch (kind) {
            case DIRECTORY -> "directory";
            case INVITATION -> "task";
            case PATIENT -> "patient";
            case CONSENT -> "consent";
            case MESSAGE -> "message";
            case OTHER -> null;
        };
    }

    /** The audit subtype of a read that showed a resource as {@code decision}. */
    public static String readSubtype(Kind kind, Decision decision) {
        return auditPrefix(kind) + (decision == Decision.MASKED ? "-read-masked" : "-read");
    }
}
