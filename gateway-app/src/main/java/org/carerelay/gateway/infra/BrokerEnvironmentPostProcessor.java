package org.carerelay.gateway.infra;

import java.util.HashMap;
import java.util.Map;
import org.springframework.boot.EnvironmentPostProcessor;
import org.springframework.boot.SpringApplication;
import org.springframework.core.env.ConfigurableEnvironment;
import org.springframework.core.env.MapPropertySource;

/**
 * Switches Spring's Artemis support from the embedded broker to an external one as soon as
 * {@code carerelay.broker.url} ({@code CARERELAY_BROKER_URL}) is set, so operators set one
 * variable instead of three Spring properties.
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
        props.put("spring.artemis.broker-url", url);
        String user = environment.getProperty("carerelay.broker.user");
        if (user != null && !user.isBlank()) {
            props.put("spring.artemis.user", user);
            props.put("spring.artemis.password", environment.getProperty("carerelay.broker.password", ""));
        }
        environment.getPropertySources().addFirst(new MapPropertySource("carerelay-broker", props));
    }
}
