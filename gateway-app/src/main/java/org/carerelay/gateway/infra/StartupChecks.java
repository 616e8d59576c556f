package org.carerelay.gateway.infra;

import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import org.springframework.context.ApplicationContextInitializer;
import org.springframework.context.ConfigurableApplicationContext;
import org.springframework.core.env.ConfigurableEnvironment;
import org.springframework.core.env.EnumerablePropertySource;
import org.springframework.core.env.PropertySource;

/**
 * Checks made before any bean exists, so a start that cannot succeed ends within a second or two
 * with one sentence ({@link StartupFailure}) instead of a stack trace after the database started:
 * every {@code carerelay.*} setting whose value names an environment variable without a default
 * (as the production profile does for everything it requires) must have it; the HTTP and MLLP
 * ports must be free ({@link PortCheck}); and the data
 * directory must not be in use by another gateway while an embedded PostgreSQL or Artemis keeps
 * its data there ({@link DataDirectoryLock}).
 */
public class StartupChecks implements ApplicationContextInitializer<ConfigurableApplicationContext> {

    private static final Pattern PLACEHOLDER = Pattern.compile("\\$\\{([^}:]+)}");

    @Override
    public void initialize(ConfigurableApplicationContext context) {
        ConfigurableEnvironment environment = context.getEnvironment();
        requireSettings(environment);
        requireFreePorts(environment);
        if (blank(environment.getProperty("carerelay.db.url")) || blank(environment.getProperty("carerelay.broker.url"))) {
            DataDirectoryLock.acquire(Path.of(environment.getProperty("carerelay.data-dir", "./data")));
        }
    }

    /** The HTTP port and the enabled MLLP listeners' ports can be bound. */
    static void requireFreePorts(ConfigurableEnvironment environment) {
        PortCheck.requireFree("HTTP", environment.getProperty("server.address"),
                environment.getProperty("server.port", Integer.class, 8080), "CARERELAY_HTTP_PORT (server.port)", "server.address");
        String hl7Host = environment.getProperty("carerelay.hl7.host");
        String hostSetting = "CARERELAY_HL7_HOST (carerelay.hl7.host)";
        if (environment.getProperty("carerelay.hl7.enabled", Boolean.class, true)) {
            PortCheck.requireFree("HL7", anyAddress(hl7Host), environment.getProperty("carerelay.hl7.port", Integer.class, 2575),
                    "CARERELAY_HL7_PORT (carerelay.hl7.port)", hostSetting);
        }
        if (environment.getProperty("carerelay.hl7.tls.enabled", Boolean.class, false)) {
            PortCheck.requireFree("HL7 TLS", anyAddress(hl7Host), environment.getProperty("carerelay.hl7.tls.port", Integer.class, 2576),
                    "CARERELAY_HL7_TLS_PORT (carerelay.hl7.tls.port)", hostSetting);
        }
    }

    private static String anyAddress(String host) {
        return host == null || host.isBlank() || host.equals("0.0.0.0") ? null : host;
    }

    /** Throws a {@link StartupFailure} listing every setting whose environment variable is missing. */
    static void requireSettings(ConfigurableEnvironment environment) {
        Map<String, String> missing = missingSettings(environment);
        if (missing.isEmpty()) {
            return;
        }
        List<String> variables = new ArrayList<>();
        List<String> named = new ArrayList<>();
        missing.forEach((property, variable) -> {
            variables.add(variable);
            named.add(variable + " (" + property + ")");
        });
        String[] profiles = environment.getActiveProfiles();
        throw new StartupFailure("Required settings are missing" + (profiles.length == 0 ? "" : " for the "
                + String.join(", ", profiles) + " profile") + ": " + String.join(", ", variables) + ".",
                "Set these environment variables (see Configuration in the README): " + String.join(", ", named) + ".");
    }

    /** {@code carerelay.*} property → the first placeholder in its value that nothing resolves. */
    static Map<String, String> missingSettings(ConfigurableEnvironment environment) {
        Map<String, String> missing = new LinkedHashMap<>();
        for (PropertySource<?> source : environment.getPropertySources()) {
            if (!(source instanceof EnumerablePropertySource<?> enumerable)) {
                continue;
            }
            for (String name : Arrays.stream(enumerable.getPropertyNames()).sorted().toList()) {
                if (!name.startsWith("carerelay.") || missing.containsKey(name)) {
                    continue;
                }
                try {
                    environment.getProperty(name);
                } catch (IllegalArgumentException unresolvable) {
                    missing.put(name, unresolved(environment, rawValue(environment, name)).orElse(name));
                }
            }
        }
        return missing;
    }

    /** The value as written in the property source that wins (the first one holding the name). */
    private static String rawValue(ConfigurableEnvironment environment, String name) {
        for (PropertySource<?> source : environment.getPropertySources()) {
            if (source instanceof EnumerablePropertySource<?> && source.containsProperty(name)) {
                Object value = source.getProperty(name);
                return value == null ? "" : value.toString();
            }
        }
        return "";
    }

    private static Optional<String> unresolved(ConfigurableEnvironment environment, String raw) {
        Matcher m = PLACEHOLDER.matcher(raw);
        while (m.find()) {
            if (environment.getProperty(m.group(1).trim()) == null) {
                return Optional.of(m.group(1).trim());
            }
        }
        return Optional.empty();
    }

    private static boolean blank(String value) {
        return value == null || value.isBlank();
    }
}
