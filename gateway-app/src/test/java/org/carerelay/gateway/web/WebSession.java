package org.carerelay.gateway.web;

import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.net.CookieManager;
import java.net.CookiePolicy;
import java.net.URI;
import java.net.URLEncoder;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.charset.StandardCharsets;
import java.time.Duration;
import java.time.Instant;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.UUID;
import java.util.concurrent.ConcurrentHashMap;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import java.util.stream.Collectors;

/**
 * A browser session against the web inbox over real HTTP, for integration tests: a cookie jar,
 * redirects not followed (so tests see them), and the CSRF token of the last page that had a form
 * added to every POST (as a browser submitting that page's form would).
 */
public final class WebSession {

    private static final Pattern CSRF = Pattern.compile("name=\"_csrf\"\\s+value=\"([^\"]+)\"");
    /** Per TOTP secret, the last step a test used: a code is accepted once, so the next sign-in takes a later one. */
    private static final Map<String, Long> USED_STEPS = new ConcurrentHashMap<>();

    private final String base;
    private final CookieManager cookies = new CookieManager(null, CookiePolicy.ACCEPT_ALL);
    private final HttpClient client;
    private String csrf;

    public WebSession(String base) {
        this.base = base;
        this.client = HttpClient.newBuilder().cookieHandler(cookies).followRedirects(HttpClient.Redirect.NEVER)
                .connectTimeout(Duration.ofSeconds(10)).build();
    }

    /** A session signed in with password and TOTP code, on the inbox. */
    public static WebSession signIn(String base, WebAccounts.Login login) {
        WebSession session = new WebSession(base);
        session.get("/anmelden");
        HttpResponse<String> password = session.post("/anmelden", Map.of("email", login.email(), "passwort", login.password()));
        if (!location(password).endsWith(SecondFactorController.VERIFY)) {
            throw new AssertionError("password step went to " + location(password));
        }
        session.get(SecondFactorController.VERIFY);
        HttpResponse<String> code = session.post(SecondFactorController.VERIFY, Map.of("code", nextCode(login.totpSecret())));
        if (code.statusCode() != 302 || location(code).contains("anmelden")) {
            throw new AssertionError("second factor refused: " + code.statusCode() + " " + location(code));
        }
        return session;
    }

    /** A TOTP code for {@code secret} that no test has used yet (waits for the next step if needed). */
    public static synchronized String nextCode(byte[] secret) {
        String key = Totp.base32(secret);
        while (true) {
            long current = Totp.step(Instant.now());
            long used = USED_STEPS.getOrDefault(key, 0L);
            // the current step, else the next one (the server accepts one step either side); never the
            // previous one, which may run out before the code arrives
            for (long step = current; step <= current + 1; step++) {
                if (step > used) {
                    USED_STEPS.put(key, step);
                    return Totp.code(secret, step);
                }
            }
            sleep(1_000);
        }
    }

    /** Notes that {@code step} was used for {@code secret} outside this class (e.g. when a secret was set up). */
    public static void used(byte[] secret, long step) {
        USED_STEPS.merge(Totp.base32(secret), step, Math::max);
    }

    public HttpResponse<String> get(String path) {
        return send(HttpRequest.newBuilder(uri(path)).GET().header("Accept", "text/html"));
    }

    public HttpResponse<byte[]> getBytes(String path) {
        try {
            return client.send(HttpRequest.newBuilder(uri(path)).GET().timeout(Duration.ofSeconds(30)).build(),
                    HttpResponse.BodyHandlers.ofByteArray());
        } catch (IOException e) {
            throw new AssertionError(e);
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            throw new AssertionError(e);
        }
    }

    /** A form POST with the current CSRF token (unless {@code form} names its own {@code _csrf}). */
    public HttpResponse<String> post(String path, Map<String, String> form) {
        Map<String, String> fields = new LinkedHashMap<>(form);
        if (csrf != null) {
            fields.putIfAbsent("_csrf", csrf);
        }
        String body = fields.entrySet().stream()
                .map(e -> enc(e.getKey()) + "=" + enc(e.getValue()))
                .collect(Collectors.joining("&"));
        return send(HttpRequest.newBuilder(uri(path)).header("Content-Type", "application/x-www-form-urlencoded")
                .header("Accept", "text/html").POST(HttpRequest.BodyPublishers.ofString(body)));
    }

    /** A form POST without any CSRF token (what a forged cross-site form would send). */
    public HttpResponse<String> postWithoutCsrf(String path, Map<String, String> form) {
        Map<String, String> fields = new LinkedHashMap<>(form);
        fields.put("_csrf", "");
        return post(path, fields);
    }

    /** A multipart/form-data POST: {@code files} maps a field to (file name, content type, bytes). */
    public HttpResponse<String> postMultipart(String path, Map<String, String> form, Map<String, FilePart> files) {
        String boundary = "----carerelay" + UUID.randomUUID();
        ByteArrayOutputStream body = new ByteArrayOutputStream();
        Map<String, String> fields = new LinkedHashMap<>(form);
        if (csrf != null) {
            fields.putIfAbsent("_csrf", csrf);
        }
        for (Map.Entry<String, String> field : fields.entrySet()) {
            write(body, "--" + boundary + "\r\nContent-Disposition: form-data; name=\"" + field.getKey() + "\"\r\n\r\n"
                    + field.getValue() + "\r\n");
        }
        for (Map.Entry<String, FilePart> file : files.entrySet()) {
            write(body, "--" + boundary + "\r\nContent-Disposition: form-data; name=\"" + file.getKey() + "\"; filename=\""
                    + file.getValue().fileName() + "\"\r\nContent-Type: " + file.getValue().contentType() + "\r\n\r\n");
            body.writeBytes(file.getValue().data());
            write(body, "\r\n");
        }
        write(body, "--" + boundary + "--\r\n");
        return send(HttpRequest.newBuilder(uri(path)).header("Content-Type", "multipart/form-data; boundary=" + boundary)
                .header("Accept", "text/html").POST(HttpRequest.BodyPublishers.ofByteArray(body.toByteArray())));
    }

    /**
     * A multipart/form-data POST where {@code repeated} is sent once per value (as checked
     * checkboxes of one name are), besides the single-valued {@code form} fields and the files.
     */
    public HttpResponse<String> postMultipartRepeated(String path, Map<String, String> form, String repeated,
            List<String> values, Map<String, FilePart> files) {
        String boundary = "----carerelay" + UUID.randomUUID();
        ByteArrayOutputStream body = new ByteArrayOutputStream();
        Map<String, String> fields = new LinkedHashMap<>(form);
        if (csrf != null) {
            fields.putIfAbsent("_csrf", csrf);
        }
        for (Map.Entry<String, String> field : fields.entrySet()) {
            writeField(body, boundary, field.getKey(), field.getValue());
        }
        for (String value : values) {
            writeField(body, boundary, repeated, value);
        }
        for (Map.Entry<String, FilePart> file : files.entrySet()) {
            write(body, "--" + boundary + "\r\nContent-Disposition: form-data; name=\"" + file.getKey() + "\"; filename=\""
                    + file.getValue().fileName() + "\"\r\nContent-Type: " + file.getValue().contentType() + "\r\n\r\n");
            body.writeBytes(file.getValue().data());
            write(body, "\r\n");
        }
        write(body, "--" + boundary + "--\r\n");
        return send(HttpRequest.newBuilder(uri(path)).header("Content-Type", "multipart/form-data; boundary=" + boundary)
                .header("Accept", "text/html").POST(HttpRequest.BodyPublishers.ofByteArray(body.toByteArray())));
    }

    private static void writeField(ByteArrayOutputStream body, String boundary, String name, String value) {
        write(body, "--" + boundary + "\r\nContent-Disposition: form-data; name=\"" + name + "\"\r\n\r\n" + value + "\r\n");
    }

    public record FilePart(String fileName, String contentType, byte[] data) {
    }

    /** The session cookie's value, if any. */
    public Optional<String> sessionId() {
        return cookies.getCookieStore().getCookies().stream().filter(c -> (c.getName().equals("JSESSIONID") || c.getName().equals(SessionCookies.COOKIE)))
                .map(c -> c.getValue()).findFirst();
    }

    public static String location(HttpResponse<?> response) {
        return response.headers().firstValue("Location").orElse("");
    }

    /** The first match of {@code regex}'s group 1 in {@code html}. */
    public static String find(String html, String regex) {
        Matcher m = Pattern.compile(regex).matcher(html);
        if (!m.find()) {
            throw new AssertionError("not found on the page: " + regex);
        }
        return m.group(1);
    }

    private HttpResponse<String> send(HttpRequest.Builder request) {
        try {
            HttpResponse<String> response = client.send(request.timeout(Duration.ofSeconds(30)).build(),
                    HttpResponse.BodyHandlers.ofString(StandardCharsets.UTF_8));
            Matcher m = CSRF.matcher(response.body());
            if (m.find()) {
                csrf = m.group(1);
            }
            return response;
        } catch (IOException e) {
            throw new AssertionError(e);
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            throw new AssertionError(e);
        }
    }

    private URI uri(String path) {
        return URI.create(path.startsWith("http") ? path : base + path);
    }

    private static String enc(String s) {
        return URLEncoder.encode(s, StandardCharsets.UTF_8);
    }

    private static void write(ByteArrayOutputStream out, String s) {
        out.writeBytes(s.getBytes(StandardCharsets.UTF_8));
    }

    private static void sleep(long millis) {
        try {
            Thread.sleep(millis);
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            throw new AssertionError(e);
        }
    }

    static List<String> headerValues(HttpResponse<?> response, String name) {
        return response.headers().allValues(name);
    }
}
