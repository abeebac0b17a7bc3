package warmgate.ingest;

import java.util.Map;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import warmgate.job.JobSpec;
import warmgate.job.ObjectRef;

/**
 * The reference pipeline: {@code users/{user}/input/{base}_image.png} and its companion
 * {@code _mask.png} become one job whose result is {@code users/{user}/output/{base}.ply}. The image
 * starts the job; the mask only completes it, so a mask upload is skipped with a reason.
 */
public final class Gen3dPipeline implements Pipeline {
  public static final String NAME = "gen3d";

  private static final Pattern INPUT =
      Pattern.compile("(?<root>(?:.*/)?)users/(?<user>[^/]+)/input/(?<base>[^/]+)_(?<kind>image|mask)\\.png");

  @Override
  public String name() {
    return NAME;
  }

  @Override
  public Plan plan(String endpoint, ObjectCreated upload) {
    Matcher m = INPUT.matcher(upload.key());
    if (!m.matches()) {
      return new Ignore("key does not match users/{user}/input/{base}_image.png or _mask.png");
    }
    String root = m.group("root");
    String user = m.group("user");
    String base = m.group("base");
    String inputFolder = root + "users/" + user + "/input/";
    ObjectRef image = new ObjectRef(upload.bucket(), inputFolder + base + "_image.png");
    if (m.group("kind").equals("mask")) {
      return new Ignore("a mask completes the job started by its image " + image + "; it starts none itself");
    }
    ObjectRef mask = new ObjectRef(upload.bucket(), inputFolder + base + "_mask.png");
    ObjectRef output = new ObjectRef(upload.bucket(), root + "users/" + user + "/output/" + base + ".ply");
    return new Run(
        new JobSpec(
            endpoint,
            user,
            Map.of("image", image, "mask", mask),
            output,
            null,
            null,
            new ObjectRef(upload.bucket(), upload.key()).toString(),
            false));
  }
}
