package warmgate.ingest;

import com.typesafe.config.Config;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.TreeMap;
import java.util.TreeSet;
import warmgate.InvalidInput;
import warmgate.job.JobSpec;
import warmgate.job.ObjectKeys;
import warmgate.job.ObjectRef;

/**
 * Which objects a job may read and write: buckets the configuration knows (those its routes name, and each
 * endpoint's {@code buckets}), and outputs only under the endpoint's {@code output-prefixes}. Without it a job
 * could read any bucket the node's credentials reach and write its result anywhere, even into a bucket folder of
 * its own making. Owners are a separate, narrower check (a token's scope) on top of this one.
 *
 * @param anyBucket a route names bucket {@code *}, so every bucket is known
 * @param buckets the known buckets
 * @param outputPrefixes per endpoint, the key prefixes its jobs may write under ({@code ""}: anywhere)
 */
public record ObjectPolicy(boolean anyBucket, Set<String> buckets, Map<String, List<String>> outputPrefixes) {

  public ObjectPolicy {
    buckets = Set.copyOf(buckets);
    outputPrefixes = Map.copyOf(outputPrefixes);
  }

  /** Every bucket, every output: for tests of other things. */
  public static ObjectPolicy open() {
    return new ObjectPolicy(true, Set.of(), Map.of());
  }

  /**
   * Reads {@code buckets} and {@code output-prefixes} of every endpoint (over {@code endpoint-defaults}) and adds
   * the buckets the routes name.
   */
  public static ObjectPolicy fromConfig(Config warmgate, RouteTable routes) {
    Set<String> buckets = new TreeSet<>();
    boolean any = false;
    for (Route route : routes.routes()) {
      any |= route.bucket().equals("*");
      if (!route.bucket().equals("*")) {
        buckets.add(route.bucket());
      }
    }
    Config defaults = warmgate.getConfig("endpoint-defaults");
    Config endpoints = warmgate.getConfig("endpoints");
    Map<String, List<String>> prefixes = new TreeMap<>();
    for (String name : endpoints.root().keySet()) {
      Config c = endpoints.getConfig("\"" + name + "\"").withFallback(defaults);
      for (String bucket : c.hasPath("buckets") ? c.getStringList("buckets") : List.<String>of()) {
        ObjectKeys.checkBucket(bucket).ifPresent(v -> {
          throw new IllegalArgumentException("warmgate.endpoints." + name + ".buckets: '" + bucket + "': "
              + v.message());
        });
        buckets.add(bucket);
      }
      List<String> allowed = new ArrayList<>(c.hasPath("output-prefixes") ? c.getStringList("output-prefixes")
          : List.of(""));
      if (allowed.isEmpty()) {
        throw new IllegalArgumentException("warmgate.endpoints." + name
            + ".output-prefixes is empty: no job could write "
            + "its result; use [\"\"] for anywhere in a known bucket");
      }
      prefixes.put(name, allowed);
    }
    return new ObjectPolicy(any, buckets, prefixes);
  }

  /**
   * Refuses a job naming an unknown bucket or writing outside its endpoint's prefixes, with {@link InvalidInput}
   * naming the field ({@code inputs.<name>} or {@code output}) and the rule.
   */
  public void check(JobSpec spec) {
    spec.inputs().forEach((name, ref) -> checkBucket("inputs." + name, ref));
    checkBucket("output", spec.output());
    List<String> allowed = outputPrefixes.getOrDefault(spec.endpoint(), List.of(""));
    if (allowed.stream().noneMatch(prefix -> spec.output().key().startsWith(prefix))) {
      throw new InvalidInput("invalid_object_uri", "'output': " + spec.output() + " is not under the prefixes endpoint "
          + spec.endpoint() + " writes to " + allowed + " (rule: output-prefix; setting warmgate.endpoints."
          + spec.endpoint() + ".output-prefixes)");
    }
  }

  private void checkBucket(String field, ObjectRef ref) {
    if (!anyBucket && !buckets.contains(ref.bucket())) {
      throw new InvalidInput("invalid_object_uri", "'" + field + "': bucket '" + ref.bucket() + "' is not one the "
          + "configuration knows " + new TreeSet<>(buckets) + " (rule: bucket-known; a route's bucket, or an "
          + "endpoint's buckets setting)");
    }
  }
}
