package warmgate.ingest;

import static org.assertj.core.api.Assertions.assertThat;

import java.util.List;
import org.junit.jupiter.api.Test;

// No I/O: of several uploads of one key that arrive together, only the newest starts a job.
class NewestUploadsTest {

  private static ObjectCreated upload(String key, String eTag, String sequencer) {
    return new ObjectCreated("gen3d", key, null, eTag, 1, sequencer, null);
  }

  @Test
  void keepsOnlyTheNewestUploadOfAKeyAndSaysWhyTheOthersStartNothing() {
    var old = upload("users/a/input/x_image.png", "e1", "0055AED6DCD90281E5");
    var newer = upload("users/a/input/x_image.png", "e2", "0055aed6dcd90281e6");
    var other = upload("users/a/input/y_image.png", "e3", "0055AED6DCD90281E4");

    var selection = NewestUploads.select(List.of(old, other, newer));

    assertThat(selection.newest()).containsExactly(other, newer);
    assertThat(selection.superseded()).singleElement().satisfies(skip -> {
      assertThat(skip.key()).isEqualTo("users/a/input/x_image.png");
      assertThat(skip.reason()).contains("superseded", "0055AED6DCD90281E6", "0055AED6DCD90281E5");
    });
  }

  @Test
  void comparesSequencersOfDifferentLengthsAsAwsDocuments() {
    var shortNewer = upload("k.png", "e1", "1");
    var longOlder = upload("k.png", "e2", "0FFFFFFFFFFFFFFFFF");

    var selection = NewestUploads.select(List.of(shortNewer, longOlder));

    assertThat(selection.newest()).containsExactly(shortNewer);
  }

  @Test
  void sameKeyInAnotherBucketIsAnotherObject() {
    var inA = new ObjectCreated("a", "k.png", null, "e1", 1, "01", null);
    var inB = new ObjectCreated("b", "k.png", null, "e2", 1, "02", null);

    assertThat(NewestUploads.select(List.of(inA, inB)).newest()).containsExactly(inA, inB);
  }

  @Test
  void uploadsThatCannotBeOrderedAreAllKept() {
    var withoutSequencer = upload("k.png", "e1", null);
    var withBadSequencer = upload("k.png", "e2", "not-hex");
    var withSequencer = upload("k.png", "e3", "0A");
    var sameSequencer = upload("k.png", "e3", "0a00");

    var selection = NewestUploads.select(List.of(withoutSequencer, withBadSequencer, withSequencer, sameSequencer));

    assertThat(selection.newest()).containsExactly(withoutSequencer, withBadSequencer, withSequencer, sameSequencer);
    assertThat(selection.superseded()).isEmpty();
  }
}
