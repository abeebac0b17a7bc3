package warmgate.e2e;

import static org.assertj.core.api.Assertions.assertThat;

import com.fasterxml.jackson.databind.JsonNode;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import warmgate.auth.TestTokens;
import warmgate.demo.SampleImages;

// A real node (H2, local bucket, demo model process, tokens on) and the dashboard in real headless Chromium.
class DashboardIT {
  private static final Duration PAGE_TIMEOUT = Duration.ofSeconds(30);

  @TempDir Path dataDir;
  @TempDir Path browserDir;
  private TestNode node;

  @AfterEach
  void stop() {
    if (node != null) {
      node.closeAll();
    }
  }

  /** Jobs posted by hand live under manual/{owner}/, out of the Gen3D route's way (its uploads are under users/). */
  private Map<String, Object> settings() {
    Map<String, Object> settings = TestNode.defaults(dataDir, Ports.free());
    settings.put("warmgate.auth.owner-scope", "manual/{owner}/");
    return settings;
  }

  @Test
  void dashboardShowsEndpointsTheSubmittedJobAndItsTimeline() throws Exception {
    node = TestNode.start(dataDir, settings());
    String jobId = succeededJob();

    try (Browser browser = Browser.start(browserDir)) {
      browser.open("http://127.0.0.1:" + node.port + "/");
      browser.type(browser.find("#token"), TestTokens.ADMIN);
      browser.click(browser.find("#token-form button"));

      String endpointState = Await.until(PAGE_TIMEOUT, "the endpoint row", () -> textOf(browser,
          "tr[data-endpoint='gen3d'] .state"));
      assertThat(endpointState).isIn("WARM", "STOPPING", "COLD");
      // The list reads the job index, which may show the job a moment before its last event, until the page refreshes.
      Await.until(PAGE_TIMEOUT, "the submitted job to show as succeeded in the recent jobs", () -> {
        String status = textOf(browser, "tr[data-job-id='" + jobId + "'] .status");
        assertThat(status).as("the job's status in the list").isEqualTo("SUCCEEDED");
        return status;
      });

      browser.click(browser.find("tr[data-job-id='" + jobId + "'] .job-link"));
      Await.until(PAGE_TIMEOUT, "the job's timeline", () -> textOf(browser, "#timeline li[data-type='JobSucceeded']"));
      List<String> types = new ArrayList<>();
      browser.script("return [...document.querySelectorAll('#timeline li')].map(li => li.dataset.type);")
          .forEach(type -> types.add(type.asText()));
      assertThat(types).as("the journal in order").startsWith("JobSubmitted").contains("JobQueued",
          "AttemptStarted").endsWith("JobSucceeded");
      assertThat(browser.text(browser.find("#timeline-title"))).startsWith(jobId + ": " + types.size() + " event(s)");

      // Filtering by another status leaves the job out.
      browser.script("document.getElementById('status-filter').value = 'FAILED';");
      browser.click(browser.find("#jobs-filter button"));
      Await.until(PAGE_TIMEOUT, "the filtered list", () -> textOf(browser, "tr[data-job-id='" + jobId + "']") == null);

      JsonNode foreign = browser.script("""
          return performance.getEntriesByType('resource').map(r => r.name)\
          .filter(n => !n.startsWith(location.origin));""");
      assertThat(foreign).as("nothing is loaded from anywhere else").isEmpty();
      Files.write(Path.of("target", "dashboard.png"), browser.screenshot());
    }
  }

  @Test
  void aWrongTokenIsReportedOnThePage() throws Exception {
    node = TestNode.start(dataDir, settings());
    try (Browser browser = Browser.start(browserDir)) {
      browser.open("http://127.0.0.1:" + node.port + "/");
      browser.type(browser.find("#token"), "wg_not-a-real-token");
      browser.click(browser.find("#token-form button"));

      String status = Await.until(PAGE_TIMEOUT, "the error", () -> {
        String text = textOf(browser, "#status.error");
        return text != null && text.contains("unauthorized") ? text : null;
      });
      assertThat(status).startsWith("unauthorized");
      assertThat(browser.find("#jobs tbody tr")).as("no jobs shown without a valid token").isNull();
    }
  }

  @Test
  void pageIsServedWithoutATokenAndForbidsForeignScripts() throws Exception {
    node = TestNode.start(dataDir, settings());
    HttpResponse<String> page = HttpClient.newHttpClient().send(
        HttpRequest.newBuilder(URI.create("http://127.0.0.1:" + node.port + "/")).build(),
            HttpResponse.BodyHandlers.ofString());

    assertThat(page.statusCode()).isEqualTo(200);
    assertThat(page.headers().firstValue("Content-Type")).hasValueSatisfying(type ->
        assertThat(type).startsWith("text/html"));
    assertThat(page.headers().firstValue("Content-Security-Policy"))
        .hasValueSatisfying(csp -> assertThat(csp).contains("script-src 'self'", "connect-src 'self'",
            "frame-ancestors 'none'"));
    assertThat(page.body()).contains("<script src=\"/dashboard/app.js\"").doesNotContain("http://", "https://");
  }

  /** Submits a job as alice through the API and waits until it has succeeded. */
  private String succeededJob() throws Exception {
    Path folder = node.bucket("gen3d").resolve("manual/alice");
    TestNode.upload(folder.resolve("cup_image.png"), SampleImages.image(32));
    TestNode.upload(folder.resolve("cup_mask.png"), SampleImages.mask(32));
    Api.Response submitted = node.api.as(TestTokens.ALICE).post("/v1/jobs", """
        {"endpoint":"gen3d","inputs":{"image":"s3://gen3d/manual/alice/cup_image.png",\
        "mask":"s3://gen3d/manual/alice/cup_mask.png"},
         "output":"s3://gen3d/manual/alice/out/cup.ply"}""");
    assertThat(submitted.status()).as(String.valueOf(submitted.body())).isEqualTo(202);
    String jobId = submitted.body().path("jobId").asText();
    Await.until(TestNode.JOB_TIMEOUT, "the job to succeed", () -> "SUCCEEDED".equals(node.api.status(jobId)));
    return jobId;
  }

  /** The text of the first element matching {@code css}, or null while there is none. */
  private static String textOf(Browser browser, String css) {
    try {
      String element = browser.find(css);
      return element == null ? null : browser.text(element);
    } catch (Exception e) {
      throw new IllegalStateException(e);
    }
  }
}
