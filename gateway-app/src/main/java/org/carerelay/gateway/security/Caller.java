package org.carerelay.gateway.security;

import ca.uhn.fhir.rest.api.server.RequestDetails;
import ca.uhn.fhir.rest.server.servlet.ServletRequestDetails;
import org.carerelay.fhir.ErrorCode;
import org.carerelay.gateway.fhir.GatewayException;

/**
 * Who is calling: the operator (admin token), a registered organisation, or nobody yet. A person
 * of an organisation signed in to the web inbox is the organisation as a participant, with
 * {@code person} naming that person for the audit trail ({@code null} for API and HL7 callers).
 */
public record Caller(Kind kind, String organizationId, Person person) {

    /** A person signed in to the web inbox: the user account's id and the name it was given. */
    public record Person(String userId, String name) {
    }

    public Caller(Kind kind, String organizationId) {
        this(kind, organizationId, null);
    }

    public enum Kind { ANONYMOUS, ADMIN, PARTICIPANT }

    public static final Caller ANONYMOUS = new Caller(Kind.ANONYMOUS, null);
    public static final Caller ADMIN = new Caller(Kind.ADMIN, null);
    private static final String KEY = Caller.class.getName();

    public static Caller participant(String organizationId) {
        return new Caller(Kind.PARTICIPANT, organizationId);
    }

    /** This participant, acting through {@code person} (a user of the web inbox). */
    public Caller actingAs(Person person) {
        return new Caller(kind, organizationId, person);
    }

    public boolean isAdmin() {
        return kind == Kind.ADMIN;
    }

    public boolean isParticipant() {
        return kind == Kind.PARTICIPANT;
    }

    /** {@code Organization/<id>} for participants, {@code admin} or {@code anonymous} otherwise. */
    public String auditName() {
        return switch (kind) {
            case ADMIN -> "admin";
            case ANONYMOUS -> "anonymous";
            case PARTICIPANT -> "Organization/" + organizationId;
        };
    }

    public void attachTo(RequestDetails request) {
        request.getUserData().put(KEY, this);
    }

    public static Caller of(RequestDetails request) {
        Object caller = request == null ? null : request.getUserData().get(KEY);
        return caller instanceof Caller c ? c : ANONYMOUS;
    }

    /** The client's address (behind a proxy: as resolved by the forward-headers strategy). */
    public static String clientAddress(RequestDetails request) {
        if (request instanceof ServletRequestDetails srd && srd.getServletRequest() != null) {
            return srd.getServletRequest().getRemoteAddr();
        }
        return null;
    }

    /** The operator, or the participant {@code organizationId} itself. */
    public boolean isSelfOrAdmin(String organizationId) {
        return isAdmin() || (isParticipant() && this.organizationId.equals(organizationId));
    }

    public void requireSelfOrAdmin(String organizationId) {
        if (!isSelfOrAdmin(organizationId)) {
            throw new GatewayException(ErrorCode.FORBIDDEN, "Only the organisation itself or the operator may do this.");
        }
    }

    /** This caller, if it is a registered participant; {@code forbidden} (403) with {@code why} otherwise. */
    public Caller requireParticipant(String why) {
        if (!isParticipant()) {
            throw new GatewayException(ErrorCode.FORBIDDEN, why);
        }
        return this;
    }

    public void requireAdmin() {
        if (!isAdmin()) {
            throw new GatewayException(ErrorCode.FORBIDDEN, "This operation is reserved to the operator.");
        }
    }
}
