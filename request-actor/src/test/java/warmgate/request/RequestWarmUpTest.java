package warmgate.request;

import static org.assertj.core.api.Assertions.assertThat;

import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import org.junit.jupiter.api.Test;
import warmgate.endpoint.EndpointCommand;
import warmgate.job.JobStatus;

// A job waiting for its mask on a route with warm-on-first-input; in-memory, as RequestTestBase.
class RequestWarmUpTest extends RequestTestBase {
  @Test
  void jobWaitingForItsMaskOnAWarmingRouteAsksItsEndpointToWarmUpAndHoldsNoSlot() {
    Fixture f = new Fixture();
    f.blobs.put(IMAGE, new byte[] {1});

    f.submit(WARMING);

    EndpointCommand first = f.endpoint.receiveMessage(WAIT);
    assertThat(first).isEqualTo(new EndpointCommand.WarmUp(f.jobId));
    assertThat(f.status()).isEqualTo(JobStatus.WAITING_FOR_INPUTS);
    assertThat(f.events()).hasAtLeastOneElementOfType(Request.InputsMissing.class);
    // A hint, not a request for a slot: nothing else reaches the endpoint while the mask is missing.
    f.endpoint.expectNoMessage(Duration.ofMillis(400));

    f.blobs.put(MASK, new byte[] {2});

    assertThat(f.expectAcquire().jobId()).isEqualTo(f.jobId);
    assertThat(f.status()).isEqualTo(JobStatus.QUEUED);
  }

  @Test
  void jobWaitingForItsMaskOnARouteWithoutTheOptionLeavesTheEndpointAlone() {
    Fixture f = new Fixture();
    f.blobs.put(IMAGE, new byte[] {1});

    f.submit(SPEC);

    f.awaitStatus(JobStatus.WAITING_FOR_INPUTS);
    f.endpointIgnoringProbe().awaitAssert(WAIT, () -> {
      assertThat(f.events()).hasAtLeastOneElementOfType(Request.InputsMissing.class);
      return null;
    });
    f.endpoint.expectNoMessage(Duration.ofMillis(400));
  }

  @Test
  void jobWithAllItsInputsPresentOnAWarmingRouteOnlyAsksForASlot() {
    Fixture f = new Fixture();
    f.uploadInputs();

    f.submit(WARMING);

    assertThat(f.endpoint.receiveMessage(WAIT)).isInstanceOf(EndpointCommand.Acquire.class);
  }

  @Test
  void jobAsksForAWarmUpOnceWhateverItsMissingInputsDo() {
    Fixture f = new Fixture();
    f.blobs.put(MASK, new byte[] {2});

    f.submit(WARMING); // the first look finds the image missing

    assertThat(f.endpoint.receiveMessage(WAIT)).isEqualTo(new EndpointCommand.WarmUp(f.jobId));
    f.blobs.put(IMAGE, new byte[] {1});
    f.blobs.delete(MASK); // now the mask is missing instead: a second InputsMissing
    f.endpointIgnoringProbe().awaitAssert(WAIT, () -> {
      assertThat(f.events().stream().filter(Request.InputsMissing.class::isInstance).count()).isEqualTo(2);
      return null;
    });
    f.endpoint.expectNoMessage(Duration.ofMillis(400));
  }

  @Test
  void burstOfWaitingJobsSendsOneHintPerJob() {
    List<Fixture> burst = new ArrayList<>();
    for (int i = 0; i < 5; i++) {
      Fixture f = new Fixture();
      f.blobs.put(IMAGE, new byte[] {1});
      f.submit(WARMING);
      burst.add(f);
    }

    for (Fixture f : burst) {
      assertThat(f.endpoint.receiveMessage(WAIT)).isEqualTo(new EndpointCommand.WarmUp(f.jobId));
      f.endpoint.expectNoMessage(Duration.ofMillis(300)); // its own inputs check again every 100 ms meanwhile
    }
  }

  @Test
  void jobWhoseMaskNeverArrivesFailsAsWithoutTheOption() {
    Fixture f = new Fixture();
    f.blobs.put(IMAGE, new byte[] {1});
    f.submit(WARMING);
    assertThat(f.endpoint.receiveMessage(WAIT)).isInstanceOf(EndpointCommand.WarmUp.class);

    f.clock.advance(Duration.ofMinutes(10));

    f.awaitStatus(JobStatus.FAILED);
    // It never held a slot, so it has none to give back.
    f.endpoint.expectNoMessage(Duration.ofMillis(300));
  }
}
