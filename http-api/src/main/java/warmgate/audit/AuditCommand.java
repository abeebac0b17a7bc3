package warmgate.audit;

import ch.qos.logback.classic.LoggerContext;
import ch.qos.logback.classic.joran.JoranConfigurator;
import ch.qos.logback.core.joran.spi.JoranException;
import com.fasterxml.jackson.databind.node.ObjectNode;
import com.typesafe.config.Config;
import com.typesafe.config.ConfigFactory;
import java.io.BufferedOutputStream;
import java.io.IOException;
import java.io.OutputStream;
import java.io.PrintStream;
import java.io.PrintWriter;
import java.io.UncheckedIOException;
import java.math.BigDecimal;
import java.math.RoundingMode;
import java.nio.charset.StandardCharsets;
import java.nio.file.FileSystemException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardCopyOption;
import java.sql.Connection;
import java.sql.DriverManager;
import java.sql.SQLException;
import java.sql.Statement;
import java.time.Clock;
import java.time.Duration;
import java.time.Instant;
import java.util.ArrayList;
import java.util.HashSet;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.Optional;
import java.util.Set;
import java.util.TreeMap;
import java.util.TreeSet;
import java.util.concurrent.Callable;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.CompletionException;
import java.util.concurrent.CompletionStage;
import java.util.concurrent.TimeUnit;
import java.util.function.Supplier;
import org.apache.pekko.Done;
import org.apache.pekko.actor.typed.ActorSystem;
import org.apache.pekko.actor.typed.javadsl.Behaviors;
import org.apache.pekko.stream.javadsl.Sink;
import org.slf4j.LoggerFactory;
import picocli.CommandLine;
import picocli.CommandLine.Command;
import picocli.CommandLine.Mixin;
import picocli.CommandLine.Model.CommandSpec;
import picocli.CommandLine.Option;
import picocli.CommandLine.ParameterException;
import picocli.CommandLine.Parameters;
import picocli.CommandLine.ParentCommand;
import picocli.CommandLine.Spec;
import warmgate.Failures;
import warmgate.Json;
import warmgate.endpoint.EndpointLifecycle;
import warmgate.gateway.TryLater;
import warmgate.persistence.DatabaseSettings;
import warmgate.request.Request;
import warmgate.request.RequestEntity;

/**
 * {@code warmgate audit}: reads the journal straight from the database a node is configured with
 * (application.conf, {@code WARMGATE_DB_URL}, {@code WARMGATE_DATA_DIR}), through a local actor system that
 * joins no cluster and writes nothing. Exit status 0 when done (for {@code check}: everything matched), 1 when
 * something differs or fails, 2 for a usage error.
 */
@Command(name = "warmgate audit",
    description = "Reads Warmgate's journal: a job's timeline, an NDJSON export, a check of job_index, endpoint costs.",
    subcommands = {AuditCommand.TimelineCommand.class, AuditCommand.ExportCommand.class,
        AuditCommand.CheckCommand.class,
        AuditCommand.CostCommand.class, CommandLine.HelpCommand.class})
public final class AuditCommand implements Runnable {

  /**
   * What a run reads and writes; tests pass their own.
   *
   * @param config the configuration a node would load (the database is read from {@code warmgate.database})
   * @param terminal whether {@code err} is a terminal, for the export's progress bar
   */
  public record Env(Supplier<Config> config, PrintStream out, PrintStream err, boolean terminal, Clock clock) {
    static Env system() {
      return new Env(ConfigFactory::load, System.out, System.err, Progress.stderrIsTerminal(), Clock.systemUTC());
    }
  }

  /** The database cannot be read: said in one line, exit status 1. */
  static final class Unreachable extends RuntimeException {
    Unreachable(String message) {
      super(message, null, false, false);
    }
  }

  /** {@code --from} and {@code --to}: the time range of the commands that read one. */
  static final class Window {
    @Option(names = "--from", required = true, paramLabel = "INSTANT",
        description = "ISO-8601, e.g. 2026-03-01T00:00:00Z (inclusive)")
    String from;

    @Option(names = "--to", required = true, paramLabel = "INSTANT", description = "ISO-8601 (exclusive)")
    String to;

    /** The range; a malformed or inverted one is a usage error (exit status 2). */
    TimeRange range(CommandSpec spec) {
      try {
        return TimeRange.parse(from, to);
      } catch (IllegalArgumentException e) {
        throw new ParameterException(spec.commandLine(), e.getMessage());
      }
    }
  }

  /** {@code -h}, {@code --help} on every command. */
  static final class Help {
    @Option(names = {"-h", "--help"}, usageHelp = true, description = "Show this help and exit.")
    boolean help;
  }

  private final Env env;
  @Spec
  CommandSpec spec;
  @Mixin
  Help help;

  AuditCommand(Env env) {
    this.env = env;
  }

  public static void main(String[] args) {
    logToStderr();
    System.exit(run(Env.system(), args));
  }

  /** Runs {@code warmgate audit args}; answers the exit status. */
  public static int run(Env env, String... args) {
    CommandLine cli = new CommandLine(new AuditCommand(env));
    cli.setOut(new PrintWriter(env.out(), true, StandardCharsets.UTF_8));
    cli.setErr(new PrintWriter(env.err(), true, StandardCharsets.UTF_8));
    cli.setCaseInsensitiveEnumValuesAllowed(true);
    cli.setExecutionExceptionHandler((failure, commandLine, parsed) -> {
      Throwable cause = Failures.unwrap(failure);
      boolean expected = cause instanceof Unreachable || cause instanceof TryLater
          || cause instanceof IllegalStateException
          || cause instanceof IllegalArgumentException || cause instanceof UncheckedIOException;
      String message = cause.getMessage() == null ? cause.toString()
          : cause.getMessage().lines().findFirst().orElse("");
      if (cause instanceof FileSystemException file) {
        expected = true;
        message = "cannot write " + file.getFile() + (file.getReason() == null ? " ("
            + cause.getClass().getSimpleName() + ")" : ": " + file.getReason());
      }
      commandLine.getErr().println("warmgate audit: " + (expected ? message : cause.getClass().getSimpleName() + ": "
          + message));
      return 1;
    });
    return cli.execute(args);
  }

  @Override
  public void run() {
    throw new ParameterException(spec.commandLine(), "name a command: timeline, export, check or cost");
  }

  // ---- timeline

  @Command(name = "timeline",
      description = "Prints a job's journal as a timeline: time, time since submission, event, its facts.")
  static final class TimelineCommand implements Callable<Integer> {
    @ParentCommand
    AuditCommand parent;
    @Mixin
    Help help;

    @Parameters(paramLabel = "JOB_ID", description = "the job's id")
    String jobId;

    @Override
    public Integer call() {
      try (Session session = Session.open(parent.env)) {
        List<StoredEvent> events = join(session.journal.job(jobId));
        if (events.isEmpty()) {
          parent.env.err().println("warmgate audit: the journal has no job " + jobId);
          return 1;
        }
        Timeline.render(jobId, events).forEach(parent.env.out()::println);
        return 0;
      }
    }
  }

  // ---- export

  @Command(name = "export",
      description = "Writes every job and endpoint event of [from, to) as NDJSON, as GET /v1/audit/events does.")
  static final class ExportCommand implements Callable<Integer> {
    @ParentCommand
    AuditCommand parent;
    @Mixin
    Help help;
    @Spec
    CommandSpec spec;

    @Mixin
    Window window;

    @Option(names = "--out", paramLabel = "FILE",
        description = "where to write (default: stdout); written whole or not at all")
    Path out;

    @Override
    public Integer call() throws IOException {
      TimeRange range = window.range(spec);
      Env env = parent.env;
      try (Session session = Session.open(env)) {
        JournalReader.Selection selection = join(session.journal.select(range, JournalReader.ALL_TAGS));
        Progress progress = new Progress(env.err(), env.terminal(), selection.count(), System::nanoTime);
        Path partial = out == null ? null : out.resolveSibling(out.getFileName() + ".part");
        OutputStream target = partial == null ? env.out() : new BufferedOutputStream(Files.newOutputStream(partial));
        progress.start("between " + range.from() + " and " + range.to());
        try {
          join(session.journal.stream(selection).map(AuditEvent::of).runWith(Sink.foreach(event -> {
            target.write(event.line().getBytes(StandardCharsets.UTF_8));
            progress.advance();
          }), session.system));
          target.flush();
        } finally {
          if (partial != null) {
            target.close();
          }
        }
        if (partial != null) {
          Files.move(partial, out, StandardCopyOption.REPLACE_EXISTING, StandardCopyOption.ATOMIC_MOVE);
        }
        progress.finish("to " + (out == null ? "stdout" : out.toString()));
        return 0;
      } catch (RuntimeException | IOException e) {
        if (out != null) {
          Files.deleteIfExists(out.resolveSibling(out.getFileName() + ".part"));
        }
        throw e;
      }
    }
  }

  // ---- check

  @Command(name = "check",
      description = "Rebuilds jobs from their events and checks that job_index says the same. Exit status 1 if any "
          + "differs.")
  static final class CheckCommand implements Callable<Integer> {
    @ParentCommand
    AuditCommand parent;
    @Mixin
    Help help;
    @Spec
    CommandSpec spec;

    @Parameters(arity = "0..*", paramLabel = "JOB_ID", description = "the jobs to check")
    List<String> jobIds = new ArrayList<>();

    @Option(names = "--all", description = "every job of the journal and of job_index")
    boolean all;

    @Override
    public Integer call() throws SQLException {
      if (all == !jobIds.isEmpty()) {
        throw new ParameterException(spec.commandLine(), all ? "name job ids or --all, not both"
            : "name the jobs to check, or --all");
      }
      Env env = parent.env;
      try (Session session = Session.open(env); IndexedJobs index = IndexedJobs.open(session.database)) {
        int[] counts = new int[2]; // matched, differed
        List<String> ids = all ? new ArrayList<>(new TreeSet<>(join(session.journal.jobIds().runWith(Sink.seq(),
            session.system)))) : jobIds;
        for (String id : ids) {
          check(session, index, id, counts);
        }
        if (all) {
          Set<String> inJournal = new HashSet<>(ids);
          List<String> indexOnly = new ArrayList<>();
          index.forEachJobId(id -> {
            if (!inJournal.contains(id)) {
              indexOnly.add(id);
            }
          });
          for (String id : indexOnly) {
            check(session, index, id, counts);
          }
        }
        env.out().println("checked " + (counts[0] + counts[1]) + " job(s): " + counts[0] + " match job_index, "
            + counts[1] + " differ");
        return counts[1] == 0 ? 0 : 1;
      }
    }

    private void check(Session session, IndexedJobs index, String jobId, int[] counts) throws SQLException {
      List<StoredEvent> events = join(session.journal.job(jobId));
      List<String> differences = JobCheck.differences(events, index.find(jobId));
      if (differences.isEmpty()) {
        counts[0]++;
      } else {
        counts[1]++;
        differences.forEach(d -> parent.env.out().println(jobId + ": " + d));
      }
    }
  }

  // ---- cost

  enum By { endpoint, owner }

  @Command(name = "cost",
      description = "Endpoint-seconds billed in [from, to), per endpoint or shared out to owners by their jobs' "
          + "running time.")
  static final class CostCommand implements Callable<Integer> {
    @ParentCommand
    AuditCommand parent;
    @Mixin
    Help help;
    @Spec
    CommandSpec spec;

    @Mixin
    Window window;

    @Option(names = "--by", defaultValue = "endpoint", paramLabel = "endpoint|owner",
        description = "rows per endpoint (default) or per owner")
    By by;

    @Option(names = "--json", description = "one JSON document instead of a table")
    boolean json;

    @Override
    public Integer call() {
      TimeRange range = window.range(spec);
      Env env = parent.env;
      try (Session session = Session.open(env)) {
        Costs.Report report = report(session, range, env.clock().instant());
        if (json) {
          env.out().println(json(report, by));
        } else {
          table(report, by).forEach(env.out()::println);
        }
        return 0;
      }
    }

    private static Costs.Report report(Session session, TimeRange window, Instant now) {
      JournalReader journal = session.journal;
      Set<String> names = new TreeSet<>(session.config.getConfig("warmgate.endpoints").root().keySet());
      names.addAll(join(journal.endpointNames()));
      Map<String, List<EndpointLifecycle.Event>> endpoints = new LinkedHashMap<>();
      for (String name : names) {
        List<EndpointLifecycle.Event> events = join(journal.endpoint(name)).stream().map(e ->
            (EndpointLifecycle.Event) e.event()).toList();
        if (!events.isEmpty()) {
          endpoints.put(name, events);
        }
      }
      // An attempt lasts attempt-timeout at most (barring crashes), so one running at `from` started after this.
      Duration lookback = session.config.getDuration("warmgate.request.attempt-timeout");
      TimeRange read = new TimeRange(window.from().minus(lookback), window.to());
      JournalReader.Selection selection = join(journal.select(read, RequestEntity.TAGS));
      Costs.Runs runs = new Costs.Runs();
      join(journal.stream(selection)
          // One at a time: a job first seen mid-way has its earlier events folded in before this one.
          .mapAsync(1, stored -> {
            if (runs.follows(stored.id(), stored.seqNr())) {
              fold(runs, stored);
              return CompletableFuture.completedFuture(Done.getInstance());
            }
            return journal.job(stored.id(), stored.seqNr() - 1).thenApply(history -> {
              history.forEach(earlier -> fold(runs, earlier));
              fold(runs, stored);
              return Done.getInstance();
            });
          })
          .runWith(Sink.ignore(), session.system));
      return Costs.compute(window, now, endpoints, runs.runs(now));
    }

    private static void fold(Costs.Runs runs, StoredEvent stored) {
      runs.fold(stored.id(), stored.seqNr(), (Request.Event) stored.event());
    }

    static String json(Costs.Report report, By by) {
      ObjectNode root = Json.mapper().createObjectNode();
      root.put("from", report.from().toString()).put("to", report.to().toString()).put("by", by.name());
      root.put("billedSeconds", seconds(report.billedSeconds()));
      if (by == By.endpoint) {
        var rows = root.putArray("endpoints");
        report.endpoints().forEach(e -> {
          ObjectNode row = rows.addObject().put("endpoint", e.endpoint()).put("billedSeconds",
              seconds(e.billedSeconds()))
              .put("runningSeconds", seconds(e.runningSeconds())).put("starts", e.starts());
          if (!e.configurations().isEmpty()) {
            ObjectNode configurations = row.putObject("configurations");
            new TreeMap<>(e.configurations()).forEach((name, billed) -> configurations.put(name, seconds(billed)));
          }
        });
      } else {
        var rows = root.putArray("owners");
        report.owners().forEach(o -> rows.addObject().put("owner", o.owner()).put("billedSeconds",
            seconds(o.billedSeconds()))
            .put("runningSeconds", seconds(o.runningSeconds())).put("jobs", o.jobs()));
        root.put("unattributedSeconds", seconds(report.unattributedSeconds()));
      }
      return root.toString();
    }

    static List<String> table(Costs.Report report, By by) {
      List<String> lines = new ArrayList<>();
      lines.add("Billed endpoint time from " + report.from() + " to " + report.to());
      if (by == By.endpoint) {
        lines.add(String.format(Locale.ROOT, "%-24s %14s %14s %7s", "ENDPOINT", "BILLED s", "JOBS RAN s", "STARTS"));
        report.endpoints().forEach(e -> {
          lines.add(String.format(Locale.ROOT, "%-24s %14.1f %14.1f %7d",
              e.endpoint(), e.billedSeconds(), e.runningSeconds(), e.starts()));
          new TreeMap<>(e.configurations()).forEach((name, billed) -> lines.add(String.format(Locale.ROOT,
              "  %-22s %14.1f", name, billed)));
        });
      } else {
        lines.add(String.format(Locale.ROOT, "%-24s %14s %14s %7s", "OWNER", "BILLED s", "JOBS RAN s", "JOBS"));
        report.owners().forEach(o -> lines.add(String.format(Locale.ROOT, "%-24s %14.1f %14.1f %7d",
            o.owner() == null ? "(no owner)" : o.owner(), o.billedSeconds(), o.runningSeconds(), o.jobs())));
        lines.add(String.format(Locale.ROOT, "%-24s %14.1f", "(unattributed)", report.unattributedSeconds()));
      }
      lines.add(String.format(Locale.ROOT, "%-24s %14.1f", "TOTAL", report.billedSeconds()));
      return lines;
    }

    /** Milliseconds are what the journal's instants support; more digits would be noise. */
    private static BigDecimal seconds(double seconds) {
      return BigDecimal.valueOf(seconds).setScale(3, RoundingMode.HALF_UP);
    }
  }

  // ---- shared

  /** Waits for a read; its failure surfaces as itself, not wrapped. */
  static <T> T join(CompletionStage<T> stage) {
    try {
      return stage.toCompletableFuture().join();
    } catch (CompletionException e) {
      Throwable cause = Failures.unwrap(e);
      throw cause instanceof RuntimeException runtime ? runtime : new IllegalStateException(cause.getMessage(), cause);
    }
  }

  /** The database, checked to be reachable, and a local actor system reading it. */
  static final class Session implements AutoCloseable {
    /** No cluster, quiet logs (stdout may be the export), and a read journal that does not idle between batches. */
    private static final String SYSTEM_CONFIG = """
        pekko.actor.provider = local
        pekko.loglevel = WARNING
        pekko.stdout-loglevel = OFF
        pekko.log-dead-letters = off
        pekko.log-dead-letters-during-shutdown = off
        jdbc-read-journal.refresh-interval = 100ms
        jdbc-read-journal.journal-sequence-retrieval.query-delay = 100ms
        """;

    /** H2's error codes for "Database may be already in use" and "not found, and IFEXISTS=true". */
    private static final int H2_IN_USE = 90020;
    private static final int H2_NOT_FOUND = 90146;

    final Config config;
    final DatabaseSettings database;
    final ActorSystem<Void> system;
    final JournalReader journal;

    private Session(Config config, DatabaseSettings database, ActorSystem<Void> system) {
      this.config = config;
      this.database = database;
      this.system = system;
      this.journal = new JournalReader(system, database);
    }

    static Session open(Env env) {
      Config config = env.config().get();
      DatabaseSettings database = readOnly(DatabaseSettings.fromConfig(config.getConfig("warmgate")));
      probe(database);
      Config systemConfig = ConfigFactory.parseString(SYSTEM_CONFIG).withFallback(database.pekkoConfig())
          .withFallback(config).resolve();
      return new Session(config, database, ActorSystem.create(Behaviors.empty(), "warmgate-audit", systemConfig));
    }

    /** An embedded H2 file is opened only if it exists: a wrong data folder must not leave an empty journal behind. */
    static DatabaseSettings readOnly(DatabaseSettings database) {
      String url = database.url();
      boolean file = database.kind() == DatabaseSettings.Kind.H2 && !url.startsWith("jdbc:h2:mem:")
          && !url.startsWith("jdbc:h2:tcp:") && !url.startsWith("jdbc:h2:ssl:");
      String checked = file && !url.toUpperCase(Locale.ROOT).contains("IFEXISTS") ? url + ";IFEXISTS=TRUE" : url;
      return new DatabaseSettings(database.kind(), checked, database.user(), database.password(), Math.min(4,
          database.maxConnections()));
    }

    /** Fails in one line, before an actor system starts, when the journal cannot be read. */
    static void probe(DatabaseSettings database) {
      try (Connection connection = DriverManager.getConnection(database.url(), database.user(), database.password());
          Statement statement = connection.createStatement()) {
        statement.execute("SELECT COUNT(*) FROM \"event_journal\" WHERE 1 = 0");
      } catch (SQLException e) {
        String reason = switch (database.kind() == DatabaseSettings.Kind.H2 ? e.getErrorCode() : 0) {
          case H2_IN_USE -> "a running node has it open, and an embedded H2 journal opens in one process at a time: "
              + "stop the node first, or keep the journal in PostgreSQL";
          case H2_NOT_FOUND -> "there is no journal there; WARMGATE_DATA_DIR (or WARMGATE_DB_URL) says where the node "
              + "keeps it";
          default -> Optional.ofNullable(e.getMessage()).map(m -> m.lines().findFirst().orElse(m)).orElse(e.toString());
        };
        throw new Unreachable("cannot read the journal at " + database.url() + ": " + reason);
      }
    }

    @Override
    public void close() {
      system.terminate();
      system.getWhenTerminated().toCompletableFuture().completeOnTimeout(null, 30, TimeUnit.SECONDS).join();
    }
  }

  /** Logs go to stderr and only warnings: stdout may be carrying the export. */
  private static void logToStderr() {
    LoggerContext context = (LoggerContext) LoggerFactory.getILoggerFactory();
    context.reset();
    JoranConfigurator configurator = new JoranConfigurator();
    configurator.setContext(context);
    try {
      configurator.doConfigure(AuditCommand.class.getResource("/logback-audit.xml"));
    } catch (JoranException e) {
      System.err.println("warmgate audit: logging could not be set up: " + e.getMessage());
    }
  }
}
