package warmgate.bench.recovery;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import java.io.File;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Arrays;
import java.util.List;
import org.junit.jupiter.api.Test;

class RecoveryOptionsTest {
  @Test
  void theClassArchiveIsOnByDefaultAndEitherOrBothCanBeAskedFor() {
    assertThat(RecoveryBenchmark.Options.parse(new String[0]).archives()).containsExactly(true);
    assertThat(RecoveryBenchmark.Options.parse(new String[] {"--class-archive", "off,on"}).archives())
        .containsExactly(false, true);
    assertThat(RecoveryBenchmark.Options.parse(new String[] {"--class-archive", "off"}).archives())
        .containsExactly(false);
    assertThatThrownBy(() -> RecoveryBenchmark.Options.parse(new String[] {"--class-archive", "yes"}))
        .hasMessageContaining("--class-archive takes on, off or both: yes");
  }

  @Test
  void anotherBuildIsComparedOnlyWhenNamed() {
    assertThat(RecoveryBenchmark.Options.parse(new String[0]).compareWith()).isNull();
    assertThat(RecoveryBenchmark.Options.parse(new String[] {"--compare-with", "/x/bench/target/lib"}).compareWith())
        .isEqualTo(Path.of("/x/bench/target/lib"));
  }

  @Test
  void theNodesClassPathIsThisJvmsWithoutItsFoldersInTheSameOrder() {
    List<String> all = Arrays.asList(System.getProperty("java.class.path").split(File.pathSeparator));
    List<String> node = Arrays.asList(BenchNode.NODE_CLASS_PATH.split(File.pathSeparator));

    assertThat(all).anyMatch(e -> Files.isDirectory(Path.of(e))); // target/test-classes at least
    assertThat(node).noneMatch(e -> Files.isDirectory(Path.of(e)))
        .containsExactlyElementsOf(all.stream().filter(e -> !Files.isDirectory(Path.of(e))).toList())
        .isNotEmpty();
  }
}
