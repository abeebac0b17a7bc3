package warmgate.endpoint;

import java.net.http.HttpClient;
import java.time.Duration;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.concurrent.Executor;
import warmgate.config.EndpointSettings;
import warmgate.provider.AsyncResultFormat;
import warmgate.provider.PushedStates;
import warmgate.provider.process.ProcessProvider;
import warmgate.provider.sagemaker.SageMakerAsyncProvider;
import warmgate.provider.sagemaker.SageMakerComponentProvider;
import warmgate.provider.sagemaker.SageMakerProvider;

/** The registry of provider kinds: binds each configured endpoint to its kind, and owns what the kinds share. */
public final class Providers implements AutoCloseable {
  /** Every kind an endpoint may name, by name; a new kind is one line here. */
  private static final Map<String, ProviderKind> KINDS = byName(List.of(
      new ProcessProvider(),
      new SageMakerProvider(),
      new SageMakerAsyncProvider(),
      new SageMakerComponentProvider()));

  /**
   * What every kind may use.
   *
   * @param blocking where providers may block (launching processes, waiting for them to exit)
   */
  public record Shared(Executor blocking, HttpClient http) {}

  private final Shared shared;
  private final Map<String, ProviderKind.Binder> binders = new LinkedHashMap<>();

  /** @param blocking where providers may block (launching processes, waiting for them to exit) */
  public Providers(Executor blocking) {
    this.shared = new Shared(blocking, HttpClient.newBuilder().connectTimeout(Duration.ofSeconds(2)).build());
  }

  /** The names an endpoint's {@code provider} may give. */
  public static Set<String> names() {
    return KINDS.keySet();
  }

  /** What the kinds whose platforms push state changes make of them, for the configured {@code endpoints}. */
  public static List<PushedStates> pushedStates(Endpoints endpoints) {
    List<PushedStates> pushed = new ArrayList<>();
    KINDS.values().forEach(kind -> kind.pushedStates(endpoints).ifPresent(pushed::add));
    return List.copyOf(pushed);
  }

  /** How the kinds with asynchronous invocations announce their results. */
  public static List<AsyncResultFormat> asyncResults() {
    List<AsyncResultFormat> formats = new ArrayList<>();
    KINDS.values().forEach(kind -> kind.asyncResults().ifPresent(formats::add));
    return List.copyOf(formats);
  }

  /**
   * @throws IllegalArgumentException when the endpoint names no known kind, or its kind's block is wrong
   */
  public synchronized ManagedEndpoint bind(EndpointSettings settings) {
    ProviderKind kind = KINDS.get(settings.provider());
    if (kind == null) {
      throw new IllegalArgumentException("endpoint " + settings.name() + ": provider '" + settings.provider()
          + "' is not one of " + names());
    }
    kind.validate(settings);
    return binders.computeIfAbsent(kind.name(), name -> kind.binder(shared)).bind(settings);
  }

  @Override
  public synchronized void close() {
    binders.values().forEach(ProviderKind.Binder::close);
  }

  private static Map<String, ProviderKind> byName(List<ProviderKind> kinds) {
    Map<String, ProviderKind> map = new LinkedHashMap<>();
    kinds.forEach(kind -> map.put(kind.name(), kind));
    return java.util.Collections.unmodifiableMap(map);
  }
}
