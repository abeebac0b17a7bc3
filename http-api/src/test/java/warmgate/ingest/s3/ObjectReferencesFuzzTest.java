package warmgate.ingest.s3;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import com.code_intelligence.jazzer.junit.FuzzTest;
import java.nio.charset.CharacterCodingException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.util.Optional;
import warmgate.InvalidInput;
import warmgate.blob.local.LocalLayout;
import warmgate.job.ObjectKeys;
import warmgate.job.ObjectRef;

/**
 * No I/O (paths are computed, never opened): a fuzz target over object references. The normal build replays the
 * committed inputs under {@code ObjectReferencesFuzzTestInputs/objectReference/}; {@code JAZZER_FUZZ=1} fuzzes
 * (docs/testing.md). An input is a bucket, a newline, and a key, taken both as it is and URL-decoded as S3 events
 * carry it. The property: the one rule set ({@link ObjectKeys}) never throws, agrees with the parser of
 * {@code s3://} URIs, and a reference it accepts always maps to a file inside its bucket folder.
 */
class ObjectReferencesFuzzTest {
  private static final Path ROOT = Path.of("/nonexistent/warmgate-fuzz-root");

  @FuzzTest
  void objectReference(byte[] input) {
    String text = new String(input, StandardCharsets.UTF_8);
    int newline = text.indexOf('\n');
    String bucket = newline < 0 ? "gen3d" : text.substring(0, newline);
    String key = newline < 0 ? text : text.substring(newline + 1);
    holdsFor(bucket, key);
    try {
      holdsFor(bucket, S3EventParser.decodeKey(key));
    } catch (IllegalArgumentException | CharacterCodingException refusedAsS3Would) {
      // Malformed escapes and bytes that are not UTF-8: the parser's two documented refusals.
    }
  }

  private static void holdsFor(String bucket, String key) {
    Optional<ObjectKeys.Violation> violation = ObjectKeys.check(bucket, key);
    String uri = "s3://" + bucket + "/" + key;
    if (violation.isPresent()) {
      assertThat(violation.get().rule()).isNotBlank();
      if (!bucket.contains("/")) {
        assertThatThrownBy(() -> ObjectRef.parse("f", uri)).isInstanceOf(InvalidInput.class);
      }
      return;
    }
    assertThat(key.getBytes(StandardCharsets.UTF_8).length).isLessThanOrEqualTo(ObjectKeys.MAX_KEY_BYTES);
    assertThat(key.codePoints().noneMatch(Character::isISOControl)).isTrue();
    assertThat(key).doesNotStartWith("/");
    for (String segment : key.split("/", -1)) {
      assertThat(segment).isNotEmpty().isNotEqualTo(".").isNotEqualTo("..");
    }
    assertThat(ObjectRef.parse("f", uri)).isEqualTo(new ObjectRef(bucket, key));
    Path file = new LocalLayout(ROOT).object(new ObjectRef(bucket, key));
    assertThat(file.startsWith(ROOT.resolve(bucket))).as(file.toString()).isTrue();
    assertThat(file).isNotEqualTo(ROOT.resolve(bucket));
  }
}
