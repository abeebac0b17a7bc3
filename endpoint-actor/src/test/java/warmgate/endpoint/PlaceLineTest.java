package warmgate.endpoint;

import static org.assertj.core.api.Assertions.assertThat;

import java.util.ArrayList;
import java.util.Comparator;
import java.util.List;
import java.util.Random;
import java.util.TreeSet;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.ValueSource;
import warmgate.job.Priority;

// A line against a TreeSet, which keeps the same order by construction; a small front crosses into the heap often.
class PlaceLineTest {
  private static final Comparator<WaitLine.Place> ORDER = Comparator.comparingLong(WaitLine.Place::since)
      .thenComparingLong(WaitLine.Place::seq);

  private static List<WaitLine.Place> walk(Iterable<WaitLine.Place> line) {
    List<WaitLine.Place> all = new ArrayList<>();
    line.forEach(all::add);
    return all;
  }

  @ParameterizedTest
  @ValueSource(ints = {1, 8, PlaceLine.FRONT})
  void placesComeOutInTheLinesOrderWhateverOrderTheyWentInAndWhateverLeftFromTheMiddle(int frontSize) {
    Random random = new Random(19);
    PlaceLine line = new PlaceLine(ORDER, frontSize);
    TreeSet<WaitLine.Place> model = new TreeSet<>(ORDER);
    long seq = 0;
    for (int step = 0; step < 20_000; step++) {
      int op = random.nextInt(10);
      if (op < 6 || model.isEmpty()) {
        // Out of order, as a restart enlists them, or at the end, as live jobs arrive; some in the same millisecond.
        long since = random.nextBoolean() ? random.nextInt(500) : 500 + seq;
        WaitLine.Place p = new WaitLine.Place("job-" + seq, "", Priority.INTERACTIVE, since, seq++);
        line.add(p);
        model.add(p);
      } else if (op < 8) {
        WaitLine.Place head = model.pollFirst();
        assertThat(line.peek()).isEqualTo(head);
        line.remove(head);
      } else {
        // One from anywhere in the line: withdrawn, or taken for an owner not at its limit.
        WaitLine.Place any = List.copyOf(model).get(random.nextInt(model.size()));
        model.remove(any);
        line.remove(any);
      }
      assertThat(line.size()).isEqualTo(model.size());
      assertThat(line.isEmpty()).isEqualTo(model.isEmpty());
      assertThat(line.peek()).isEqualTo(model.isEmpty() ? null : model.first());
      if (step % 500 == 0) {
        assertThat(walk(line)).containsExactlyElementsOf(model);
      }
    }
    assertThat(walk(line)).containsExactlyElementsOf(model);
  }
}
