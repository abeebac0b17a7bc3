package warmgate.e2e;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.within;

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

  /**
   * Three jobs of two owners arrive at a cold endpoint with one slot, so they queue while it starts and then one
   * after the other; once idle it stops. The page must draw the endpoint's cold, starting, warm, stopping, cold
   * bands, a queue-depth line per owner with each owner's peak, and the job's waiting, queued and running bars at
   * the widths its events give.
   */
  @Test
  void timelinesDrawStateBandsQueueDepthPerOwnerAndJobBars() throws Exception {
    Map<String, Object> settings = settings();
    settings.put("warmgate.http.queue-history.interval", "200ms");
    settings.put("warmgate.endpoints.gen3d.idle-timeout", "3s");
    settings.put("warmgate.endpoints.gen3d.max-concurrency", 1);
    node = TestNode.start(dataDir, settings);
    Api admin = node.api.as(TestTokens.ADMIN);
    List<String> jobs = List.of(submit(TestTokens.ALICE, "alice", "a1"), submit(TestTokens.ALICE, "alice", "a2"),
        submit(TestTokens.BOB, "bob", "b1"));
    for (String job : jobs) {
      Await.until(TestNode.JOB_TIMEOUT, "job " + job + " to succeed", () -> "SUCCEEDED".equals(node.api.status(job)));
    }
    Await.until(PAGE_TIMEOUT, "the idle endpoint to stop", () ->
        "COLD".equals(admin.get("/v1/endpoints/gen3d").body().path("state").asText()));
    JsonNode history = admin.get("/v1/endpoints/gen3d/history").body();
    List<String> apiStates = new ArrayList<>();
    history.path("states").forEach(band -> apiStates.add(band.path("state").asText()));
    assertThat(apiStates).as("the API's bands").containsExactly("COLD", "STARTING", "WARM", "STOPPING", "COLD");
    Map<String, Integer> apiPeaks = new java.util.TreeMap<>();
    history.path("queue").path("samples").forEach(sample -> sample.path("owners").forEach(o ->
        apiPeaks.merge(o.path("owner").asText(), o.path("queued").asInt(), Math::max)));
    assertThat(apiPeaks).as("the sampled peaks: every job queued while the endpoint started")
        .isEqualTo(Map.of("alice", 2, "bob", 1));

    try (Browser browser = Browser.start(browserDir)) {
      browser.open("http://127.0.0.1:" + node.port + "/");
      browser.type(browser.find("#token"), TestTokens.ADMIN);
      browser.click(browser.find("#token-form button"));
      Await.until(PAGE_TIMEOUT, "the endpoint's chart", () -> textOf(browser, "figure[data-endpoint='gen3d']"));
      // The last five minutes: all this test did, drawn wide enough to see.
      browser.script("""
          const span = document.getElementById('history-span');
          span.value = '300';
          span.dispatchEvent(new Event('change'));""");
      Await.until(PAGE_TIMEOUT, "the five minutes' chart", () ->
          textOf(browser, "figure[data-endpoint='gen3d'][data-span='300'] figcaption"));

      JsonNode bands = browser.script("""
          return [...document.querySelectorAll("figure[data-endpoint='gen3d'] svg.states rect.band")].map(r => ({
            state: r.dataset.state, billed: Number(r.dataset.billed), from: r.dataset.from, to: r.dataset.to,
            x: r.x.baseVal.value, width: r.width.baseVal.value}));""");
      List<String> drawn = new ArrayList<>();
      bands.forEach(band -> drawn.add(band.path("state").asText()));
      assertThat(drawn).as("one band per state segment, cold → warm → cold")
          .containsExactly("COLD", "STARTING", "WARM", "STOPPING", "COLD");
      double billed = 0;
      for (JsonNode band : bands) {
        String state = band.path("state").asText();
        if (state.equals("COLD")) {
          assertThat(band.path("billed").asDouble()).as("nothing is billed while cold").isZero();
        } else {
          assertThat(band.path("billed").asDouble()).as(state + " is billed").isPositive();
        }
        billed += band.path("billed").asDouble();
      }
      long viewBilled = admin.get("/v1/endpoints/gen3d").body().path("billedSeconds").asLong();
      assertThat(billed).as("the bands add up to the endpoint's bill").isBetween((double) viewBilled,
          viewBilled + 1.0);
      // Widths in proportion to the bands' durations, over the chart's 880 units.
      double span = millis(bands.get(bands.size() - 1).path("to")) - millis(bands.get(0).path("from"));
      double previousEnd = bands.get(0).path("x").asDouble();
      for (JsonNode band : bands) {
        double expected = 880 * (millis(band.path("to")) - millis(band.path("from"))) / span;
        assertThat(band.path("width").asDouble()).as("width of " + band).isCloseTo(expected, within(0.5));
        assertThat(band.path("x").asDouble()).as("bands follow each other").isCloseTo(previousEnd, within(0.01));
        previousEnd = band.path("x").asDouble() + band.path("width").asDouble();
      }

      JsonNode series = browser.script("""
          return [...document.querySelectorAll("figure[data-endpoint='gen3d'] svg.queue polyline.series")]
            .map(p => ({owner: p.dataset.owner, peak: Number(p.dataset.peak), points: p.points.numberOfItems}));""");
      Map<String, Integer> drawnPeaks = new java.util.TreeMap<>();
      series.forEach(line -> {
        assertThat(line.path("points").asInt()).as("a line through the samples").isGreaterThan(1);
        drawnPeaks.put(line.path("owner").asText(), line.path("peak").asInt());
      });
      assertThat(drawnPeaks).as("a series per owner, with its peak").isEqualTo(apiPeaks);

      // The job's bars: waiting until queued, queued until its slot, running until it succeeded.
      String job = jobs.get(1);
      Await.until(PAGE_TIMEOUT, "the job in the list", () -> textOf(browser, "tr[data-job-id='" + job + "']"));
      browser.click(browser.find("tr[data-job-id='" + job + "'] .job-link"));
      Await.until(PAGE_TIMEOUT, "the job's bars", () -> textOf(browser, "#job-bars svg"));
      JsonNode bars = browser.script("""
          return [...document.querySelectorAll("#job-bars rect.bar")].map(r => ({kind: r.dataset.kind,
            x: r.x.baseVal.value, width: r.width.baseVal.value}));""");
      List<String> kinds = new ArrayList<>();
      bars.forEach(bar -> kinds.add(bar.path("kind").asText()));
      assertThat(kinds).containsExactly("waiting", "queued", "running");
      Map<String, Long> at = new java.util.HashMap<>();
      admin.get("/v1/jobs/" + job + "/events").body().path("events").forEach(e ->
          at.putIfAbsent(e.path("type").asText(), millis(e.path("data").path("at"))));
      long start = at.get("JobSubmitted");
      long total = at.get("JobSucceeded") - start;
      long[] bounds = {start, at.get("JobQueued"), at.get("AttemptStarted"), at.get("JobSucceeded")};
      assertThat(bounds).as("the second job queued behind the first, so it waited for its slot").isSorted();
      for (int i = 0; i < 3; i++) {
        JsonNode bar = bars.get(i);
        assertThat(bar.path("x").asDouble()).as("x of " + bar)
            .isCloseTo(44 + 880.0 * (bounds[i] - start) / total, within(0.5));
        assertThat(bar.path("width").asDouble()).as("width of " + bar)
            .isCloseTo(880.0 * (bounds[i + 1] - bounds[i]) / total, within(0.5));
      }
      assertThat(bars.get(1).path("width").asDouble()).as("it queued longer than it ran: the endpoint started, "
          + "and the first job ran, meanwhile").isGreaterThan(bars.get(2).path("width").asDouble());

      JsonNode foreign = browser.script("""
          return performance.getEntriesByType('resource').map(r => r.name)\
          .filter(n => !n.startsWith(location.origin));""");
      assertThat(foreign).as("nothing is loaded from anywhere else").isEmpty();
      browser.resize(1280, 1500);
      Files.write(Path.of("target", "dashboard-timelines.png"), browser.screenshot());
    }
  }

  private static long millis(JsonNode instant) {
    return java.time.Instant.parse(instant.asText()).toEpochMilli();
  }

  /** Submits a job as {@code owner} with inputs under manual/{owner}/ and returns its id. */
  private String submit(String token, String owner, String name) throws Exception {
    Path folder = node.bucket("gen3d").resolve("manual/" + owner);
    TestNode.upload(folder.resolve(name + "_image.png"), SampleImages.image(32));
    TestNode.upload(folder.resolve(name + "_mask.png"), SampleImages.mask(32));
    Api.Response submitted = node.api.as(token).post("/v1/jobs", """
        {"endpoint":"gen3d","inputs":{"image":"s3://gen3d/manual/%1$s/%2$s_image.png",\
        "mask":"s3://gen3d/manual/%1$s/%2$s_mask.png"},
         "output":"s3://gen3d/manual/%1$s/out/%2$s.ply"}""".formatted(owner, name));
    assertThat(submitted.status()).as(String.valueOf(submitted.body())).isEqualTo(202);
    return submitted.body().path("jobId").asText();
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
