package warmgate.node;

import static org.assertj.core.api.Assertions.assertThatThrownBy;

import com.typesafe.config.ConfigFactory;
import java.nio.file.Path;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.concurrent.TimeUnit;
import org.apache.pekko.actor.typed.ActorSystem;
import org.apache.pekko.actor.typed.javadsl.Behaviors;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import warmgate.auth.TestTokens;

// A real actor system and Main.init with a broken auth configuration: the node must refuse to start; nothing is bound.
class MainAuthTest {
  @TempDir Path dataDir;

  private void assertStartFails(Map<String, Object> auth, String message) {
    Map<String, Object> settings = new HashMap<>(auth);
    settings.put("warmgate.data-dir", dataDir.toString());
    settings.put("warmgate.http.port", 0);
    settings.put("pekko.remote.artery.canonical.port", 0);
    ActorSystem<Void> system = ActorSystem.create(Behaviors.empty(), "warmgate",
        ConfigFactory.load(ConfigFactory.parseMap(settings)
            .withFallback(ConfigFactory.parseResourcesAnySyntax("application"))));
    Main.Deps deps = Main.Deps.fromConfig(system);
    try {
      assertThatThrownBy(() -> Main.init(system, deps)).hasMessageContaining(message);
    } finally {
      for (AutoCloseable resource : deps.resources()) {
        try {
          resource.close();
        } catch (Exception ignored) {
          // the test is about the exception above
        }
      }
      system.terminate();
      system.getWhenTerminated().toCompletableFuture().orTimeout(30, TimeUnit.SECONDS).join();
    }
  }

  @Test
  void badTokenHashStopsTheNodeAtStart() {
    assertStartFails(Map.of("warmgate.auth.tokens", List.of(Map.of("name", "alice", "sha256", "abc"))),
        "warmgate.auth.tokens[0] (alice): sha256 must be 64 hex digits");
  }

  @Test
  void duplicateTokenHashStopsTheNodeAtStart() {
    var alice = TestTokens.entries().get(1);
    assertStartFails(Map.of("warmgate.auth.tokens", List.of(alice, Map.of("name", "copy", "sha256",
        alice.get("sha256")))),
        "have the same sha256");
  }

  @Test
  void authOffOnAnInterfaceOtherHostsReachStopsTheNodeAtStart() {
    assertStartFails(Map.of("warmgate.auth.enabled", false, "warmgate.http.interface", "0.0.0.0"),
        "warmgate.auth.enabled is off while warmgate.http.interface is 0.0.0.0");
  }
}
