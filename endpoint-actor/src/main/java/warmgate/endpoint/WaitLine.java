package warmgate.endpoint;

import java.util.ArrayDeque;
import java.util.ArrayList;
import java.util.Comparator;
import java.util.HashMap;
import java.util.Iterator;
import java.util.List;
import java.util.Map;
import java.util.NoSuchElementException;
import java.util.function.Predicate;
import warmgate.config.QueueSettings;
import warmgate.job.Priority;

/**
 * The order in which an endpoint's waiting jobs get free slots. Plain state, no actor: {@link SlotQueue} asks it.
 *
 * <p><b>Fair share</b> ({@code queue.policy = fair}): each owner with jobs waiting has a share; the shares take
 * turns, deficit round robin with the owner's weight as its quantum and one slot as the cost of a job, so while
 * several owners wait, each gets slots in proportion to its weight however many jobs it queued. An owner at its
 * {@code max-in-flight} is passed over without losing its place. <b>FIFO</b>: one share for everybody, in arrival
 * order. <b>Priorities</b>, within a share: the next job is the one that arrived first, an interactive job counting
 * as having arrived {@code priority-ageing} earlier than it did; so interactive work goes first, and a batch job
 * goes before any interactive job that arrived more than that after it.
 */
final class WaitLine {

  /**
   * A waiting job's place: whose it is, how urgent, and since when it waits (epoch milliseconds). Within a line,
   * places are in the order of {@code since}, then of {@code seq}; so jobs enlisted from the journal after a restart
   * take their old places among each other whatever order they come back in.
   *
   * @param owner never null: a job without an owner shares with the others that have none
   * @param seq the queue's count of places made, unique: it orders jobs that arrived in the same millisecond
   */
  record Place(String jobId, String owner, Priority priority, long since, long seq) {}

  private static final Comparator<Place> ORDER = Comparator.comparingLong(Place::since)
      .thenComparingLong(Place::seq);

  private static final class Share {
    final String key;
    final double weight;
    final PlaceLine interactive = new PlaceLine(ORDER);
    final PlaceLine batch = new PlaceLine(ORDER);
    double deficit;
    boolean inTurn;

    Share(String key, double weight) {
      this.key = key;
      this.weight = weight;
    }

    boolean isEmpty() {
      return interactive.isEmpty() && batch.isEmpty();
    }

    PlaceLine line(Priority priority) {
      return priority == Priority.BATCH ? batch : interactive;
    }
  }

  private final QueueSettings settings;
  private final long ageingMillis;
  private final Map<String, Share> shares = new HashMap<>();
  /** Fair share only: the shares with jobs waiting, whose turn is at the head. */
  private final ArrayDeque<Share> turns = new ArrayDeque<>();
  private int size;

  WaitLine(QueueSettings settings) {
    this.settings = settings;
    this.ageingMillis = settings.priorityAgeing().toMillis();
  }

  int size() {
    return size;
  }

  /** Puts the job in its owner's line, at its place. */
  void add(Place place) {
    String key = shareKey(place.owner());
    Share share = shares.computeIfAbsent(key, k -> new Share(k, settings.share(k).weight()));
    share.line(place.priority()).add(place);
    size++;
    if (fair() && !share.inTurn) {
      share.inTurn = true;
      share.deficit = 0;
      turns.addLast(share);
    }
  }

  /** Takes the job out of the line; {@code place} must be in it, as {@link #add} put it. */
  void remove(Place place) {
    Share share = shares.get(shareKey(place.owner()));
    share.line(place.priority()).remove(place);
    size--;
    if (share.isEmpty()) {
      forget(share);
    }
  }

  /**
   * Takes the next job out of the line.
   *
   * @param mayRun whether an owner may be given another slot now (its {@code max-in-flight})
   * @return its id, or null when nobody waits or every owner waiting is at its limit
   */
  String next(Predicate<String> mayRun) {
    return fair() ? nextFair(mayRun) : nextIn(shares.get(""), mayRun);
  }

  private String nextFair(Predicate<String> mayRun) {
    int passedOver = 0;
    while (!turns.isEmpty() && passedOver < turns.size()) {
      Share share = turns.peekFirst();
      if (!mayRun.test(share.key)) {
        // Its turn goes to the next owner; it keeps its place in the rotation but builds up no credit meanwhile.
        share.deficit = 0;
        turns.addLast(turns.pollFirst());
        passedOver++;
        continue;
      }
      passedOver = 0;
      if (share.deficit < 1) {
        share.deficit += share.weight; // its turn starts: one quantum
        if (share.deficit < 1) {
          turns.addLast(turns.pollFirst()); // a weight below 1 saves up over several turns
          continue;
        }
      }
      String jobId = nextIn(share, owner -> true);
      share.deficit -= 1;
      if (share.isEmpty()) {
        forget(share);
      } else if (share.deficit < 1) {
        turns.addLast(turns.pollFirst());
      }
      return jobId;
    }
    return null;
  }

  /**
   * Up to {@code n} waiting jobs that {@code wanted} accepts, in about the order {@link #next} would take them: the
   * shares in their turn, one job of each at a time, each share's jobs in its own order. Not exact (weights and
   * credit are left out), which is enough for what it is for: calling back into memory the jobs whose slots come
   * soon. Looks at no more than {@code scan} places, so a line of many jobs nobody wants costs a bounded look.
   */
  List<String> ahead(int n, Predicate<String> wanted, int scan) {
    List<Iterator<Place>> heads = new ArrayList<>();
    for (Share share : fair() ? turns : shares.values()) {
      heads.add(inOrder(share));
    }
    List<String> found = new ArrayList<>();
    int looked = 0;
    while (found.size() < n && looked < scan && !heads.isEmpty()) {
      for (Iterator<Iterator<Place>> it = heads.iterator(); it.hasNext() && found.size() < n && looked < scan; ) {
        Iterator<Place> head = it.next();
        if (!head.hasNext()) {
          it.remove();
          continue;
        }
        String jobId = head.next().jobId();
        looked++;
        if (wanted.test(jobId)) {
          found.add(jobId);
        }
      }
    }
    return found;
  }

  /** A share's places in the order {@link #nextIn} takes them when every owner may run. */
  private Iterator<Place> inOrder(Share share) {
    Iterator<Place> interactive = share.interactive.iterator();
    Iterator<Place> batch = share.batch.iterator();
    return new Iterator<>() {
      Place i = interactive.hasNext() ? interactive.next() : null;
      Place b = batch.hasNext() ? batch.next() : null;

      @Override
      public boolean hasNext() {
        return i != null || b != null;
      }

      @Override
      public Place next() {
        if (i == null && b == null) {
          throw new NoSuchElementException();
        }
        Place chosen;
        if (i != null && (b == null || b.since() >= i.since() - ageingMillis)) {
          chosen = i;
          i = interactive.hasNext() ? interactive.next() : null;
        } else {
          chosen = b;
          b = batch.hasNext() ? batch.next() : null;
        }
        return chosen;
      }
    };
  }

  /** The share's next job by arrival, interactive ones counted {@code priority-ageing} early; null if none may run. */
  private String nextIn(Share share, Predicate<String> mayRun) {
    if (share == null) {
      return null;
    }
    Place interactive = first(share.interactive, mayRun);
    Place batch = first(share.batch, mayRun);
    Place chosen;
    if (interactive == null) {
      chosen = batch;
    } else if (batch == null) {
      chosen = interactive;
    } else {
      chosen = batch.since() < interactive.since() - ageingMillis ? batch : interactive;
    }
    if (chosen == null) {
      return null;
    }
    share.line(chosen.priority()).remove(chosen);
    size--;
    if (share.isEmpty() && !fair()) {
      forget(share);
    }
    return chosen.jobId();
  }

  /** The line's first job whose owner may run: the head, unless a FIFO line's head belongs to an owner at its limit. */
  private static Place first(PlaceLine line, Predicate<String> mayRun) {
    Place head = line.peek();
    if (head == null || mayRun.test(head.owner())) {
      return head; // the usual answer, without setting up a walk of the heap
    }
    for (Place place : line) {
      if (mayRun.test(place.owner())) {
        return place;
      }
    }
    return null;
  }

  private void forget(Share share) {
    shares.remove(share.key);
    if (share.inTurn) {
      turns.remove(share);
      share.inTurn = false;
    }
  }

  private boolean fair() {
    return settings.policy() == QueueSettings.Policy.FAIR;
  }

  private String shareKey(String owner) {
    return fair() ? owner : "";
  }
}
