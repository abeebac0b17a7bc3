package warmgate.ingest;

import com.typesafe.config.Config;
import com.typesafe.config.ConfigException;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.Set;
import warmgate.job.JobIds;
import warmgate.job.JobSpec;
import warmgate.job.ObjectKeys;
import warmgate.job.Priority;

/** The configured routes, tried in order; the first that matches an upload decides what it becomes. */
public final class RouteTable {
  private static final Map<String, Pipeline> PIPELINES = Map.of(Gen3dPipeline.NAME, new Gen3dPipeline());

  private final List<Route> routes;

  public RouteTable(List<Route> routes) {
    this.routes = List.copyOf(routes);
  }

  /**
   * Reads {@code warmgate.routes}, a list of {@code {name, bucket, prefix, suffix, endpoint, pipeline, require-review,
   * callback-url, priority, warm-on-first-input}}.
   *
   * @param endpoints the configured endpoint names; a route to any other is a configuration error
   */
  public static RouteTable fromConfig(Config warmgate, Set<String> endpoints) {
    List<Route> routes = new ArrayList<>();
    for (Config c : warmgate.getConfigList("routes")) {
      String name = c.getString("name");
      String endpoint = c.getString("endpoint");
      if (!endpoints.contains(endpoint)) {
        throw new IllegalArgumentException(
            "route " + name + " sends work to endpoint '" + endpoint + "', which is not under warmgate.endpoints "
                + endpoints);
      }
      String pipelineName = c.getString("pipeline");
      Pipeline pipeline = PIPELINES.get(pipelineName);
      if (pipeline == null) {
        throw new IllegalArgumentException(
            "route " + name + " names pipeline '" + pipelineName + "'; known pipelines are " + PIPELINES.keySet());
      }
      routes.add(
          new Route(
              name,
              c.getString("bucket"),
              c.hasPath("prefix") ? c.getString("prefix") : "",
              c.hasPath("suffix") ? c.getString("suffix") : "",
              endpoint,
              pipeline,
              c.hasPath("require-review") && c.getBoolean("require-review"),
              c.hasPath("callback-url") && !c.getString("callback-url").isBlank() ? c.getString("callback-url")
                  : null,
              priority(name, c),
              onOff(c, name, "warm-on-first-input")));
    }
    return new RouteTable(routes);
  }

  private static Priority priority(String route, Config c) {
    if (!c.hasPath("priority")) {
      return Priority.INTERACTIVE;
    }
    try {
      return Priority.parse(c.getString("priority"));
    } catch (IllegalArgumentException e) {
      throw new IllegalArgumentException("route " + route + ": " + e.getMessage(), e);
    }
  }

  /**
   * An optional on/off key of a route, off when absent. A value HOCON does not read as a boolean stops the node at
   * start with the route and the key named, rather than typesafe-config's bare type error.
   */
  private static boolean onOff(Config route, String name, String key) {
    if (!route.hasPath(key)) {
      return false;
    }
    try {
      return route.getBoolean(key);
    } catch (ConfigException.WrongType e) {
      throw new IllegalArgumentException("route " + name + ": " + key + " must be on or off (true/false, yes/no), not '"
          + route.getValue(key).unwrapped() + "'");
    }
  }

  public List<Route> routes() {
    return routes;
  }

  /**
   * The job {@code upload} starts, or why it starts none. A reference that breaks {@link ObjectKeys} is skipped
   * before any route sees it, whatever reported it: no job could ever read it (docs/api.md, "Object references").
   */
  public Routing route(ObjectCreated upload) {
    Optional<ObjectKeys.Violation> bad = ObjectKeys.check(upload.bucket(), upload.key());
    if (bad.isPresent()) {
      return new Routing.Refused(Skip.unroutable(upload.bucket(), upload.key(), "not a valid object reference: "
          + bad.get()));
    }
    for (Route route : routes) {
      if (route.matches(upload)) {
        Pipeline.Plan plan = route.pipeline().plan(route.endpoint(), upload);
        if (plan instanceof Pipeline.Run run) {
          String jobId = JobIds.forUpload(upload.bucket(), upload.key(), upload.versionId(), upload.eTag());
          return new Routing.Job(jobId, run.spec().withRouteOptions(route.requireReview(), route.callbackUrl(),
              route.priority(), route.warmOnFirstInput()));
        }
        Pipeline.Ignore ignore = (Pipeline.Ignore) plan;
        return new Routing.Skipped(new Skip(upload.bucket(), upload.key(), "route " + route.name() + ": "
            + ignore.reason()));
      }
    }
    return new Routing.Skipped(Skip.unroutable(upload.bucket(), upload.key(), "no route matches this bucket and key"));
  }

  /** What an upload becomes. */
  public sealed interface Routing {
    record Job(String jobId, JobSpec spec) implements Routing {}

    /** Nothing to do for it here: no route, or its pipeline starts no job for it. */
    record Skipped(Skip skip) implements Routing {}

    /** It can never be a job's object: a reference that breaks {@link ObjectKeys} or the {@link ObjectPolicy}. */
    record Refused(Skip skip) implements Routing {}
  }
}
