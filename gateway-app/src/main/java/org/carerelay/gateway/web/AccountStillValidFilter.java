package org.carerelay.gateway.web;

import jakarta.servlet.FilterChain;
import jakarta.servlet.ServletException;
import jakarta.servlet.http.HttpServletRequest;
import jakarta.servlet.http.HttpServletResponse;
import java.io.IOException;
import org.springframework.security.core.Authentication;
import org.springframework.security.core.context.SecurityContextHolder;
import org.springframework.security.web.authentication.logout.SecurityContextLogoutHandler;
import org.springframework.web.filter.OncePerRequestFilter;

/**
 * A session ends as soon as its account is deactivated: every request of a signed-in person
 * checks that the account is still active (one indexed look-up), and signs the session out if not.
 */
public class AccountStillValidFilter extends OncePerRequestFilter {

    private final WebUsers users;

    public AccountStillValidFilter(WebUsers users) {
        this.users = users;
    }

    @Override
    protected void doFilterInternal(HttpServletRequest request, HttpServletResponse response, FilterChain chain)
            throws ServletException, IOException {
        Authentication auth = SecurityContextHolder.getContext().getAuthentication();
        if (auth != null && auth.getPrincipal() instanceof WebUser user && !users.stillValid(user)) {
            new SecurityContextLogoutHandler().logout(request, response, auth);
            response.sendRedirect(request.getContextPath() + "/anmelden?abgemeldet");
            return;
        }
        chain.doFilter(request, response);
    }
}
