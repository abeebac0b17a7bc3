package warmgate.node;

import static org.assertj.core.api.Assertions.assertThat;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.stream.Stream;
import org.junit.jupiter.api.Test;

class ClassArchiveTrainingTest {
  @Test
  void aTrainingStartAnswersEveryReadThroughItsEdgeAndLeavesNoFolderBehind() throws Exception {
    List<Path> before = trainingFolders();

    var answers = ClassArchiveTraining.run();

    assertThat(answers.keySet()).containsExactlyElementsOf(ClassArchiveTraining.READS);
    assertThat(answers.values()).containsOnly(200);
    assertThat(trainingFolders()).as("its temporary data folder is removed").isEqualTo(before);
  }

  @Test
  void aTrainingStartIgnoresTheEnvironmentsJournalPortsAndAuthentication() throws Exception {
    // What a node here would be configured with: a journal that cannot be reached, a port that is taken, tokens
    // required. The training start must use none of them.
    System.setProperty("warmgate.database.url", "jdbc:postgresql://127.0.0.1:1/unreachable");
    System.setProperty("warmgate.auth.enabled", "true");
    System.setProperty("pekko.remote.artery.canonical.port", "1");
    com.typesafe.config.ConfigFactory.invalidateCaches();
    try {
      assertThat(ClassArchiveTraining.run().values()).containsOnly(200);
    } finally {
      System.clearProperty("warmgate.database.url");
      System.clearProperty("warmgate.auth.enabled");
      System.clearProperty("pekko.remote.artery.canonical.port");
      com.typesafe.config.ConfigFactory.invalidateCaches();
    }
  }

  private static List<Path> trainingFolders() throws IOException {
    try (Stream<Path> all = Files.list(Path.of(System.getProperty("java.io.tmpdir")))) {
      return all.filter(p -> p.getFileName().toString().startsWith("warmgate-cds-training")).sorted().toList();
    }
  }
}
