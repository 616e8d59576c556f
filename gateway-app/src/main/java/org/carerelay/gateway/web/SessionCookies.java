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
        cookie.setUseSecureCookie(secure(urls.webBase()));
        return cookie;
    }

    /** Whether the session cookie must be {@code Secure}: the inbox is reached at an {@code https} address. */
    public static boolean secure(String publicBaseUrl) {
        return publicBaseUrl != null && publicBaseUrl.strip().regionMatches(true, 0, "https://", 0, 8);
    }
}
