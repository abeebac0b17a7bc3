package warmgate.endpoint;

import java.util.Comparator;
import java.util.Iterator;
import java.util.NoSuchElementException;
import java.util.TreeSet;

/**
 * One owner's line of waiting places of one priority, in {@link WaitLine}'s order: its first {@code frontSize} places
 * in a tree, the rest behind them in a {@link PlaceHeap}. Plain state, no actor.
 *
 * <p>The two parts serve the two ways a line is used. The endpoint looks at its head after every grant, and walks a
 * few rounds of slots in order to call jobs back before their turn ({@link WaitLine#ahead}): a tree does both in a step
 * per place. A restart enlists a whole backlog in random order, and a long queue takes every new job at its end: a
 * heap takes either in a couple of comparisons and one array slot, where a tree of a million places walked twenty
 * scattered nodes and allocated an entry per place. So the tree holds the front, which is all a walk usually reaches,
 * and the heap feeds it a place each time one leaves. A line shorter than the front is a tree alone, as it always was.
 */
final class PlaceLine implements Iterable<WaitLine.Place> {

  /** Places in the tree: more than the longest walk ahead of a few rounds of slots reaches. */
  static final int FRONT = 4096;

  private final Comparator<WaitLine.Place> order;
  private final int frontSize;
  /** The first places of the line: every one comes before every place of {@code back}. */
  private final TreeSet<WaitLine.Place> front;
  private final PlaceHeap back;

  PlaceLine(Comparator<WaitLine.Place> order) {
    this(order, FRONT);
  }

  /** @param frontSize places kept in the tree (small in tests, to cross the boundary often) */
  PlaceLine(Comparator<WaitLine.Place> order, int frontSize) {
    this.order = order;
    this.frontSize = frontSize;
    this.front = new TreeSet<>(order);
    this.back = new PlaceHeap(order);
  }

  int size() {
    return front.size() + back.size();
  }

  boolean isEmpty() {
    return front.isEmpty(); // the front is refilled from the back whenever it has room
  }

  /** Adds a place that is not in the line (each place is unique: its {@code seq} is). */
  void add(WaitLine.Place place) {
    if (back.isEmpty() && front.size() < frontSize) {
      front.add(place);
    } else if (!front.isEmpty() && order.compare(place, front.last()) < 0) {
      front.add(place);
      if (front.size() > frontSize) {
        back.add(front.pollLast()); // it came before every place behind it
      }
    } else {
      back.add(place);
      refill();
    }
  }

  /** Takes a place that is in the line out of it. */
  void remove(WaitLine.Place place) {
    if (!front.remove(place)) {
      back.remove(place);
    }
    refill();
  }

  /** The first place, or null when the line is empty. */
  WaitLine.Place peek() {
    return front.isEmpty() ? null : front.first();
  }

  private void refill() {
    while (front.size() < frontSize && !back.isEmpty()) {
      front.add(back.poll());
    }
  }

  /** The places in the line's order, without taking them: the tree's, then the heap's (a slower walk). */
  @Override
  public Iterator<WaitLine.Place> iterator() {
    Iterator<WaitLine.Place> first = front.iterator();
    return new Iterator<>() {
      Iterator<WaitLine.Place> then;

      @Override
      public boolean hasNext() {
        if (first.hasNext()) {
          return true;
        }
        if (then == null) {
          then = back.iterator();
        }
        return then.hasNext();
      }

      @Override
      public WaitLine.Place next() {
        if (!hasNext()) {
          throw new NoSuchElementException();
        }
        return first.hasNext() ? first.next() : then.next();
      }
    };
  }
}
