package warmgate.metrics;

import io.prometheus.metrics.core.metrics.Counter;
import io.prometheus.metrics.core.metrics.CounterWithCallback;
import io.prometheus.metrics.core.metrics.Gauge;
import io.prometheus.metrics.core.metrics.GaugeWithCallback;
import io.prometheus.metrics.core.metrics.Histogram;
import io.prometheus.metrics.expositionformats.PrometheusTextFormatWriter;
import io.prometheus.metrics.model.registry.PrometheusRegistry;
import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.charset.StandardCharsets;
import java.time.Duration;
import java.util.HashSet;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.concurrent.ConcurrentHashMap;
import java.util.function.Supplier;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;
import warmgate.endpoint.EndpointCommand;
import warmgate.endpoint.EndpointLifecycle.Phase;
import warmgate.endpoint.EndpointMetrics;
import warmgate.job.JobStatus;
import warmgate.request.JobMetrics;
import warmgate.request.PayloadBudget;

/**
 * One node's metrics, in Prometheus' text format for {@code GET /metrics}; docs/operations.md lists them.
 *
 * <p>One registry per node, handed to the entities in their dependencies ({@link #jobs()}, {@link #endpoints()})
 * rather than kept in a static: several nodes in one JVM (tests) keep their figures apart. Each figure is about
 * what this node did or hosts; Prometheus adds them up across the cluster. The exception is {@code warmgate_jobs},
 * read from the shared job index, which every node reports alike.
 */
public final class Metrics {
  private static final Logger log = LoggerFactory.getLogger(Metrics.class);

  /** {@code text/plain; version=0.0.4; charset=utf-8}. */
  public static final String CONTENT_TYPE = PrometheusTextFormatWriter.CONTENT_TYPE;

  private final PrometheusRegistry registry = new PrometheusRegistry();
  private final PrometheusTextFormatWriter writer = PrometheusTextFormatWriter.create();

  private final Counter transitions = Counter.builder()
      .name("warmgate_job_transitions_total")
      .help("Jobs that entered a status on this node, by endpoint and status")
      .labelNames("endpoint", "status")
      .register(registry);
  private final Histogram queueWait = Histogram.builder()
      .name("warmgate_job_queue_wait_seconds")
      .help("From a job being queued to its attempt starting, cold starts included")
      .labelNames("endpoint")
      .classicOnly()
      .classicUpperBounds(0.1, 0.5, 1, 5, 10, 30, 60, 120, 300, 600, 1200, 1800, 3600)
      .register(registry);
  private final Histogram ownerQueueWait = Histogram.builder()
      .name("warmgate_owner_queue_wait_seconds")
      .help("From a job being queued to its attempt starting, by endpoint and owner (\"\" for jobs without one)")
      .labelNames("endpoint", "owner")
      .classicOnly()
      .classicUpperBounds(0.1, 0.5, 1, 5, 10, 30, 60, 120, 300, 600, 1200, 1800, 3600)
      .register(registry);
  private final Gauge ownerQueued = Gauge.builder()
      .name("warmgate_owner_queued_jobs")
      .help("An owner's jobs waiting in the endpoint's queue, on the node hosting the endpoint")
      .labelNames("endpoint", "owner")
      .register(registry);
  private final Gauge ownerInFlight = Gauge.builder()
      .name("warmgate_owner_in_flight_jobs")
      .help("An owner's jobs holding one of the endpoint's slots, on the node hosting the endpoint")
      .labelNames("endpoint", "owner")
      .register(registry);
  /** The owners each endpoint last reported, so that an owner whose jobs are all gone leaves the gauges. */
  private final Map<String, Set<String>> ownersShown = new ConcurrentHashMap<>();
  private final Histogram endToEnd = Histogram.builder()
      .name("warmgate_job_end_to_end_seconds")
      .help("From a job's creation to its end (SUCCEEDED, FAILED or CANCELLED)")
      .labelNames("endpoint", "status")
      .classicOnly()
      .classicUpperBounds(1, 5, 10, 30, 60, 120, 300, 600, 900, 1800, 3600, 7200, 21600)
      .register(registry);
  private final Gauge queued = Gauge.builder()
      .name("warmgate_endpoint_queued_jobs")
      .help("Jobs waiting in the endpoint's queue for a slot, on the node hosting the endpoint")
      .labelNames("endpoint")
      .register(registry);
  private final Gauge inFlight = Gauge.builder()
      .name("warmgate_endpoint_in_flight_jobs")
      .help("Jobs holding one of the endpoint's slots, on the node hosting the endpoint")
      .labelNames("endpoint")
      .register(registry);
  private final Gauge state = Gauge.builder()
      .name("warmgate_endpoint_state")
      .help("1 for the endpoint's current state, 0 for the others, on the node hosting the endpoint")
      .labelNames("endpoint", "state")
      .register(registry);
  private final Histogram coldStart = Histogram.builder()
      .name("warmgate_endpoint_cold_start_seconds")
      .help("From an endpoint's start request to the provider reporting it in service")
      .labelNames("endpoint")
      .classicOnly()
      .classicUpperBounds(1, 5, 10, 30, 60, 120, 180, 300, 420, 600, 900, 1200, 1800)
      .register(registry);
  private final Histogram journalWrite = Histogram.builder()
      .name("warmgate_journal_write_seconds")
      .help("From an entity asking the journal to store its events to the journal's confirmation")
      .labelNames("entity")
      .classicOnly()
      .classicUpperBounds(0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10)
      .register(registry);

  private final JobMetrics jobs = new JobMetrics() {
    @Override
    public void transition(String endpoint, JobStatus status) {
      transitions.labelValues(endpoint, status.name()).inc();
    }

    @Override
    public void queueWait(String endpoint, String owner, Duration waited) {
      queueWait.labelValues(endpoint).observe(seconds(waited));
      ownerQueueWait.labelValues(endpoint, owner == null ? "" : owner).observe(seconds(waited));
    }

    @Override
    public void finished(String endpoint, JobStatus status, Duration sinceCreated) {
      endToEnd.labelValues(endpoint, status.name()).observe(seconds(sinceCreated));
    }

    @Override
    public void journalWrite(Duration duration) {
      journalWrite.labelValues("Request").observe(seconds(duration));
    }
  };

  private final EndpointMetrics endpoints = new EndpointMetrics() {
    @Override
    public void state(String endpoint, Phase phase, int queuedJobs, int inFlightJobs) {
      queued.labelValues(endpoint).set(queuedJobs);
      inFlight.labelValues(endpoint).set(inFlightJobs);
      for (Phase each : Phase.values()) {
        state.labelValues(endpoint, each.name()).set(each == phase ? 1 : 0);
      }
    }

    @Override
    public void owners(String endpoint, List<EndpointCommand.OwnerLoad> owners) {
      Set<String> now = new HashSet<>();
      for (EndpointCommand.OwnerLoad load : owners) {
        now.add(load.owner());
        ownerQueued.labelValues(endpoint, load.owner()).set(load.queued());
        ownerInFlight.labelValues(endpoint, load.owner()).set(load.inFlight());
      }
      Set<String> before = ownersShown.put(endpoint, now);
      if (before != null) {
        before.stream().filter(owner -> !now.contains(owner)).forEach(owner -> {
          ownerQueued.remove(endpoint, owner);
          ownerInFlight.remove(endpoint, owner);
        });
      }
    }

    @Override
    public void stopped(String endpoint) {
      owners(endpoint, List.of());
      ownersShown.remove(endpoint);
      queued.remove(endpoint);
      inFlight.remove(endpoint);
      for (Phase each : Phase.values()) {
        state.remove(endpoint, each.name());
      }
    }

    @Override
    public void coldStart(String endpoint, Duration duration) {
      coldStart.labelValues(endpoint).observe(seconds(duration));
    }

    @Override
    public void journalWrite(Duration duration) {
      journalWrite.labelValues("Endpoint").observe(seconds(duration));
    }
  };

  private final Counter sqsReceived = Counter.builder()
      .name("warmgate_sqs_received_total")
      .help("SQS messages this node received, by queue")
      .labelNames("queue")
      .register(registry);
  private final Counter sqsMessages = Counter.builder()
      .name("warmgate_sqs_messages_total")
      .help("What became of the SQS messages this node received, by queue and outcome (docs/api.md#sqs-queues): "
          + "deleted (accepted, test_event, result, state_change, ignored) or left (busy, unavailable, invalid, "
          + "unroutable)")
      .labelNames("queue", "outcome")
      .register(registry);
  private final Counter sqsJobs = Counter.builder()
      .name("warmgate_sqs_jobs_total")
      .help("Jobs the uploads of SQS messages reached on this node, by queue and whether the job already existed")
      .labelNames("queue", "duplicate")
      .register(registry);
  private final Counter sqsDeleteFailures = Counter.builder()
      .name("warmgate_sqs_delete_failures_total")
      .help("SQS messages whose deletion failed after their jobs were accepted (they come back as duplicates)")
      .labelNames("queue")
      .register(registry);
  private final Histogram sqsReceiveCount = Histogram.builder()
      .name("warmgate_sqs_receive_count")
      .help("ApproximateReceiveCount of the SQS messages received: above 1 a message was delivered before; near the "
          + "queue's maxReceiveCount it is about to be redriven to the dead-letter queue")
      .labelNames("queue")
      .classicOnly()
      .classicUpperBounds(1, 2, 3, 5, 10, 20, 50, 100)
      .register(registry);
  private final Histogram sqsLag = Histogram.builder()
      .name("warmgate_sqs_lag_seconds")
      .help("From an SQS message being sent (its SentTimestamp) to this node receiving it")
      .labelNames("queue")
      .classicOnly()
      .classicUpperBounds(0.05, 0.1, 0.5, 1, 5, 10, 30, 60, 300, 900, 3600)
      .register(registry);

  /** What an SQS consumer of this node reports (warmgate.ingest.sqs). */
  public final class Sqs {
    private Sqs() {}

    /** A message received: its receive count and how long after its sending it arrived. */
    public void received(String queue, int receiveCount, Duration lag) {
      sqsReceived.labelValues(queue).inc();
      sqsReceiveCount.labelValues(queue).observe(receiveCount);
      if (!lag.isNegative()) {
        sqsLag.labelValues(queue).observe(seconds(lag));
      }
    }

    /** What became of a message: an outcome of {@code warmgate_sqs_messages_total}. */
    public void outcome(String queue, String outcome) {
      sqsMessages.labelValues(queue, outcome).inc();
    }

    /** A job an upload of a message reached. */
    public void job(String queue, boolean duplicate) {
      sqsJobs.labelValues(queue, Boolean.toString(duplicate)).inc();
    }

    public void deleteFailed(String queue) {
      sqsDeleteFailures.labelValues(queue).inc();
    }
  }

  private final Sqs sqs = new Sqs();

  /** What the SQS consumers of this node report. */
  public Sqs sqs() {
    return sqs;
  }

  /** What the Request entities of this node report. */
  public JobMetrics jobs() {
    return jobs;
  }

  /** What the EndpointLifecycle entities of this node report. */
  public EndpointMetrics endpoints() {
    return endpoints;
  }

  /**
   * Adds {@code warmgate_jobs{status}}: the jobs in each status, as {@code counts} answers at every scrape (the
   * job index, so the whole cluster's). Statuses it leaves out count 0. If it fails, the scrape goes on without
   * this metric rather than failing whole.
   */
  public void registerJobCounts(Supplier<Map<JobStatus, Long>> counts) {
    GaugeWithCallback.builder()
        .name("warmgate_jobs")
        .help("Jobs in each status, from the job index (the whole cluster's; every node reports the same)")
        .labelNames("status")
        .callback(callback -> {
          Map<JobStatus, Long> now;
          try {
            now = counts.get();
          } catch (RuntimeException e) {
            log.warn("Counting jobs by status for warmgate_jobs failed; left out of this scrape: {}", e.toString());
            return;
          }
          for (JobStatus status : JobStatus.values()) {
            callback.call(now.getOrDefault(status, 0L), status.name());
          }
        })
        .register(registry);
  }

  /**
   * Adds the node's payload budget: {@code warmgate_payload_budget_bytes} (its size),
   * {@code warmgate_payload_budget_in_use_bytes}, {@code warmgate_payload_budget_waiting_attempts} (attempts waiting
   * for their share now), {@code warmgate_payload_budget_waits_total} (attempts that had to wait) and
   * {@code warmgate_payload_budget_wait_seconds_total} (how long they waited together).
   */
  public void registerPayloadBudget(PayloadBudget budget) {
    GaugeWithCallback.builder()
        .name("warmgate_payload_budget_bytes")
        .help("Payload bytes this node's attempts may have in flight at once (warmgate.request.payload-budget)")
        .callback(callback -> callback.call(budget.capacity()))
        .register(registry);
    GaugeWithCallback.builder()
        .name("warmgate_payload_budget_in_use_bytes")
        .help("Payload bytes the attempts running on this node hold of the budget")
        .callback(callback -> callback.call(budget.inUse()))
        .register(registry);
    GaugeWithCallback.builder()
        .name("warmgate_payload_budget_waiting_attempts")
        .help("Attempts on this node waiting for their share of the payload budget before reading their inputs")
        .callback(callback -> callback.call(budget.waiting()))
        .register(registry);
    CounterWithCallback.builder()
        .name("warmgate_payload_budget_waits")
        .help("Attempts on this node that had to wait for their share of the payload budget")
        .callback(callback -> callback.call(budget.waits()))
        .register(registry);
    CounterWithCallback.builder()
        .name("warmgate_payload_budget_wait_seconds")
        .help("How long attempts on this node waited for their share of the payload budget, together")
        .callback(callback -> callback.call(budget.waitedSeconds()))
        .register(registry);
  }

  /** Every metric, in Prometheus' text format ({@link #CONTENT_TYPE}). May block on the job counts: call off actor
   * threads. */
  public byte[] scrape() {
    var out = new ByteArrayOutputStream();
    try {
      writer.write(out, registry.scrape());
    } catch (IOException e) {
      throw new UncheckedIOException("writing to memory", e);
    }
    return out.toByteArray();
  }

  /** {@link #scrape()} as text. */
  public String scrapeText() {
    return new String(scrape(), StandardCharsets.UTF_8);
  }

  private static double seconds(Duration duration) {
    return duration.toNanos() / 1e9;
  }
}
