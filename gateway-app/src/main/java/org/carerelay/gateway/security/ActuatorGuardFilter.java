package org.carerelay.gateway.security;

import jakarta.servlet.FilterChain;
import jakarta.servlet.ServletException;
import jakarta.servlet.http.HttpServletRequest;
import jakarta.servlet.http.HttpServletResponse;
import java.io.IOException;
import org.springframework.boot.web.servlet.FilterRegistrationBean;
import org.springframework.context.annotation.Bean;
import org.springframework.context.annotation.Configuration;
import org.springframework.core.Ordered;
import org.springframework.web.filter.OncePerRequestFilter;

/**
 * {@code /actuator/health} and {@code /actuator/prometheus} are open (load balancers, scrapers);
 * every other actuator endpoint needs the admin token.
 */
public class ActuatorGuardFilter extends OncePerRequestFilter {

    private final AdminToken adminToken;

    ActuatorGuardFilter(AdminToken adminToken) {
        this.adminToken = adminToken;
    }

    @Override
    protected void doFilterInternal(HttpServletRequest request, HttpServletResponse response, FilterChain chain)
            throws ServletException, IOException {
        String path = request.getRequestURI().substring(request.getContextPath().length());
        if (isOpen(path)) {
            chain.doFilter(request, response);
            return;
        }
        String header = request.getHeader("Authorization");
        String token = header != null && header.regionMatches(true, 0, "Bearer ", 0, 7) ? header.substring(7).trim() : null;
        if (!adminToken.matches(token)) {
            response.setStatus(token == null ? 401 : 403);
            response.setHeader("WWW-Authenticate", "Bearer realm=\"carerelay\"");
            response.setContentType("application/json");
            response.getWriter().write("{\"error\":\"" + (token == null ? "unauthenticated" : "forbidden")
                    + "\",\"message\":\"This actuator endpoint needs the admin token.\"}");
            return;
        }
        chain.doFilter(request, response);
    }

    static boolean isOpen(String path) {
        return path.equals("/actuator/health") || path.startsWith("/actuator/health/")
                || path.equals("/actuator/prometheus");
    }

    @Configuration(proxyBeanMethods = false)
    static class Registration {
        @Bean
        FilterRegistrationBean<ActuatorGuardFilter> actuatorGuard(AdminToken adminToken) {
            FilterRegistrationBean<ActuatorGuardFilter> registration =
                    new FilterRegistrationBean<>(new ActuatorGuardFilter(adminToken));
            registration.addUrlPatterns("/actuator", "/actuator/*");
            registration.setOrder(Ordered.HIGHEST_PRECEDENCE);
            return registration;
        }
    }
}
