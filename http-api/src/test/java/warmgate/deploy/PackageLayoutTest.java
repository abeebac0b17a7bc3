package warmgate.deploy;

import static org.assertj.core.api.Assertions.assertThat;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.TreeMap;
import java.util.TreeSet;
import java.util.stream.Stream;
import org.junit.jupiter.api.Test;

// Reads the repository's source folders; no build output.
class PackageLayoutTest {
  private static final List<String> MODULES = List.of("core", "endpoint-actor", "request-actor", "http-api", "bench");

  /**
   * One package, one home: a concept found in two modules sends a reader to both, and the module that owns the
   * package is the one its tests live in.
   */
  @Test
  void noPackageIsSplitAcrossModules() throws IOException {
    Map<String, Set<String>> modulesByPackage = new TreeMap<>();
    for (String module : MODULES) {
      for (String kind : List.of("main", "test")) {
        Path sources = Repo.root().resolve(module).resolve("src").resolve(kind).resolve("java");
        if (!Files.isDirectory(sources)) {
          continue;
        }
        try (Stream<Path> files = Files.walk(sources)) {
          files.filter(f -> f.toString().endsWith(".java")).forEach(f -> modulesByPackage
              .computeIfAbsent(sources.relativize(f.getParent()).toString().replace('/', '.'), p -> new TreeSet<>())
              .add(module));
        }
      }
    }

    assertThat(modulesByPackage).isNotEmpty();
    modulesByPackage.forEach((pkg, modules) -> assertThat(modules).as("modules holding package " + pkg).hasSize(1));
  }
}
