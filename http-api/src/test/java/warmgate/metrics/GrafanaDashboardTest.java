package warmgate.metrics;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.HashSet;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.TreeSet;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.TestInstance;
import org.junit.jupiter.api.io.TempDir;
import warmgate.Json;
import warmgate.auth.TestTokens;
import warmgate.job.ObjectRef;
import warmgate.node.InProcessNode;
import warmgate.provider.ProviderState.Status;

// A real node (InProcessNode: Main.init, H2 journal in a temporary folder, real HTTP on loopback) runs a job through a
// cold start; its GET /metrics, scraped while the job waits and after it succeeded, is what docs/grafana's dashboard
// is checked against. No Grafana, no Prometheus: the dashboard is read as JSON and its PromQL by PromQl.
@TestInstance(TestInstance.Lifecycle.PER_CLASS)
class GrafanaDashboardTest {
  private static final Duration WAIT = Duration.ofSeconds(30);
  private static final Pattern LABEL_VALUES = Pattern.compile(
      "label_values\\(\\s*([a-zA-Z_:][a-zA-Z0-9_:]*)\\s*,\\s*([a-zA-Z_][a-zA-Z0-9_]*)\\s*\\)");
  /** Functions over a range of a counter (or a histogram's series); a gauge has no place in them. */
  private static final Set<String> RATES = Set.of("rate", "irate", "increase");

  private final JsonNode dashboard = read(dashboardFile());
  private InProcessNode node;
  /** Both scrapes together: every series the node served in either. */
  private Scrape served;

  private static Path dashboardFile() {
    for (Path dir = Path.of("").toAbsolutePath(); dir != null; dir = dir.getParent()) {
      Path file = dir.resolve("docs/grafana/warmgate-dashboard.json");
      if (Files.exists(file)) {
        return file;
      }
    }
    throw new IllegalStateException("no docs/grafana/warmgate-dashboard.json above " + Path.of("").toAbsolutePath());
  }

  private static JsonNode read(Path file) {
    try {
      return new ObjectMapper().readTree(file.toFile());
    } catch (IOException e) {
      throw new IllegalStateException(file + " is not JSON", e);
    }
  }

  /**
   * One job through the node: the first scrape while it waits for the endpoint's cold start (the owners' gauges exist
   * only while they have jobs), the second once it succeeded and the job index counted it.
   */
  @BeforeAll
  void scrapeARealNode(@TempDir Path dataDir) throws Exception {
    node = InProcessNode.start(dataDir, Map.of(), null, false);
    node.blobs.put(ObjectRef.parse("s3://gen3d/users/a/input/dash_image.png"), new byte[] {1});
    node.blobs.put(ObjectRef.parse("s3://gen3d/users/a/input/dash_mask.png"), new byte[] {2});
    var submitted = node.send("POST", "/v1/jobs", """
        {"endpoint":"gen3d","inputs":{"image":"s3://gen3d/users/a/input/dash_image.png",\
        "mask":"s3://gen3d/users/a/input/dash_mask.png"},"output":"s3://gen3d/users/a/output/dash.ply"}""",
        TestTokens.ADMIN);
    assertThat(submitted.statusCode()).as(submitted.body()).isEqualTo(202);
    String jobId = Json.mapper().readTree(submitted.body()).path("jobId").asText();

    List<String> texts = new ArrayList<>();
    InProcessNode.await(WAIT, () -> {
      String text = scrapeText();
      assertThat(Scrape.parse(text).names()).contains("warmgate_owner_queued_jobs", "warmgate_owner_in_flight_jobs");
      texts.add(text);
    });
    node.provider.set(Status.IN_SERVICE);
    InProcessNode.await(WAIT, () -> assertThat(Json.mapper().readTree(node.send("GET", "/v1/jobs/" + jobId, null,
        TestTokens.ADMIN).body()).path("status").asText()).isEqualTo("SUCCEEDED"));
    InProcessNode.await(WAIT, () -> {
      String text = scrapeText();
      assertThat(Scrape.parse(text).value("warmgate_jobs", "status", "SUCCEEDED")).isEqualTo(1);
      texts.add(text);
    });
    served = Scrape.parse(String.join("\n", texts));
  }

  private String scrapeText() throws Exception {
    var response = node.send("GET", "/metrics", null, null);
    assertThat(response.statusCode()).isEqualTo(200);
    return response.body();
  }

  @AfterAll
  void stop() {
    if (node != null) {
      node.close();
    }
  }

  /** Every panel, rows' nested panels included. */
  private List<JsonNode> panels() {
    List<JsonNode> panels = new ArrayList<>();
    for (JsonNode panel : dashboard.path("panels")) {
      panels.add(panel);
      panel.path("panels").forEach(panels::add);
    }
    return panels;
  }

  /** What is wrong with one expression against what the node served; empty when nothing is. */
  private List<String> problems(String expr) {
    List<String> problems = new ArrayList<>();
    PromQl.Expression parsed = PromQl.parse(expr);
    if (parsed.selectors().isEmpty()) {
      problems.add("names no metric");
    }
    Set<String> carried = new HashSet<>();
    boolean quantile = false;
    for (PromQl.Selector selector : parsed.selectors()) {
      String name = selector.metric();
      Set<String> labels = served.labelNames(name);
      if (labels == null) {
        problems.add(name + (("histogram".equals(served.type(name)) ? " is a histogram: its series are " + name
            + "_bucket, _sum and _count" : " is not served at /metrics")));
        continue;
      }
      carried.addAll(labels);
      String type = type(name);
      boolean rated = selector.within().stream().anyMatch(RATES::contains);
      if (type.equals("gauge") && rated) {
        problems.add(name + " is a gauge, inside " + selector.within());
      }
      if (!type.equals("gauge") && !rated) {
        problems.add(name + " is a " + type + " series, read without rate or increase");
      }
      boolean inQuantile = selector.within().contains("histogram_quantile");
      quantile |= inQuantile;
      if (inQuantile != name.endsWith("_bucket")) {
        problems.add(name + ": histogram_quantile takes a histogram's _bucket series, and they are for it");
      }
      for (String label : selector.labels()) {
        if (!labels.contains(label)) {
          problems.add(name + " has no label " + label + " (it has " + labels + ")");
        }
      }
    }
    for (String label : parsed.grouping()) {
      if (!carried.contains(label)) {
        problems.add("grouped by " + label + ", which none of its metrics carries");
      }
    }
    if (quantile && !parsed.grouping().contains("le")) {
      problems.add("histogram_quantile over an aggregation that drops le");
    }
    return problems;
  }

  /** A served name's kind: its family's TYPE, or "histogram" for a histogram's _bucket, _sum and _count. */
  private String type(String name) {
    if (served.type(name) != null) {
      return served.type(name);
    }
    Matcher part = Pattern.compile("(.+)_(bucket|sum|count)").matcher(name);
    if (part.matches() && "histogram".equals(served.type(part.group(1)))) {
      return "histogram";
    }
    throw new AssertionError(name + " is served without a # TYPE line of its own or of its histogram");
  }

  @Test
  void everyMetricThePanelsAskForIsServedByARealNode() {
    Set<String> named = new TreeSet<>();
    int queries = 0;
    for (JsonNode panel : panels()) {
      for (JsonNode target : panel.path("targets")) {
        String expr = target.path("expr").asText();
        assertThat(expr).as(panel.path("title") + " has a query").isNotBlank();
        assertThat(problems(expr)).as(panel.path("title") + ": " + expr).isEmpty();
        PromQl.parse(expr).selectors().forEach(s -> named.add(s.metric()));
        queries++;
      }
    }

    assertThat(queries).isGreaterThanOrEqualTo(15);
    assertThat(named).as("queue depth, endpoint state, cold starts, queue wait, journal, owners, outcomes")
        .contains("warmgate_endpoint_queued_jobs", "warmgate_endpoint_in_flight_jobs", "warmgate_endpoint_state",
            "warmgate_endpoint_cold_start_seconds_bucket", "warmgate_job_queue_wait_seconds_bucket",
            "warmgate_journal_write_seconds_bucket", "warmgate_owner_queued_jobs", "warmgate_owner_in_flight_jobs",
            "warmgate_owner_queue_wait_seconds_bucket", "warmgate_job_transitions_total", "warmgate_jobs",
            "warmgate_job_end_to_end_seconds_bucket");
  }

  @Test
  void variablesAskForLabelsTheNodeServes() {
    List<String> queries = new ArrayList<>();
    for (JsonNode variable : dashboard.path("templating").path("list")) {
      if (variable.path("type").asText().equals("query")) {
        queries.add(variable.path("query").path("query").asText());
        assertThat(variable.path("definition").asText()).isEqualTo(variable.path("query").path("query").asText());
      }
    }

    assertThat(queries).isNotEmpty();
    for (String query : queries) {
      Matcher m = LABEL_VALUES.matcher(query);
      assertThat(m.matches()).as("a label_values(metric, label) query: " + query).isTrue();
      assertThat(served.labelNames(m.group(1))).as(query).isNotNull().contains(m.group(2));
    }
  }

  @Test
  void checkFindsWhatIsWrongWithAQuery() {
    assertThat(problems("sum(rate(warmgate_jobs_made_up_total[5m]))"))
        .containsExactly("warmgate_jobs_made_up_total is not served at /metrics");
    assertThat(problems("histogram_quantile(0.9, sum by (le) (rate(warmgate_job_queue_wait_seconds[5m])))"))
        .contains("warmgate_job_queue_wait_seconds is a histogram: its series are "
            + "warmgate_job_queue_wait_seconds_bucket, _sum and _count");
    assertThat(problems("rate(warmgate_job_transitions[5m])")).isNotEmpty(); // a counter's series end in _total
    assertThat(problems("sum(rate(warmgate_endpoint_queued_jobs[5m]))")).singleElement().asString()
        .contains("is a gauge");
    assertThat(problems("sum(warmgate_job_transitions_total)")).singleElement().asString()
        .contains("without rate");
    assertThat(problems("sum by (owner) (warmgate_endpoint_queued_jobs{queue=\"a\"})"))
        .containsExactly("warmgate_endpoint_queued_jobs has no label queue (it has [endpoint])",
            "grouped by owner, which none of its metrics carries");
    assertThat(problems("histogram_quantile(0.9, sum by (endpoint) "
        + "(rate(warmgate_job_queue_wait_seconds_bucket[5m])))"))
        .containsExactly("histogram_quantile over an aggregation that drops le");
    assertThatThrownBy(() -> problems("sum(rat(warmgate_jobs[5m]))")).hasMessageContaining("unknown function rat");
    assertThatThrownBy(() -> problems("sum(warmgate_jobs")).hasMessageContaining("unclosed");
    assertThat(problems("max by (status) (warmgate_jobs{status=~\"QUEUED|RUNNING\"})")).isEmpty();
  }

  @Test
  void panelsFitTheGridHaveUniqueIdsAndAskTheChosenPrometheus() {
    Set<Integer> ids = new HashSet<>();
    int queried = 0;
    for (JsonNode panel : panels()) {
      assertThat(ids.add(panel.path("id").asInt())).as("panel id " + panel.path("id")).isTrue();
      JsonNode grid = panel.path("gridPos");
      assertThat(grid.path("x").asInt() + grid.path("w").asInt()).as(panel.path("title") + " fits 24 columns")
          .isBetween(1, 24);
      if (!panel.path("type").asText().equals("row")) {
        assertThat(panel.path("datasource").path("uid").asText()).as(panel.path("title").asText())
            .isEqualTo("${datasource}");
        assertThat(panel.path("targets")).as(panel.path("title").asText()).isNotEmpty();
        queried++;
      }
    }

    assertThat(queried).isGreaterThanOrEqualTo(12);
    assertThat(dashboard.path("uid").asText()).isEqualTo("warmgate");
    assertThat(dashboard.path("templating").path("list").findValuesAsText("name")).contains("datasource",
        "endpoint");
  }
}
