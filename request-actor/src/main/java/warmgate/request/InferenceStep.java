package warmgate.request;

import com.fasterxml.jackson.core.JsonProcessingException;
import com.fasterxml.jackson.databind.node.ObjectNode;
import java.util.ArrayList;
import java.util.Base64;
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
import warmgate.blob.Blob;
import warmgate.blob.BlobInfo;
import warmgate.blob.BlobNotFoundException;
import warmgate.blob.BlobRefusedException;
import warmgate.blob.BlobStore;
import warmgate.job.JobSpec;
import warmgate.job.ObjectKeys;
import warmgate.job.ObjectRef;
import warmgate.provider.AsyncInferenceClient;
import warmgate.provider.InferenceClient;
import warmgate.provider.InferenceException;
import warmgate.provider.Invocation;

/**
 * What a job does once it holds a slot: read its inputs, send them to the model as one JSON request, and
 * write the answer to the output object, stamped with the job id and attempt so a recovering job can tell
 * its own finished work from someone else's file.
 */
public final class InferenceStep {
  public static final String JOB_ID_METADATA = "warmgate-job-id";
  public static final String ATTEMPT_METADATA = "warmgate-attempt";

  private final BlobStore blobs;
  private final Function<String, InferenceClient> clients;

  /** @param clients the inference client of an endpoint, by endpoint name */
  public InferenceStep(BlobStore blobs, Function<String, InferenceClient> clients) {
    this.blobs = blobs;
    this.clients = clients;
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
   * input when one can never exist (its reference breaks {@link ObjectKeys}, or the store refuses it); with
   * whatever the store failed with otherwise.
   */
  public CompletionStage<List<String>> missingInputs(JobSpec spec) {
    List<CompletableFuture<Optional<String>>> checks = new ArrayList<>();
    for (Map.Entry<String, ObjectRef> input : spec.inputs().entrySet()) {
      String name = input.getKey();
      ObjectRef ref = input.getValue();
      Optional<ObjectKeys.Violation> broken = broken(ref);
      if (broken.isPresent()) {
        return CompletableFuture.failedFuture(InferenceException.permanent("input " + name + " " + ref
            + " can never exist: " + broken.get()));
      }
      checks.add(blobs.head(ref)
          .<Optional<String>>thenApply(info -> info.isPresent() ? Optional.empty() : Optional.of(name))
          .exceptionally(failure -> {
            if (Failures.unwrap(failure) instanceof BlobRefusedException refused) {
              throw InferenceException.permanent("input " + name + " can never exist: " + refused.getMessage());
            }
            throw failure instanceof CompletionException c ? c : new CompletionException(failure);
          })
          .toCompletableFuture());
    }
    return CompletableFuture.allOf(checks.toArray(CompletableFuture[]::new))
        .thenApply(done -> checks.stream().map(CompletableFuture::join).flatMap(Optional::stream).toList());
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
    return requestBody(spec, false)
        .thenCompose(body -> clients.apply(spec.endpoint()).invoke(new Invocation(jobId, attempt, "application/json",
            body)))
        .thenCompose(response -> {
          if (!stillWanted.getAsBoolean()) {
            throw InferenceException.permanent("the job was cancelled while the model ran; its result was dropped");
          }
          return blobs
              .put(target, response.body(), response.contentType(), stamp(jobId, attempt))
              .exceptionally(failure -> {
                throw classify(failure, "writing the output " + target);
              });
        });
  }

  /**
   * The JSON request the model gets: the job's payload template with each input, base64 (or its {@code s3://} URI
   * when {@code byReference}: the model reads it itself). Fails as {@link #run} does for inputs that cannot be read.
   */
  private CompletionStage<byte[]> requestBody(JobSpec spec, boolean byReference) {
    Map<String, ObjectRef> inputs = spec.inputs();
    List<String> names = List.copyOf(inputs.keySet());
    List<CompletableFuture<Blob>> reads = byReference ? List.of() : names.stream().map(n ->
        blobs.get(inputs.get(n)).toCompletableFuture()).toList();
    return CompletableFuture.allOf(reads.toArray(CompletableFuture[]::new))
        .exceptionally(failure -> {
          throw classify(failure, "reading the inputs");
        })
        .thenApply(done -> {
          ObjectNode payload = spec.payloadTemplate();
          for (int i = 0; i < names.size(); i++) {
            payload.put(names.get(i), byReference ? inputs.get(names.get(i)).toString()
                : Base64.getEncoder().encodeToString(reads.get(i).join().content()));
          }
          try {
            return Json.mapper().writeValueAsBytes(payload);
          } catch (JsonProcessingException e) {
            throw InferenceException.permanent("the payload cannot be written as JSON: " + e.getOriginalMessage());
          }
        });
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
    return requestBody(spec, client.inputsByReference())
        .thenCompose(body -> blobs.put(staged, body, "application/json", stamp(jobId, attempt))
            .exceptionally(failure -> {
              throw classify(failure, "staging the request at " + staged);
            }))
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
          : blobs.get(failure).thenCompose(blob -> discardStaged(staged).thenApply(done -> {
            throw InferenceException.permanent("the model failed (" + failure + "): " + failureText(blob.content()));
          })));
    });
  }

  /** Removes a staged request; a failure only leaves it behind (the staging prefix may have a lifecycle rule). */
  public CompletionStage<Void> discardStaged(ObjectRef staged) {
    return blobs.delete(staged).handle((done, ignored) -> null);
  }

  /** How much of a platform's failure text a job's error keeps. */
  static final int FAILURE_TEXT_LIMIT = 4096;

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
        : blobs.get(held)
            .thenCompose(blob -> blobs.put(spec.output(), blob.content(), blob.info().contentType(), stamp(jobId,
                attempt)))
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
