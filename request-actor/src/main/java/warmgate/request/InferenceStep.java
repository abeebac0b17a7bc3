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
import warmgate.provider.InferenceClient;
import warmgate.provider.InferenceException;

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
    Map<String, ObjectRef> inputs = spec.inputs();
    List<String> names = List.copyOf(inputs.keySet());
    List<CompletableFuture<Blob>> reads = names.stream().map(n ->
        blobs.get(inputs.get(n)).toCompletableFuture()).toList();
    return CompletableFuture.allOf(reads.toArray(CompletableFuture[]::new))
        .exceptionally(failure -> {
          throw classify(failure, "reading the inputs");
        })
        .thenCompose(done -> {
          ObjectNode payload = spec.payloadTemplate();
          for (int i = 0; i < names.size(); i++) {
            payload.put(names.get(i), Base64.getEncoder().encodeToString(reads.get(i).join().content()));
          }
          byte[] body;
          try {
            body = Json.mapper().writeValueAsBytes(payload);
          } catch (JsonProcessingException e) {
            throw InferenceException.permanent("the payload cannot be written as JSON: " + e.getOriginalMessage());
          }
          return clients.apply(spec.endpoint()).invoke("application/json", body);
        })
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
