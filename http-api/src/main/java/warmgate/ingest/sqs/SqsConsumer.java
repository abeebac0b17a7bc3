package warmgate.ingest.sqs;

import java.time.Clock;
import java.time.Duration;
import java.time.Instant;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.Set;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.CompletionStage;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.ScheduledExecutorService;
import java.util.concurrent.ScheduledFuture;
import java.util.concurrent.TimeUnit;
import java.util.function.Function;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;
import software.amazon.awssdk.services.sqs.SqsAsyncClient;
import software.amazon.awssdk.services.sqs.model.ChangeMessageVisibilityBatchRequestEntry;
import software.amazon.awssdk.services.sqs.model.DeleteMessageBatchRequestEntry;
import software.amazon.awssdk.services.sqs.model.Message;
import software.amazon.awssdk.services.sqs.model.MessageSystemAttributeName;
import software.amazon.awssdk.services.sqs.model.ReceiveMessageRequest;
import software.amazon.awssdk.services.sqs.model.ReceiveMessageResponse;
import warmgate.Failures;
import warmgate.InvalidInput;
import warmgate.gateway.EndpointBusy;
import warmgate.ingest.Ingestion;
import warmgate.ingest.Skip;
import warmgate.ingest.eventbridge.EventBridgeEvent;
import warmgate.metrics.Metrics;

/**
 * One long-poll loop on one queue: receive up to {@code max-messages}, hand each message's uploads to
 * {@link Ingestion}, and delete (in one {@code DeleteMessageBatch}) only the messages whose every job is in the
 * journal. A message the node refused (busy, or the journal did not confirm) stays in the queue, invisible for a
 * time that grows with its receive count, and the loop pauses before it receives again: the queue is the buffer. A
 * message nothing can use is left alone, so the queue's redrive policy takes it to its dead-letter queue after
 * {@code maxReceiveCount} receives; it is logged with its id and the reason every time. While a batch is still being
 * accepted, its messages' visibility is renewed every half visibility timeout.
 */
final class SqsConsumer implements AutoCloseable {
  private static final Logger log = LoggerFactory.getLogger(SqsConsumer.class);
  /** Bounds the memory spent on remembering which ignored event types were already logged. */
  private static final int MAX_REMEMBERED_TYPES = 1000;

  private final SqsSettings settings;
  private final SqsSettings.Queue queue;
  private final String name;
  private final SqsAsyncClient sqs;
  private final Ingestion ingestion;
  private final Function<EventBridgeEvent.EndpointStateChange, List<String>> stateChanges;
  private final Metrics.Sqs figures;
  private final ScheduledExecutorService timer;
  private final Clock clock;
  private final Set<String> loggedTypes = ConcurrentHashMap.newKeySet();

  private volatile boolean closed;
  private volatile CompletableFuture<?> receiving = CompletableFuture.completedFuture(null);
  /** Batches in a row with a refusal, or receives in a row that failed; touched by one batch at a time. */
  private int refusedInARow;
  private int failedReceivesInARow;

  /** What becomes of one message, once decided. */
  private enum Action { DELETE, RETRY, LEAVE }

  private record Decision(Message message, String outcome, Action action, Duration retryAfter) {
    static Decision delete(Message message, String outcome) {
      return new Decision(message, outcome, Action.DELETE, Duration.ZERO);
    }

    static Decision leave(Message message, String outcome) {
      return new Decision(message, outcome, Action.LEAVE, Duration.ZERO);
    }
  }

  /**
   * @param stateChanges tells the configured endpoints bound to the SageMaker endpoint an event names; answers their
   *     names (none: no endpoint here is bound to it); throws {@link InvalidInput} for a status SageMaker does not
   *     document
   * @param timer runs the pauses and visibility renewals; owned by the caller
   */
  SqsConsumer(SqsSettings settings, SqsSettings.Queue queue, int index, SqsAsyncClient sqs, Ingestion ingestion,
      Function<EventBridgeEvent.EndpointStateChange, List<String>> stateChanges, Metrics.Sqs figures,
      ScheduledExecutorService timer, Clock clock) {
    this.settings = settings;
    this.queue = queue;
    this.name = queue.name() + "#" + index;
    this.sqs = sqs;
    this.ingestion = ingestion;
    this.stateChanges = stateChanges;
    this.figures = figures;
    this.timer = timer;
    this.clock = clock;
  }

  void start() {
    timer.execute(this::poll);
  }

  private void poll() {
    if (closed) {
      return;
    }
    ReceiveMessageRequest request = ReceiveMessageRequest.builder()
        .queueUrl(queue.url())
        .maxNumberOfMessages(settings.maxMessages())
        .waitTimeSeconds((int) settings.waitTime().toSeconds())
        .visibilityTimeout((int) queue.visibilityTimeout().toSeconds())
        .messageSystemAttributeNames(MessageSystemAttributeName.SENT_TIMESTAMP,
            MessageSystemAttributeName.APPROXIMATE_RECEIVE_COUNT)
        .build();
    CompletableFuture<ReceiveMessageResponse> call = sqs.receiveMessage(request);
    receiving = call; // cancelled on close: the long poll ends at once
    call.handle((response, failure) -> {
      if (closed) {
        return null;
      }
      if (failure != null) {
        receiveFailed(failure);
        return null;
      }
      failedReceivesInARow = 0;
      batch(response.messages()).whenComplete((pause, f) -> {
        if (f != null) {
          log.error("SQS queue {}: handling a batch failed; its messages come back after their visibility timeout",
              name, f);
        }
        next(f != null ? settings.retryMin() : pause);
      });
      return null;
    });
  }

  private void receiveFailed(Throwable failure) {
    failedReceivesInARow++;
    Duration pause = backoff(failedReceivesInARow, settings.retryMin());
    Throwable cause = Failures.unwrap(failure);
    if (failedReceivesInARow <= 3 || Long.bitCount(failedReceivesInARow) == 1) {
      log.warn("SQS queue {}: ReceiveMessage failed ({} in a row): {}; trying again in {} ms", name,
          failedReceivesInARow, cause.toString(), pause.toMillis());
    }
    next(pause);
  }

  private void next(Duration pause) {
    if (closed) {
      return;
    }
    if (pause.isZero()) {
      timer.execute(this::poll);
    } else {
      timer.schedule(this::poll, pause.toMillis(), TimeUnit.MILLISECONDS);
    }
  }

  /** Decides every message of a batch, then deletes, renews or leaves them; answers the pause before the next one. */
  private CompletionStage<Duration> batch(List<Message> messages) {
    if (messages.isEmpty()) {
      return CompletableFuture.completedFuture(Duration.ZERO);
    }
    Instant now = clock.instant();
    List<CompletableFuture<Decision>> decisions = new ArrayList<>();
    for (Message message : messages) {
      figures.received(queue.name(), receiveCount(message), sentAt(message)
          .map(sent -> Duration.between(sent, now)).orElse(Duration.ofMillis(-1)));
      CompletableFuture<Decision> decision;
      try {
        decision = decide(message).toCompletableFuture();
      } catch (RuntimeException e) {
        decision = CompletableFuture.failedFuture(e);
      }
      decisions.add(decision.exceptionally(failure -> unavailable(message, failure)));
    }
    long renewEvery = Math.max(1000, queue.visibilityTimeout().toMillis() / 2);
    ScheduledFuture<?> renewal = timer.scheduleAtFixedRate(() -> renew(messages, decisions), renewEvery, renewEvery,
        TimeUnit.MILLISECONDS);
    return CompletableFuture.allOf(decisions.toArray(CompletableFuture[]::new)).thenCompose(all -> {
      renewal.cancel(false);
      List<Decision> decided = decisions.stream().map(CompletableFuture::join).toList();
      decided.forEach(d -> figures.outcome(queue.name(), d.outcome()));
      CompletableFuture<Void> deleted = delete(decided.stream().filter(d -> d.action() == Action.DELETE).toList());
      List<Decision> retries = decided.stream().filter(d -> d.action() == Action.RETRY).toList();
      CompletableFuture<Void> retried = retryLater(retries);
      return CompletableFuture.allOf(deleted, retried).thenApply(done -> pause(retries));
    });
  }

  private CompletionStage<Decision> decide(Message message) {
    SqsBody body = SqsBody.read(message.body(), ingestion::noticeResult);
    if (body instanceof SqsBody.Uploads uploads) {
      return ingest(message, uploads);
    }
    if (body instanceof SqsBody.TestEvent test) {
      log.info("SQS queue {}: message {} is S3's s3:TestEvent for bucket {}; deleted", name, message.messageId(),
          test.bucket());
      return done(Decision.delete(message, "test_event"));
    }
    if (body instanceof SqsBody.Result) {
      return done(Decision.delete(message, "result"));
    }
    if (body instanceof SqsBody.StateChange change) {
      try {
        List<String> told = stateChanges.apply(change.change());
        log.debug("SQS queue {}: message {}: {} is {}; told {}", name, message.messageId(),
            change.change().endpointName(), change.change().status(), told);
        return done(Decision.delete(message, told.isEmpty() ? "ignored" : "state_change"));
      } catch (InvalidInput e) {
        return done(leave(message, "invalid", e.getMessage()));
      }
    }
    if (body instanceof SqsBody.Ignored ignored) {
      if (loggedTypes.size() < MAX_REMEMBERED_TYPES && loggedTypes.add(ignored.type())) {
        log.info("SQS queue {}: deleting events of type {} (first one: message {}); Warmgate acts on aws.s3 / Object "
            + "Created and aws.sagemaker / SageMaker Endpoint State Change only", name, ignored.type(),
            message.messageId());
      }
      return done(Decision.delete(message, "ignored"));
    }
    return done(leave(message, "invalid", ((SqsBody.Unusable) body).reason()));
  }

  private CompletionStage<Decision> ingest(Message message, SqsBody.Uploads uploads) {
    return ingestion.ingest(uploads.uploads()).handle((report, failure) -> {
      if (failure != null) {
        return refused(message, failure);
      }
      report.accepted().forEach(accepted -> figures.job(queue.name(), accepted.duplicate()));
      List<Skip> skipped = new ArrayList<>(uploads.skipped());
      skipped.addAll(report.skipped());
      List<Skip> unroutable = skipped.stream().filter(Skip::unroutable).toList();
      if (!unroutable.isEmpty()) {
        StringBuilder reasons = new StringBuilder();
        for (Skip skip : unroutable) {
          reasons.append(reasons.isEmpty() ? "" : "; ").append("s3://").append(skip.bucket()).append('/')
              .append(skip.key()).append(": ").append(skip.reason());
        }
        return leave(message, "unroutable", reasons + (report.accepted().isEmpty() ? ""
            : " (its other " + report.accepted().size() + " upload(s) are jobs)"));
      }
      skipped.forEach(skip -> log.debug("SQS queue {}: message {}: skipped s3://{}/{}: {}", name,
          message.messageId(), skip.bucket(), skip.key(), skip.reason()));
      return Decision.delete(message, "accepted");
    });
  }

  /** The node did not take the message's jobs: it comes back once its new visibility timeout is over. */
  private Decision refused(Message message, Throwable failure) {
    Throwable cause = Failures.unwrap(failure);
    int receives = receiveCount(message);
    if (cause instanceof EndpointBusy busy) {
      Duration after = settings.retryVisibility(receives, Duration.ofSeconds(busy.retryAfterSeconds()));
      log.debug("SQS queue {}: message {} refused ({}): {}; it comes back in {} s", name, message.messageId(),
          busy.code(), busy.getMessage(), after.toSeconds());
      return new Decision(message, "busy", Action.RETRY, after);
    }
    return unavailable(message, cause);
  }

  private Decision unavailable(Message message, Throwable failure) {
    Throwable cause = Failures.unwrap(failure);
    Duration after = settings.retryVisibility(receiveCount(message), settings.retryMin());
    log.warn("SQS queue {}: message {} not accepted ({}); it comes back in {} s", name, message.messageId(),
        cause.toString(), after.toSeconds());
    return new Decision(message, "unavailable", Action.RETRY, after);
  }

  private Decision leave(Message message, String outcome, String reason) {
    log.warn("SQS queue {}: leaving message {} (receive {}) to the queue's redrive policy, not deleted: {}", name,
        message.messageId(), receiveCount(message), reason);
    return Decision.leave(message, outcome);
  }

  /** Keeps the messages still being decided invisible for another visibility timeout. */
  private void renew(List<Message> messages, List<CompletableFuture<Decision>> decisions) {
    List<ChangeMessageVisibilityBatchRequestEntry> entries = new ArrayList<>();
    for (int i = 0; i < messages.size(); i++) {
      if (!decisions.get(i).isDone()) {
        entries.add(ChangeMessageVisibilityBatchRequestEntry.builder().id(Integer.toString(i))
            .receiptHandle(messages.get(i).receiptHandle())
            .visibilityTimeout((int) queue.visibilityTimeout().toSeconds()).build());
      }
    }
    if (entries.isEmpty() || closed) {
      return;
    }
    log.debug("SQS queue {}: {} message(s) still being accepted; renewing their visibility", name, entries.size());
    sqs.changeMessageVisibilityBatch(b -> b.queueUrl(queue.url()).entries(entries)).whenComplete((r, f) -> {
      if (f != null || !r.failed().isEmpty()) {
        log.warn("SQS queue {}: renewing the visibility of a slow batch failed ({}); a message may be delivered again "
            + "meanwhile and is then a duplicate", name, f != null ? Failures.unwrap(f).toString() : r.failed());
      }
    });
  }

  private CompletableFuture<Void> delete(List<Decision> done) {
    if (done.isEmpty()) {
      return CompletableFuture.completedFuture(null);
    }
    List<DeleteMessageBatchRequestEntry> entries = new ArrayList<>();
    for (int i = 0; i < done.size(); i++) {
      entries.add(DeleteMessageBatchRequestEntry.builder().id(Integer.toString(i))
          .receiptHandle(done.get(i).message().receiptHandle()).build());
    }
    return sqs.deleteMessageBatch(b -> b.queueUrl(queue.url()).entries(entries)).handle((response, failure) -> {
      if (failure != null) {
        done.forEach(d -> figures.deleteFailed(queue.name()));
        log.warn("SQS queue {}: DeleteMessageBatch of {} accepted message(s) failed ({}); they come back after their "
            + "visibility timeout and are answered as duplicates", name, done.size(),
            Failures.unwrap(failure).toString());
      } else if (!response.failed().isEmpty()) {
        response.failed().forEach(f -> {
          figures.deleteFailed(queue.name());
          log.warn("SQS queue {}: deleting accepted message {} failed ({} {}); it comes back and is a duplicate",
              name, done.get(Integer.parseInt(f.id())).message().messageId(), f.code(), f.message());
        });
      }
      return null;
    });
  }

  private CompletableFuture<Void> retryLater(List<Decision> retries) {
    if (retries.isEmpty()) {
      return CompletableFuture.completedFuture(null);
    }
    List<ChangeMessageVisibilityBatchRequestEntry> entries = new ArrayList<>();
    for (int i = 0; i < retries.size(); i++) {
      entries.add(ChangeMessageVisibilityBatchRequestEntry.builder().id(Integer.toString(i))
          .receiptHandle(retries.get(i).message().receiptHandle())
          .visibilityTimeout((int) retries.get(i).retryAfter().toSeconds()).build());
    }
    return sqs.changeMessageVisibilityBatch(b -> b.queueUrl(queue.url()).entries(entries)).handle((r, f) -> {
      if (f != null) {
        log.warn("SQS queue {}: setting when {} refused message(s) come back failed ({}); they come back after the "
            + "visibility timeout instead", name, retries.size(), Failures.unwrap(f).toString());
      }
      return null;
    });
  }

  /** Zero after a batch the node took whole; after a refusal, a pause that grows while refusals go on. */
  private Duration pause(List<Decision> retries) {
    if (retries.isEmpty()) {
      refusedInARow = 0;
      return Duration.ZERO;
    }
    refusedInARow++;
    Duration pause = backoff(refusedInARow, settings.retryMin());
    if (refusedInARow == 1 || Long.bitCount(refusedInARow) == 1) {
      log.info("SQS queue {}: the node refused {} message(s) ({} batch(es) in a row); receiving again in {} ms", name,
          retries.size(), refusedInARow, pause.toMillis());
    }
    return pause;
  }

  private Duration backoff(int inARow, Duration first) {
    Duration grown = first.multipliedBy(1L << Math.min(inARow - 1, 20));
    return grown.compareTo(settings.backoffMax()) > 0 ? settings.backoffMax() : grown;
  }

  private static int receiveCount(Message message) {
    String count = message.attributes().get(MessageSystemAttributeName.APPROXIMATE_RECEIVE_COUNT);
    try {
      return count == null ? 1 : Integer.parseInt(count);
    } catch (NumberFormatException e) {
      return 1;
    }
  }

  private static Optional<Instant> sentAt(Message message) {
    Map<MessageSystemAttributeName, String> attributes = message.attributes();
    String sent = attributes.get(MessageSystemAttributeName.SENT_TIMESTAMP);
    try {
      return sent == null ? Optional.empty() : Optional.of(Instant.ofEpochMilli(Long.parseLong(sent)));
    } catch (NumberFormatException e) {
      return Optional.empty();
    }
  }

  private static CompletionStage<Decision> done(Decision decision) {
    return CompletableFuture.completedFuture(decision);
  }

  @Override
  public void close() {
    closed = true;
    receiving.cancel(true);
  }
}
