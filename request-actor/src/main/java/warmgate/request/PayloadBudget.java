package warmgate.request;

import com.typesafe.config.Config;
import java.util.ArrayDeque;
import java.util.Deque;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.CompletionStage;
import java.util.concurrent.atomic.AtomicBoolean;

/**
 * The payload bytes one node lets its attempts have in flight at once. An attempt takes its inputs' size from the
 * budget before it reads a byte and gives it back when it ends, so however many slots the node's endpoints grant,
 * {@code max-concurrency} times the input size never passes it. Attempts wait in arrival order: a large one is not
 * overtaken for ever by small ones. One asking for more than the whole budget is given the whole budget, and so
 * runs alone; the endpoint's {@code max-input-bytes} is what refuses inputs that are too large.
 */
public final class PayloadBudget {
  private final long capacity;
  private final Deque<Waiter> waiting = new ArrayDeque<>();
  private long inUse;
  private long waits;
  private long waitedNanos;

  /** @param capacity the bytes in flight at most; at least 1 */
  public PayloadBudget(long capacity) {
    if (capacity < 1) {
      throw new IllegalArgumentException("the payload budget must be at least 1 byte: " + capacity);
    }
    this.capacity = capacity;
  }

  /** A budget that never makes anyone wait. */
  public static PayloadBudget unbounded() {
    return new PayloadBudget(Long.MAX_VALUE);
  }

  /** {@code share} of the heap this JVM may grow to ({@code -Xmx}). */
  public static PayloadBudget shareOfHeap(double share) {
    if (!(share > 0 && share <= 1)) {
      throw new IllegalArgumentException("the payload budget's share of the heap must be in (0, 1]: " + share);
    }
    return new PayloadBudget(Math.max(1, (long) (Runtime.getRuntime().maxMemory() * share)));
  }

  /**
   * {@code warmgate.request.payload-budget}: a share of the heap ({@code "25%"}) or a size ({@code "512m"}).
   */
  public static PayloadBudget fromConfig(Config request) {
    String value = request.getString("payload-budget").strip();
    if (value.endsWith("%")) {
      try {
        return shareOfHeap(Double.parseDouble(value.substring(0, value.length() - 1)) / 100);
      } catch (NumberFormatException e) {
        throw new IllegalArgumentException("warmgate.request.payload-budget: '" + value + "' is not a percentage");
      }
    }
    return new PayloadBudget(request.getBytes("payload-budget"));
  }

  /** The bytes {@code bytes} takes from this budget: all of it at most. */
  public long charge(long bytes) {
    return Math.max(0, Math.min(bytes, capacity));
  }

  /** Completes once {@code bytes} (at most the whole budget) are this caller's; close the lease to give them back. */
  public CompletionStage<Lease> acquire(long bytes) {
    long charge = charge(bytes);
    synchronized (this) {
      if (waiting.isEmpty() && inUse + charge <= capacity) {
        inUse += charge;
        return CompletableFuture.completedFuture(new Lease(charge));
      }
      Waiter waiter = new Waiter(charge, System.nanoTime(), new CompletableFuture<>());
      waiting.addLast(waiter);
      waits++;
      return waiter.granted;
    }
  }

  private void release(long bytes) {
    java.util.List<Waiter> granted = new java.util.ArrayList<>();
    synchronized (this) {
      inUse -= bytes;
      while (!waiting.isEmpty() && inUse + waiting.peekFirst().charge <= capacity) {
        Waiter next = waiting.removeFirst();
        inUse += next.charge;
        waitedNanos += System.nanoTime() - next.since;
        granted.add(next);
      }
    }
    // Completed outside the lock: a waiter's continuation may run here and ask again.
    granted.forEach(w -> w.granted.complete(new Lease(w.charge)));
  }

  public long capacity() {
    return capacity;
  }

  public synchronized long inUse() {
    return inUse;
  }

  /** Attempts waiting for their share now. */
  public synchronized int waiting() {
    return waiting.size();
  }

  /** Attempts that had to wait for their share, since the node started. */
  public synchronized long waits() {
    return waits;
  }

  /** How long attempts waited for their share, together, since the node started (those still waiting not yet). */
  public synchronized double waitedSeconds() {
    return waitedNanos / 1e9;
  }

  private record Waiter(long charge, long since, CompletableFuture<Lease> granted) {}

  /** Bytes taken from the budget; closing gives them back, once. */
  public final class Lease implements AutoCloseable {
    private final long bytes;
    private final AtomicBoolean open = new AtomicBoolean(true);

    private Lease(long bytes) {
      this.bytes = bytes;
    }

    public long bytes() {
      return bytes;
    }

    @Override
    public void close() {
      if (open.compareAndSet(true, false)) {
        release(bytes);
      }
    }
  }
}
