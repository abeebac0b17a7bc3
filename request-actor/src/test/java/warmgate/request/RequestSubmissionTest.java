package warmgate.request;

import static org.assertj.core.api.Assertions.assertThat;

import java.time.Duration;
import java.util.Map;
import org.apache.pekko.pattern.StatusReply;
import org.junit.jupiter.api.Test;
import warmgate.job.JobSpec;
import warmgate.job.JobStatus;
import warmgate.request.RequestCommand.JobLookup;
import warmgate.request.RequestCommand.Submit;
import warmgate.request.RequestCommand.Submitted;

// A job's submission and its wait for inputs; in-memory, as RequestTestBase.
class RequestSubmissionTest extends RequestTestBase {
  @Test
  void submittedJobWithItsInputsPresentAsksItsEndpointForASlot() {
    Fixture f = new Fixture();
    f.uploadInputs();

    var reply = f.submit(SPEC);

    assertThat(reply.isSuccess()).isTrue();
    assertThat(reply.getValue().duplicate()).isFalse();
    assertThat(reply.getValue().job().jobId()).isEqualTo(f.jobId);
    assertThat(f.expectAcquire().jobId()).isEqualTo(f.jobId);
    assertThat(f.status()).isEqualTo(JobStatus.QUEUED);
  }

  @Test
  void imageBeforeMaskWaitsForTheMaskThenQueues() {
    Fixture f = new Fixture();
    f.blobs.put(IMAGE, new byte[] {1});

    f.submit(SPEC);

    f.endpointIgnoringProbe().awaitAssert(WAIT, () -> {
      assertThat(f.kit.getState()).isInstanceOfSatisfying(RequestState.WaitingForInputs.class,
          w -> assertThat(w.missing()).containsExactly("mask"));
      return null;
    });
    assertThat(f.status()).isEqualTo(JobStatus.WAITING_FOR_INPUTS);
    f.endpoint.expectNoMessage(Duration.ofMillis(300));

    f.blobs.put(MASK, new byte[] {2});

    assertThat(f.expectAcquire().jobId()).isEqualTo(f.jobId);
    assertThat(f.status()).isEqualTo(JobStatus.QUEUED);
  }

  @Test
  void maskThatNeverArrivesFailsTheJobWithAClearReason() {
    Fixture f = new Fixture();
    f.blobs.put(IMAGE, new byte[] {1});
    f.submit(SPEC);
    f.awaitStatus(JobStatus.WAITING_FOR_INPUTS);

    f.clock.advance(Duration.ofMinutes(10));

    f.awaitStatus(JobStatus.FAILED);
    String error = f.kit.<JobLookup>runCommand(RequestCommand.Get::new).reply().job().error();
    assertThat(error).contains("mask " + MASK).contains("did not arrive within 600 s");
  }

  @Test
  void secondDeliveryOfTheSameJobIsADuplicateAndPersistsNothing() {
    Fixture f = new Fixture();
    f.uploadInputs();
    f.submit(SPEC);

    var second = f.kit.<StatusReply<Submitted>>runCommand(replyTo -> new Submit(SPEC, replyTo));

    assertThat(second.reply().getValue().duplicate()).isTrue();
    assertThat(second.reply().getValue().sameRequest()).isTrue();
    assertThat(second.events()).isEmpty();
  }

  @Test
  void sameIdWithADifferentRequestIsReportedAsNotTheSameRequest() {
    Fixture f = new Fixture();
    f.uploadInputs();
    f.submit(SPEC);
    JobSpec other = new JobSpec("gen3d", "alice", Map.of("image", IMAGE), OUTPUT, null, null, "http", false);

    var reply = f.submit(other);

    assertThat(reply.getValue().duplicate()).isTrue();
    assertThat(reply.getValue().sameRequest()).isFalse();
  }

  @Test
  void unknownJobIsAnsweredWithNothingAndPersistsNothing() {
    Fixture f = new Fixture();

    var result = f.kit.<JobLookup>runCommand(RequestCommand.Get::new);

    assertThat(result.reply().job()).isNull();
    assertThat(result.events()).isEmpty();
  }
}
