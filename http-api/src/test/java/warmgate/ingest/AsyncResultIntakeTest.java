package warmgate.ingest;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import java.time.Instant;
import java.util.List;
import java.util.Map;
import java.util.concurrent.CopyOnWriteArrayList;
import org.junit.jupiter.api.Test;
import warmgate.InvalidInput;
import warmgate.gateway.AsyncNotices;
import warmgate.http.HttpEdgeTest;
import warmgate.job.ObjectRef;
import warmgate.provider.AsyncResult;
import warmgate.provider.sagemaker.InferenceResults;
import warmgate.provider.sagemaker.SageMakerAsyncResults;

// No I/O: the real RouteIngestion and intake with SageMaker's notification format, recording what they tell.
class AsyncResultIntakeTest {
  private static final ObjectRef OUTPUT_PATH = new ObjectRef("gen3d-work", "async/out/");
  private static final ObjectRef FAILURE_PATH = new ObjectRef("gen3d-work", "async/failed/");

  private final List<String> told = new CopyOnWriteArrayList<>();
  private final AsyncNotices notices = new AsyncNotices() {
    @Override
    public void resultNoticed(AsyncResult result) {
      told.add("job " + result.inferenceId() + " " + result.location());
    }

    @Override
    public void resultLanded(String endpoint, ObjectRef location) {
      told.add("endpoint " + endpoint + " " + location);
    }
  };
  private final AsyncResultIntake intake = new AsyncResultIntake(List.of(new SageMakerAsyncResults()),
      Map.of("gen3d-async", List.of(OUTPUT_PATH, FAILURE_PATH)), notices);
  private final RouteIngestion ingestion = new RouteIngestion(TestRoutes.gen3d(), ObjectPolicy.open(),
      new HttpEdgeTest.FakeJobs(), intake);

  private static ObjectCreated upload(String bucket, String key) {
    return new ObjectCreated(bucket, key, null, "d41d8cd98f00b204e9800998ecf8427e", 10, null, Instant.EPOCH);
  }

  @Test
  void anUploadUnderAnAsyncEndpointsResultPathTellsTheEndpointAndStartsNoJob() {
    var report = ingestion.ingest(List.of(upload("gen3d-work", "async/out/4f1c.out"),
        upload("gen3d-work", "async/failed/77aa.out"))).toCompletableFuture().join();

    assertThat(report.accepted()).isEmpty();
    assertThat(report.skipped()).extracting(Skip::reason)
        .allSatisfy(reason -> assertThat(reason).contains("asynchronous endpoint gen3d-async"));
    assertThat(told).containsExactlyInAnyOrder("endpoint gen3d-async s3://gen3d-work/async/out/4f1c.out",
        "endpoint gen3d-async s3://gen3d-work/async/failed/77aa.out");
  }

  @Test
  void aResultPathWinsOverARouteThatWouldMatchTheSameKey() {
    // A route for every .png under users/ in bucket gen3d; an answer path inside it must never start a job.
    var overlapping = new RouteIngestion(TestRoutes.gen3d(), ObjectPolicy.open(), new HttpEdgeTest.FakeJobs(),
        new AsyncResultIntake(List.of(), Map.of("gen3d-async", List.of(new ObjectRef("gen3d", "users/answers/"))),
            notices));

    var report = overlapping.ingest(List.of(upload("gen3d", "users/answers/a_image.png"),
        upload("gen3d", "users/dave/input/b_image.png"))).toCompletableFuture().join();

    assertThat(report.accepted()).extracting(Ingestion.Accepted::key).containsExactly("users/dave/input/b_image.png");
    assertThat(told).containsExactly("endpoint gen3d-async s3://gen3d/users/answers/a_image.png");
  }

  @Test
  void uploadsElsewhereAreRoutedAsBeforeAndTellNobody() {
    var report = ingestion.ingest(List.of(upload("gen3d", "users/dave/input/a_image.png"),
        upload("gen3d-work", "async/outside.out"))).toCompletableFuture().join();

    assertThat(report.accepted()).hasSize(1);
    assertThat(report.skipped()).extracting(Skip::key).containsExactly("async/outside.out");
    assertThat(told).isEmpty();
  }

  @Test
  void aPlatformsNotificationGoesToTheJobItNames() {
    var result = ingestion.noticeResult(InferenceResults.SUCCESS);

    assertThat(result).map(AsyncResult::inferenceId).contains("11111111-2222-3333-4444-555555555555");
    assertThat(told).containsExactly(
        "job 11111111-2222-3333-4444-555555555555 s3://bucket/output_directory/prediction.out");
  }

  @Test
  void anythingElseIsNoResultAndTellsNobody() {
    assertThat(ingestion.noticeResult("{\"Records\":[]}")).isEmpty();
    assertThat(ingestion.noticeResult("not json")).isEmpty();
    assertThat(told).isEmpty();
  }

  @Test
  void aMalformedResultIsInvalidInput() {
    String withoutId = InferenceResults.SUCCESS.replace("\"inferenceId\":\"11111111-2222-3333-4444-555555555555\",",
        "");

    assertThatThrownBy(() -> ingestion.noticeResult(withoutId)).isInstanceOf(InvalidInput.class)
        .hasMessageContaining("without an inferenceId");
    assertThat(told).isEmpty();
  }
}
