package warmgate.e2e;

import static org.assertj.core.api.Assertions.assertThat;

import java.net.InetAddress;
import java.net.ServerSocket;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import warmgate.auth.TestTokens;
import warmgate.cluster.StartFailed;

// Real child JVMs (`warmgate serve`) that cannot start, run as the image and the pods run them (exit-jvm on); no
// database server, no Kubernetes API.
class StartFailureIT {
  /** Long enough for a loaded machine to start a JVM and an actor system; a node that lingers fails well within. */
  private static final long EXIT_WITHIN_SECONDS = 60;

  @TempDir Path dataDir;
  private ChildNode node;

  @AfterEach
  void stop() throws InterruptedException {
    if (node != null) {
      node.process.destroyForcibly();
      node.process.waitFor(10, TimeUnit.SECONDS);
    }
  }

  @Test
  void nodeWithAuthenticationOnAndNoTokenExitsWithAFailureAndSaysWhy() throws Exception {
    node = launch("""
        warmgate.auth.enabled = on
        warmgate.auth.tokens = []
        """);

    assertExitsWithAFailure();
    assertThat(node.logText()).contains("Warmgate could not start").contains("warmgate.auth");
  }

  @Test
  void nodeWithKubernetesDiscoveryAndNoServiceAccountExitsWithAFailureAndSaysWhy() throws Exception {
    // The discovery settings of k8s/base/configmap.yaml; the service-account files are looked for in an empty
    // folder, as in a pod that has none mounted (automountServiceAccountToken: false, or no ServiceAccount).
    Path serviceAccount = Files.createDirectories(dataDir.resolve("serviceaccount"));
    node = launch("""
        warmgate.cluster.discovery = kubernetes-api
        pekko.management.cluster.bootstrap.contact-point-discovery.port-name = management
        pekko.management.cluster.bootstrap.contact-point-discovery.required-contact-point-nr = 3
        pekko.management.http.port = %d
        pekko.discovery.kubernetes-api {
          api-ca-path = "%s/ca.crt"
          api-token-path = "%s/token"
          pod-namespace-path = "%s/namespace"
        }
        """.formatted(Ports.free(), serviceAccount, serviceAccount, serviceAccount) + TestTokens.hocon());

    assertExitsWithAFailure();
    assertThat(node.logText()).contains("Warmgate could not start").contains("Cluster Bootstrap")
        .contains("ca.crt");
  }

  @Test
  void nodeWhoseManagementPortIsTakenExitsWithAFailureEvenWithExitJvmOff() throws Exception {
    try (ServerSocket taken = new ServerSocket(0, 50, InetAddress.getLoopbackAddress())) {
      // Found out after the node has started: Pekko Management binds asynchronously.
      node = launch("""
          pekko.coordinated-shutdown.exit-jvm = off
          warmgate.management.enabled = on
          pekko.management.http.port = %d
          """.formatted(taken.getLocalPort()) + TestTokens.hocon());

      assertExitsWithAFailure();
    }
    assertThat(node.logText()).contains("Pekko Management could not start; shutting down, exit status 1");
  }

  private ChildNode launch(String settings) throws Exception {
    int httpPort = Ports.free();
    Path conf = dataDir.resolve("node.conf");
    Files.writeString(conf, """
        include classpath("application.conf")
        warmgate.data-dir = "%s"
        warmgate.http.port = %d
        pekko.remote.artery.canonical.port = %d
        # As docker/Dockerfile and k8s/base/deployment.yaml run a node (WARMGATE_EXIT_JVM=on).
        pekko.coordinated-shutdown.exit-jvm = on
        """.formatted(dataDir, httpPort, Ports.free()) + settings);
    return ChildNode.launch(conf, httpPort, dataDir.resolve("node.log"));
  }

  private void assertExitsWithAFailure() throws InterruptedException {
    assertThat(node.process.waitFor(EXIT_WITHIN_SECONDS, TimeUnit.SECONDS))
        .as("the node ends its JVM instead of lingering half-started; log:\n%s", node.logTail()).isTrue();
    assertThat(node.process.exitValue()).as("exit status (docs/operations.md); log:\n%s", node.logTail())
        .isEqualTo(StartFailed.EXIT_STATUS);
  }
}
