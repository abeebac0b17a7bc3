package warmgate.ingest;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import com.typesafe.config.ConfigFactory;
import java.util.Set;
import org.junit.jupiter.api.Test;
import warmgate.job.JobIds;
import warmgate.job.ObjectRef;

// No I/O.
class RouteTableTest {
  private final RouteTable table =
      RouteTable.fromConfig(
          ConfigFactory.parseString(
              """
              routes = [
                { name = gen3d, bucket = gen3d, prefix = "users/", suffix = ".png", endpoint = gen3d, pipeline = gen3d }
              ]"""),
          Set.of("gen3d"));

  private static ObjectCreated upload(String bucket, String key) {
    return new ObjectCreated(bucket, key, null, "etag", 10, null, null);
  }

  @Test
  void imageBecomesGen3dJobWithMaskAndPlyOutput() {
    var routing = table.route(upload("gen3d", "users/alice/input/cat_image.png"));

    assertThat(routing).isInstanceOfSatisfying(RouteTable.Routing.Job.class, job -> {
      assertThat(job.jobId()).isEqualTo(JobIds.forUpload("gen3d", "users/alice/input/cat_image.png", null, "etag"));
      assertThat(job.spec().endpoint()).isEqualTo("gen3d");
      assertThat(job.spec().owner()).isEqualTo("alice");
      assertThat(job.spec().inputs())
          .containsEntry("image", new ObjectRef("gen3d", "users/alice/input/cat_image.png"))
          .containsEntry("mask", new ObjectRef("gen3d", "users/alice/input/cat_mask.png"));
      assertThat(job.spec().output()).isEqualTo(new ObjectRef("gen3d", "users/alice/output/cat.ply"));
      assertThat(job.spec().errorOutput()).isEqualTo(new ObjectRef("gen3d", "users/alice/output/cat_error.json"));
      assertThat(job.spec().source()).isEqualTo("s3://gen3d/users/alice/input/cat_image.png");
    });
  }

  @Test
  void maskIsSkippedAsTheCompanionOfItsImage() {
    var routing = table.route(upload("gen3d", "users/alice/input/cat_mask.png"));

    assertThat(routing).isInstanceOfSatisfying(RouteTable.Routing.Skipped.class, s ->
        assertThat(s.skip().reason()).contains(
            "completes the job started by its image s3://gen3d/users/alice/input/cat_image.png"));
  }

  @Test
  void keyOutsideEveryRouteIsSkippedWithAReason() {
    assertThat(table.route(upload("other", "users/alice/input/cat_image.png")))
        .isInstanceOfSatisfying(RouteTable.Routing.Skipped.class,
            s -> assertThat(s.skip().reason()).isEqualTo("no route matches this bucket and key"));
    assertThat(table.route(upload("gen3d", "users/alice/output/cat.ply")))
        .isInstanceOf(RouteTable.Routing.Skipped.class);
  }

  @Test
  void keyUnderRouteThatThePipelineCannotReadIsSkipped() {
    assertThat(table.route(upload("gen3d", "users/alice/photos/cat.png")))
        .isInstanceOfSatisfying(RouteTable.Routing.Skipped.class,
            s -> assertThat(s.skip().reason()).startsWith("route gen3d: key does not match"));
  }

  @Test
  void routeToUnknownEndpointIsAConfigurationError() {
    assertThatThrownBy(() -> RouteTable.fromConfig(
            ConfigFactory.parseString("routes = [{name = r, bucket = b, endpoint = nope, pipeline = gen3d}]"),
                Set.of("gen3d")))
        .isInstanceOf(IllegalArgumentException.class)
        .hasMessageContaining("endpoint 'nope'");
  }

  @Test
  void routeToUnknownPipelineIsAConfigurationError() {
    assertThatThrownBy(() -> RouteTable.fromConfig(
            ConfigFactory.parseString("routes = [{name = r, bucket = b, endpoint = gen3d, pipeline = nope}]"),
                Set.of("gen3d")))
        .isInstanceOf(IllegalArgumentException.class)
        .hasMessageContaining("pipeline 'nope'");
  }

  @Test
  void routeWithWarmOnFirstInputGivesItsJobsTheOptionAndOtherRoutesDoNot() {
    RouteTable warming = RouteTable.fromConfig(ConfigFactory.parseString("""
        routes = [
          { name = early, bucket = gen3d, prefix = "users/alice/", endpoint = gen3d, pipeline = gen3d,
            warm-on-first-input = on }
          { name = late, bucket = gen3d, prefix = "users/", endpoint = gen3d, pipeline = gen3d }
        ]"""), Set.of("gen3d"));

    assertThat(warming.routes()).extracting(Route::warmOnFirstInput).containsExactly(true, false);
    assertThat(warming.route(upload("gen3d", "users/alice/input/cat_image.png")))
        .isInstanceOfSatisfying(RouteTable.Routing.Job.class,
            job -> assertThat(job.spec().warmOnFirstInput()).isTrue());
    assertThat(warming.route(upload("gen3d", "users/bob/input/cat_image.png")))
        .isInstanceOfSatisfying(RouteTable.Routing.Job.class,
            job -> assertThat(job.spec().warmOnFirstInput()).isFalse());
  }

  @Test
  void warmOnFirstInputIsOffUnlessARouteSaysSo() {
    assertThat(table.routes()).extracting(Route::warmOnFirstInput).containsExactly(false);
    assertThat(RouteTable.fromConfig(ConfigFactory.parseString(
            "routes = [{name = r, bucket = b, endpoint = gen3d, pipeline = gen3d, warm-on-first-input = off}]"),
        Set.of("gen3d")).routes().get(0).warmOnFirstInput()).isFalse();
  }

  @Test
  void warmOnFirstInputThatIsNotOnOrOffIsAConfigurationErrorNamingTheRoute() {
    assertThatThrownBy(() -> RouteTable.fromConfig(ConfigFactory.parseString(
            "routes = [{name = r, bucket = b, endpoint = gen3d, pipeline = gen3d, warm-on-first-input = sometimes}]"),
        Set.of("gen3d")))
        .isInstanceOf(IllegalArgumentException.class)
        .hasMessage("route r: warm-on-first-input must be on or off (true/false, yes/no), not 'sometimes'");
    assertThatThrownBy(() -> RouteTable.fromConfig(ConfigFactory.parseString(
            "routes = [{name = r, bucket = b, endpoint = gen3d, pipeline = gen3d, warm-on-first-input = [on]}]"),
        Set.of("gen3d")))
        .isInstanceOf(IllegalArgumentException.class)
        .hasMessageContaining("route r: warm-on-first-input must be on or off");
  }
}
