package warmgate.bench.ingest;

import java.nio.file.Path;
import java.sql.Connection;
import java.time.Duration;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.Future;
import software.amazon.awssdk.services.sqs.model.SendMessageBatchRequestEntry;
import warmgate.bench.JournalWrites;
import warmgate.bench.PlannerStatistics;
import warmgate.bench.Report;
import warmgate.bench.Sql;
import warmgate.e2e.ElasticMq;
import warmgate.e2e.Postgres;
import warmgate.ingest.sqs.SqsBodies;
import warmgate.ingest.sqs.SqsConsumerMetrics;
import warmgate.job.ObjectRef;
import warmgate.node.InProcessNode;

/**
 * The SQS rows of benchmark 1: the same S3 ObjectCreated events as the HTTP rows, as messages on a local ElasticMQ
 * queue (its own process), consumed by one node (in this JVM, on a fresh PostgreSQL database) with
 * {@code consumers} long-poll loops. The queue is filled before the node starts, so no producer runs while the node
 * is measured; a message is counted once the node decided it accepted (its job committed), before its deletion.
 */
final class SqsIngest {
  private SqsIngest() {}

  static void run(Path work, List<Integer> consumerCounts, List<JournalWrites> writesList, int warmup, int duration,
      int keys, int messages, Report report) throws Exception {
    report.note(String.format(Locale.ROOT, "SQS rows: the same S3 events as messages on a local ElasticMQ 1.7.1 "
        + "queue (its own JVM), up to %d put there before the node starts (no producer runs in the window); the "
        + "node consumes with the given long-poll loops, 10 messages per receive, wait-time 20 s, and deletes each "
        + "batch once its jobs are committed. Accepted/s counts messages whose jobs are committed "
        + "(warmgate_sqs_messages_total accepted) over the same warm-up and window. Warmgate CPU: the node's process "
        + "(which also runs the SQS client) and its PostgreSQL backends, per accepted message; ElasticMQ's process "
        + "CPU is apart, in the last column (on AWS it is not yours to pay in CPU).", messages));
    try (ElasticMq sqs = ElasticMq.start(work.resolve("elasticmq"))) {
      for (int consumers : consumerCounts) {
        for (JournalWrites writes : writesList) {
          System.err.printf(Locale.ROOT, "== SQS, %d consumer loop(s): Warmgate, %s writes%n", consumers,
              writes.label());
          one(work.resolve("sqs-" + consumers + "-" + writes.label()), sqs, consumers, writes, warmup, duration,
              keys, messages, report);
        }
      }
    }
  }

  private static void one(Path dataDir, ElasticMq sqs, int consumers, JournalWrites writes, int warmup,
      int duration, int keys, int messages, Report report) throws Exception {
    String queue = sqs.createQueue("ingest-" + consumers + "-" + writes.label(), Duration.ofSeconds(60), null, 0);
    long fillStart = System.nanoTime();
    long filled = fill(sqs, queue, messages, keys);
    System.err.printf(Locale.ROOT, "   %d messages on the queue (%.0f s)%n", filled,
        (System.nanoTime() - fillStart) / 1e9);
    try (Postgres postgres = new Postgres(); PlannerStatistics stats = PlannerStatistics.keepCurrent(postgres,
        Duration.ofSeconds(15))) {
      Map<String, Object> settings = new HashMap<>();
      settings.put("warmgate.database.url", postgres.url);
      settings.put("warmgate.database.user", Postgres.USER);
      settings.put("warmgate.endpoint-defaults.max-queued", 100_000_000);
      settings.put("warmgate.endpoint-defaults.queue.owner-defaults.max-queued", 100_000_000);
      settings.put("warmgate.request.acquire-interval", "10m");
      settings.put("warmgate.request.inputs-check-interval", "10m");
      settings.put("warmgate.endpoint-defaults.status-poll-interval", "1s");
      settings.put("warmgate.sqs.queues", List.of(Map.of("url", queue, "endpoint-override", sqs.endpoint,
          "access-key-id", "bench", "secret-access-key", "bench", "consumers", consumers)));
      writes.applyTo(settings);
      InProcessNode node = InProcessNode.start(dataDir, settings, null, false);
      double perSecond;
      double nodeCores;
      double postgresCores;
      double sqsCores;
      double machineCores;
      long commits;
      long inWindow;
      long left;
      try {
        for (int i = 0; i < keys; i++) {
          node.blobs.put(new ObjectRef("gen3d", NotificationLoad.imageKey(i)), new byte[] {1});
          node.blobs.put(new ObjectRef("gen3d", NotificationLoad.maskKey(i)), new byte[] {2});
        }
        Thread.sleep(Duration.ofSeconds(warmup).toMillis());
        List<Long> backends = IngestBenchmark.backends(postgres);
        IngestBenchmark.Cpu before = IngestBenchmark.Cpu.now(null, backends);
        IngestBenchmark.Cpu sqsBefore = IngestBenchmark.Cpu.now(null, List.of(sqs.pid()));
        long commitsBefore = IngestBenchmark.commits(postgres);
        double acceptedBefore = accepted(node);
        long start = System.nanoTime();
        Thread.sleep(Duration.ofSeconds(duration).toMillis());
        double acceptedAfter = accepted(node);
        double seconds = (System.nanoTime() - start) / 1e9;
        IngestBenchmark.Cpu after = IngestBenchmark.Cpu.now(null, backends);
        IngestBenchmark.Cpu sqsAfter = IngestBenchmark.Cpu.now(null, List.of(sqs.pid()));
        commits = IngestBenchmark.commits(postgres) - commitsBefore;
        left = sqs.depth(queue).visible();
        inWindow = (long) (acceptedAfter - acceptedBefore);
        perSecond = inWindow / seconds;
        nodeCores = (after.process() - before.process()) / 1e9 / seconds;
        postgresCores = (after.backends() - before.backends()) / IngestBenchmark.Cpu.TICKS / seconds;
        sqsCores = (sqsAfter.backends() - sqsBefore.backends()) / IngestBenchmark.Cpu.TICKS / seconds;
        machineCores = (after.machine() - before.machine()) / IngestBenchmark.Cpu.TICKS / seconds;
      } finally {
        node.close();
      }
      String metrics = node.node.metrics().scrapeText();
      long accepted = (long) SqsConsumerMetrics.sum(metrics, "warmgate_sqs_messages_total", "outcome", "accepted");
      long received = (long) SqsConsumerMetrics.sum(metrics, "warmgate_sqs_received_total");
      long duplicates = (long) SqsConsumerMetrics.sum(metrics, "warmgate_sqs_jobs_total", "duplicate", "true");
      long refused = received - accepted;
      long journaled;
      try (Connection c = postgres.connect()) {
        journaled = Sql.scalar(c, "SELECT COUNT(*) FROM event_journal WHERE event_ser_manifest LIKE '%JobSubmitted'");
      }
      System.err.printf(Locale.ROOT, "   %.0f accepted/s (%d accepted, %d received, %d JobSubmitted)%n", perSecond,
          accepted, received, journaled);
      // Every accepted message's job is journaled; a job journaled for a message the closing node had not decided yet
      // is allowed (the message comes back and is a duplicate); more jobs than messages received is not.
      if (journaled < accepted || journaled > received || duplicates > 0) {
        report.publish();
        throw new IllegalStateException("SQS, " + consumers + " consumers: " + accepted + " messages accepted, "
            + received + " received, " + duplicates + " duplicates, but the journal holds " + journaled
            + " JobSubmitted events");
      }
      report.row(consumers + " loops", writes.label(), "1 (received 10 messages at a time)",
          String.format(Locale.ROOT, "%.0f", perSecond)
              + (left == 0 ? " (queue ran dry)" : ""), "–", "–", "–", "–",
          perSecond == 0 ? "–" : String.format(Locale.ROOT, "%.3f (%.3f + %.3f)",
              (nodeCores + postgresCores) / perSecond * 1000, nodeCores / perSecond * 1000,
              postgresCores / perSecond * 1000), "–", "–",
          String.format(Locale.ROOT, "%.2f", inWindow == 0 ? 0 : (double) commits / inWindow),
          String.format(Locale.ROOT, "%.2f", machineCores),
          "yes (" + accepted + " accepted, " + journaled + " JobSubmitted" + (refused > 0 ? ", " + refused
              + " received and not accepted" : "") + ")", "–", "sqs",
          perSecond == 0 ? "–" : String.format(Locale.ROOT, "%.3f", sqsCores / perSecond * 1000), "–", "–");
    }
  }

  private static double accepted(InProcessNode node) {
    return SqsConsumerMetrics.sum(node.node.metrics().scrapeText(), "warmgate_sqs_messages_total", "outcome",
        "accepted");
  }

  /** Puts {@code messages} S3 events on the queue, 10 to a SendMessageBatch, from 4 threads; each a new job. */
  private static long fill(ElasticMq sqs, String queue, int messages, int keys) throws Exception {
    ExecutorService senders = Executors.newFixedThreadPool(4);
    try {
      List<Future<?>> sent = new ArrayList<>();
      for (int from = 0; from < messages; from += 10) {
        int first = from;
        sent.add(senders.submit(() -> {
          List<SendMessageBatchRequestEntry> entries = new ArrayList<>();
          for (int i = first; i < Math.min(first + 10, messages); i++) {
            entries.add(SendMessageBatchRequestEntry.builder().id("m" + i).messageBody(SqsBodies.s3Event("gen3d",
                NotificationLoad.imageKey(i % keys), "%032x".formatted(0x5e5e0000000L + i))).build());
          }
          var answer = sqs.sqs.sendMessageBatch(b -> b.queueUrl(queue).entries(entries));
          if (!answer.failed().isEmpty()) {
            throw new IllegalStateException("SendMessageBatch failed: " + answer.failed());
          }
        }));
      }
      for (Future<?> f : sent) {
        f.get();
      }
    } finally {
      senders.shutdown();
    }
    return sqs.depth(queue).visible();
  }
}
