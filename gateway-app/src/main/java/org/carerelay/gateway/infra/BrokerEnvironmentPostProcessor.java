package org.carerelay.gateway.infra;

import java.util.HashMap;
import java.util.Locale;
import java.util.Map;
import org.springframework.boot.EnvironmentPostProcessor;
import org.springframework.boot.SpringApplication;
import org.springframework.core.env.ConfigurableEnvironment;
import org.springframework.core.env.MapPropertySource;

/**
 * Switches Spring's Artemis support from the embedded broker to an external one as soon as
 * {@code carerelay.broker.url} ({@code CARERELAY_BROKER_URL}) is set, so operators set one
 * variable instead of three Spring properties. The embedded server is switched off then (Spring
 * Boot would start it next to the external connection otherwise). A primary/backup pair
 * ({@code (tcp://a:61616,tcp://b:61616)?ha=true}) gets unlimited reconnect attempts unless the
 * URL names them: without them the Artemis client does not fail over to the backup by itself, and
 * every consumer would only recover by rebuilding its connection after an error.
 */
public class BrokerEnvironmentPostProcessor implements EnvironmentPostProcessor {

    @Override
    public void postProcessEnvironment(ConfigurableEnvironment environment, SpringApplication application) {
        String url = environment.getProperty("carerelay.broker.url");
        if (url == null || url.isBlank()) {
            return;
        }
        Map<String, Object> props = new HashMap<>();
        props.put("spring.artemis.mode", "native");
        // Spring Boot starts the embedded server whenever its classes are present, whatever the mode
        props.put("spring.artemis.embedded.enabled", "false");
        props.put("spring.artemis.broker-url", withFailoverDefaults(url.strip()));
        String user = environment.getProperty("carerelay.broker.user");
        if (user != null && !user.isBlank()) {
            props.put("spring.artemis.user", user);
            props.put("spring.artemis.password", environment.getProperty("carerelay.broker.password", ""));
        }
        environment.getPropertySources().addFirst(new MapPropertySource("carerelay-broker", props));
    }

    /** {@code reconnectAttempts=-1} added to an {@code ha=true} URL that does not set it. */
    static String withFailoverDefaults(String url) {
        int query = url.indexOf('?', Math.max(0, url.lastIndexOf(')')));
        if (query < 0) {
            return url;
        }
        boolean ha = false;
        for (String parameter : url.substring(query + 1).split("&")) {
            String name = parameter.split("=", 2)[0].strip().toLowerCase(Locale.ROOT);
            if (name.equals("reconnectattempts")) {
                return url;
            }
            ha |= parameter.strip().equalsIgnoreCase("ha=true");
        }
        return ha ? url + "&reconnectAttempts=-1" : url;
    }
}
