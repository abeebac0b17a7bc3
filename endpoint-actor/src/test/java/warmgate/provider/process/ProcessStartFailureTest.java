package warmgate.provider.process;

import static org.assertj.core.api.Assertions.assertThat;

import com.typesafe.config.ConfigFactory;
import java.net.InetAddress;
import java.net.ServerSocket;
import java.net.http.HttpClient;
import java.nio.file.Path;
import java.time.Clock;
import java.time.Duration;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import org.apache.pekko.actor.testkit.typed.annotations.JUnit5TestKit;
import org.apache.pekko.actor.testkit.typed.javadsl.ActorTestKit;
import org.apache.pekko.actor.testkit.typed.javadsl.JUnit5TestKitBuilder;
import org.apache.pekko.actor.testkit.typed.javadsl.TestKitJUnit5Extension;
import org.apache.pekko.actor.testkit.typed.javadsl.TestProbe;
import org.apache.pekko.actor.typed.ActorRef;
import org.apache.pekko.persistence.testkit.javadsl.EventSourcedBehaviorTestKit;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.ExtendWith;
import org.junit.jupiter.api.io.TempDir;
import warmgate.endpoint.EndpointCommand;
import warmgate.endpoint.EndpointCommand.SlotReply;
import warmgate.endpoint.EndpointCommand.Unavailable;
import warmgate.endpoint.EndpointCommand.View;
import warmgate.endpoint.EndpointEntity;
import warmgate.endpoint.EndpointLifecycle.Phase;
import warmgate.endpoint.ManagedEndpoint;

// Real processes and an in-memory journal: the lifecycle starting a demo model whose port is taken.
@ExtendWith(TestKitJUnit5Extension.class)
class ProcessStartFailureTest {
  private final ExecutorService blocking = Executors.newCachedThreadPool();
  private final HttpClient http = HttpClient.newBuilder().connectTimeout(Duration.ofSeconds(2)).build();
  @TempDir Path stateDir;
  private ManagedEndpoint endpoint;

  @JUnit5TestKit
  public ActorTestKit testKit =
      new JUnit5TestKitBuilder().withCustomConfig(EventSourcedBehaviorTestKit.config()
          .withFallback(ConfigFactory.load())).build();

  @AfterEach
  void cleanUp() {
    if (endpoint != null) {
      endpoint.provider().stop().toCompletableFuture().join();
    }
    blocking.shutdownNow();
  }

  @Test
  void startFailsAtOnceWithTheModelsOwnWordsWhenItsProcessExits() throws Exception {
    try (ServerSocket taken = new ServerSocket(0, 50, InetAddress.getLoopbackAddress())) {
      // A start-timeout and polling far beyond the test: only the process's exit can end the start in time.
      endpoint = ProcessEndpointTest.bind(ProcessEndpointTest.demoModel("0s"), taken.getLocalPort(), stateDir,
          blocking, http,
          Duration.ofMinutes(15), Duration.ofMinutes(5));
      ActorRef<EndpointCommand> lifecycle = testKit.spawn(EndpointEntity.create(endpoint,
          EndpointEntity.Deps.of(Clock.systemUTC())));
      TestProbe<SlotReply> job = testKit.createTestProbe();
      long started = System.nanoTime();

      lifecycle.tell(new EndpointCommand.Acquire("job-1", null, warmgate.job.Priority.INTERACTIVE, job.ref()));

      Unavailable refused = job.expectMessageClass(Unavailable.class, Duration.ofSeconds(20));
      Duration took = Duration.ofNanos(System.nanoTime() - started);
      String oneLine = "model process exited with code 1: address already in use (127.0.0.1:" + taken.getLocalPort()
          + ")";
      assertThat(refused.reason()).endsWith(oneLine);
      assertThat(took).as("failed when the process exited, not at start-timeout").isLessThan(Duration.ofSeconds(20));
      TestProbe<View> viewer = testKit.createTestProbe();
      lifecycle.tell(new EndpointCommand.Get(viewer.ref()));
      View view = viewer.receiveMessage();
      assertThat(view.state()).isEqualTo(Phase.FAILED);
      assertThat(view.detail()).endsWith(oneLine).doesNotContain("\tat ", " | ");
    }
  }
}
