package warmgate.gateway;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import java.time.Duration;
import java.time.Instant;
import java.util.ArrayList;
import java.util.List;
import java.util.Set;
import org.junit.jupiter.api.Test;
import warmgate.endpoint.EndpointCommand;
import warmgate.endpoint.EndpointLifecycle;

// The queue history's buffer on hand-made endpoint views; no actor system.
class QueueDepthsTest {
  private static final Instant T0 = Instant.parse("2026-12-06T10:00:00Z");

  private static EndpointCommand.View view(String name, int inFlight, EndpointCommand.OwnerLoad... owners) {
    int queued = 0;
    for (EndpointCommand.OwnerLoad owner : owners) {
      queued += owner.queued();
    }
    return new EndpointCommand.View(name, EndpointLifecycle.Phase.WARM, queued, inFlight, T0, 0, null, 0, 0, null,
        List.of(owners));
  }

  private static EndpointCommand.OwnerLoad load(String owner, int queued, int inFlight) {
    return new EndpointCommand.OwnerLoad(owner, queued, inFlight);
  }

  @Test
  void keepsEachOwnersQueuedJobsMostFirstAndLeavesOutOwnersWithNoneQueued() {
    var depths = new QueueDepths(Set.of("gen3d"), Duration.ofSeconds(10), Duration.ofHours(1), 8);
    depths.record(T0, view("gen3d", 3, load("alice", 2, 1), load("bob", 5, 0), load("carol", 0, 2)));

    List<QueueDepths.Sample> samples = depths.since("gen3d", T0);
    assertThat(samples).hasSize(1);
    QueueDepths.Sample sample = samples.get(0);
    assertThat(sample.at()).isEqualTo(T0);
    assertThat(sample.queued()).isEqualTo(7);
    assertThat(sample.inFlight()).isEqualTo(3);
    assertThat(sample.owners()).containsExactly(new QueueDepths.OwnerDepth("bob", 5),
        new QueueDepths.OwnerDepth("alice", 2));
    assertThat(sample.others()).isZero();
  }

  @Test
  void namesAtMostMaxOwnersAndSumsTheRestAsOthers() {
    var depths = new QueueDepths(Set.of("gen3d"), Duration.ofSeconds(10), Duration.ofHours(1), 2);
    depths.record(T0, view("gen3d", 0, load("a", 1, 0), load("b", 4, 0), load("c", 4, 0), load("d", 3, 0),
        load("e", 2, 0)));

    QueueDepths.Sample sample = depths.since("gen3d", T0).get(0);
    assertThat(sample.owners()).as("most queued first, ties by name")
        .containsExactly(new QueueDepths.OwnerDepth("b", 4), new QueueDepths.OwnerDepth("c", 4));
    assertThat(sample.others()).isEqualTo(3 + 2 + 1);
    assertThat(sample.queued()).isEqualTo(14);
  }

  @Test
  void keepsNoMoreSamplesThanTheWindowHoldsAndDropsTheOldest() {
    var depths = new QueueDepths(Set.of("gen3d"), Duration.ofSeconds(10), Duration.ofMinutes(1), 8);
    assertThat(depths.capacity()).isEqualTo(6);
    for (int i = 0; i < 20; i++) {
      depths.record(T0.plusSeconds(10L * i), view("gen3d", 0, load("alice", i, 0)));
    }

    List<QueueDepths.Sample> samples = depths.since("gen3d", T0);
    assertThat(samples).hasSize(6);
    assertThat(samples.get(0).at()).isEqualTo(T0.plusSeconds(140));
    assertThat(samples.get(5).at()).isEqualTo(T0.plusSeconds(190));
  }

  @Test
  void dropsSamplesOlderThanKeepEvenWhenTheBufferIsNotFull() {
    var depths = new QueueDepths(Set.of("gen3d"), Duration.ofSeconds(10), Duration.ofMinutes(1), 8);
    depths.record(T0, view("gen3d", 0, load("alice", 1, 0)));
    depths.record(T0.plusSeconds(10), view("gen3d", 0, load("alice", 2, 0)));
    // The node missed samples for five minutes (the endpoint did not answer).
    depths.record(T0.plusSeconds(300), view("gen3d", 0, load("alice", 3, 0)));

    assertThat(depths.since("gen3d", T0)).extracting(QueueDepths.Sample::queued).containsExactly(3);
  }

  @Test
  void sinceLeavesOutEarlierSamples() {
    var depths = new QueueDepths(Set.of("gen3d"), Duration.ofSeconds(10), Duration.ofHours(1), 8);
    for (int i = 0; i < 5; i++) {
      depths.record(T0.plusSeconds(10L * i), view("gen3d", 0, load("alice", i + 1, 0)));
    }

    assertThat(depths.since("gen3d", T0.plusSeconds(25))).extracting(QueueDepths.Sample::queued)
        .containsExactly(4, 5);
  }

  @Test
  void anAnswerOlderThanTheLastSampleIsDropped() {
    var depths = new QueueDepths(Set.of("gen3d"), Duration.ofSeconds(10), Duration.ofHours(1), 8);
    depths.record(T0.plusSeconds(10), view("gen3d", 0, load("alice", 2, 0)));
    depths.record(T0, view("gen3d", 0, load("alice", 1, 0)));

    assertThat(depths.since("gen3d", T0)).extracting(QueueDepths.Sample::queued).containsExactly(2);
  }

  @Test
  void keepsOnlyConfiguredEndpointsApart() {
    var depths = new QueueDepths(Set.of("gen3d", "other"), Duration.ofSeconds(10), Duration.ofHours(1), 8);
    depths.record(T0, view("gen3d", 0, load("alice", 1, 0)));
    depths.record(T0, view("unknown", 0, load("alice", 9, 0)));

    assertThat(depths.since("gen3d", T0)).hasSize(1);
    assertThat(depths.since("other", T0)).isEmpty();
    assertThat(depths.since("unknown", T0)).isEmpty();
  }

  @Test
  void anOwnersNameIsSharedWithTheSampleBefore() {
    var depths = new QueueDepths(Set.of("gen3d"), Duration.ofSeconds(10), Duration.ofHours(1), 8);
    // As a view that came over the wire: each answer brings its own copy of the name.
    depths.record(T0, view("gen3d", 0, load(new String("alice"), 1, 0)));
    depths.record(T0.plusSeconds(10), view("gen3d", 0, load(new String("alice"), 2, 0)));

    List<QueueDepths.Sample> samples = depths.since("gen3d", T0);
    assertThat(samples.get(1).owners().get(0).owner()).isSameAs(samples.get(0).owners().get(0).owner());
  }

  @Test
  void boundsTheEntriesByCapacityTimesMaxOwners() {
    var depths = new QueueDepths(Set.of("gen3d"), Duration.ofSeconds(10), Duration.ofHours(1), 8);
    for (int i = 0; i < 1000; i++) {
      List<EndpointCommand.OwnerLoad> owners = new ArrayList<>();
      for (int o = 0; o < 50; o++) {
        owners.add(load("owner-" + i + "-" + o, 1, 0));
      }
      depths.record(T0.plusSeconds(10L * i), view("gen3d", 0, owners.toArray(EndpointCommand.OwnerLoad[]::new)));
    }

    List<QueueDepths.Sample> samples = depths.since("gen3d", Instant.EPOCH);
    assertThat(samples).hasSize(360);
    assertThat(samples.stream().mapToInt(s -> s.owners().size()).sum()).isEqualTo(360 * 8);
    assertThat(samples).allSatisfy(s -> assertThat(s.others()).isEqualTo(42));
  }

  @Test
  void refusesSettingsThatCannotHoldASample() {
    assertThatThrownBy(() -> new QueueDepths(Set.of(), Duration.ZERO, Duration.ofHours(1), 8))
        .isInstanceOf(IllegalArgumentException.class);
    assertThatThrownBy(() -> new QueueDepths(Set.of(), Duration.ofSeconds(10), Duration.ofHours(1), 0))
        .isInstanceOf(IllegalArgumentException.class);
  }
}
