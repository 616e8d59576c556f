package org.carerelay.gateway.web;

import java.util.ArrayList;
import java.util.List;
import org.springframework.security.core.Authentication;
import org.springframework.security.core.GrantedAuthority;
import org.springframework.security.core.authority.SimpleGrantedAuthority;

/** The authorities of a person in the web inbox, granted only after the second factor. */
public final class WebAuthorities {

    /** Signed in with password and second factor: may use the inbox. */
    public static final String USER = "ROLE_USER";
    /** May also manage the organisation's accounts and settings. */
    public static final String MANAGER = "ROLE_MANAGER";

    private WebAuthorities() {
    }

    /** Whether {@code auth} passed both factors (the password step alone holds only its factor authority). */
    public static boolean signedIn(Authentication auth) {
        return auth != null && auth.getPrincipal() instanceof WebUser
                && auth.getAuthorities().stream().anyMatch(a -> USER.equals(a.getAuthority()));
    }

    /** What {@code user} holds once both factors are verified. */
    public static List<GrantedAuthority> afterSecondFactor(WebUser user) {
        List<GrantedAuthority> authorities = new ArrayList<>();
        authorities.add(new SimpleGrantedAuthority(USER));
        if (user.manager()) {
            authorities.add(new SimpleGrantedAuthority(MANAGER));
        }
        return authorities;
    }
}
