package warmgate.request;

import com.fasterxml.jackson.core.JsonProcessingException;
import com.fasterxml.jackson.databind.node.ObjectNode;
import java.util.ArrayList;
import java.util.Base64;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.CompletionStage;
import java.util.concurrent.TimeoutException;
import java.util.function.BooleanSupplier;
import java.util.function.Function;
import warmgate.Failures;
import warmgate.Json;
import warmgate.blob.Blob;
import warmgate.blob.BlobInfo;
import warmgate.blob.BlobNotFoundException;
import warmgate.blob.BlobStore;
import warmgate.endpoint.InferenceClient;
import warmgate.endpoint.InferenceException;
import warmgate.job.JobSpec;
import warmgate.job.ObjectRef;

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

  /** The names of the inputs that do not exist yet. */
  public CompletionStage<List<String>> missingInputs(JobSpec spec) {
    List<CompletableFuture<Optional<String>>> checks = new ArrayList<>();
    spec.inputs().forEach((name, ref) ->
        checks.add(blobs.head(ref).thenApply(info -> info.isPresent() ? Optional.<String>empty() : Optional.of(name)).toCompletableFuture()));
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
   * is missing, the model refused the request, the job was cancelled meanwhile), transient otherwise.
   *
   * @param target where the result goes: the output, or a held place while it awaits review
   * @param stillWanted asked once the model has answered; false drops the result instead of writing it
   */
  public CompletionStage<BlobInfo> run(String jobId, int attempt, JobSpec spec, ObjectRef target, BooleanSupplier stillWanted) {
    Map<String, ObjectRef> inputs = spec.inputs();
    List<String> names = List.copyOf(inputs.keySet());
    List<CompletableFuture<Blob>> reads = names.stream().map(n -> blobs.get(inputs.get(n)).toCompletableFuture()).toList();
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
            .thenCompose(blob -> blobs.put(spec.output(), blob.content(), blob.info().contentType(), stamp(jobId, attempt)))
            .thenCompose(written -> blobs.delete(held).handle((ok, ignored) -> written)));
  }

  /** Removes a held result nobody will publish (rejected or cancelled); a failure only leaves it behind. */
  public CompletionStage<Void> discard(ObjectRef held) {
    return blobs.delete(held);
  }

  /** Writes {@code {base}_error.json} beside the output. */
  public CompletionStage<BlobInfo> writeErrorReport(String jobId, JobSpec spec, byte[] report) {
    return blobs.put(spec.errorOutput(), report, "application/json", Map.of(JOB_ID_METADATA, jobId));
  }

  /** Removes the error report of an earlier run, so a redriven job that succeeds leaves no stale one. */
  public CompletionStage<Void> clearErrorReport(JobSpec spec) {
    return blobs.delete(spec.errorOutput());
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
    if (cause instanceof TimeoutException) {
      return new InferenceException(InferenceException.Kind.TRANSIENT, doing + " timed out", cause);
    }
    return new InferenceException(InferenceException.Kind.TRANSIENT, doing + " failed: " + cause, cause);
  }

}
