package org.carerelay.gateway.web.account;

import org.springframework.boot.web.server.WebServerFactoryCustomizer;
import org.springframework.boot.web.server.servlet.ConfigurableServletWebServerFactory;
import org.springframework.core.Ordered;
import org.springframework.core.env.Environment;
import org.springframework.stereotype.Component;

/**
 * The web inbox's session cookie is marked {@code Secure} when the gateway is reached over HTTPS,
 * i.e. when {@code carerelay.public-base-url} starts with {@code https://} (HttpOnly, SameSite=Lax
 * and the idle timeout are set in {@code application.yml}). An explicit
 * {@code server.servlet.session.cookie.secure} wins.
 */
@Component
public class SessionCookieSecurity implements WebServerFactoryCustomizer<ConfigurableServletWebServerFactory>, Ordered {

    private final Environment env;

    public SessionCookieSecurity(Environment env) {
        this.env = env;
    }

    /** Whether the session cookie must be {@code Secure} for {@code publicBaseUrl}. */
    static boolean secure(String publicBaseUrl) {
        return publicBaseUrl != null && publicBaseUrl.strip().regionMatches(true, 0, "https://", 0, 8);
    }

    @Override
    public void customize(ConfigurableServletWebServerFactory factory) {
        if (env.getProperty("server.servlet.session.cookie.secure") != null) {
            return;
        }
        if (secure(env.getProperty("carerelay.public-base-url"))) {
            factory.getSettings().getSession().getCookie().setSecure(true);
        }
    }

    /** After Boot's own customizer, which applies the server.servlet.session settings. */
    @Override
    public int getOrder() {
        return Ordered.LOWEST_PRECEDENCE;
    }
}
