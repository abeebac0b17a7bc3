package warmgate.job;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import org.junit.jupiter.api.Test;
import warmgate.InvalidInput;

// No I/O.
class ObjectRefTest {

  @Test
  void parsesAndPrintsS3Uri() {
    ObjectRef ref = ObjectRef.parse("s3://gen3d/users/a b/input/x.png");
    assertThat(ref).isEqualTo(new ObjectRef("gen3d", "users/a b/input/x.png"));
    assertThat(ref.toString()).isEqualTo("s3://gen3d/users/a b/input/x.png");
  }

  @Test
  void rejectsOtherSchemesMissingKeysAndBadBuckets() {
    for (String bad : new String[] {"http://b/k", "s3://bucket", "s3://bucket/", "s3:///k", "s3://B_AD/k",
        "s3://ab/k"}) {
      assertThatThrownBy(() -> ObjectRef.parse(bad)).as(bad).isInstanceOf(InvalidInput.class);
    }
    assertThatThrownBy(() -> ObjectRef.parse(null)).isInstanceOf(InvalidInput.class);
  }

  @Test
  void rejectsControlCharactersInKeys() {
    assertThatThrownBy(() -> ObjectRef.parse("s3://bucket/a\u0000b")).isInstanceOf(InvalidInput.class);
  }

  @Test
  void derivesBaseNameAndSiblings() {
    ObjectRef out = new ObjectRef("b", "users/u/output/cat.ply");
    assertThat(out.baseName()).isEqualTo("cat");
    assertThat(out.sibling("cat_error.json")).isEqualTo(new ObjectRef("b", "users/u/output/cat_error.json"));
  }
}
