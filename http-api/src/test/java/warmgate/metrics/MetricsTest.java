package warmgate.metrics;

import static org.assertj.core.api.Assertions.assertThat;

import java.time.Duration;
import java.util.Map;
import org.junit.jupiter.api.Test;
import warmgate.endpoint.EndpointCommand;
import warmgate.endpoint.EndpointLifecycle.Phase;
import warmgate.job.JobStatus;

// The registry alone, fed by hand as the entities would feed it; no actors, no HTTP.
class MetricsTest {
  private final Metrics metrics = new Metrics();

  private Scrape scrape() {
    return Scrape.parse(metrics.scrapeText());
  }

  @Test
  void histogramsCountAndSumInSecondsIntoTheirBuckets() {
    metrics.jobs().queueWait("gen3d", "alice", Duration.ofSeconds(3));
    metrics.jobs().queueWait("gen3d", null, Duration.ofMinutes(7));
    metrics.endpoints().coldStart("gen3d", Duration.ofMinutes(6));

    Scrape scrape = scrape();

    assertThat(scrape.value("warmgate_job_queue_wait_seconds_count", "endpoint", "gen3d")).isEqualTo(2);
    assertThat(scrape.value("warmgate_job_queue_wait_seconds_sum", "endpoint", "gen3d")).isEqualTo(423);
    assertThat(scrape.value("warmgate_job_queue_wait_seconds_bucket", "endpoint", "gen3d", "le", "5.0")).isEqualTo(1);
    assertThat(scrape.value("warmgate_job_queue_wait_seconds_bucket", "endpoint", "gen3d", "le", "600.0")).isEqualTo(2);
    assertThat(scrape.value("warmgate_endpoint_cold_start_seconds_bucket", "endpoint", "gen3d", "le",
        "300.0")).isEqualTo(0);
    assertThat(scrape.value("warmgate_endpoint_cold_start_seconds_bucket", "endpoint", "gen3d", "le",
        "420.0")).isEqualTo(1);
  }

  @Test
  void eachOwnerHasItsQueueWaitAndItsJobsQueuedAndInFlightUntilItsJobsAreGone() {
    metrics.jobs().queueWait("gen3d", "alice", Duration.ofSeconds(3));
    metrics.jobs().queueWait("gen3d", null, Duration.ofSeconds(40));
    metrics.endpoints().owners("gen3d", java.util.List.of(new EndpointCommand.OwnerLoad("alice", 9_000, 6),
        new EndpointCommand.OwnerLoad("bob", 1, 2)));
    metrics.endpoints().owners("gen3d", java.util.List.of(new EndpointCommand.OwnerLoad("alice", 8_999, 7)));

    Scrape scrape = scrape();

    assertThat(scrape.value("warmgate_owner_queue_wait_seconds_count", "endpoint", "gen3d", "owner", "alice"))
        .isEqualTo(1);
    assertThat(scrape.value("warmgate_owner_queue_wait_seconds_sum", "endpoint", "gen3d", "owner", "")).isEqualTo(40);
    assertThat(scrape.value("warmgate_owner_queued_jobs", "endpoint", "gen3d", "owner", "alice")).isEqualTo(8_999);
    assertThat(scrape.value("warmgate_owner_in_flight_jobs", "endpoint", "gen3d", "owner", "alice")).isEqualTo(7);
    assertThat(scrape.value("warmgate_owner_queued_jobs", "endpoint", "gen3d", "owner", "bob")).isNull();
    metrics.endpoints().stopped("gen3d");
    assertThat(scrape().value("warmgate_owner_queued_jobs", "endpoint", "gen3d", "owner", "alice")).isNull();
  }

  @Test
  void endpointStateIsOneForTheCurrentStateAndZeroForTheOthers() {
    metrics.endpoints().state("gen3d", Phase.STARTING, 4, 0);
    metrics.endpoints().state("gen3d", Phase.WARM, 2, 2);

    Scrape scrape = scrape();

    assertThat(scrape.value("warmgate_endpoint_state", "endpoint", "gen3d", "state", "WARM")).isEqualTo(1);
    for (Phase other : new Phase[] {Phase.COLD, Phase.STARTING, Phase.STOPPING, Phase.FAILED}) {
      assertThat(scrape.value("warmgate_endpoint_state", "endpoint", "gen3d", "state", other.name())).isEqualTo(0);
    }
    assertThat(scrape.value("warmgate_endpoint_queued_jobs", "endpoint", "gen3d")).isEqualTo(2);
    assertThat(scrape.value("warmgate_endpoint_in_flight_jobs", "endpoint", "gen3d")).isEqualTo(2);
  }

  @Test
  void endpointThatLeftThisNodeIsNoLongerReportedHere() {
    metrics.endpoints().state("gen3d", Phase.WARM, 0, 1);
    metrics.endpoints().state("other", Phase.COLD, 0, 0);

    metrics.endpoints().stopped("gen3d");

    Scrape scrape = scrape();
    assertThat(scrape.value("warmgate_endpoint_state", "endpoint", "gen3d", "state", "WARM")).isNull();
    assertThat(scrape.value("warmgate_endpoint_in_flight_jobs", "endpoint", "gen3d")).isNull();
    assertThat(scrape.value("warmgate_endpoint_state", "endpoint", "other", "state", "COLD")).isEqualTo(1);
  }

  @Test
  void jobCountsComeFromTheSupplierAtEveryScrapeWithZeroForStatusesItLeavesOut() {
    var counts = new java.util.concurrent.atomic.AtomicLong(3);
    metrics.registerJobCounts(() -> Map.of(JobStatus.QUEUED, counts.get(), JobStatus.SUCCEEDED, 10L));

    assertThat(scrape().value("warmgate_jobs", "status", "QUEUED")).isEqualTo(3);
    counts.set(7);
    Scrape scrape = scrape();

    assertThat(scrape.value("warmgate_jobs", "status", "QUEUED")).isEqualTo(7);
    assertThat(scrape.value("warmgate_jobs", "status", "SUCCEEDED")).isEqualTo(10);
    for (JobStatus status : JobStatus.values()) {
      assertThat(scrape.value("warmgate_jobs", "status", status.name())).as(status.name()).isNotNull();
    }
    assertThat(scrape.value("warmgate_jobs", "status", "FAILED")).isEqualTo(0);
  }

  @Test
  void failingJobCountsLeaveThatMetricOutAndTheRestOfTheScrapeStands() {
    metrics.jobs().transition("gen3d", JobStatus.QUEUED);
    metrics.registerJobCounts(() -> {
      throw new IllegalStateException("the database is down");
    });

    Scrape scrape = scrape();

    assertThat(scrape.has("warmgate_jobs")).isFalse();
    assertThat(scrape.value("warmgate_job_transitions_total", "endpoint", "gen3d", "status", "QUEUED")).isEqualTo(1);
  }

  @Test
  void journalWritesAreLabelledWithTheEntityThatWrote() {
    metrics.jobs().journalWrite(Duration.ofMillis(3));
    metrics.jobs().journalWrite(Duration.ofMillis(4));
    metrics.endpoints().journalWrite(Duration.ofMillis(5));

    Scrape scrape = scrape();

    assertThat(scrape.value("warmgate_journal_write_seconds_count", "entity", "Request")).isEqualTo(2);
    assertThat(scrape.value("warmgate_journal_write_seconds_count", "entity", "Endpoint")).isEqualTo(1);
  }
}
