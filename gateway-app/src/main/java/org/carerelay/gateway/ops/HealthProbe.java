package org.carerelay.gateway.ops;

import java.io.IOException;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.time.Duration;

/**
 * Health check command for container runtimes without an HTTP probe (the image has no shell, curl
 * or wget): asks the gateway in the same container for a health group and exits 0 when it answers
 * 200 (UP), 1 otherwise.
 *
 * <pre>java -cp /app/classes org.carerelay.gateway.ops.HealthProbe [readiness|liveness]</pre>
 *
 * The port is {@code CARERELAY_HTTP_PORT} (default 8080). Needs nothing but the JDK, so it starts in
 * well under a second with the classes directory alone on the class path.
 */
public final class HealthProbe {

    private HealthProbe() {
    }

    public static void main(String[] args) {
        String group = args.length > 0 ? args[0] : "readiness";
        String port = System.getenv().getOrDefault("CARERELAY_HTTP_PORT", "8080");
        System.exit(check(URI.create("http://127.0.0.1:" + port + "/actuator/health/" + group)) ? 0 : 1);
    }

    /** True when {@code uri} answers 200 within five seconds. */
    static boolean check(URI uri) {
        HttpClient client = HttpClient.newBuilder().connectTimeout(Duration.ofSeconds(2)).build();
        HttpRequest request = HttpRequest.newBuilder(uri).timeout(Duration.ofSeconds(5)).GET().build();
        try {
            int status = client.send(request, HttpResponse.BodyHandlers.discarding()).statusCode();
            System.out.println(uri.getPath() + " " + status);
            return status == 200;
        } catch (IOException e) {
            System.out.println(uri.getPath() + " unreachable: " + e.getClass().getSimpleName());
            return false;
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            return false;
        }
    }
}
