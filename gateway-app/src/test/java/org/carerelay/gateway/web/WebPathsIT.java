package org.carerelay.gateway.web;

import static org.assertj.core.api.Assertions.assertThat;

import java.util.ArrayList;
import java.util.List;
import java.util.Set;
import org.carerelay.gateway.GatewayIntegrationTest;
import org.junit.jupiter.api.Test;
import org.springframework.beans.factory.annotation.Autowired;
import org.springframework.beans.factory.annotation.Qualifier;
import org.springframework.mock.web.MockHttpServletRequest;
import org.springframework.web.servlet.mvc.method.annotation.RequestMappingHandlerMapping;

/**
 * Deny by default holds for every page: each path a controller serves lies inside the web inbox's
 * security ({@link WebSecurityConfiguration#WEB_PATHS}), apart from the few paths that are public
 * on purpose and have their own rules.
 */
class WebPathsIT extends GatewayIntegrationTest {

    /** Served outside the web inbox's security on purpose: the CA certificate and the error dispatch. */
    private static final Set<String> PUBLIC_ON_PURPOSE = Set.of("/.well-known/carerelay/ca.pem", "/error",
            "${server.error.path:/error}");

    @Autowired
    @Qualifier("requestMappingHandlerMapping")
    RequestMappingHandlerMapping mappings;

    @Test
    void everyControllerPath_isInsideTheWebInboxSecurity() {
        List<String> outside = new ArrayList<>();
        int checked = 0;
        for (var info : mappings.getHandlerMethods().keySet()) {
            for (String pattern : info.getPatternValues()) {
                if (PUBLIC_ON_PURPOSE.contains(pattern)) {
                    continue;
                }
                checked++;
                String concrete = pattern.replaceAll("\\{[^}]+}", "x").replace("/**", "/x");
                if (!WebSecurityConfiguration.WEB.matches(new MockHttpServletRequest("GET", concrete))) {
                    outside.add(pattern);
                }
            }
        }
        assertThat(checked).isPositive();
        assertThat(outside).as("controller paths outside the web inbox's security").isEmpty();
    }
}
