package warmgate.endpoint;

import java.util.Arrays;
import java.util.Comparator;
import java.util.HashSet;
import java.util.Iterator;
import java.util.NoSuchElementException;
import java.util.PriorityQueue;
import java.util.Set;

/**
 * Waiting places, smallest first in the line's order: a binary heap in one array, whose removals from the middle are
 * marked and dropped once they come to the head. Plain state, no actor: the back of a {@link PlaceLine}.
 *
 * <p>Why a heap: after a restart the waker enlists every queued job in the order of its id, not of its place, so each
 * place lands somewhere random in its line. A tree walks some twenty nodes scattered over the heap for each and
 * allocates an entry for it (40 B); this heap takes a place in about two comparisons on average and holds it as one
 * array slot. Walking it in order costs more than walking a tree, which is why a line keeps its first places in one.
 */
final class PlaceHeap implements Iterable<WaitLine.Place> {

  private static final int INITIAL = 16;

  private final Comparator<WaitLine.Place> order;
  private WaitLine.Place[] heap = new WaitLine.Place[INITIAL];
  /** Slots of {@code heap} in use, the marked ones included. */
  private int used;
  /** Places taken out but still in {@code heap}: skipped, and dropped when they come to the head. */
  private final Set<WaitLine.Place> removed = new HashSet<>();

  PlaceHeap(Comparator<WaitLine.Place> order) {
    this.order = order;
  }

  int size() {
    return used - removed.size();
  }

  boolean isEmpty() {
    return size() == 0;
  }

  /** Adds a place that is not in the line (each place is unique: its {@code seq} is). */
  void add(WaitLine.Place place) {
    if (removed.remove(place)) {
      return; // taken out and put back before it came to the head: it never left the array
    }
    if (used == heap.length) {
      heap = Arrays.copyOf(heap, heap.length * 2);
    }
    heap[used] = place;
    siftUp(used++);
  }

  /** Takes a place that is in the line out of it. */
  void remove(WaitLine.Place place) {
    if (used > 0 && heap[0] == place) {
      poll();
    } else {
      removed.add(place); // not the head, which is never a marked place: it waits there until it is
    }
  }

  /** The first place, or null when the line is empty. */
  WaitLine.Place peek() {
    return used == 0 ? null : heap[0];
  }

  /** Takes the first place out of the line and answers it; null when the line is empty. */
  WaitLine.Place poll() {
    if (used == 0) {
      return null;
    }
    WaitLine.Place head = heap[0];
    takeHead();
    dropRemovedHeads();
    if (removed.isEmpty() && used == 0) {
      heap = new WaitLine.Place[INITIAL]; // a line that held a million gives its array back once it is empty
    } else if (heap.length > 1024 && used < heap.length / 4) {
      heap = Arrays.copyOf(heap, heap.length / 2);
    }
    return head;
  }

  private void dropRemovedHeads() {
    while (used > 0 && removed.remove(heap[0])) {
      takeHead();
    }
  }

  private void takeHead() {
    WaitLine.Place last = heap[--used];
    heap[used] = null;
    if (used > 0) {
      heap[0] = last;
      siftDown(0);
    }
  }

  private void siftUp(int i) {
    WaitLine.Place place = heap[i];
    while (i > 0) {
      int parent = (i - 1) >>> 1;
      if (order.compare(place, heap[parent]) >= 0) {
        break;
      }
      heap[i] = heap[parent];
      i = parent;
    }
    heap[i] = place;
  }

  private void siftDown(int i) {
    WaitLine.Place place = heap[i];
    int half = used >>> 1;
    while (i < half) {
      int child = 2 * i + 1;
      int right = child + 1;
      if (right < used && order.compare(heap[right], heap[child]) < 0) {
        child = right;
      }
      if (order.compare(place, heap[child]) <= 0) {
        break;
      }
      heap[i] = heap[child];
      i = child;
    }
    heap[i] = place;
  }

  /**
   * The places in the line's order, without taking them: a walk from the head that keeps the frontier of the heap's
   * slots not yet visited in order, so the first k places cost about k log k, whatever the line's length.
   */
  @Override
  public Iterator<WaitLine.Place> iterator() {
    PriorityQueue<Integer> frontier = new PriorityQueue<>((a, b) -> order.compare(heap[a], heap[b]));
    if (used > 0) {
      frontier.add(0);
    }
    return new Iterator<>() {
      WaitLine.Place next = advance();

      private WaitLine.Place advance() {
        while (!frontier.isEmpty()) {
          int i = frontier.poll();
          for (int child = 2 * i + 1; child <= 2 * i + 2 && child < used; child++) {
            frontier.add(child);
          }
          if (!removed.contains(heap[i])) {
            return heap[i];
          }
        }
        return null;
      }

      @Override
      public boolean hasNext() {
        return next != null;
      }

      @Override
      public WaitLine.Place next() {
        if (next == null) {
          throw new NoSuchElementException();
        }
        WaitLine.Place current = next;
        next = advance();
        return current;
      }
    };
  }
}
