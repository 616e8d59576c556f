package org.carerelay.gateway.web;

import jakarta.servlet.http.HttpServletRequest;
import jakarta.servlet.http.HttpServletResponse;
import java.io.IOException;
import java.util.Arrays;
import java.util.Map;
import org.carerelay.gateway.audit.AuditService;
import org.carerelay.gateway.security.Caller;
import org.hl7.fhir.r4.model.AuditEvent.AuditEventAction;
import org.springframework.context.annotation.Bean;
import org.springframework.context.annotation.Configuration;
import org.springframework.http.HttpMethod;
import org.springframework.security.authentication.BadCredentialsException;
import org.springframework.security.config.annotation.web.builders.HttpSecurity;
import org.springframework.security.config.annotation.web.configuration.WebSecurityCustomizer;
import org.springframework.security.core.Authentication;
import org.springframework.security.core.context.SecurityContextHolder;
import org.springframework.security.crypto.argon2.Argon2PasswordEncoder;
import org.springframework.security.crypto.bcrypt.BCryptPasswordEncoder;
import org.springframework.security.crypto.password.DelegatingPasswordEncoder;
import org.springframework.security.crypto.password.PasswordEncoder;
import org.springframework.security.web.SecurityFilterChain;
import org.springframework.security.web.access.AccessDeniedHandler;
import org.springframework.security.web.access.intercept.AuthorizationFilter;
import org.springframework.security.web.csrf.CsrfException;
import org.springframework.security.web.authentication.AuthenticationFailureHandler;
import org.springframework.security.web.authentication.AuthenticationSuccessHandler;
import org.springframework.security.web.authentication.logout.SecurityContextLogoutHandler;
import org.springframework.security.web.firewall.FirewalledRequest;
import org.springframework.security.web.firewall.HttpFirewall;
import org.springframework.security.web.firewall.StrictHttpFirewall;
import org.springframework.security.web.header.writers.ReferrerPolicyHeaderWriter.ReferrerPolicy;
import org.springframework.security.web.servlet.util.matcher.PathPatternRequestMatcher;
import org.springframework.security.web.util.matcher.OrRequestMatcher;
import org.springframework.security.web.util.matcher.RequestMatcher;

/**
 * Spring Security for the web inbox, and only for it ({@link #WEB_PATHS}): the FHIR API
 * ({@code /fhir}), the actuator, {@code /.well-known} and the container's error dispatch keep their
 * own authentication (bearer tokens, the actuator guard) and pass through untouched.
 *
 * <p>Deny by default: every page but the login, registration and invitation pages and the static
 * files needs a person signed in with password <em>and</em> second factor. The password alone
 * (form login at {@code /anmelden}) only opens the second-factor step ({@link SecondFactorController}).
 * CSRF tokens on every form (session-bound), a new session id at each login step, a
 * Content-Security-Policy without inline script or style, frame denial, nosniff and a
 * same-origin referrer policy.
 */
@Configuration(proxyBeanMethods = false)
public class WebSecurityConfiguration {

    /** Audit subtype of sign-ins to the web inbox (success after both factors, and failures). */
    public static final String LOGIN_AUDIT = "web-login";
    /** Pages reachable without signing in. */
    static final String[] OPEN_PAGES = {"/anmelden", "/registrieren", "/registrieren/**", "/einladung/**",
            "/css/**", "/js/**", "/img/**", "/favicon.ico"};
    /** The second-factor step: signed in with the password only. */
    static final String[] SECOND_FACTOR_PAGES = {SecondFactorController.VERIFY, SecondFactorController.SETUP};
    static final String CSP = "default-src 'self'; script-src 'self'; style-src 'self'; img-src 'self' data:; "
            + "object-src 'none'; base-uri 'none'; form-action 'self'; frame-ancestors 'none'";

    /**
     * The web inbox's paths. Spring Security handles exactly these (deny by default inside them);
     * every page the inbox serves lies under one of them ({@code WebPathsIT} checks all mapped
     * handlers), everything else (the FHIR API, the actuator, {@code /.well-known}, unknown paths)
     * keeps its own handling and its OperationOutcome errors.
     */
    static final String[] WEB_PATHS = {"/", "/anmelden", "/anmelden/**", "/abmelden", "/einrichtung/**",
            "/registrieren", "/registrieren/**", "/einladung/**", "/posteingang", "/posteingang/**", "/chat/**",
            "/neu", "/neu/**", "/patienten", "/patienten/**", "/einstellungen", "/einstellungen/**",
            "/css/**", "/js/**", "/img/**", "/favicon.ico"};

    static final RequestMatcher WEB = new OrRequestMatcher(Arrays.stream(WEB_PATHS)
            .map(path -> (RequestMatcher) PathPatternRequestMatcher.withDefaults().matcher(path)).toList());

    /** Request attribute: access was denied for a missing or expired CSRF token (the error page says so). */
    public static final String CSRF_EXPIRED = "org.carerelay.gateway.web.csrf-expired";

    @Bean
    PasswordEncoder passwordEncoder() {
        String argon2 = "argon2@SpringSecurity_v5_8";
        return new DelegatingPasswordEncoder(argon2, Map.of(
                argon2, Argon2PasswordEncoder.defaultsForSpringSecurity_v5_8(),
                "bcrypt", new BCryptPasswordEncoder()));
    }

    @Bean
    SecurityFilterChain webInbox(HttpSecurity http, WebUsers users, AuditService audit) throws Exception {
        http.securityMatcher(WEB)
                .authorizeHttpRequests(pages -> pages
                        .requestMatchers(OPEN_PAGES).permitAll()
                        .requestMatchers(SECOND_FACTOR_PAGES).authenticated()
                        .requestMatchers("/einstellungen/benutzer", "/einstellungen/benutzer/**")
                        .hasAuthority(WebAuthorities.MANAGER)
                        // settings: everyone signed in reads them, managers change them
                        .requestMatchers(HttpMethod.POST, "/einstellungen/**").hasAuthority(WebAuthorities.MANAGER)
                        .anyRequest().hasAuthority(WebAuthorities.USER))
                .formLogin(form -> form.loginPage("/anmelden").loginProcessingUrl("/anmelden")
                        .usernameParameter("email").passwordParameter("passwort")
                        .successHandler(afterPassword(users))
                        .failureHandler(loginFailed(users, audit))
                        .permitAll())
                .logout(logout -> logout.logoutUrl("/abmelden").logoutSuccessUrl("/anmelden?abgemeldet"))
                .exceptionHandling(errors -> errors.accessDeniedHandler(accessDenied()))
                .sessionManagement(sessions -> sessions.sessionFixation(fixation -> fixation.changeSessionId()))
                .headers(headers -> headers
                        .contentSecurityPolicy(csp -> csp.policyDirectives(CSP))
                        .frameOptions(frames -> frames.deny())
                        .referrerPolicy(referrer -> referrer.policy(ReferrerPolicy.SAME_ORIGIN)))
                .addFilterBefore(new AccountStillValidFilter(users), AuthorizationFilter.class);
        return http.build();
    }

    /**
     * The strict firewall for the web inbox; requests of the API pass unchanged (its clients send
     * FHIR search syntax the strict rules refuse, and the API answers bad input itself).
     */
    @Bean
    WebSecurityCustomizer webInboxFirewall() {
        HttpFirewall strict = new StrictHttpFirewall();
        HttpFirewall scoped = new HttpFirewall() {
            @Override
            public FirewalledRequest getFirewalledRequest(HttpServletRequest request) {
                if (!WEB.matches(request)) {
                    return new FirewalledRequest(request) {
                        @Override
                        public void reset() {
                        }
                    };
                }
                return strict.getFirewalledRequest(request);
            }

            @Override
            public HttpServletResponse getFirewalledResponse(HttpServletResponse response) {
                return strict.getFirewalledResponse(response);
            }
        };
        return web -> web.httpFirewall(scoped);
    }

    /** After the password: on to the second factor (entered, or set up if there is none yet). */
    private static AuthenticationSuccessHandler afterPassword(WebUsers users) {
        return (request, response, authentication) -> {
            WebUser user = (WebUser) authentication.getPrincipal();
            if (!users.maySignIn(user.userId())) {
                // locked or deactivated: refused only now, after the password was hashed like any other
                new SecurityContextLogoutHandler().logout(request, response, authentication);
                response.sendRedirect(request.getContextPath() + "/anmelden?fehler");
                return;
            }
            response.sendRedirect(request.getContextPath()
                    + (user.totpEnabled() ? SecondFactorController.VERIFY : SecondFactorController.SETUP));
        };
    }

    /**
     * A wrong password counts towards the lockout; the answer never says which part was wrong. The
     * audit trail records the failure with the client address only: not the address typed (which
     * may be a mistyped password or a probe for accounts).
     */
    private static AuthenticationFailureHandler loginFailed(WebUsers users, AuditService audit) {
        return (request, response, exception) -> {
            if (exception instanceof BadCredentialsException) {
                users.loginFailedFor(request.getParameter("email"));
            }
            audit.failure(LOGIN_AUDIT, AuditEventAction.E, Caller.ANONYMOUS, request.getRemoteAddr(), null,
                    "password step refused");
            response.sendRedirect(request.getContextPath() + "/anmelden?fehler");
        };
    }

    /** Signed in with the password only: to the second factor. Otherwise the error page for 403 (German for browsers). */
    private static AccessDeniedHandler accessDenied() {
        return (request, response, denied) -> {
            Authentication auth = SecurityContextHolder.getContext().getAuthentication();
            if (auth != null && auth.getPrincipal() instanceof WebUser user && !WebAuthorities.signedIn(auth)) {
                response.sendRedirect(request.getContextPath()
                        + (user.totpEnabled() ? SecondFactorController.VERIFY : SecondFactorController.SETUP));
                return;
            }
            if (denied instanceof CsrfException) {
                request.setAttribute(CSRF_EXPIRED, Boolean.TRUE);
            }
            response.sendError(HttpServletResponse.SC_FORBIDDEN);
        };
    }
}
