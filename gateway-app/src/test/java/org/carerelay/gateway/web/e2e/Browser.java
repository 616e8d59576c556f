package org.carerelay.gateway.web.e2e;

import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.Collections;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.concurrent.ConcurrentHashMap;
import java.util.stream.Stream;
import org.junit.jupiter.api.Assumptions;
import org.openqa.selenium.By;
import org.openqa.selenium.Dimension;
import org.openqa.selenium.OutputType;
import org.openqa.selenium.WebElement;
import org.openqa.selenium.chrome.ChromeDriver;
import org.openqa.selenium.chrome.ChromeDriverService;
import org.openqa.selenium.chrome.ChromeOptions;
import org.openqa.selenium.support.ui.ExpectedConditions;
import org.openqa.selenium.support.ui.WebDriverWait;

/**
 * A headless Chromium driven through WebDriver, for end-to-end tests of the web inbox: Debian's
 * {@code chromium} and {@code chromium-driver} at their fixed paths (no driver is ever downloaded:
 * both paths are set, so Selenium Manager has nothing to find), a fresh profile per browser,
 * downloads into a temporary folder, screenshots to {@code target/screenshots/<name>.png}.
 *
 * <p>Where the two programs are missing (the CI script installs them), {@link #start} skips the
 * test with the reason printed; anything else that goes wrong fails it. Every browser started is
 * quit by {@link #close} and, should a test never get there, when the JVM ends.
 */
public final class Browser implements AutoCloseable {

    public static final Path CHROMIUM = Path.of("/usr/bin/chromium");
    public static final Path CHROMEDRIVER = Path.of("/usr/bin/chromedriver");
    public static final Path SCREENSHOTS = Path.of("target", "screenshots");
    public static final Dimension DESKTOP = new Dimension(1280, 900);
    public static final Dimension TABLET = new Dimension(820, 1180);
    private static final Duration WAIT = Duration.ofSeconds(20);
    private static final Set<Browser> OPEN = ConcurrentHashMap.newKeySet();

    static {
        Runtime.getRuntime().addShutdownHook(new Thread(() -> List.copyOf(OPEN).forEach(Browser::close), "quit-browsers"));
    }

    private final String base;
    private final ChromeDriverService service;
    private final ChromeDriver driver;
    private final Path profile;
    private final Path downloads;

    private Browser(String base, ChromeDriverService service, ChromeDriver driver, Path profile, Path downloads) {
        this.base = base;
        this.service = service;
        this.driver = driver;
        this.profile = profile;
        this.downloads = downloads;
    }

    /** Skips the calling test (with the reason printed) unless Chromium and its driver are installed. */
    public static void assumeInstalled() {
        String missing = Stream.of(CHROMIUM, CHROMEDRIVER).filter(p -> !Files.isExecutable(p)).map(Path::toString)
                .reduce((a, b) -> a + " and " + b).orElse(null);
        if (missing != null) {
            String reason = "Browser test skipped: " + missing + " not installed (Debian packages chromium and "
                    + "chromium-driver; .ci/run installs them)";
            System.out.println(reason);
            Assumptions.abort(reason);
        }
    }

    /** A new headless browser on the inbox at {@code base} (the server root), 1280x900. */
    public static Browser start(String base) {
        assumeInstalled();
        Path profile;
        Path downloads;
        try {
            profile = Files.createTempDirectory("chromium-profile");
            downloads = Files.createTempDirectory("chromium-downloads");
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        }
        ChromeOptions options = new ChromeOptions();
        options.setBinary(CHROMIUM.toFile());
        options.addArguments("--headless=new", "--no-sandbox", "--disable-gpu", "--disable-dev-shm-usage",
                "--disable-background-networking", "--disable-component-update", "--disable-sync", "--no-first-run",
                "--disable-default-apps", "--disable-extensions", "--password-store=basic", "--lang=de-DE",
                "--user-data-dir=" + profile, "--window-size=" + DESKTOP.width + "," + DESKTOP.height);
        Map<String, Object> prefs = new HashMap<>();
        prefs.put("download.default_directory", downloads.toString());
        prefs.put("download.prompt_for_download", false);
        prefs.put("plugins.always_open_pdf_externally", true); // a PDF link downloads instead of opening a viewer
        prefs.put("credentials_enable_service", false);
        prefs.put("profile.password_manager_enabled", false);
        options.setExperimentalOption("prefs", prefs);
        ChromeDriverService service = new ChromeDriverService.Builder().usingDriverExecutable(CHROMEDRIVER.toFile())
                .usingAnyFreePort().build();
        ChromeDriver driver = null;
        try {
            driver = new ChromeDriver(service, options);
            driver.executeCdpCommand("Browser.setDownloadBehavior",
                    Map.of("behavior", "allow", "downloadPath", downloads.toString(), "eventsEnabled", false));
            driver.manage().window().setSize(DESKTOP);
            driver.manage().timeouts().pageLoadTimeout(Duration.ofSeconds(60));
            Browser browser = new Browser(base, service, driver, profile, downloads);
            OPEN.add(browser);
            return browser;
        } catch (RuntimeException | Error e) {
            if (driver != null) {
                driver.quit();
            }
            service.stop();
            throw e;
        }
    }

    public ChromeDriver driver() {
        return driver;
    }

    /** Opens {@code path} of the inbox (or an absolute URL). */
    public Browser open(String path) {
        driver.get(path.startsWith("http") ? path : base + path);
        return this;
    }

    /** The path (with query) of the page shown. */
    public String path() {
        String url = driver.getCurrentUrl();
        return url.startsWith(base) ? url.substring(base.length()) : url;
    }

    public String pageText() {
        return driver.findElement(By.tagName("body")).getText();
    }

    public String source() {
        return driver.getPageSource();
    }

    public WebElement find(String css) {
        return driver.findElement(By.cssSelector(css));
    }

    public List<WebElement> all(String css) {
        return driver.findElements(By.cssSelector(css));
    }

    public boolean has(String css) {
        return !all(css).isEmpty();
    }

    /** Clears the field named {@code name} (the first on the page) and types {@code text} (a date as yyyy-mm-dd). */
    public Browser type(String name, String text) {
        WebElement field = driver.findElement(By.name(name));
        if ("date".equals(field.getAttribute("type"))) {
            // a date picker takes keys in the browser's locale order; its value is always yyyy-mm-dd
            driver.executeScript("arguments[0].value = arguments[1]", field, text);
            return this;
        }
        field.clear();
        field.sendKeys(text);
        return this;
    }

    /** Chooses a file for the file input named {@code name}. */
    public Browser attach(String name, Path file) {
        driver.findElement(By.name(name)).sendKeys(file.toAbsolutePath().toString());
        return this;
    }

    /**
     * Clicks the element (a link or a form's button) and waits until the page it leads to has
     * loaded: first until the page shown before is gone, then until the new one is complete. Waiting
     * for the ready state alone can see the old page, still complete while the browser has not yet
     * begun to navigate, and the next step would then act on the page left behind.
     */
    public Browser click(String css) {
        WebElement element = find(css);
        WebElement before = driver.findElement(By.tagName("html"));
        element.click();
        new WebDriverWait(driver, WAIT).until(ExpectedConditions.stalenessOf(before));
        new WebDriverWait(driver, WAIT).until(d -> "complete".equals(driver.executeScript("return document.readyState")));
        return this;
    }

    /** Clicks a link that downloads a file, which leaves the page as it is (see {@link #awaitDownload}). */
    public Browser clickToDownload(String css) {
        find(css).click();
        return this;
    }

    /** Ticks a checkbox or radio button (by css) unless it already is. */
    public Browser tick(String css) {
        WebElement box = find(css);
        if (!box.isSelected()) {
            box.click();
        }
        return this;
    }

    /** Writes a screenshot of the viewport to {@code target/screenshots/<name>.png}. */
    public Path screenshot(String name) {
        try {
            Files.createDirectories(SCREENSHOTS);
            Path file = SCREENSHOTS.resolve(name + ".png");
            Files.write(file, driver.getScreenshotAs(OutputType.BYTES));
            return file;
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        }
    }

    /** Writes a screenshot at the given window size, then returns to the desktop size. */
    public Path screenshot(String name, Dimension size) {
        driver.manage().window().setSize(size);
        try {
            return screenshot(name);
        } finally {
            driver.manage().window().setSize(DESKTOP);
        }
    }

    /** The folder downloads go to. */
    public Path downloads() {
        return downloads;
    }

    /** Waits until a completed download other than {@code before} is in the folder, and returns it. */
    public Path awaitDownload(Set<Path> before) {
        long deadline = System.nanoTime() + WAIT.toNanos();
        while (System.nanoTime() < deadline) {
            List<Path> done = downloadedFiles().stream().filter(p -> !before.contains(p)).toList();
            if (!done.isEmpty()) {
                return done.get(0);
            }
            sleep(200);
        }
        throw new AssertionError("no download finished within " + WAIT + " in " + downloads);
    }

    /** Completed downloads (no {@code .crdownload} part files). */
    public Set<Path> downloadedFiles() {
        try (Stream<Path> files = Files.list(downloads)) {
            return files.filter(p -> !p.getFileName().toString().endsWith(".crdownload")).filter(p -> {
                try {
                    return Files.size(p) > 0;
                } catch (IOException e) {
                    return false;
                }
            }).collect(java.util.stream.Collectors.toSet());
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        }
    }

    /** Signs in with password and TOTP code through the login pages; ends on the page after the second factor. */
    public Browser signIn(String email, String password, byte[] totpSecret) {
        open("/anmelden");
        type("email", email).type("passwort", password).click("#anmelden");
        if (!path().startsWith(org.carerelay.gateway.web.SecondFactorController.VERIFY)) {
            throw new AssertionError("after the password the browser is on " + path() + ": " + pageText());
        }
        type("code", org.carerelay.gateway.web.WebSession.nextCode(totpSecret)).click("#bestaetigen");
        return this;
    }

    /** The cookies of this browser, by name (for tests that compare sessions). */
    public Map<String, String> cookies() {
        Map<String, String> all = new HashMap<>();
        driver.manage().getCookies().forEach(c -> all.put(c.getName(), c.getValue()));
        return Collections.unmodifiableMap(all);
    }

    @Override
    public void close() {
        if (!OPEN.remove(this)) {
            return;
        }
        try {
            driver.quit();
        } finally {
            service.stop();
            deleteQuietly(profile);
            deleteQuietly(downloads);
        }
    }

    private static void deleteQuietly(Path dir) {
        try (Stream<Path> files = Files.walk(dir)) {
            files.sorted(java.util.Comparator.reverseOrder()).forEach(p -> p.toFile().delete());
        } catch (IOException | UncheckedIOException e) {
            // a profile left in the temp folder does no harm
        }
    }

    private static void sleep(long millis) {
        try {
            Thread.sleep(millis);
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            throw new AssertionError(e);
        }
    }
}
