package org.carerelay.gateway.web;

import org.springframework.security.core.Authentication;
import org.springframework.security.core.context.SecurityContextHolder;
import org.springframework.web.bind.annotation.ControllerAdvice;
import org.springframework.web.bind.annotation.ModelAttribute;

/** Every page's model names the signed-in person as {@code benutzer} (for the navigation). */
@ControllerAdvice(basePackageClasses = CurrentUserAdvice.class)
public class CurrentUserAdvice {

    @ModelAttribute("benutzer")
    public WebUser benutzer() {
        Authentication auth = SecurityContextHolder.getContext().getAuthentication();
        if (WebAuthorities.signedIn(auth) && auth.getPrincipal() instanceof WebUser user) {
            return user;
        }
        return null;
    }
}
