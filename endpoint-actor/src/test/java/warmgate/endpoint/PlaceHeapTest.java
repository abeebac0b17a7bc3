package warmgate.endpoint;

import static org.assertj.core.api.Assertions.assertThat;

import java.util.ArrayList;
import java.util.Comparator;
import java.util.List;
import java.util.Random;
import org.junit.jupiter.api.Test;
import warmgate.job.Priority;

// The heap alone; PlaceLineTest runs it against a TreeSet as the back of a line.
class PlaceHeapTest {
  private static final Comparator<WaitLine.Place> ORDER = Comparator.comparingLong(WaitLine.Place::since)
      .thenComparingLong(WaitLine.Place::seq);

  private static WaitLine.Place place(long since, long seq) {
    return new WaitLine.Place("job-" + seq, "", Priority.INTERACTIVE, since, seq);
  }

  private static List<WaitLine.Place> walk(Iterable<WaitLine.Place> line) {
    List<WaitLine.Place> all = new ArrayList<>();
    line.forEach(all::add);
    return all;
  }

  @Test
  void aMillionPlacesEnlistedInRandomOrderLeaveInTheirOrderAndTheEmptyLineForgetsThem() {
    PlaceHeap heap = new PlaceHeap(ORDER);
    Random random = new Random(7);
    int n = 1_000_000;
    for (int i = 0; i < n; i++) {
      heap.add(place(random.nextInt(3_600_000), i));
    }
    List<WaitLine.Place> firstTen = new ArrayList<>();
    for (java.util.Iterator<WaitLine.Place> it = heap.iterator(); firstTen.size() < 10; ) {
      firstTen.add(it.next());
    }
    List<WaitLine.Place> taken = new ArrayList<>();
    int outOfOrder = 0;
    for (int i = 0; i < n; i++) {
      WaitLine.Place head = heap.peek();
      if (!taken.isEmpty() && ORDER.compare(taken.get(taken.size() - 1), head) >= 0) {
        outOfOrder++;
      }
      heap.remove(head);
      taken.add(head);
    }
    assertThat(outOfOrder).isZero();
    assertThat(taken).hasSize(n).startsWith(firstTen.toArray(WaitLine.Place[]::new));
    assertThat(heap.isEmpty()).isTrue();
    assertThat(heap.peek()).isNull();
    assertThat(walk(heap)).isEmpty();
  }

  @Test
  void aPlaceTakenFromTheMiddleIsSkippedByTheWalkAndNeverComesToTheHead() {
    PlaceHeap heap = new PlaceHeap(ORDER);
    WaitLine.Place a = place(1, 0);
    WaitLine.Place b = place(2, 1);
    WaitLine.Place c = place(3, 2);
    heap.add(c);
    heap.add(a);
    heap.add(b);
    heap.remove(b);
    assertThat(walk(heap)).containsExactly(a, c);
    assertThat(heap.size()).isEqualTo(2);
    heap.remove(a);
    assertThat(heap.peek()).isEqualTo(c);
    heap.remove(c);
    assertThat(heap.isEmpty()).isTrue();
  }
}
