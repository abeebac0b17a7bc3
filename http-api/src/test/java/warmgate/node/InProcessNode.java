package warmgate.node;

import com.typesafe.config.Config;
import com.typesafe.config.ConfigFactory;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.time.Clock;
import java.time.Duration;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.TimeUnit;
import java.util.function.Function;
import org.apache.pekko.actor.typed.ActorSystem;
import org.apache.pekko.actor.typed.javadsl.Behaviors;
import warmgate.auth.TestTokens;
import warmgate.config.EndpointSettings;
import warmgate.endpoint.Endpoints;
import warmgate.endpoint.FakeProvider;
import warmgate.endpoint.ManagedEndpoint;
import warmgate.ingest.RouteTable;
import warmgate.ingest.sns.SnsRoutes;
import warmgate.persistence.DatabaseSettings;
import warmgate.provider.EndpointProvider;
import warmgate.provider.InferenceClient;
import warmgate.provider.ProviderState.Status;
import warmgate.testing.InMemoryBlobStore;

/**
 * A real node started in the test's JVM through {@link Main#init}: H2 journal in the test's folder, sharded
 * entities, read side, real HTTP on loopback, tokens of {@link TestTokens}; an in-memory bucket, a provider the
 * test puts in service ({@link #provider}) and a model that answers every invocation at once.
 */
public final class InProcessNode implements AutoCloseable {
  public final FakeProvider provider = new FakeProvider();
  public final InMemoryBlobStore blobs = new InMemoryBlobStore();
  public final ActorSystem<Void> system;
  public final Main.Node node;
  /** {@code http://127.0.0.1:<port>} */
  public final String base;
  private final HttpClient http = HttpClient.newHttpClient();

  private static final InferenceClient INSTANT_MODEL = (contentType, body) -> CompletableFuture.completedFuture(
      new InferenceClient.InferenceResponse("ply\n".getBytes(StandardCharsets.US_ASCII), "application/octet-stream"));

  /**
   * @param settings added to (and overriding) the quick defaults
   * @param sns the SNS route to mount; null: the one the configuration describes
   */
  public static InProcessNode start(Path dataDir, Map<String, Object> settings, SnsRoutes sns,
      boolean inServiceFromStart) {
    return new InProcessNode(dataDir, settings, sns, inServiceFromStart, p -> p, INSTANT_MODEL);
  }

  /**
   * A node whose lifecycle calls {@code wrap(provider)} instead of {@link #provider} itself, and whose invocations
   * {@code model} answers: for tests that put faults between the lifecycle and the provider's truth.
   */
  public static InProcessNode start(Path dataDir, Map<String, Object> settings, Function<FakeProvider,
      EndpointProvider> wrap,
      InferenceClient model) {
    return new InProcessNode(dataDir, settings, null, false, wrap, model);
  }

  private InProcessNode(Path dataDir, Map<String, Object> extra, SnsRoutes sns, boolean inServiceFromStart,
      Function<FakeProvider, EndpointProvider> wrap, InferenceClient model) {
    Map<String, Object> settings = new HashMap<>();
    settings.put("warmgate.data-dir", dataDir.toString());
    settings.put("warmgate.http.port", 0);
    settings.put("pekko.remote.artery.canonical.port", 0);
    settings.put("warmgate.auth.tokens", TestTokens.entries());
    settings.put("warmgate.blob-store.local.watch-interval", "0s"); // the bucket is in memory
    settings.put("warmgate.endpoint-defaults.status-poll-interval", "100ms");
    settings.put("warmgate.request.inputs-check-interval", "100ms");
    settings.put("warmgate.request.acquire-interval", "300ms");
    settings.putAll(extra);
    Config config = DatabaseSettings.applyTo(ConfigFactory.load(
        ConfigFactory.parseMap(settings).withFallback(ConfigFactory.parseResourcesAnySyntax("application"))));
    system = ActorSystem.create(Behaviors.empty(), "warmgate", config);
    try {
      Config warmgate = config.getConfig("warmgate");
      if (inServiceFromStart) {
        provider.set(Status.IN_SERVICE);
      }
      EndpointProvider lifecycleProvider = wrap.apply(provider);
      Endpoints endpoints = Endpoints.bind(EndpointSettings.fromConfig(warmgate), s -> new ManagedEndpoint(s,
          lifecycleProvider, model));
      var deps = new Main.Deps(blobs, endpoints, RouteTable.fromConfig(warmgate, endpoints.names()), Clock.systemUTC(),
          List.of());
      node = sns == null ? Main.init(system, deps) : Main.init(system, deps, sns);
      base = "http://127.0.0.1:" + node.binding().toCompletableFuture().join().localAddress().getPort();
    } catch (RuntimeException e) {
      close();
      throw e;
    }
  }

  /** One request with an optional body and bearer token (null: none). */
  public HttpResponse<String> send(String method, String path, String body, String token) throws Exception {
    var builder = HttpRequest.newBuilder(URI.create(base + path))
        .method(method, body == null ? HttpRequest.BodyPublishers.noBody() : HttpRequest.BodyPublishers.ofString(body));
    if (token != null) {
      builder.header("Authorization", "Bearer " + token);
    }
    return http.send(builder.build(), HttpResponse.BodyHandlers.ofString());
  }

  /** A POST of raw bytes with the given headers. */
  public HttpResponse<String> post(String path, byte[] body, Map<String, String> headers) throws Exception {
    var builder = HttpRequest.newBuilder(URI.create(base + path)).POST(HttpRequest.BodyPublishers.ofByteArray(body));
    headers.forEach(builder::header);
    return http.send(builder.build(), HttpResponse.BodyHandlers.ofString());
  }

  public interface Check {
    void run() throws Exception;
  }

  /** Tries {@code check} until it passes or {@code timeout} is over; the last failure is the test's. */
  public static void await(Duration timeout, Check check) throws Exception {
    long deadline = System.nanoTime() + timeout.toNanos();
    while (true) {
      try {
        check.run();
        return;
      } catch (AssertionError e) {
        if (System.nanoTime() > deadline) {
          throw e;
        }
        Thread.sleep(100);
      }
    }
  }

  @Override
  public void close() {
    system.terminate();
    system.getWhenTerminated().toCompletableFuture().orTimeout(30, TimeUnit.SECONDS).join();
  }
}
