package warmgate.node;

import static org.assertj.core.api.Assertions.assertThat;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.stream.Stream;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

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
  void aTrainingStartIgnoresTheConfigurationOfTheJvmItRunsIn(@TempDir Path dir) throws Exception {
    // What a node here could be configured with, as the pods are (-Dconfig.file): an endpoint on SageMaker, a
    // journal that cannot be reached, an S3 bucket. And a remoting port that is taken. The training start must use
    // none of them.
    Path conf = dir.resolve("node.conf");
    Files.writeString(conf, """
        include classpath("application.conf")
        warmgate.endpoints.gen3d.provider = sagemaker
        warmgate.database.url = "jdbc:postgresql://127.0.0.1:1/unreachable"
        warmgate.blob-store.kind = s3
        """);
    System.setProperty("config.file", conf.toString());
    System.setProperty("pekko.remote.artery.canonical.port", "1");
    com.typesafe.config.ConfigFactory.invalidateCaches();
    try {
      assertThat(com.typesafe.config.ConfigFactory.load().getString("warmgate.endpoints.gen3d.provider"))
          .as("what a node started here would run").isEqualTo("sagemaker");

      assertThat(ClassArchiveTraining.run().values()).containsOnly(200);
    } finally {
      System.clearProperty("config.file");
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
