package warmgate.blob.local;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.time.Duration;
import java.util.Map;
import java.util.Optional;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.ValueSource;
import warmgate.config.BlobStoreSettings;

// The file-name encoding check: the encoding passed in, then a child JVM started under LC_ALL=C and under C.UTF-8.
class FileNameEncodingTest {

  @TempDir
  Path root;

  @Test
  void refusesAnAsciiFileNameEncodingNamingItTheLocaleVariablesAndTheFix() {
    assertThatThrownBy(() -> FileNameEncoding.requireUtf8("ANSI_X3.4-1968"))
        .isInstanceOf(IllegalStateException.class)
        .hasMessageContaining("ANSI_X3.4-1968")
        .hasMessageContaining("warmgate.blob-store.kind = local")
        .hasMessageContaining("LC_ALL=")
        .hasMessageContaining("LANG=")
        .hasMessageContaining("start Warmgate with LC_ALL=C.UTF-8");
  }

  @ParameterizedTest
  @ValueSource(strings = {"UTF-8", "utf-8", "UTF8", "utf8"})
  void acceptsUtf8HoweverItIsSpelled(String encoding) {
    FileNameEncoding.requireUtf8(encoding);
  }

  @Test
  void thisJvmReadsFileNamesAsUtf8BecauseTheTestForksSetTheLocale() {
    assertThat(FileNameEncoding.current()).isEqualTo("UTF-8");
  }

  /** The child JVM: prints its file-name encoding, then creates a local blob store as Main does. */
  public static final class Child {
    public static void main(String[] args) {
      System.out.println("sun.jnu.encoding=" + FileNameEncoding.current());
      var settings = new BlobStoreSettings("local", Path.of(args[0]), Duration.ZERO, "us-east-1", Optional.empty(),
          false,
          Optional.empty(), Optional.empty());
      try {
        LocalBlobStore.create(settings.localRoot(), Runnable::run);
      } catch (IllegalStateException e) {
        System.err.println(e.getMessage());
        System.exit(1);
      }
      System.out.println("local blob store created");
    }
  }

  private record Run(int exit, String out, String err) {}

  private Run child(Map<String, String> locale) throws Exception {
    Path java = Path.of(System.getProperty("java.home"), "bin", "java");
    var builder = new ProcessBuilder(java.toString(), "-cp", System.getProperty("java.class.path"),
        Child.class.getName(), root.toString());
    builder.environment().keySet().removeIf(k -> k.equals("LANG") || k.startsWith("LC_"));
    builder.environment().putAll(locale);
    Process process = builder.start();
    assertThat(process.waitFor(60, TimeUnit.SECONDS)).isTrue();
    return new Run(process.exitValue(), new String(process.getInputStream().readAllBytes(), StandardCharsets.UTF_8),
        new String(process.getErrorStream().readAllBytes(), StandardCharsets.UTF_8));
  }

  @Test
  void localStoreRefusesToStartUnderThePosixLocaleAndSaysHowToFixIt() throws Exception {
    Run run = child(Map.of("LC_ALL", "C", "LANG", "C"));

    assertThat(run.out()).contains("sun.jnu.encoding=ANSI_X3.4-1968");
    assertThat(run.exit()).isNotZero();
    assertThat(run.err()).contains("The JVM reads file names as ANSI_X3.4-1968, not UTF-8")
        .contains("LC_ALL=C,").contains("LANG=C)").contains("start Warmgate with LC_ALL=C.UTF-8");
  }

  @Test
  void localStoreStartsUnderCUtf8() throws Exception {
    Run run = child(Map.of("LC_ALL", "C.UTF-8"));

    assertThat(run.exit()).as(run.err()).isZero();
    assertThat(run.out()).contains("sun.jnu.encoding=UTF-8").contains("local blob store created");
  }
}
