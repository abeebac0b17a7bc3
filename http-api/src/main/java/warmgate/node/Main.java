package warmgate.node;

import com.typesafe.config.Config;
import com.typesafe.config.ConfigFactory;
import java.time.Clock;
import java.time.Duration;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.concurrent.CompletionStage;
import java.util.concurrent.Executor;
import java.util.concurrent.TimeUnit;
import org.apache.pekko.Done;
import org.apache.pekko.actor.CoordinatedShutdown;
import org.apache.pekko.actor.typed.ActorSystem;
import org.apache.pekko.actor.typed.DispatcherSelector;
import org.apache.pekko.actor.typed.javadsl.Behaviors;
import org.apache.pekko.cluster.sharding.typed.javadsl.ClusterSharding;
import org.apache.pekko.http.javadsl.ServerBinding;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;
import warmgate.audit.AuditCommand;
import warmgate.audit.JournalReader;
import warmgate.auth.AuthSettings;
import warmgate.auth.Authenticator;
import warmgate.auth.TokenCommand;
import warmgate.blob.BlobStore;
import warmgate.blob.local.LocalBlobStore;
import warmgate.blob.s3.S3BlobStore;
import warmgate.cluster.ClusterFormation;
import warmgate.cluster.HttpEdge;
import warmgate.cluster.StartFailed;
import warmgate.config.BlobStoreSettings;
import warmgate.config.EndpointSettings;
import warmgate.config.RequestSettings;
import warmgate.config.WebhookSettings;
import warmgate.demo.DemoModelServer;
import warmgate.demo.SampleInputs;
import warmgate.endpoint.EndpointEntity;
import warmgate.endpoint.Endpoints;
import warmgate.endpoint.Providers;
import warmgate.gateway.AdmittingJobs;
import warmgate.gateway.Jobs;
import warmgate.gateway.JournalEndpointHistory;
import warmgate.gateway.PortClashes;
import warmgate.gateway.QueueDepths;
import warmgate.gateway.QueueSampler;
import warmgate.gateway.ReadJournalJobJournal;
import warmgate.gateway.ShardedAsyncNotices;
import warmgate.gateway.ShardedEndpointStates;
import warmgate.gateway.ShardedJobs;
import warmgate.http.AuditRoutes;
import warmgate.http.Authentication;
import warmgate.http.EndpointRoutes;
import warmgate.http.HttpServer;
import warmgate.http.JobRoutes;
import warmgate.http.MetricsRoutes;
import warmgate.http.NotificationRoute;
import warmgate.index.ReadSide;
import warmgate.ingest.AsyncResultIntake;
import warmgate.ingest.Ingestion;
import warmgate.ingest.IngestionSource;
import warmgate.ingest.IngestionSources;
import warmgate.ingest.ObjectPolicy;
import warmgate.ingest.RouteIngestion;
import warmgate.ingest.RouteTable;
import warmgate.ingest.sns.SnsRoutes;
import warmgate.job.ObjectRef;
import warmgate.metrics.Metrics;
import warmgate.metrics.MetricsSettings;
import warmgate.persistence.DatabaseSettings;
import warmgate.persistence.Schema;
import warmgate.provider.AsyncInferenceClient;
import warmgate.request.HttpWebhooks;
import warmgate.request.InferenceStep;
import warmgate.request.PayloadBudget;
import warmgate.request.RequestEntity;
import warmgate.request.ShardedParkedJobs;

/** Starts Warmgate, or one of its helper commands. */
public final class Main {
  private static final Logger log = LoggerFactory.getLogger(Main.class);

  private static final String USAGE = """
      usage: warmgate [command]
        serve           run a Warmgate node (the default); configured by application.conf and WARMGATE_* variables
        demo-model      run the demo model server: --host H --port N --startup-delay 3s --invoke-delay 0s
        sample-inputs   write a sample image and mask into a folder: --out DIR --name BASE --size PIXELS
        token           print a new API token and its warmgate.auth.tokens entry: --name NAME [--owner OWNER] [--admin]
        audit           read the journal: timeline, export, check, cost (`warmgate audit help` lists them)
        cds-training    start a throwaway node and stop it: run under -XX:ArchiveClassesAtExit=FILE to make the
                        class data sharing archive that -XX:SharedArchiveFile=FILE starts nodes faster with
        help            print this""";

  private Main() {}

  public static void main(String[] args) throws Exception {
    String command = args.length == 0 ? "serve" : args[0];
    String[] rest = Arrays.copyOfRange(args, Math.min(1, args.length), args.length);
    switch (command) {
      case "serve" -> serve();
      case "demo-model" -> DemoModelServer.main(rest);
      case "sample-inputs" -> SampleInputs.main(rest);
      case "token" -> TokenCommand.main(rest);
      case "audit" -> AuditCommand.main(rest);
      case "cds-training" -> ClassArchiveTraining.main(rest);
      case "help", "--help", "-h" -> System.out.println(USAGE);
      default -> {
        System.err.println("unknown command '" + command + "'\n" + USAGE);
        System.exit(2);
      }
    }
  }

  private static void serve() {
    Config config = ClusterFormation.applyTo(DatabaseSettings.applyTo(ConfigFactory.load()));
    ActorSystem<Void> system = ActorSystem.create(Behaviors.empty(), "warmgate", config);
    StartFailed.exitOnShutdown(system); // Pekko Management failing to bind is found out after init returns
    try {
      init(system, Deps.fromConfig(system));
    } catch (Throwable e) {
      // Throwable: Scala code throws checked exceptions unannounced (kubernetes-api discovery throws
      // NoSuchFileException when the pod has no service-account files), and one that escaped here would end only
      // the main thread, leaving a JVM that answers /alive but never becomes ready.
      StartFailed.exit(system, "Warmgate could not start", e);
    }
  }

  /**
   * What a node is built from. {@link #fromConfig} builds it from the configuration; tests pass their own.
   *
   * @param resources closed when the node shuts down (SDK clients, executors)
   */
  public record Deps(BlobStore blobs, Endpoints endpoints, RouteTable routes, Clock clock,
      List<AutoCloseable> resources) {

    public static Deps fromConfig(ActorSystem<?> system) {
      Config warmgate = system.settings().config().getConfig("warmgate");
      Executor blocking = system.dispatchers().lookup(DispatcherSelector.blocking());
      List<AutoCloseable> resources = new ArrayList<>();
      BlobStore blobs = blobStore(BlobStoreSettings.fromConfig(warmgate), blocking, resources);
      var providers = new Providers(blocking);
      resources.add(providers);
      Endpoints endpoints = Endpoints.bind(EndpointSettings.fromConfig(warmgate), providers::bind);
      RouteTable routes = RouteTable.fromConfig(warmgate, endpoints.names());
      return new Deps(blobs, endpoints, routes, Clock.systemUTC(), resources);
    }

    /**
     * @param blocking where the local store does its file I/O
     * @param resources receives what must be closed at shutdown
     */
    private static BlobStore blobStore(BlobStoreSettings settings, Executor blocking, List<AutoCloseable> resources) {
      if (settings.kind().equals("s3")) {
        S3BlobStore s3 = S3BlobStore.create(settings);
        resources.add(s3);
        return s3;
      }
      return LocalBlobStore.create(settings.localRoot(), blocking);
    }
  }

  /**
   * A started node: what tests and the watcher need of it.
   *
   * @param metrics this node's metrics; {@link Metrics#registerJobCounts} adds the job index's counts
   * @param readSide the job index (GET /v1/jobs, the jobs-by-status gauge)
   */
  public record Node(CompletionStage<ServerBinding> binding, Jobs jobs, Ingestion ingestion, Metrics metrics,
      ReadSide readSide) {}

  /**
   * Starts a node on {@code system}: journal schema, management and cluster membership (joining itself, or
   * through Cluster Bootstrap), both entities, the read side (job index projections and the waker that starts
   * jobs with work left), the ingestion sources ({@link IngestionSources}), and the HTTP edge last, so nothing is
   * accepted before it can be kept; /ready turns true once the edge is bound.
   */
  public static Node init(ActorSystem<?> system, Deps deps) {
    return init(system, deps, IngestionSources.all());
  }

  /**
   * As {@link #init(ActorSystem, Deps)}, with the SNS route given: a test node trusts its own signing CA and
   * serves its certificate without the network.
   */
  public static Node init(ActorSystem<?> system, Deps deps, SnsRoutes sns) {
    return init(system, deps, IngestionSources.all(sns));
  }

  private static Node init(ActorSystem<?> system, Deps deps, List<IngestionSource> sources) {
    Config config = system.settings().config();
    Config warmgate = config.getConfig("warmgate");
    Authenticator authenticator = authenticator(warmgate);
    PortClashes.check(warmgate, deps.endpoints());
    DatabaseSettings database = DatabaseSettings.fromConfig(warmgate);
    log.info("Starting Warmgate: journal {}, endpoints {}, {} route(s)", database, deps.endpoints().names(),
        deps.routes().routes().size());
    Schema.createIfMissing(database);

    ClusterFormation.start(system);

    ClusterSharding sharding = ClusterSharding.get(system);
    Metrics metrics = new Metrics();
    EndpointEntity.init(system, deps.endpoints(),
        EndpointEntity.Deps.of(deps.clock()).withMetrics(metrics.endpoints())
            .withParked(new ShardedParkedJobs(system)));
    PayloadBudget budget = PayloadBudget.fromConfig(warmgate.getConfig("request"));
    log.info("Payload budget: {} bytes in flight at most", budget.capacity());
    metrics.registerPayloadBudget(budget);
    var step = new InferenceStep(deps.blobs(), name -> deps.endpoints().get(name).client(),
        name -> deps.endpoints().get(name).settings().inputs(), budget);
    WebhookSettings webhooks = WebhookSettings.fromConfig(warmgate);
    RequestEntity.init(system, new RequestEntity.Deps(step, name -> sharding.entityRefFor(EndpointEntity.ENTITY_KEY,
        name),
        RequestSettings.fromConfig(warmgate), new HttpWebhooks(webhooks, deps.clock()), webhooks, deps.clock(),
            metrics.jobs()));
    ReadSide readSide = ReadSide.start(system, database, warmgate);
    // Scrapes run on the blocking dispatcher (MetricsRoutes), so waiting for the count query is fine there.
    metrics.registerJobCounts(() -> readSide.index().countByStatus().toCompletableFuture().orTimeout(5,
        TimeUnit.SECONDS).join());

    Duration askTimeout = warmgate.getDuration("http.ask-timeout");
    var endpointStates = new ShardedEndpointStates(sharding, deps.endpoints(), askTimeout);
    Jobs jobs = new AdmittingJobs(new ShardedJobs(sharding, askTimeout), endpointStates,
        name -> deps.endpoints().get(name).settings().maxQueued(),
        (name, owner) -> deps.endpoints().get(name).settings().queue().share(owner).maxQueued(),
        warmgate.getDuration("http.queue-check-interval"),
        warmgate.getDuration("http.busy-retry-after"));
    ObjectPolicy objects = ObjectPolicy.fromConfig(warmgate, deps.routes());
    Ingestion ingestion = new RouteIngestion(deps.routes(), objects, jobs, new AsyncResultIntake(
        Providers.asyncResults(), resultPaths(deps.endpoints()), new ShardedAsyncNotices(sharding)));

    List<AutoCloseable> resources = new ArrayList<>();
    List<NotificationRoute> notificationRoutes = new ArrayList<>();
    var here = new IngestionSource.Node(system, warmgate, deps.clock(), ingestion, endpointStates,
        Providers.pushedStates(deps.endpoints()), metrics);
    for (IngestionSource source : sources) {
      IngestionSource.Started started = source.start(here);
      notificationRoutes.addAll(started.routes());
      resources.addAll(started.resources());
    }
    // The sources stop first: nothing new arrives while the node's own resources close.
    resources.addAll(deps.resources());
    CoordinatedShutdown.get(system).addTask(CoordinatedShutdown.PhaseBeforeActorSystemTerminate(),
        "warmgate-resources", () -> {
      for (AutoCloseable resource : resources) {
        try {
          resource.close();
        } catch (Exception e) {
          log.warn("Closing {} failed", resource, e);
        }
      }
      return java.util.concurrent.CompletableFuture.completedFuture(Done.getInstance());
    });

    var queueDepths = new QueueDepths(deps.endpoints().names(), warmgate.getDuration("http.queue-history.interval"),
        warmgate.getDuration("http.queue-history.keep"), warmgate.getInt("http.queue-history.max-owners"));
    resources.add(QueueSampler.start(system, endpointStates, queueDepths, deps.clock()));
    var journal = new JournalReader(system, readSide.pool()::getConnection);

    MetricsSettings metricsSettings = MetricsSettings.fromConfig(warmgate);
    var server = HttpServer.builder(
            new JobRoutes(jobs, new ReadJournalJobJournal(system), readSide.index(), deps.endpoints().names(), objects,
                webhooks),
            new EndpointRoutes(endpointStates, new JournalEndpointHistory(journal, queueDepths, deps.clock())),
            new Authentication(authenticator))
        .notifications(notificationRoutes.toArray(NotificationRoute[]::new))
        .maxBodyBytes(warmgate.getBytes("http.max-body-bytes"))
        .audit(new AuditRoutes(journal));
    if (metricsSettings.enabled()) {
      server.metrics(new MetricsRoutes(metrics, metricsSettings.requireAdmin(),
          system.dispatchers().lookup(DispatcherSelector.blocking())));
    }
    var binding = server.build().start(system, warmgate.getString("http.interface"), warmgate.getInt("http.port"));
    HttpEdge.get(system).track(system, binding);
    return new Node(binding, jobs, ingestion, metrics, readSide);
  }

  /** Where each asynchronous endpoint's answers are written, by endpoint name. */
  private static Map<String, List<ObjectRef>> resultPaths(Endpoints endpoints) {
    Map<String, List<ObjectRef>> paths = new LinkedHashMap<>();
    for (String name : endpoints.names()) {
      if (endpoints.get(name).client() instanceof AsyncInferenceClient async) {
        paths.put(name, async.resultPrefixes());
      }
    }
    return paths;
  }

  /** Read before anything starts, so a bad token list or an unprotected public interface stops the node at once. */
  private static Authenticator authenticator(Config warmgate) {
    AuthSettings auth = AuthSettings.fromConfig(warmgate);
    String httpInterface = warmgate.getString("http.interface");
    auth.checkInterface(httpInterface);
    if (!auth.enabled()) {
      log.warn("Authentication is OFF (warmgate.auth.enabled): anyone who can reach {} may submit, read and cancel "
          + "every job "
          + "and start endpoints. Fine for the local demo only.", httpInterface);
      return Authenticator.disabled();
    }
    log.info("Authentication on: {} token(s) {}", auth.credentials().size(),
        auth.credentials().stream().map(c -> c.principal().name() + (c.principal().admin() ? " (admin)"
            : "")).toList());
    return Authenticator.of(auth);
  }
}
