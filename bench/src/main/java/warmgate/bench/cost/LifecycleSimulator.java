package warmgate.bench.cost;

import java.time.Instant;
import java.util.ArrayDeque;
import java.util.Arrays;
import java.util.PriorityQueue;
import warmgate.endpoint.EndpointLifecycle;
import warmgate.endpoint.EndpointLifecycle.CameIntoService;
import warmgate.endpoint.EndpointLifecycle.Ledger;
import warmgate.endpoint.EndpointLifecycle.Phase;
import warmgate.endpoint.EndpointLifecycle.StartRequested;
import warmgate.endpoint.EndpointLifecycle.StopRequested;
import warmgate.endpoint.EndpointLifecycle.Stopped;
import warmgate.endpoint.EndpointLifecycle.Warm;

/**
 * One endpoint living through a {@link Trace} on a simulated clock (milliseconds), making the lifecycle's moves:
 * the first job starts a cold endpoint, jobs wait while it starts (or stops), at most {@code concurrency} run at
 * once, and once nothing is queued or running the caller says how long it stays warm ({@link #keepWarmFor}). Its
 * state is the lifecycle's own: every transition is an {@link EndpointLifecycle.Event} folded with
 * {@link EndpointLifecycle#next}, so billing is the entity's ledger, not a formula of this class.
 *
 * <p>With warm-up hints (a route's {@code warm-on-first-input}: a job whose image is there but not yet its mask), each
 * hint does what {@code EndpointCommand.WarmUp} does to the entity: a cold endpoint starts (taking the hinting job's
 * drawn start), a warm idle one counts its idle time from the hint, a starting or stopping one ignores it. A hint
 * holds no slot, and the keep-warm policy does not hear of it (the gap it learns still ends at the job's ask).
 *
 * <p>Same-instant events are taken in this order: a job ends, a start completes, a stop completes, a job arrives,
 * a hint arrives, the keep-warm time runs out (a job or hint arriving exactly then finds the endpoint warm).
 */
final class LifecycleSimulator {
  static final long FOREVER = Long.MAX_VALUE / 4;

  private final Trace trace;
  private final int concurrency;
  private final long stopMillis;
  private final Arrivals arrivals;
  private final long[] hints;
  private final long[] hintColdStart;

  private long now;
  private int next;
  private int nextHint;
  private long lastWarmUp = -1;
  private long keepWarmMillis;
  private EndpointLifecycle.State state;
  private final ArrayDeque<Integer> waiting = new ArrayDeque<>();
  private final PriorityQueue<Long> running = new PriorityQueue<>();
  private long lastActivity;
  private boolean gapMeasurable;
  private long phaseEndsAt;
  private long idleDeadline = -1;
  private final long[] waits;
  private long waitedMillis;
  private int coldStarts;

  private LifecycleSimulator(Trace trace, int concurrency, long stopMillis, Arrivals arrivals, long now, int next,
      EndpointLifecycle.State state, long[] hints, long[] hintColdStart) {
    if (hints.length != hintColdStart.length) {
      throw new IllegalArgumentException("one cold start per hint");
    }
    this.trace = trace;
    this.concurrency = concurrency;
    this.stopMillis = stopMillis;
    this.arrivals = arrivals;
    this.hints = hints;
    this.hintColdStart = hintColdStart;
    this.now = now;
    this.next = next;
    this.state = state;
    this.lastActivity = now;
    this.waits = new long[trace.jobs()];
    Arrays.fill(waits, -1);
  }

  /** Hears each job's arrival as the lifecycle's keep-warm policy does. */
  interface Arrivals {
    Arrivals NONE = (at, idleGap) -> {};

    /** @param idleGap how long nothing was queued or running before this job; -1 if something was, or unknown */
    void arrived(long at, long idleGap);
  }

  /** A cold endpoint before the trace's first job. */
  static LifecycleSimulator cold(Trace trace, int concurrency, long stopMillis, Arrivals arrivals) {
    return cold(trace, concurrency, stopMillis, arrivals, new long[0], new long[0]);
  }

  /**
   * A cold endpoint before the trace's first job that also hears warm-up hints.
   *
   * @param hints sorted times at which a job waiting for its mask asks the endpoint to warm up
   * @param hintColdStart per hint, how long a start it triggers takes
   */
  static LifecycleSimulator cold(Trace trace, int concurrency, long stopMillis, Arrivals arrivals, long[] hints,
      long[] hintColdStart) {
    return new LifecycleSimulator(trace, concurrency, stopMillis, arrivals, 0, 0, EndpointLifecycle.initialState(),
        hints, hintColdStart);
  }

  /**
   * A warm idle endpoint at {@code at}, the next job to arrive being {@code next}, billed from {@code at} on: the
   * branch point of the offline optimum, and (at 0, 0, kept warm for ever) the always-warm baseline.
   */
  static LifecycleSimulator warmIdle(Trace trace, int concurrency, long stopMillis, int next, long at) {
    return new LifecycleSimulator(trace, concurrency, stopMillis, Arrivals.NONE, at, next,
        new Warm(Instant.ofEpochMilli(at), new Ledger(0, Instant.ofEpochMilli(at))), new long[0], new long[0]);
  }

  /**
   * Runs until the endpoint is warm with nothing queued or running and needs to be told how long to stay so
   * (true), or until the trace is over and the endpoint cold (false).
   */
  boolean runToIdle() {
    while (true) {
      if (state.phase() == Phase.WARM && idle() && idleDeadline < 0) {
        return true;
      }
      long jobEnds = running.isEmpty() ? Long.MAX_VALUE : running.peek();
      long phaseEnds = state.phase() == Phase.STARTING || state.phase() == Phase.STOPPING ? phaseEndsAt
          : Long.MAX_VALUE;
      long arrives = next < trace.jobs() ? trace.arrivals()[next] : Long.MAX_VALUE;
      long hinted = nextHint < hints.length ? hints[nextHint] : Long.MAX_VALUE;
      long deadline = state.phase() == Phase.WARM && idle() ? idleDeadline : Long.MAX_VALUE;
      long first = Math.min(Math.min(Math.min(jobEnds, phaseEnds), Math.min(arrives, hinted)), deadline);
      if (first == Long.MAX_VALUE) {
        return false;
      }
      now = first;
      if (jobEnds == first) {
        running.poll();
        lastActivity = now; // the job's Release
        dispatch();
      } else if (phaseEnds == first && state.phase() == Phase.STARTING) {
        fold(new CameIntoService(at(), "in service"));
        lastActivity = now;
        dispatch();
      } else if (phaseEnds == first) {
        fold(new Stopped(at(), "stopped"));
        if (!waiting.isEmpty()) {
          start();
        }
      } else if (arrives == first) {
        arrive();
      } else if (hinted == first) {
        hint();
      } else {
        fold(new StopRequested(at(), "idle"));
        phaseEndsAt = now + stopMillis;
        idleDeadline = -1;
      }
    }
  }

  /** Answers {@link #runToIdle()}: stay warm this long after the last job ended (at least until now). */
  void keepWarmFor(long millis) {
    keepWarmMillis = Math.min(millis, FOREVER);
    idleDeadline = Math.max(now, Math.max(lastActivity, lastWarmUp) + keepWarmMillis);
  }

  private void hint() {
    int k = nextHint++;
    lastWarmUp = now;
    if (state.phase() == Phase.COLD) {
      fold(new StartRequested(at(), "a job waits for an input (warm-on-first-input)"));
      phaseEndsAt = now + hintColdStart[k];
      coldStarts++;
    } else if (state.phase() == Phase.WARM && idle() && idleDeadline >= 0) {
      idleDeadline = Math.max(idleDeadline, now + keepWarmMillis);
    }
  }

  private void arrive() {
    arrivals.arrived(now, idle() && gapMeasurable ? now - lastActivity : -1);
    gapMeasurable = true;
    lastActivity = now;
    idleDeadline = -1;
    waiting.add(next++);
    if (state.phase() == Phase.COLD) {
      start();
    } else if (state.phase() == Phase.WARM) {
      dispatch();
    }
  }

  private void start() {
    fold(new StartRequested(at(), "job asked for a slot"));
    phaseEndsAt = now + trace.coldStart()[waiting.peekFirst()];
    coldStarts++;
  }

  private void dispatch() {
    while (running.size() < concurrency && !waiting.isEmpty()) {
      int job = waiting.pollFirst();
      waits[job] = now - trace.arrivals()[job];
      waitedMillis += waits[job];
      running.add(now + trace.service()[job]);
    }
  }

  private boolean idle() {
    return waiting.isEmpty() && running.isEmpty();
  }

  private void fold(EndpointLifecycle.Event event) {
    state = EndpointLifecycle.next(state, event);
  }

  private Instant at() {
    return Instant.ofEpochMilli(now);
  }

  long now() {
    return now;
  }

  /** The next job to arrive; {@code trace.jobs()} when all have. */
  int nextArrival() {
    return next;
  }

  boolean traceOver() {
    return next >= trace.jobs();
  }

  /** Billed so far: the ledger's closed intervals plus its open one up to now. */
  long billedMillis() {
    Ledger ledger = state.ledger();
    return ledger.billedMillis() + (ledger.openSince() == null ? 0 : now - ledger.openSince().toEpochMilli());
  }

  EndpointLifecycle.State state() {
    return state;
  }

  /** Sum of every dispatched job's wait from its arrival to its slot. */
  long waitedMillis() {
    return waitedMillis;
  }

  /** Each job's wait for a slot; -1 for jobs not dispatched yet. */
  long[] waits() {
    return waits.clone();
  }

  int coldStarts() {
    return coldStarts;
  }
}
