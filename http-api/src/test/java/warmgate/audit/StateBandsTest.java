package warmgate.audit;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.within;

import java.time.Instant;
import java.util.List;
import org.junit.jupiter.api.Test;
import warmgate.endpoint.EndpointLifecycle;
import warmgate.endpoint.EndpointLifecycle.Phase;

// An endpoint's phases as bands, on hand-made event sequences; no journal, no actor system.
class StateBandsTest {
  private static Instant at(String time) {
    return Instant.parse("2026-12-06T" + time + "Z");
  }

  private static List<EndpointLifecycle.Event> coldWarmCold() {
    return List.of(
        new EndpointLifecycle.StartRequested(at("10:10:00"), "job j1"),
        new EndpointLifecycle.CameIntoService(at("10:12:00"), "serving"),
        new EndpointLifecycle.StopRequested(at("10:30:00"), "idle"),
        new EndpointLifecycle.Stopped(at("10:31:00"), "stopped"));
  }

  @Test
  void aColdWarmColdCycleIsFiveBandsBilledWhileTheLedgerIsOpen() {
    List<StateBands.Band> bands = StateBands.of(coldWarmCold(), at("10:00:00"), at("11:00:00"));

    assertThat(bands).extracting(StateBands.Band::state)
        .containsExactly(Phase.COLD, Phase.STARTING, Phase.WARM, Phase.STOPPING, Phase.COLD);
    assertThat(bands).extracting(StateBands.Band::from)
        .containsExactly(at("10:00:00"), at("10:10:00"), at("10:12:00"), at("10:30:00"), at("10:31:00"));
    assertThat(bands.get(4).to()).isEqualTo(at("11:00:00"));
    assertThat(bands).extracting(StateBands.Band::billedSeconds).containsExactly(0.0, 120.0, 1080.0, 60.0, 0.0);
  }

  @Test
  void theBandsAddUpToTheCostAuditsBill() {
    List<EndpointLifecycle.Event> events = List.of(
        new EndpointLifecycle.StartRequested(at("09:50:00"), "job j0"),
        new EndpointLifecycle.CameIntoService(at("09:52:00"), "serving"),
        new EndpointLifecycle.UnitsChanged(at("10:05:00"), 3),
        new EndpointLifecycle.StopRequested(at("10:20:00"), "idle"),
        new EndpointLifecycle.Stopped(at("10:21:30"), "stopped"),
        new EndpointLifecycle.StartRequested(at("10:40:00"), "job j1"));
    TimeRange window = new TimeRange(at("10:00:00"), at("10:50:00"));

    List<StateBands.Band> bands = StateBands.of(events, window.from(), window.to());
    double bill = Costs.compute(window, window.to(), java.util.Map.of("gen3d", events), List.of()).billedSeconds();

    assertThat(bands.stream().mapToDouble(StateBands.Band::billedSeconds).sum()).isCloseTo(bill, within(1e-6));
    assertThat(bands.get(0).state()).as("warm since before the window").isEqualTo(Phase.WARM);
    assertThat(bands.get(0).billedSeconds()).isEqualTo(5 * 60 + 3 * 15 * 60);
  }

  @Test
  void eventsBeforeTheWindowOnlySetThePhaseItBeginsIn() {
    List<StateBands.Band> bands = StateBands.of(coldWarmCold(), at("10:20:00"), at("10:40:00"));

    assertThat(bands).extracting(StateBands.Band::state).containsExactly(Phase.WARM, Phase.STOPPING, Phase.COLD);
    assertThat(bands.get(0).from()).isEqualTo(at("10:20:00"));
  }

  @Test
  void aStretchWithoutChangesIsOneBand() {
    assertThat(StateBands.of(List.of(), at("10:00:00"), at("11:00:00")))
        .containsExactly(new StateBands.Band(Phase.COLD, at("10:00:00"), at("11:00:00"), 0.0));
  }

  @Test
  void aFailedStartAndMarkedFailedShowAsTheirPhases() {
    List<EndpointLifecycle.Event> events = List.of(
        new EndpointLifecycle.StartRequested(at("10:10:00"), "job j1"),
        new EndpointLifecycle.StartFailed(at("10:11:00"), "no capacity"),
        new EndpointLifecycle.MarkedFailed(at("10:11:00"), "too many failures"));

    List<StateBands.Band> bands = StateBands.of(events, at("10:00:00"), at("10:20:00"));

    assertThat(bands).extracting(StateBands.Band::state)
        .containsExactly(Phase.COLD, Phase.STARTING, Phase.FAILED);
    assertThat(bands.get(1).billedSeconds()).isEqualTo(60.0);
  }

  @Test
  void eventsAfterNowAreLeftOut() {
    List<StateBands.Band> bands = StateBands.of(coldWarmCold(), at("10:00:00"), at("10:11:00"));

    assertThat(bands).extracting(StateBands.Band::state).containsExactly(Phase.COLD, Phase.STARTING);
    assertThat(bands.get(1).to()).isEqualTo(at("10:11:00"));
    assertThat(bands.get(1).billedSeconds()).isEqualTo(60.0);
  }
}
