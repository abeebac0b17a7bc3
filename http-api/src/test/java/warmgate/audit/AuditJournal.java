package warmgate.audit;

import static org.assertj.core.api.Assertions.assertThat;

import com.typesafe.config.Config;
import com.typesafe.config.ConfigFactory;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.sql.Connection;
import java.sql.DriverManager;
import java.sql.ResultSet;
import java.sql.SQLException;
import java.sql.Statement;
import java.time.Clock;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.CompletionStage;
import org.apache.pekko.actor.testkit.typed.javadsl.ActorTestKit;
import org.apache.pekko.actor.testkit.typed.javadsl.TestProbe;
import org.apache.pekko.actor.typed.ActorRef;
import org.apache.pekko.pattern.StatusReply;
import warmgate.config.EndpointSettings;
import warmgate.config.RequestSettings;
import warmgate.config.WebhookSettings;
import warmgate.endpoint.EndpointCommand;
import warmgate.endpoint.EndpointEntity;
import warmgate.endpoint.EndpointLifecycle;
import warmgate.endpoint.ManagedEndpoint;
import warmgate.job.JobSpec;
import warmgate.job.JobStatus;
import warmgate.job.ObjectRef;
import warmgate.persistence.DatabaseSettings;
import warmgate.persistence.Schema;
import warmgate.provider.EndpointProvider;
import warmgate.provider.InferenceClient;
import warmgate.provider.ProviderState;
import warmgate.request.InferenceStep;
import warmgate.request.RequestCommand;
import warmgate.request.RequestEntity;
import warmgate.testing.InMemoryBlobStore;

/**
 * A real H2 journal in a folder of its own, written by the real entities through pekko-persistence-jdbc: the
 * endpoint gen3d is started by alice's job, runs it and then bob's, and is stopped by hand; 4 events each.
 */
public final class AuditJournal implements AutoCloseable {
  public static final String ENDPOINT = "gen3d";
  public static final String ALICE_JOB = "job-alice";
  public static final String BOB_JOB = "job-bob";
  private static final Duration WAIT = Duration.ofSeconds(20);

  public final Path dataDir;
  /** What a node started on this folder would load. */
  public final Config nodeConfig;
  public final DatabaseSettings database;
  public final ActorTestKit testKit;

  /** One row of event_journal. */
  public record Row(long ordering, String persistenceId, long seqNr, long writeTimestamp) {}

  private AuditJournal(Path dataDir, Config nodeConfig, DatabaseSettings database, ActorTestKit testKit) {
    this.dataDir = dataDir;
    this.nodeConfig = nodeConfig;
    this.database = database;
    this.testKit = testKit;
  }

  public static AuditJournal create() throws Exception {
    Path dataDir = Files.createTempDirectory("warmgate-audit");
    Config nodeConfig = ConfigFactory.load(ConfigFactory.parseMap(Map.of("warmgate.data-dir", dataDir.toString()))
        .withFallback(ConfigFactory.parseResourcesAnySyntax("application")));
    DatabaseSettings database = DatabaseSettings.fromConfig(nodeConfig.getConfig("warmgate"));
    Schema.createIfMissing(database);
    Config systemConfig = ConfigFactory.parseString("""
        pekko.actor.provider = local
        jdbc-read-journal.refresh-interval = 100ms
        jdbc-read-journal.journal-sequence-retrieval.query-delay = 100ms
        """).withFallback(DatabaseSettings.applyTo(nodeConfig));
    var journal = new AuditJournal(dataDir, nodeConfig, database, ActorTestKit.create("audit-journal", systemConfig));
    try {
      journal.fill();
    } catch (Exception | AssertionError e) {
      journal.close();
      throw e;
    }
    return journal;
  }

  /** A provider that is in service as soon as it is asked to start, and gone as soon as it is asked to stop. */
  private static final class ObligingProvider implements EndpointProvider {
    private volatile ProviderState.Status status = ProviderState.Status.ABSENT;

    @Override
    public CompletionStage<ProviderState> describe() {
      return CompletableFuture.completedFuture(ProviderState.of(status));
    }

    @Override
    public CompletionStage<Void> start() {
      status = ProviderState.Status.IN_SERVICE;
      return CompletableFuture.completedFuture(null);
    }

    @Override
    public CompletionStage<Void> stop() {
      status = ProviderState.Status.ABSENT;
      return CompletableFuture.completedFuture(null);
    }
  }

  private void fill() {
    InferenceClient model = (contentType, body) -> CompletableFuture.completedFuture(
        new InferenceClient.InferenceResponse("ply\n".getBytes(StandardCharsets.US_ASCII), "application/octet-stream"));
    // Idle for a minute before stopping on its own: the test stops it by hand, so there is exactly one cold start.
    var endpointSettings = new EndpointSettings(ENDPOINT, "process", 2, 100, Duration.ofMinutes(1),
        Duration.ofMinutes(1), 3,
        Duration.ZERO, Duration.ofSeconds(30), Duration.ofMillis(50), Duration.ofMillis(200), Duration.ofSeconds(10),
            ConfigFactory.empty());
    ActorRef<EndpointCommand> endpoint = testKit.spawn(
        EndpointEntity.create(new ManagedEndpoint(endpointSettings, new ObligingProvider(), model),
            EndpointEntity.Deps.of(Clock.systemUTC())), "endpoint-" + ENDPOINT);

    var blobs = new InMemoryBlobStore();
    var requestSettings = new RequestSettings(3, Duration.ofSeconds(1), Duration.ofSeconds(2), Duration.ofMillis(200),
        Duration.ofMinutes(1), Duration.ofMillis(100), Duration.ofSeconds(30), Duration.ofMinutes(10), Duration.ZERO);
    var webhooks = new WebhookSettings("unused", List.of(), false, Duration.ofSeconds(5), 3, Duration.ofSeconds(1),
        Duration.ofSeconds(10));
    var deps = new RequestEntity.Deps(new InferenceStep(blobs, name -> model), name -> endpoint, requestSettings,
        (url, id, body) -> CompletableFuture.completedFuture(204), webhooks, Clock.systemUTC());

    run(ALICE_JOB, "alice", blobs, deps);
    run(BOB_JOB, "bob", blobs, deps);

    TestProbe<StatusReply<EndpointCommand.View>> stopped = testKit.createTestProbe();
    endpoint.tell(new EndpointCommand.Stop(stopped.ref()));
    assertThat(stopped.receiveMessage(WAIT).isSuccess()).isTrue();
    TestProbe<EndpointCommand.View> view = testKit.createTestProbe();
    view.awaitAssert(WAIT, () -> {
      endpoint.tell(new EndpointCommand.Get(view.ref()));
      assertThat(view.receiveMessage().state()).isEqualTo(EndpointLifecycle.Phase.COLD);
      return null;
    });
  }

  private void run(String jobId, String owner, InMemoryBlobStore blobs, RequestEntity.Deps deps) {
    ObjectRef image = new ObjectRef(ENDPOINT, "users/" + owner + "/input/cat_image.png");
    ObjectRef mask = new ObjectRef(ENDPOINT, "users/" + owner + "/input/cat_mask.png");
    blobs.put(image, new byte[] {1});
    blobs.put(mask, new byte[] {2});
    var spec = new JobSpec(ENDPOINT, owner, Map.of("image", image, "mask", mask), new ObjectRef(ENDPOINT, "users/"
        + owner + "/output/cat.ply"),
        null, null, image.toString(), false);
    ActorRef<RequestCommand> job = testKit.spawn(RequestEntity.create(jobId, deps, null), jobId);
    TestProbe<StatusReply<RequestCommand.Submitted>> submitted = testKit.createTestProbe();
    job.tell(new RequestCommand.Submit(spec, submitted.ref()));
    assertThat(submitted.receiveMessage(WAIT).isSuccess()).isTrue();
    TestProbe<RequestCommand.JobLookup> lookup = testKit.createTestProbe();
    lookup.awaitAssert(WAIT, () -> {
      job.tell(new RequestCommand.Get(lookup.ref()));
      assertThat(lookup.receiveMessage().job().status()).isEqualTo(JobStatus.SUCCEEDED);
      return null;
    });
  }

  public Connection connect() throws SQLException {
    return DriverManager.getConnection(database.url(), database.user(), database.password());
  }

  /** Every row of event_journal, in journal order. */
  public List<Row> rows() throws SQLException {
    List<Row> rows = new ArrayList<>();
    try (Connection c = connect(); Statement s = c.createStatement();
        ResultSet r = s.executeQuery("SELECT \"ordering\", \"persistence_id\", \"sequence_number\", \"write_timestam"
            + "p\" "
            + "FROM \"event_journal\" ORDER BY \"ordering\"")) {
      while (r.next()) {
        rows.add(new Row(r.getLong(1), r.getString(2), r.getLong(3), r.getLong(4)));
      }
    }
    return rows;
  }

  /** The row of one event. */
  public Row row(String persistenceId, long seqNr) throws SQLException {
    return rows().stream().filter(r -> r.persistenceId().equals(persistenceId)
        && r.seqNr() == seqNr).findFirst().orElseThrow();
  }

  public Path journalFile() {
    return dataDir.resolve("journal.mv.db");
  }

  @Override
  public void close() {
    testKit.shutdownTestKit();
  }
}
