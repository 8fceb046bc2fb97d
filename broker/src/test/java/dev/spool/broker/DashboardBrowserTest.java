package dev.spool.broker;

import dev.spool.broker.auth.Role;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;
import org.junit.jupiter.api.io.TempDir;
import org.openqa.selenium.By;
import org.openqa.selenium.OutputType;
import org.openqa.selenium.TakesScreenshot;
import org.openqa.selenium.WebDriver;
import org.openqa.selenium.WebElement;
import org.openqa.selenium.chrome.ChromeDriver;
import org.openqa.selenium.chrome.ChromeDriverService;
import org.openqa.selenium.chrome.ChromeOptions;
import org.openqa.selenium.support.ui.ExpectedConditions;
import org.openqa.selenium.support.ui.WebDriverWait;

import java.io.File;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardCopyOption;
import java.time.Duration;
import java.util.List;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;
import static org.junit.jupiter.api.Assertions.fail;
import static org.junit.jupiter.api.Assumptions.assumeTrue;

/**
 * Issue 11, dashboard: Debian's Chromium, headless, driven by Selenium through the system chromedriver (nothing is
 * downloaded at test time). Without a browser these tests are skipped with one line saying how to enable them;
 * under CI (or with SPOOL_REQUIRE_BROWSER=1) a missing browser is a failure. Screenshots go to target/.
 */
@Timeout(120)
class DashboardBrowserTest {
    private static final Path CHROMIUM = Path.of("/usr/bin/chromium");
    private static final Path CHROMEDRIVER = Path.of("/usr/bin/chromedriver");

    @TempDir
    Path dir;
    private WebDriver browser;

    @BeforeEach
    void startBrowser() {
        boolean present = Files.isExecutable(CHROMIUM) && Files.isExecutable(CHROMEDRIVER);
        if (!present) {
            String how = "browser tests need Debian's chromium and chromium-driver: apt-get install chromium chromium-driver";
            if ("true".equals(System.getenv("CI")) || "1".equals(System.getenv("SPOOL_REQUIRE_BROWSER"))) {
                fail(how);
            }
            System.out.println("SKIPPED DashboardBrowserTest: " + how);
            assumeTrue(false, how);
        }
        ChromeOptions options = new ChromeOptions();
        options.setBinary(CHROMIUM.toFile());
        options.addArguments("--headless=new", "--no-sandbox", "--disable-dev-shm-usage", "--disable-gpu",
                "--window-size=1500,900", "--no-first-run", "--disable-extensions");
        ChromeDriverService service = new ChromeDriverService.Builder()
                .usingDriverExecutable(CHROMEDRIVER.toFile()).usingAnyFreePort().build();
        browser = new ChromeDriver(service, options);
    }

    @AfterEach
    void stopBrowser() {
        if (browser != null) {
            browser.quit();
        }
    }

    private WebDriverWait waiting() {
        return new WebDriverWait(browser, Duration.ofSeconds(15));
    }

    private void signIn(TestBroker b, String user) {
        browser.get(b.url("/"));
        waiting().until(ExpectedConditions.visibilityOfElementLocated(By.id("login-form")));
        browser.findElement(By.id("username")).sendKeys(user);
        browser.findElement(By.id("password")).sendKeys(TestBroker.PASSWORD);
        browser.findElement(By.id("login")).click();
        waiting().until(ExpectedConditions.visibilityOfElementLocated(By.cssSelector("tr[data-queue='jobs']")));
    }

    private String depthShown() {
        return browser.findElement(By.cssSelector("tr[data-queue='jobs'] td.depth")).getText();
    }

    private void screenshot(String name) throws Exception {
        File shot = ((TakesScreenshot) browser).getScreenshotAs(OutputType.FILE);
        Path target = Path.of("target", name);
        Files.createDirectories(target.getParent());
        Files.copy(shot.toPath(), target, StandardCopyOption.REPLACE_EXISTING);
    }

    @Test
    void anAdministratorShouldSeeQueuesChangeLiveAndManageThem() throws Exception {
        try (TestBroker b = new TestBroker(dir)) {
            assertEquals(201, b.admin("POST", "/queues/jobs", "{\"max_length\":1000}").statusCode());
            signIn(b, "administrator");
            waiting().until(d -> depthShown().equals("0"));
            for (int i = 0; i < 3; i++) {
                assertEquals(201, b.as(Role.AGENT, "POST", "/queues/jobs/messages", "{\"body\":{\"n\":" + i + "}}")
                        .statusCode());
            }
            waiting().until(d -> depthShown().equals("3"));
            assertFalse(browser.findElements(By.cssSelector("tr[data-queue='jobs'] button.delete")).isEmpty());
            assertTrue(browser.findElement(By.id("create-form")).isDisplayed());
            assertTrue(browser.getCurrentUrl().equals(b.url("/")), "no token in the URL: " + browser.getCurrentUrl());

            // Create through the form, confirming the dialog.
            browser.findElement(By.id("new-name")).sendKeys("results");
            browser.findElement(By.id("create")).click();
            waiting().until(ExpectedConditions.alertIsPresent()).accept();
            waiting().until(ExpectedConditions.visibilityOfElementLocated(By.cssSelector("tr[data-queue='results']")));
            assertTrue(b.admin("GET", "/queues", null).body().contains("\"results\""));
            waiting().until(d -> !d.findElement(By.id("push-rate")).getText().equals("-")); // rates need two readings
            screenshot("dashboard-administrator.png");

            // Delete, with its confirmation.
            browser.findElement(By.cssSelector("tr[data-queue='results'] button.delete")).click();
            waiting().until(ExpectedConditions.alertIsPresent()).accept();
            waiting().until(ExpectedConditions.invisibilityOfElementLocated(By.cssSelector("tr[data-queue='results']")));
            assertFalse(b.admin("GET", "/queues", null).body().contains("\"results\""));
        }
    }

    @Test
    void subscriptionsShouldShowTheirBacklogAndBeManagedBehindConfirmations() throws Exception {
        try (TestBroker b = new TestBroker(dir)) {
            assertEquals(201, b.admin("POST", "/queues/jobs", null).statusCode());
            assertEquals(201, b.admin("POST", "/queues/jobs/subscriptions/v2", null).statusCode());
            for (int i = 0; i < 4; i++) {
                assertEquals(201, b.as(Role.AGENT, "POST", "/queues/jobs/messages", "{\"body\":{\"n\":" + i + "}}")
                        .statusCode());
            }
            signIn(b, "administrator");
            By row = By.cssSelector("tr[data-subscription='jobs/v2']");
            waiting().until(ExpectedConditions.visibilityOfElementLocated(row));
            waiting().until(d -> d.findElement(By.cssSelector("tr[data-subscription='jobs/v2'] td.backlog")).getText()
                    .equals("4"));
            assertEquals(200, b.as(Role.AGENT, "GET", "/queues/jobs/subscriptions/v2/messages?max=3", null)
                    .statusCode());
            waiting().until(d -> d.findElement(By.cssSelector("tr[data-subscription='jobs/v2'] td.backlog")).getText()
                    .equals("1"));
            screenshot("dashboard-subscriptions.png");

            // Replay from the start, confirming: the backlog is the queue's four messages again.
            browser.findElement(By.cssSelector("tr[data-subscription='jobs/v2'] button.replay")).click();
            waiting().until(ExpectedConditions.alertIsPresent()).accept();
            waiting().until(d -> d.findElement(By.cssSelector("tr[data-subscription='jobs/v2'] td.backlog")).getText()
                    .equals("4"));
            browser.findElement(By.cssSelector("tr[data-subscription='jobs/v2'] button.pause")).click();
            waiting().until(d -> d.findElement(By.cssSelector("tr[data-subscription='jobs/v2'] td.paused")).getText()
                    .equals("yes"));
            assertTrue(TestBroker.json(b.admin("GET", "/queues/jobs/subscriptions/v2", null)).get("paused").asBoolean());

            // Delete, with its confirmation; dismissing it first changes nothing.
            browser.findElement(By.cssSelector("tr[data-subscription='jobs/v2'] button.delete")).click();
            waiting().until(ExpectedConditions.alertIsPresent()).dismiss();
            assertEquals(200, b.admin("GET", "/queues/jobs/subscriptions/v2", null).statusCode());
            browser.findElement(By.cssSelector("tr[data-subscription='jobs/v2'] button.delete")).click();
            waiting().until(ExpectedConditions.alertIsPresent()).accept();
            waiting().until(ExpectedConditions.invisibilityOfElementLocated(row));
            assertEquals(404, b.admin("GET", "/queues/jobs/subscriptions/v2", null).statusCode());
        }
    }

    @Test
    void anAgentShouldSeeTheQueuesButNoAdministratorButtons() throws Exception {
        try (TestBroker b = new TestBroker(dir)) {
            assertEquals(201, b.admin("POST", "/queues/jobs", null).statusCode());
            signIn(b, "agent");
            List<WebElement> buttons = browser.findElements(By.cssSelector("button.delete, button.redrive"));
            assertTrue(buttons.isEmpty(), "no delete or redrive buttons for an agent");
            assertFalse(browser.findElement(By.id("admin-tools")).isDisplayed(), "no create form for an agent");
            assertEquals("agent (AGENT)", browser.findElement(By.id("who")).getText());
            screenshot("dashboard-agent.png");
            browser.findElement(By.id("sign-out")).click();
            waiting().until(ExpectedConditions.visibilityOfElementLocated(By.id("login-form")));
            assertEquals(null, ((org.openqa.selenium.JavascriptExecutor) browser)
                    .executeScript("return sessionStorage.getItem('spool.token')"), "signing out forgets the token");
        }
    }
}
