package org.carerelay.gateway.web;

import org.carerelay.gateway.config.PublicUrls;
import org.springframework.context.annotation.Bean;
import org.springframework.context.annotation.Configuration;
import org.springframework.session.web.http.CookieSerializer;
import org.springframework.session.web.http.DefaultCookieSerializer;

/**
 * The web inbox's session cookie: {@code HttpOnly}, {@code SameSite=Lax}, only for the server root,
 * and {@code Secure} whenever the gateway is reached over HTTPS (the public base URL starts with
 * {@code https:}). It carries no Max-Age, so it ends with the browser; the server ends the session
 * after {@code server.servlet.session.timeout} without a request. The session itself lives in PostgreSQL
 * (Spring Session JDBC), so it is the same on every node.
 */
@Configuration(proxyBeanMethods = false)
public class SessionCookies {

    static final String COOKIE = "CARERELAY_SESSION";

    @Bean
    CookieSerializer sessionCookie(PublicUrls urls) {
        DefaultCookieSerializer cookie = new DefaultCookieSerializer();
        cookie.setCookieName(COOKIE);
        cookie.setCookiePath("/");
        cookie.setUseHttpOnlyCookie(true);
        cookie.setSameSite("Lax");
        if (urls.webBase().startsWith("https:")) {
            cookie.setUseSecureCookie(true);
        }
        return cookie;
    }
}
