package org.carerelay.gateway.infra;

import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
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
 * every consumer would only recover by rebuilding its connection after an error. Every URL gets a
 * call timeout of 10 s unless it names one ({@link #withClientDefaults}).
 */
public class BrokerEnvironmentPostProcessor implements EnvironmentPostProcessor {

    /** The call timeout of a URL that does not set one (Artemis' default: 30 s). */
    static final int CALL_TIMEOUT_MS = 10_000;

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
        props.put("spring.artemis.broker-url", withClientDefaults(url.strip()));
        String user = environment.getProperty("carerelay.broker.user");
        if (user != null && !user.isBlank()) {
            props.put("spring.artemis.user", user);
            props.put("spring.artemis.password", environment.getProperty("carerelay.broker.password", ""));
        }
        environment.getPropertySources().addFirst(new MapPropertySource("carerelay-broker", props));
    }

    /**
     * A URL gets {@code callTimeout=10000} unless it names a call timeout, and an {@code ha=true} URL
     * {@code reconnectAttempts=-1} unless it names reconnect attempts; they go after the client's
     * parameters. A parameter counts wherever Artemis reads it for the client: in the client's
     * parameters or in the first connector's of a list, by its name as written ({@link #parameter}).
     *
     * <p>The call timeout bounds every call to the broker that waits for an answer, and also how long
     * the client waits for the broker's topology after opening a connection. A connection the
     * network accepts and then drops (a load balancer or proxy in front of a broker that is down)
     * is not seen as failed during that wait: with Artemis' 30 s, the listener containers' attempts
     * to reconnect held the shared connection for 30 s each, and every hand-over of an accepted
     * message waited behind them, so deliveries stood still for half a minute after the broker was
     * back. Right after a fail-over the client at times closes a session whose channel the new live
     * broker never got; that close is never answered and waits out the call timeout, and the
     * connection then counts as failed and fails over once more: three times in a row with 30 s,
     * deliveries stood still for 90 s. A broker that is well answers the gateway's calls (a send, a
     * commit) in milliseconds, and a call that times out loses nothing: the message stays in the
     * database until the broker has it, a delivery repeated after an unknown commit is recognised by
     * the ledger, and a mail whose hand-over timed out after the broker had it may go out twice.
     */
    static String withClientDefaults(String url) {
        List<String> added = new ArrayList<>();
        if ("true".equalsIgnoreCase(parameter(url, "ha")) && parameter(url, "reconnectAttempts") == null) {
            added.add("reconnectAttempts=-1");
        }
        if (parameter(url, "callTimeout") == null) {
            added.add("callTimeout=" + CALL_TIMEOUT_MS);
        }
        if (added.isEmpty()) {
            return url;
        }
        char last = url.charAt(url.length() - 1);
        String separator = clientQuery(url) < 0 ? "?" : last == '?' || last == '&' || last == ';' ? "" : "&";
        return url + separator + String.join("&", added);
    }

    /**
     * The value of the parameter {@code name} in {@code url}, or null: after a {@code ?}, {@code &} or
     * {@code ;} (Artemis separates parameters with both), the name as written (Artemis reads names
     * case-sensitively), where Artemis applies it to the client ({@link #clientScope}): a later
     * connector's parameters in a list are its own (checked with Artemis 2.43: a call timeout there
     * leaves the client's at its default).
     */
    static String parameter(String url, String name) {
        String scope = clientScope(url);
        String prefix = name + "=";
        for (int i = scope.indexOf(prefix); i >= 0; i = scope.indexOf(prefix, i + 1)) {
            char before = i == 0 ? ' ' : scope.charAt(i - 1);
            if (before == '?' || before == '&' || before == ';') {
                int end = i + prefix.length();
                while (end < scope.length() && "&;,)".indexOf(scope.charAt(end)) < 0) {
                    end++;
                }
                return scope.substring(i + prefix.length(), end);
            }
        }
        return null;
    }

    /**
     * The parts of {@code url} whose parameters Artemis applies to the client: for a list of
     * connectors the first connector and what follows the list, otherwise the whole URL.
     */
    private static String clientScope(String url) {
        if (!url.startsWith("(")) {
            return url;
        }
        int depth = 0;
        for (int i = 0; i < url.length(); i++) {
            char c = url.charAt(i);
            if (c == '(') {
                depth++;
            } else if (c == ')') {
                depth--;
            }
            if (depth == 1 && c == ',' || depth == 0) {
                int query = clientQuery(url);
                return url.substring(0, i) + (query < 0 ? "" : url.substring(query));
            }
        }
        return url;
    }

    /**
     * Where the client's parameters begin (the {@code ?}), or -1: after the closing parenthesis of a
     * list of connectors {@code (tcp://a:61616,tcp://b:61616)?…}, else the first {@code ?}. Values
     * may hold parentheses themselves (a masked password {@code ENC(…)}).
     */
    static int clientQuery(String url) {
        if (!url.startsWith("(")) {
            return url.indexOf('?');
        }
        int depth = 0;
        for (int i = 0; i < url.length(); i++) {
            char c = url.charAt(i);
            if (c == '(') {
                depth++;
            } else if (c == ')' && --depth == 0) {
                return i + 1 < url.length() && url.charAt(i + 1) == '?' ? i + 1 : -1;
            }
        }
        return -1;
    }
}
