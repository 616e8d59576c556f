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
 * call timeout of 10 s unless it names one ({@link #withFailoverDefaults}).
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
        props.put("spring.artemis.broker-url", withFailoverDefaults(url.strip()));
        String user = environment.getProperty("carerelay.broker.user");
        if (user != null && !user.isBlank()) {
            props.put("spring.artemis.user", user);
            props.put("spring.artemis.password", environment.getProperty("carerelay.broker.password", ""));
        }
        environment.getPropertySources().addFirst(new MapPropertySource("carerelay-broker", props));
    }

    /**
     * A URL gets {@code callTimeout=10000} unless it names a call timeout, and an {@code ha=true} URL
     * {@code reconnectAttempts=-1} unless it names reconnect attempts (anywhere: the parameters of the
     * first connector in a list apply to the client as well); they go after the client's parameters.
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
     * deliveries stood still for 90 s. Each broker call the gateway makes (a send, a commit) is
     * answered in milliseconds, and one that times out is safe: the message stays in the database
     * until the broker has it, and a delivery repeated after an unknown commit is recognised by the
     * ledger, and a mail is sent again (at least once, as the mail queue promises).
     */
    static String withFailoverDefaults(String url) {
        int query = clientQuery(url);
        boolean ha = false;
        if (query >= 0) {
            for (String parameter : url.substring(query + 1).split("[&;]")) {
                ha |= parameter.strip().equalsIgnoreCase("ha=true");
            }
        }
        // Artemis reads parameter names as written, and those of the first connector in parentheses
        // apply to the client as well: a name anywhere in the URL counts as set
        boolean reconnectAttempts = url.contains("reconnectAttempts=");
        boolean callTimeout = url.contains("callTimeout=");
        List<String> added = new ArrayList<>();
        if (ha && !reconnectAttempts) {
            added.add("reconnectAttempts=-1");
        }
        if (!callTimeout) {
            added.add("callTimeout=" + CALL_TIMEOUT_MS);
        }
        if (added.isEmpty()) {
            return url;
        }
        char last = url.charAt(url.length() - 1);
        String separator = query < 0 ? "?" : last == '?' || last == '&' || last == ';' ? "" : "&";
        return url + separator + String.join("&", added);
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
