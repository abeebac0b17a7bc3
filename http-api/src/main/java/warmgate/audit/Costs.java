package warmgate.audit;

import java.time.Instant;
import java.time.temporal.ChronoUnit;
import java.util.ArrayList;
import java.util.Comparator;
import java.util.HashMap;
import java.util.HashSet;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.TreeMap;
import warmgate.endpoint.EndpointLifecycle;
import warmgate.request.Request;
import warmgate.request.RequestState;

/**
 * What endpoints cost in a window, from the journal alone.
 *
 * <p>Billed time per endpoint is what {@code GET /v1/endpoints} reports as {@code billedSeconds}: the
 * endpoint's events are folded with {@link EndpointLifecycle#next}, the entity's own event handler, and every
 * stretch during which its ledger is open (from a start request to the stop or the failed start that closes
 * it) is billed, cut to the window, times the units (instances, copies) the provider billed during it. A stretch
 * still open is billed up to now. Each stretch is billed to the configuration the endpoint was started from (after
 * a capacity fallback, the one tried next), which the report also adds up per named configuration.
 *
 * <p>Per owner, each endpoint's billed time in the window is shared out in proportion to the running time of
 * the owners' jobs on it in the window: a job runs from its {@code AttemptStarted} until the event that ends
 * the attempt (the job's state, folded with {@link Request#next}, leaves RUNNING), cut to the window.
 * Concurrent jobs each count their whole running time. Idle billed time (starting, waiting for work, stopping)
 * is shared in the same proportion, so the owners' shares add up to the endpoint's bill. An endpoint on which
 * nothing ran in the window leaves its whole bill unattributed.
 */
public final class Costs {
  private Costs() {}

  /** @param owner null for jobs without an owner */
  public record OwnerCost(String owner, double billedSeconds, double runningSeconds, int jobs) {}

  /**
   * @param starts start requests (by jobs, by hand, or adoptions) in the window
   * @param runningSeconds all jobs' running time on it in the window, added up
   * @param configurations of {@code billedSeconds}, those billed to each named configuration (empty when the
   *     provider has only one)
   */
  public record EndpointCost(String endpoint, double billedSeconds, double runningSeconds, int starts,
      Map<String, Double> configurations) {
    public EndpointCost(String endpoint, double billedSeconds, double runningSeconds, int starts) {
      this(endpoint, billedSeconds, runningSeconds, starts, Map.of());
    }
  }

  /**
   * @param endpoints by name
   * @param owners by billed time, highest first
   * @param unattributedSeconds billed time of endpoints on which no job ran in the window
   */
  public record Report(Instant from, Instant to, List<EndpointCost> endpoints, List<OwnerCost> owners,
      double unattributedSeconds) {
    public double billedSeconds() {
      return endpoints.stream().mapToDouble(EndpointCost::billedSeconds).sum();
    }
  }

  /**
   * A stretch of time; {@code end} is exclusive.
   *
   * @param units what the provider billed per second of it (instances, copies)
   * @param configuration what it is billed to; null when the provider has only one, or it is not known
   */
  public record Stretch(Instant start, Instant end, int units, String configuration) {
    public Stretch(Instant start, Instant end) {
      this(start, end, 1, null);
    }

    /**
     * Microseconds of this stretch inside {@code [from, to)}: the events' own precision, so that an attempt shorter
     * than a millisecond (a fast model, a fast journal) still counts for its owner.
     */
    long microsWithin(Instant from, Instant to) {
      Instant a = start.isAfter(from) ? start : from;
      Instant b = end.isBefore(to) ? end : to;
      return a.isBefore(b) ? ChronoUnit.MICROS.between(a, b) : 0;
    }
  }

  private static final double MICROS_PER_SECOND = 1_000_000.0;

  /**
   * @param endpoints each endpoint's events, oldest first, from its first event on (billing depends on the last
   *     start before the window)
   * @param runs the jobs' attempts ({@link Runs}); those outside the window add nothing
   * @param now what "still open" is billed up to
   */
  public static Report compute(TimeRange window, Instant now, Map<String, List<EndpointLifecycle.Event>> endpoints,
      Iterable<Run> runs) {
    Instant from = window.from();
    Instant to = now.isBefore(window.to()) ? now : window.to();

    // endpoint -> owner ("" for none) -> running micros; owner -> the jobs that ran
    Map<String, Map<String, Long>> running = new TreeMap<>();
    Map<String, Set<String>> jobsByOwner = new HashMap<>();
    for (Run run : runs) {
      long micros = run.stretch().microsWithin(from, to);
      if (micros > 0) {
        running.computeIfAbsent(run.endpoint(), e -> new HashMap<>()).merge(key(run.owner()), micros, Long::sum);
        jobsByOwner.computeIfAbsent(key(run.owner()), o -> new HashSet<>()).add(run.jobId());
      }
    }

    Map<String, Long> billed = new TreeMap<>();
    Map<String, Map<String, Double>> byConfiguration = new HashMap<>();
    Map<String, Integer> starts = new HashMap<>();
    endpoints.forEach((name, events) -> {
      List<Stretch> stretches = billed(events, now);
      billed.put(name, stretches.stream().mapToLong(s -> s.units() * s.microsWithin(from, to)).sum());
      Map<String, Double> configurations = new TreeMap<>();
      stretches.stream().filter(s -> s.configuration() != null).forEach(s -> configurations.merge(s.configuration(),
          s.units() * s.microsWithin(from, to) / MICROS_PER_SECOND, Double::sum));
      byConfiguration.put(name, Map.copyOf(configurations));
      starts.put(name, (int) events.stream()
          .filter(e -> e instanceof EndpointLifecycle.StartRequested && !e.at().isBefore(from)
              && e.at().isBefore(window.to()))
          .count());
    });
    running.keySet().forEach(name -> billed.putIfAbsent(name, 0L));

    List<EndpointCost> endpointCosts = new ArrayList<>();
    Map<String, double[]> owners = new HashMap<>(); // owner -> {billed micros, running micros}
    double unattributed = 0;
    for (var entry : billed.entrySet()) {
      String name = entry.getKey();
      long bill = entry.getValue();
      Map<String, Long> byOwner = running.getOrDefault(name, Map.of());
      long total = byOwner.values().stream().mapToLong(Long::longValue).sum();
      endpointCosts.add(new EndpointCost(name, bill / MICROS_PER_SECOND, total / MICROS_PER_SECOND,
          starts.getOrDefault(name, 0), byConfiguration.getOrDefault(name, Map.of())));
      if (total == 0) {
        unattributed += bill;
        continue;
      }
      byOwner.forEach((owner, micros) -> {
        double[] sums = owners.computeIfAbsent(owner, o -> new double[2]);
        sums[0] += (double) bill * micros / total;
        sums[1] += micros;
      });
    }
    List<OwnerCost> ownerCosts = owners.entrySet().stream()
        .map(e -> new OwnerCost(e.getKey().isEmpty() ? null : e.getKey(), e.getValue()[0] / MICROS_PER_SECOND,
            e.getValue()[1] / MICROS_PER_SECOND,
            jobsByOwner.getOrDefault(e.getKey(), Set.of()).size()))
        .sorted(Comparator.comparingDouble(OwnerCost::billedSeconds).reversed()
            .thenComparing(o -> o.owner() == null ? "" : o.owner()))
        .toList();
    return new Report(window.from(), window.to(), List.copyOf(endpointCosts), ownerCosts,
        unattributed / MICROS_PER_SECOND);
  }

  /**
   * The stretches during which the endpoint's ledger was open, as the entity's event handler opens and closes
   * it, each at its units and configuration (a change of either ends one stretch and begins the next); one still
   * open runs until {@code now}.
   */
  static List<Stretch> billed(List<EndpointLifecycle.Event> events, Instant now) {
    List<Stretch> stretches = new ArrayList<>();
    EndpointLifecycle.State state = EndpointLifecycle.initialState();
    for (EndpointLifecycle.Event event : events) {
      EndpointLifecycle.State next = EndpointLifecycle.next(state, event);
      EndpointLifecycle.Ledger was = state.ledger();
      if (was.openSince() != null && !was.openSince().equals(next.ledger().openSince())) {
        stretches.add(new Stretch(was.openSince(), event.at(), was.units(), was.configuration()));
      }
      state = next;
    }
    EndpointLifecycle.Ledger open = state.ledger();
    if (open.openSince() != null) {
      stretches.add(new Stretch(open.openSince(), now, open.units(), open.configuration()));
    }
    return stretches;
  }

  /** One attempt of a job: where it ran, for whom, and when. */
  public record Run(String jobId, String endpoint, String owner, Stretch stretch) {}

  /**
   * Follows jobs through their events, folded with {@link Request#next}, and reports each attempt, from the
   * event that makes the job RUNNING to the one that ends that. A job at rest (finished, or awaiting review)
   * is forgotten but for its last sequence number: one that moves again is not {@link #follows followed} any
   * more, its reader folds its history in again from the start, and attempts already reported are not
   * reported twice.
   */
  public static final class Runs {
    private record Followed(RequestState state, long seqNr, Instant startedAt) {}

    private final Map<String, Followed> jobs = new HashMap<>();
    /** Every job seen: the highest sequence number folded, up to which its attempts have been reported. */
    private final Map<String, Long> folded = new HashMap<>();
    private final List<Run> runs = new ArrayList<>();

    /** Whether the job's event {@code seqNr} can be folded now; otherwise its events before it come first. */
    public boolean follows(String jobId, long seqNr) {
      Followed followed = jobs.get(jobId);
      return followed == null ? seqNr == 1 : followed.seqNr() == seqNr - 1;
    }

    /** Folds the job's event {@code seqNr}: the one after the last folded ({@link #follows}), or 1 to start over. */
    public void fold(String jobId, long seqNr, Request.Event event) {
      Followed followed = seqNr == 1 ? null : jobs.get(jobId);
      RequestState state = followed == null ? new RequestState.Blank() : followed.state();
      Instant startedAt = followed == null ? null : followed.startedAt();
      RequestState next = RequestState.next(state, event);
      if (!(state instanceof RequestState.Running) && next instanceof RequestState.Running) {
        startedAt = event.at();
      } else if (state instanceof RequestState.Running running && !(next instanceof RequestState.Running)) {
        if (seqNr > folded.getOrDefault(jobId, 0L)) {
          runs.add(run(jobId, running, new Stretch(startedAt, event.at())));
        }
        startedAt = null;
      }
      boolean resting = next instanceof RequestState.Succeeded || next instanceof RequestState.Failed
          || next instanceof RequestState.Cancelled
          || next instanceof RequestState.AwaitingReview;
      folded.merge(jobId, seqNr, Math::max);
      if (resting) {
        jobs.remove(jobId);
      } else {
        jobs.put(jobId, new Followed(next, seqNr, startedAt));
      }
    }

    /** Every attempt seen, those still running counted until {@code now}. */
    public List<Run> runs(Instant now) {
      List<Run> all = new ArrayList<>(runs);
      jobs.forEach((jobId, followed) -> {
        if (followed.state() instanceof RequestState.Running running) {
          all.add(run(jobId, running, new Stretch(followed.startedAt(), now)));
        }
      });
      return all;
    }

    private static Run run(String jobId, RequestState.Running running, Stretch stretch) {
      return new Run(jobId, running.core().spec().endpoint(), running.core().spec().owner(), stretch);
    }
  }

  /** The attempts of one job whose events, oldest first, are all given. */
  static List<Run> runs(String jobId, List<Request.Event> events, Instant now) {
    Runs runs = new Runs();
    for (int i = 0; i < events.size(); i++) {
      runs.fold(jobId, i + 1, events.get(i));
    }
    return runs.runs(now);
  }

  /** Owners are never empty (see Principal.validOwner), so "" stands for "no owner" in maps. */
  private static String key(String owner) {
    return owner == null ? "" : owner;
  }
}
