package warmgate.request;

import com.fasterxml.jackson.core.JsonProcessingException;
import com.fasterxml.jackson.databind.node.ObjectNode;
import java.io.IOException;
import java.io.InputStream;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.CompletionException;
import java.util.concurrent.CompletionStage;
import java.util.concurrent.TimeoutException;
import java.util.function.BooleanSupplier;
import java.util.function.Function;
import warmgate.Failures;
import warmgate.Json;
import warmgate.blob.BlobInfo;
import warmgate.blob.BlobNotFoundException;
import warmgate.blob.BlobRefusedException;
import warmgate.blob.BlobStore;
import warmgate.config.InputLimits;
import warmgate.job.JobSpec;
import warmgate.job.ObjectKeys;
import warmgate.job.ObjectRef;
import warmgate.provider.AsyncInferenceClient;
import warmgate.provider.InferenceClient;
import warmgate.provider.InferenceException;
import warmgate.provider.Invocation;
import warmgate.provider.RequestBody;

/**
 * What a job does once it holds a slot: read its inputs, send them to the model as one JSON request, and
 * write the answer to the output object, stamped with the job id and attempt so a recovering job can tell
 * its own finished work from someone else's file.
 */
public final class InferenceStep {
  public static final String JOB_ID_METADATA = "warmgate-job-id";
  public static final String ATTEMPT_METADATA = "warmgate-attempt";

  private static final InputLimits NO_LIMITS = new InputLimits(Long.MAX_VALUE, Long.MAX_VALUE);

  private final BlobStore blobs;
  private final Function<String, InferenceClient> clients;
  private final Function<String, InputLimits> limits;
  private final PayloadBudget budget;

  /** A step with no input limits and no payload budget (tests of other concerns). */
  public InferenceStep(BlobStore blobs, Function<String, InferenceClient> clients) {
    this(blobs, clients, name -> NO_LIMITS, PayloadBudget.unbounded());
  }

  /**
   * @param clients the inference client of an endpoint, by endpoint name
   * @param limits how large an endpoint's inputs may be, by endpoint name
   * @param budget the node's payload bytes in flight, shared by every attempt
   */
  public InferenceStep(BlobStore blobs, Function<String, InferenceClient> clients,
      Function<String, InputLimits> limits, PayloadBudget budget) {
    this.blobs = blobs;
    this.clients = clients;
    this.limits = limits;
    this.budget = budget;
  }

  public PayloadBudget budget() {
    return budget;
  }

  /**
   * Why the job can never run, or empty: an input that can never exist or a result that can never be written,
   * because its reference breaks {@link ObjectKeys}. Jobs journaled before the edge checked references can hold
   * such references; waiting or retrying would never end for them.
   *
   * @param target where the result goes: the output, or a held place while it awaits review
   */
  public static Optional<String> neverRuns(JobSpec spec, ObjectRef target) {
    for (Map.Entry<String, ObjectRef> input : spec.inputs().entrySet()) {
      Optional<ObjectKeys.Violation> broken = broken(input.getValue());
      if (broken.isPresent()) {
        return Optional.of("input " + input.getKey() + " " + input.getValue() + " can never exist: " + broken.get());
      }
    }
    Optional<ObjectKeys.Violation> broken = broken(target);
    String what = target.equals(spec.output()) ? "output " : "the result held for review at ";
    return broken.map(v -> what + target + " can never be written: " + v);
  }

  /**
   * The names of the inputs that do not exist yet. Fails with a permanent {@link InferenceException} naming the
   * input when one can never exist (its reference breaks {@link ObjectKeys}, or the store refuses it), or when all
   * exist and their sizes, as the store's metadata gives them, pass the endpoint's {@link InputLimits}; with
   * whatever the store failed with otherwise. Reads no content.
   */
  public CompletionStage<List<String>> missingInputs(JobSpec spec) {
    return inputSizes(spec).thenApply(sizes -> {
      List<String> missing = sizes.entrySet().stream().filter(e -> e.getValue() < 0).map(Map.Entry::getKey).toList();
      if (missing.isEmpty()) {
        refuseOversized(spec, sizes);
      }
      return missing;
    });
  }

  /** Fails with a permanent {@link InferenceException} when the inputs pass the endpoint's limits. */
  private void refuseOversized(JobSpec spec, Map<String, Long> sizes) {
    String refusal = limits.apply(spec.endpoint()).refusal(spec.endpoint(), sizes, spec.inputs());
    if (refusal != null) {
      throw InferenceException.permanent(refusal);
    }
  }

  /** Each input's size by name, in the spec's order; -1 for one that does not exist. */
  private CompletionStage<Map<String, Long>> inputSizes(JobSpec spec) {
    List<CompletableFuture<Long>> checks = new ArrayList<>();
    for (Map.Entry<String, ObjectRef> input : spec.inputs().entrySet()) {
      String name = input.getKey();
      ObjectRef ref = input.getValue();
      Optional<ObjectKeys.Violation> broken = broken(ref);
      if (broken.isPresent()) {
        return CompletableFuture.failedFuture(InferenceException.permanent("input " + name + " " + ref
            + " can never exist: " + broken.get()));
      }
      checks.add(blobs.head(ref)
          .thenApply(info -> info.map(BlobInfo::size).orElse(-1L))
          .exceptionally(failure -> {
            if (Failures.unwrap(failure) instanceof BlobRefusedException refused) {
              throw InferenceException.permanent("input " + name + " can never exist: " + refused.getMessage());
            }
            throw failure instanceof CompletionException c ? c : new CompletionException(failure);
          })
          .toCompletableFuture());
    }
    List<String> names = List.copyOf(spec.inputs().keySet());
    return CompletableFuture.allOf(checks.toArray(CompletableFuture[]::new))
        .thenApply(done -> {
          Map<String, Long> sizes = new LinkedHashMap<>();
          for (int i = 0; i < names.size(); i++) {
            sizes.put(names.get(i), checks.get(i).join());
          }
          return sizes;
        });
  }

  /** The object at {@code target}, if this job wrote it (in any attempt). */
  public CompletionStage<Optional<BlobInfo>> writtenBy(String jobId, ObjectRef target) {
    return blobs.head(target)
        .thenApply(info -> info.filter(i -> jobId.equals(i.metadata().get(JOB_ID_METADATA))));
  }

  /**
   * Runs one attempt. Fails with {@link InferenceException}: permanent when retrying cannot help (an input
   * is missing, the model refused the request, the job was cancelled meanwhile, a reference can never name an
   * object: {@link #neverRuns}, checked before anything is read or the model invoked, or the store refuses it),
   * transient otherwise.
   *
   * @param target where the result goes: the output, or a held place while it awaits review
   * @param stillWanted asked once the model has answered; false drops the result instead of writing it
   */
  public CompletionStage<BlobInfo> run(String jobId, int attempt, JobSpec spec, ObjectRef target,
      BooleanSupplier stillWanted) {
    Optional<String> never = neverRuns(spec, target);
    if (never.isPresent()) {
      return CompletableFuture.failedFuture(InferenceException.permanent(never.get()));
    }
    InferenceClient client = clients.apply(spec.endpoint());
    return withRequest(spec, false, body -> client
        .invokeStreamed(new Invocation(jobId, attempt, "application/json", new byte[0]), body)
        .thenCompose(response -> {
          if (!stillWanted.getAsBoolean()) {
            closeQuietly(response.body());
            throw InferenceException.permanent("the job was cancelled while the model ran; its result was dropped");
          }
          return blobs
              .put(target, response.body(), response.contentType(), stamp(jobId, attempt))
              .exceptionally(failure -> {
                throw classify(failure, "writing the output " + target);
              });
        }));
  }

  /**
   * Runs {@code use} with the JSON request the model gets: the job's payload template with each input, base64 (or its
   * {@code s3://} URI when {@code byReference}: the model reads it itself). First the inputs' sizes from the store's
   * metadata, refused over the endpoint's limits before a byte is read; then their share of the node's
   * {@link PayloadBudget}, held until {@code use} is done; then the inputs are opened and streamed into the request
   * as {@code use} reads it. Fails as {@link #run} does for inputs that cannot be read.
   */
  private <T> CompletionStage<T> withRequest(JobSpec spec, boolean byReference,
      Function<RequestBody, CompletionStage<T>> use) {
    if (byReference) {
      ObjectNode payload = spec.payloadTemplate();
      spec.inputs().forEach((name, ref) -> payload.put(name, ref.toString()));
      try {
        return use.apply(RequestBody.of(Json.mapper().writeValueAsBytes(payload)));
      } catch (JsonProcessingException e) {
        return CompletableFuture.failedFuture(InferenceException.permanent("the payload cannot be written as JSON: "
            + e.getOriginalMessage()));
      }
    }
    return inputSizes(spec)
        .exceptionally(failure -> {
          throw classify(failure, "reading the inputs' metadata");
        })
        .thenCompose(sizes -> {
          sizes.forEach((name, size) -> {
            if (size < 0) {
              throw InferenceException.permanent("input " + spec.inputs().get(name) + " does not exist");
            }
          });
          refuseOversized(spec, sizes);
          long total = sizes.values().stream().mapToLong(Long::longValue).sum();
          return budget.acquire(total).thenCompose(lease -> streamed(spec, sizes, use)
              .whenComplete((ok, failure) -> lease.close()));
        });
  }

  private <T> CompletionStage<T> streamed(JobSpec spec, Map<String, Long> sizes,
      Function<RequestBody, CompletionStage<T>> use) {
    List<String> names = List.copyOf(sizes.keySet());
    List<CompletableFuture<InputStream>> opens = names.stream()
        .map(n -> blobs.open(spec.inputs().get(n)).toCompletableFuture()).toList();
    return CompletableFuture.allOf(opens.toArray(CompletableFuture[]::new))
        .handle((done, failure) -> {
          if (failure != null) {
            opens.forEach(o -> o.thenAccept(InferenceStep::closeQuietly));
            throw classify(failure, "reading the inputs");
          }
          List<JsonRequestBody.Input> inputs = new ArrayList<>();
          for (int i = 0; i < names.size(); i++) {
            inputs.add(new JsonRequestBody.Input(names.get(i), opens.get(i).join(), sizes.get(names.get(i))));
          }
          try {
            return JsonRequestBody.of(spec.payloadTemplate(), inputs);
          } catch (RuntimeException e) {
            inputs.forEach(in -> closeQuietly(in.content()));
            throw e;
          }
        })
        .thenCompose(body -> {
          CompletionStage<T> used;
          try {
            used = use.apply(body);
          } catch (RuntimeException e) {
            used = CompletableFuture.failedFuture(e);
          }
          return used.whenComplete((ok, failure) -> body.close());
        });
  }

  private static void closeQuietly(InputStream in) {
    try {
      in.close();
    } catch (IOException ignored) {
      // nothing more will be read from it
    }
  }

  /** The endpoint's asynchronous side, when it is called asynchronously ({@code sagemaker-async}). */
  public Optional<AsyncInferenceClient> asyncClient(String endpoint) {
    return clients.apply(endpoint) instanceof AsyncInferenceClient async ? Optional.of(async) : Optional.empty();
  }

  /**
   * Starts one attempt on an asynchronous endpoint: stages the request where the endpoint reads it, then has the
   * endpoint queue it. Fails as {@link #run} does.
   *
   * @return where the request was staged, and where its answer will be
   */
  public CompletionStage<Staged> startAsync(String jobId, int attempt, JobSpec spec, ObjectRef target,
      AsyncInferenceClient client) {
    Optional<String> never = neverRuns(spec, target);
    if (never.isPresent()) {
      return CompletableFuture.failedFuture(InferenceException.permanent(never.get()));
    }
    ObjectRef staged = client.stagingFor(jobId);
    return withRequest(spec, client.inputsByReference(), body -> {
      InputStream content;
      try {
        content = body.open();
      } catch (IOException e) {
        return CompletableFuture.<BlobInfo>failedFuture(classify(e, "staging the request at " + staged));
      }
      return blobs.put(staged, content, "application/json", stamp(jobId, attempt))
          .exceptionally(failure -> {
            throw classify(failure, "staging the request at " + staged);
          });
    })
        .thenCompose(written -> client.invokeAsync(new Invocation(jobId, attempt, "application/json", new byte[0]),
            staged))
        .thenApply(accepted -> new Staged(staged, accepted))
        .whenComplete((ok, failure) -> {
          // Refused for good: nothing will read the staged request. A timeout may hide a queued request: keep it.
          if (Failures.unwrap(failure) instanceof InferenceException e
              && e.kind() == InferenceException.Kind.PERMANENT) {
            discardStaged(staged);
          }
        });
  }

  /** An asynchronous request staged at {@code staged} and queued by the endpoint. */
  public record Staged(ObjectRef staged, AsyncInferenceClient.Accepted accepted) {}

  /**
   * Looks where an asynchronous answer goes. Found, it is copied to {@code target} stamped as this job's (the bytes
   * stay in the store) and the staged request removed; the platform's failure instead fails the stage with a
   * permanent {@link InferenceException} carrying what the platform wrote (at most {@link #FAILURE_TEXT_LIMIT}
   * characters of it); nothing yet: empty.
   *
   * @param stillWanted asked once the answer is found; false drops it instead of copying it
   */
  public CompletionStage<Optional<BlobInfo>> collectAsync(String jobId, int attempt, ObjectRef output,
      ObjectRef failure, ObjectRef staged, ObjectRef target, BooleanSupplier stillWanted) {
    return blobs.head(output).thenCompose(answer -> {
      if (answer.isPresent()) {
        if (!stillWanted.getAsBoolean()) {
          throw InferenceException.permanent("the job was cancelled while the model ran; its result was dropped");
        }
        return blobs.copy(output, target, stamp(jobId, attempt))
            .exceptionally(copyFailure -> {
              throw classify(copyFailure, "copying the answer " + output + " to " + target);
            })
            .thenCompose(written -> discardStaged(staged).thenApply(done -> Optional.of(written)));
      }
      if (failure == null) {
        return CompletableFuture.completedFuture(Optional.empty());
      }
      return blobs.head(failure).thenCompose(failed -> failed.isEmpty()
          ? CompletableFuture.completedFuture(Optional.<BlobInfo>empty())
          : blobs.open(failure).thenApply(InferenceStep::failureHead).thenCompose(text -> discardStaged(staged)
              .thenApply(done -> {
                throw InferenceException.permanent("the model failed (" + failure + "): " + failureText(text));
              })));
    });
  }

  /** Removes a staged request; a failure only leaves it behind (the staging prefix may have a lifecycle rule). */
  public CompletionStage<Void> discardStaged(ObjectRef staged) {
    return blobs.delete(staged).handle((done, ignored) -> null);
  }

  /** How much of a platform's failure text a job's error keeps. */
  static final int FAILURE_TEXT_LIMIT = 4096;

  /** The start of a failure's text, enough for {@link #FAILURE_TEXT_LIMIT} characters; the rest is not read. */
  private static byte[] failureHead(InputStream in) {
    try (in) {
      return in.readNBytes(FAILURE_TEXT_LIMIT * 4 + 4);
    } catch (IOException e) {
      throw new java.io.UncheckedIOException(e);
    }
  }

  private static String failureText(byte[] content) {
    String text = new String(content, java.nio.charset.StandardCharsets.UTF_8).strip();
    return text.length() <= FAILURE_TEXT_LIMIT ? text : text.substring(0, FAILURE_TEXT_LIMIT) + "...";
  }

  /**
   * Publishes an approved result: copies the held object to the output and removes it. Repeating it after a
   * crash is safe: an output this job already wrote is kept, and it is the same bytes.
   */
  public CompletionStage<BlobInfo> publish(String jobId, int attempt, JobSpec spec, ObjectRef held) {
    return writtenBy(jobId, spec.output()).thenCompose(done -> done.isPresent()
        ? CompletableFuture.completedFuture(done.get())
        : blobs.copy(held, spec.output(), stamp(jobId, attempt))
            .thenCompose(written -> blobs.delete(held).handle((ok, ignored) -> written)));
  }

  /** Removes a held result nobody will publish (rejected or cancelled); a failure only leaves it behind. */
  public CompletionStage<Void> discard(ObjectRef held) {
    return blobs.delete(held);
  }

  /**
   * Writes {@code {base}_error.json} beside the output. Fails with {@link BlobRefusedException} when it can never
   * be written: its reference breaks {@link ObjectKeys} (then the store is not asked), or the store refuses it.
   */
  public CompletionStage<BlobInfo> writeErrorReport(String jobId, JobSpec spec, byte[] report) {
    ObjectRef ref = spec.errorOutput();
    Optional<ObjectKeys.Violation> broken = broken(ref);
    if (broken.isPresent()) {
      return CompletableFuture.failedFuture(new BlobRefusedException(ref, broken.get().toString()));
    }
    return blobs.put(ref, report, "application/json", Map.of(JOB_ID_METADATA, jobId));
  }

  /** Removes the error report of an earlier run, so a redriven job that succeeds leaves no stale one. */
  public CompletionStage<Void> clearErrorReport(JobSpec spec) {
    if (broken(spec.errorOutput()).isPresent()) {
      return CompletableFuture.completedFuture(null); // never written; S3 might hold an object of someone else's there
    }
    return blobs.delete(spec.errorOutput());
  }

  private static Optional<ObjectKeys.Violation> broken(ObjectRef ref) {
    return ObjectKeys.check(ref.bucket(), ref.key());
  }

  private static Map<String, String> stamp(String jobId, int attempt) {
    return Map.of(JOB_ID_METADATA, jobId, ATTEMPT_METADATA, Integer.toString(attempt));
  }

  private static InferenceException classify(Throwable failure, String doing) {
    Throwable cause = Failures.unwrap(failure);
    if (cause instanceof VirtualMachineError fatal) {
      throw fatal; // the node failed, not the job: never turned into a job's failure (RequestCommand.AttemptDied)
    }
    if (cause instanceof InferenceException e) {
      return e;
    }
    if (cause instanceof BlobNotFoundException missing) {
      return InferenceException.permanent("input " + missing.ref() + " does not exist");
    }
    if (cause instanceof BlobRefusedException refused) {
      return new InferenceException(InferenceException.Kind.PERMANENT, doing + " is refused, and always will be: "
          + refused.getMessage(), cause);
    }
    if (cause instanceof TimeoutException) {
      return new InferenceException(InferenceException.Kind.TRANSIENT, doing + " timed out", cause);
    }
    return new InferenceException(InferenceException.Kind.TRANSIENT, doing + " failed: " + cause, cause);
  }

}
