package warmgate.audit;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.within;

import java.time.Instant;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.Test;
import warmgate.endpoint.EndpointLifecycle;
import warmgate.job.JobSpec;
import warmgate.job.ObjectRef;
import warmgate.request.Request;

// The cost computation on hand-made event sequences; no journal, no actor system.
class CostsTest {
  private static final Instant NOW = at("11:30");
  private static final TimeRange HOUR = new TimeRange(at("10:00"), at("11:00"));

  private static Instant at(String time) {
    return Instant.parse("2026-03-01T" + time + ":00Z");
  }

  /** gen3d: warm from 09:50 to 10:42, started again at 10:50 and still billed. idle: a start that failed after ten
   * minutes. */
  private static Map<String, List<EndpointLifecycle.Event>> endpoints() {
    Map<String, List<EndpointLifecycle.Event>> endpoints = new LinkedHashMap<>();
    endpoints.put("gen3d", List.of(
        new EndpointLifecycle.StartRequested(at("09:50"), "job a1 asked for a slot"),
        new EndpointLifecycle.CameIntoService(at("09:55"), "InService"),
        new EndpointLifecycle.StopRequested(at("10:40"), "idle for 120 s"),
        new EndpointLifecycle.Stopped(at("10:42"), "stopped"),
        new EndpointLifecycle.StartRequested(at("10:50"), "job b2 asked for a slot")));
    endpoints.put("idle", List.of(
        new EndpointLifecycle.StartRequested(at("10:10"), "started by hand"),
        new EndpointLifecycle.StartFailed(at("10:20"), "the provider reports Failed")));
    return endpoints;
  }

  private static JobSpec spec(String endpoint, String owner) {
    return new JobSpec(endpoint, owner, Map.of("image", new ObjectRef("b", "in.png")), new ObjectRef("b", "out.ply"),
        null, null, "http", false);
  }

  private static List<Request.Event> submitted(String jobId, String endpoint, String owner, String time) {
    List<Request.Event> events = new ArrayList<>();
    events.add(new Request.JobSubmitted(jobId, spec(endpoint, owner), at(time).plusSeconds(600), at(time)));
    events.add(new Request.JobQueued(at(time)));
    return events;
  }

  /** a1 (alice) runs 09:56-10:06; b1 (bob) 10:10-10:20 (fails) and 10:30-10:35; b2 (bob) from 10:58 on; old (alice)
   * before the window. */
  private static Map<String, List<Request.Event>> jobs() {
    Map<String, List<Request.Event>> jobs = new LinkedHashMap<>();
    List<Request.Event> a1 = submitted("a1", "gen3d", "alice", "09:50");
    a1.add(new Request.AttemptStarted(1, "l1", at("09:56")));
    a1.add(new Request.JobSucceeded(1, "etag", at("10:06")));
    jobs.put("a1", a1);
    List<Request.Event> b1 = submitted("b1", "gen3d", "bob", "10:05");
    b1.add(new Request.AttemptStarted(1, "l2", at("10:10")));
    b1.add(new Request.AttemptFailed(1, "timeout", at("10:21"), at("10:20")));
    b1.add(new Request.JobQueued(at("10:21")));
    b1.add(new Request.AttemptStarted(2, "l3", at("10:30")));
    b1.add(new Request.JobSucceeded(2, "etag", at("10:35")));
    jobs.put("b1", b1);
    List<Request.Event> b2 = submitted("b2", "gen3d", "bob", "10:50");
    b2.add(new Request.AttemptStarted(1, "l4", at("10:58")));
    jobs.put("b2", b2);
    List<Request.Event> old = submitted("old", "gen3d", "alice", "08:00");
    old.add(new Request.AttemptStarted(1, "l0", at("08:01")));
    old.add(new Request.JobSucceeded(1, "etag", at("08:02")));
    jobs.put("old", old);
    return jobs;
  }

  private static List<Costs.Run> runs(Map<String, List<Request.Event>> jobs) {
    List<Costs.Run> runs = new ArrayList<>();
    jobs.forEach((jobId, events) -> runs.addAll(Costs.runs(jobId, events, NOW)));
    return runs;
  }

  private static Costs.EndpointCost endpoint(Costs.Report report, String name) {
    return report.endpoints().stream().filter(e -> e.endpoint().equals(name)).findFirst().orElseThrow();
  }

  private static Costs.OwnerCost owner(Costs.Report report, String name) {
    return report.owners().stream().filter(o -> java.util.Objects.equals(o.owner(), name)).findFirst().orElseThrow();
  }

  @Test
  void endpointIsBilledFromEachStartRequestToItsStopCutToTheWindow() {
    Costs.Report report = Costs.compute(HOUR, NOW, endpoints(), runs(jobs()));

    // 10:00-10:42 of the first stretch, 10:50-11:00 of the one still open.
    assertThat(endpoint(report, "gen3d")).isEqualTo(new Costs.EndpointCost("gen3d", 42 * 60 + 10 * 60, 6 * 60 + 15 * 60
        + 2 * 60, 1));
    // A failed start is billed until it failed.
    assertThat(endpoint(report, "idle")).isEqualTo(new Costs.EndpointCost("idle", 10 * 60, 0, 1));
    assertThat(report.billedSeconds()).isEqualTo(3720);
  }

  @Test
  void unitsMultiplyTheBilledTimeAndEachConfigurationIsBilledItsOwnStretch() {
    Map<String, List<EndpointLifecycle.Event>> endpoints = Map.of("gen3d", List.of(
        new EndpointLifecycle.StartRequested(at("09:50"), "job a1 asked for a slot", "gen3d-g5"),
        new EndpointLifecycle.CapacityFallback(at("10:05"), "gen3d-g5", "gen3d-g6", "no capacity"),
        new EndpointLifecycle.FallbackStarted(at("10:06"), "gen3d-g6"),
        new EndpointLifecycle.CameIntoService(at("10:10"), "InService", "gen3d-g6"),
        new EndpointLifecycle.UnitsChanged(at("10:10"), 3),
        new EndpointLifecycle.StopRequested(at("10:40"), "idle"),
        new EndpointLifecycle.Stopped(at("10:42"), "stopped")));

    Costs.Report report = Costs.compute(HOUR, NOW, endpoints, List.of());

    // g5 10:00-10:05 (its stretch began before the window); g6 10:05-10:10 at one unit, 10:10-10:42 at three.
    assertThat(endpoint(report, "gen3d")).isEqualTo(new Costs.EndpointCost("gen3d", 5 * 60 + 5 * 60 + 3 * 32 * 60,
        0, 0, Map.of("gen3d-g5", 5 * 60.0, "gen3d-g6", 5 * 60.0 + 3 * 32 * 60)));
  }

  @Test
  void ownersShareAnEndpointsBillByTheirJobsRunningTimeAndIdleEndpointsAreUnattributed() {
    Costs.Report report = Costs.compute(HOUR, NOW, endpoints(), runs(jobs()));

    // gen3d: alice ran 360 s (10:00-10:06), bob 1020 s (600 + 300 + 120); 3120 s billed shared 360:1020.
    assertThat(owner(report, "bob").billedSeconds()).isCloseTo(3120.0 * 1020 / 1380, within(1e-9));
    assertThat(owner(report, "alice").billedSeconds()).isCloseTo(3120.0 * 360 / 1380, within(1e-9));
    assertThat(report.owners()).extracting(Costs.OwnerCost::owner).containsExactly("bob", "alice");
    assertThat(owner(report, "bob").runningSeconds()).isEqualTo(1020);
    assertThat(owner(report, "bob").jobs()).isEqualTo(2);
    assertThat(owner(report, "alice").jobs()).as("the job that ran before the window does not count").isEqualTo(1);
    assertThat(report.unattributedSeconds()).isEqualTo(600);
    assertThat(report.owners().stream().mapToDouble(Costs.OwnerCost::billedSeconds).sum()
        + report.unattributedSeconds())
        .isCloseTo(report.billedSeconds(), within(1e-9));
  }

  @Test
  void windowThatCutsIntoIntervalsCountsOnlyTheirPartInside() {
    TimeRange window = new TimeRange(at("10:15"), at("10:25"));

    Costs.Report report = Costs.compute(window, NOW, endpoints(), runs(jobs()));

    assertThat(endpoint(report, "gen3d").billedSeconds()).isEqualTo(600);
    assertThat(endpoint(report, "gen3d").starts()).isZero();
    assertThat(endpoint(report, "idle").billedSeconds()).as("10:15-10:20").isEqualTo(300);
    // Only bob's failing attempt ran then (10:15-10:20): his share is the whole of gen3d's ten minutes.
    assertThat(report.owners()).containsExactly(new Costs.OwnerCost("bob", 600, 300, 1));
    assertThat(report.unattributedSeconds()).isEqualTo(300);
  }

  @Test
  void stretchesStillOpenAreBilledUntilNowNotUntilAWindowInTheFuture() {
    Instant now = at("10:55");
    TimeRange window = new TimeRange(at("10:45"), at("12:00"));

    Costs.Report report = Costs.compute(window, now, endpoints(), runs(jobs()));

    assertThat(endpoint(report, "gen3d").billedSeconds()).as("10:50 until now").isEqualTo(5 * 60);
    assertThat(report.unattributedSeconds()).as("nothing has run on it yet").isEqualTo(5 * 60);
  }

  @Test
  void billingOverTheWholeJournalIsWhatTheEndpointsLedgerSays() {
    List<EndpointLifecycle.Event> events = endpoints().get("gen3d");
    EndpointLifecycle.State state = EndpointLifecycle.initialState();
    for (EndpointLifecycle.Event event : events) {
      state = EndpointLifecycle.next(state, event);
    }

    Costs.Report report = Costs.compute(new TimeRange(at("00:00"), at("23:00")), NOW, Map.of("gen3d", events),
        List.of());

    assertThat((long) endpoint(report, "gen3d").billedSeconds()).isEqualTo(state.ledger().billedSeconds(NOW));
  }

  @Test
  void jobsWithoutAnOwnerGetARowOfTheirOwn() {
    Map<String, List<Request.Event>> jobs = new LinkedHashMap<>();
    List<Request.Event> anonymous = submitted("n1", "gen3d", null, "10:00");
    anonymous.add(new Request.AttemptStarted(1, "l", at("10:01")));
    anonymous.add(new Request.JobFailed("bad input", at("10:02")));
    jobs.put("n1", anonymous);

    Costs.Report report = Costs.compute(HOUR, NOW, endpoints(), runs(jobs));

    assertThat(report.owners()).containsExactly(new Costs.OwnerCost(null, 3120, 60, 1));
  }

  @Test
  void attemptShorterThanAMillisecondStillCountsForItsOwner() {
    Map<String, List<Request.Event>> jobs = new LinkedHashMap<>();
    List<Request.Event> slow = submitted("s1", "gen3d", "alice", "10:00");
    slow.add(new Request.AttemptStarted(1, "l1", at("10:01")));
    slow.add(new Request.JobSucceeded(1, "etag", at("10:01").plusMillis(3)));
    jobs.put("s1", slow);
    List<Request.Event> quick = submitted("q1", "gen3d", "bob", "10:00");
    quick.add(new Request.AttemptStarted(1, "l2", at("10:02")));
    quick.add(new Request.JobSucceeded(1, "etag", at("10:02").plusNanos(400_000)));
    jobs.put("q1", quick);

    Costs.Report report = Costs.compute(HOUR, NOW, endpoints(), runs(jobs));

    assertThat(report.owners()).extracting(Costs.OwnerCost::owner).containsExactly("alice", "bob");
    Costs.OwnerCost bob = report.owners().get(1);
    assertThat(bob.runningSeconds()).isCloseTo(0.0004, within(1e-9));
    assertThat(bob.billedSeconds()).isCloseTo(3120 * 0.4 / 3.4, within(1e-6));
  }

  @Test
  void jobFoldedAgainFromItsStartIsNotCountedTwice() {
    List<Request.Event> b1 = jobs().get("b1");
    Costs.Runs runs = new Costs.Runs();
    for (int i = 0; i < 4; i++) {
      runs.fold("b1", i + 1, b1.get(i));
    }
    assertThat(runs.follows("b1", 5)).isTrue();
    assertThat(runs.follows("b1", 7)).isFalse();

    // What a reader does when it meets a job mid-way: its history again from the start, then the new event.
    for (int i = 0; i < b1.size(); i++) {
      runs.fold("b1", i + 1, b1.get(i));
    }

    assertThat(runs.runs(NOW)).extracting(r -> r.stretch().start()).containsExactly(at("10:10"), at("10:30"));
  }
}
