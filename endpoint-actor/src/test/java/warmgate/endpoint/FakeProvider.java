package warmgate.endpoint;

import java.util.List;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.CompletionStage;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.function.Consumer;
import warmgate.provider.EndpointProvider;
import warmgate.provider.ProviderState;
import warmgate.provider.ProviderState.Status;

/**
 * A provider whose endpoint state the test sets. Start moves an absent endpoint to CREATING and stop moves
 * it to ABSENT, as a cooperative provider would; the test decides when it is in service.
 */
public final class FakeProvider implements EndpointProvider {
  private volatile ProviderState state = ProviderState.of(Status.ABSENT);
  private volatile String failStartWith;
  private volatile boolean nodeLocal;
  private volatile List<String> configurations = List.of();
  private volatile Status afterStop = Status.ABSENT;
  /** The configuration of every start call, in order; "" for a start without one. */
  public final List<String> startedWith = new CopyOnWriteArrayList<>();
  public final AtomicInteger starts = new AtomicInteger();
  public final AtomicInteger stops = new AtomicInteger();
  public final AtomicInteger describes = new AtomicInteger();
  private final CopyOnWriteArrayList<Consumer<String>> watchers = new CopyOnWriteArrayList<>();

  public void set(Status status) {
    state = ProviderState.of(status);
  }

  public void set(ProviderState state) {
    this.state = state;
  }

  public Status status() {
    return state.status();
  }

  /** Tells the watchers the state changed, as a provider that learns of it by itself would; nothing pushes otherwise.
   * */
  public void push() {
    watchers.forEach(watcher -> watcher.accept(state.status().name()));
  }

  public int watchers() {
    return watchers.size();
  }

  @Override
  public Watch watch(Consumer<String> changed) {
    watchers.add(changed);
    return () -> watchers.remove(changed);
  }

  /** Makes it a provider of this node's own (a model process), which the lifecycle stops when it leaves the node. */
  public FakeProvider nodeLocal(boolean nodeLocal) {
    this.nodeLocal = nodeLocal;
    return this;
  }

  @Override
  public boolean nodeLocal() {
    return nodeLocal;
  }

  /** Makes every start call fail with this message; null makes them succeed again. */
  public void failStarts(String message) {
    failStartWith = message;
  }

  /** The configurations a start may use, tried in this order on a capacity shortage. */
  public FakeProvider configurations(String... names) {
    configurations = List.of(names);
    return this;
  }

  @Override
  public List<String> configurations() {
    return configurations;
  }

  /** What a stop leaves behind: ABSENT (the default), or DELETING to hold a delete until the test sets ABSENT. */
  public void stopsLeave(Status status) {
    afterStop = status;
  }

  @Override
  public CompletionStage<ProviderState> describe() {
    describes.incrementAndGet();
    return CompletableFuture.completedFuture(state);
  }

  @Override
  public CompletionStage<Void> start(String configuration) {
    CompletionStage<Void> started = begin();
    startedWith.add(configuration);
    return started;
  }

  @Override
  public CompletionStage<Void> start() {
    CompletionStage<Void> started = begin();
    startedWith.add("");
    return started;
  }

  private CompletionStage<Void> begin() {
    starts.incrementAndGet();
    if (failStartWith != null) {
      return CompletableFuture.failedFuture(new IllegalStateException(failStartWith));
    }
    if (state.status() == Status.ABSENT) {
      state = ProviderState.of(Status.CREATING);
    }
    return CompletableFuture.completedFuture(null);
  }

  @Override
  public CompletionStage<Void> stop() {
    stops.incrementAndGet();
    state = ProviderState.of(afterStop);
    return CompletableFuture.completedFuture(null);
  }
}
