package org.carerelay.gateway.web;

import java.io.Serial;
import java.util.Collection;
import java.util.List;
import org.carerelay.gateway.security.Caller;
import org.springframework.security.core.CredentialsContainer;
import org.springframework.security.core.GrantedAuthority;
import org.springframework.security.core.userdetails.UserDetails;

/**
 * A person of a registered organisation, signed in to the web inbox. The password step alone
 * grants nothing ({@link #getAuthorities()} is empty): {@link WebAuthorities#USER} (and
 * {@link WebAuthorities#MANAGER} for those who manage the organisation's accounts) come only with
 * the second factor. Everything the person does goes through the services as {@link #caller()}:
 * the organisation as a participant, naming the person for the audit trail.
 */
public final class WebUser implements UserDetails, CredentialsContainer {

    @Serial
    private static final long serialVersionUID = 1L;

    private final String userId;
    private final String organizationId;
    private final String displayName;
    private final String email;
    private final boolean manager;
    private final boolean active;
    private final boolean locked;
    private final boolean totpEnabled;
    private String passwordHash;

    public WebUser(String userId, String organizationId, String displayName, String email, String passwordHash,
            boolean manager, boolean active, boolean locked, boolean totpEnabled) {
        this.userId = userId;
        this.organizationId = organizationId;
        this.displayName = displayName;
        this.email = email;
        this.passwordHash = passwordHash;
        this.manager = manager;
        this.active = active;
        this.locked = locked;
        this.totpEnabled = totpEnabled;
    }

    public String userId() {
        return userId;
    }

    public String organizationId() {
        return organizationId;
    }

    public String displayName() {
        return displayName;
    }

    public String email() {
        return email;
    }

    /** May manage the organisation's accounts and settings. */
    public boolean manager() {
        return manager;
    }

    /** Has a TOTP authenticator set up (else the second factor must be set up after the password). */
    public boolean totpEnabled() {
        return totpEnabled;
    }

    /** The organisation as a participant, acting through this person. */
    public Caller caller() {
        return Caller.participant(organizationId).actingAs(new Caller.Person(userId, displayName));
    }

    @Override
    public Collection<? extends GrantedAuthority> getAuthorities() {
        return List.of();
    }

    @Override
    public String getPassword() {
        return passwordHash;
    }

    @Override
    public String getUsername() {
        return email;
    }

    @Override
    public boolean isAccountNonLocked() {
        return !locked;
    }

    @Override
    public boolean isEnabled() {
        return active;
    }

    @Override
    public void eraseCredentials() {
        passwordHash = null;
    }

    @Override
    public boolean equals(Object o) {
        return o instanceof WebUser other && other.userId.equals(userId);
    }

    @Override
    public int hashCode() {
        return userId.hashCode();
    }

    @Override
    public String toString() {
        return "WebUser[" + userId + "]";
    }
}
