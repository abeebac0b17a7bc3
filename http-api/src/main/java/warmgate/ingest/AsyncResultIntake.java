package warmgate.ingest;

import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;
import warmgate.InvalidInput;
import warmgate.gateway.AsyncNotices;
import warmgate.job.JobIds;
import warmgate.job.ObjectRef;
import warmgate.provider.AsyncResult;
import warmgate.provider.AsyncResultFormat;

/**
 * What reaches the ingestion sources about asynchronous invocations rather than uploads: a platform's notification
 * that one ended (SageMaker's on SNS), and uploads under an asynchronous endpoint's result path. Neither starts a
 * job; both prompt the job waiting for that answer to look at once ({@link AsyncNotices}).
 */
public final class AsyncResultIntake {
  private static final Logger log = LoggerFactory.getLogger(AsyncResultIntake.class);

  private final List<AsyncResultFormat> formats;
  private final Map<String, List<ObjectRef>> resultPaths;
  private final AsyncNotices notices;

  /**
   * @param formats the platforms' notification formats
   * @param resultPaths each asynchronous endpoint's result paths ({@code s3://bucket/prefix}), by endpoint name
   */
  public AsyncResultIntake(List<AsyncResultFormat> formats, Map<String, List<ObjectRef>> resultPaths,
      AsyncNotices notices) {
    this.formats = List.copyOf(formats);
    this.resultPaths = new LinkedHashMap<>(resultPaths);
    this.notices = notices;
  }

  /** No asynchronous endpoints: nothing is a result. */
  public static AsyncResultIntake none() {
    return new AsyncResultIntake(List.of(), Map.of(), null);
  }

  /**
   * Passes a platform's notification on to the job it names.
   *
   * @return the result, or empty when {@code message} is none of the platforms' (an S3 event, say)
   * @throws InvalidInput when it is one of theirs but cannot be used
   */
  public Optional<AsyncResult> notice(String message) {
    for (AsyncResultFormat format : formats) {
      Optional<AsyncResult> parsed;
      try {
        parsed = format.parse(message);
      } catch (IllegalArgumentException e) {
        throw new InvalidInput("invalid_async_result", e.getMessage());
      }
      if (parsed.isPresent()) {
        AsyncResult result = parsed.get();
        if (!JobIds.isValid(result.inferenceId())) {
          throw new InvalidInput("invalid_async_result", "the notification's inference id is not a Warmgate job id,"
              + " so no job here invoked it");
        }
        log.info("Inference {} {}: telling its job to look at {}", result.inferenceId(),
            result.succeeded() ? "succeeded" : "failed", result.location());
        notices.resultNoticed(result);
        return parsed;
      }
    }
    return Optional.empty();
  }

  /**
   * Tells the endpoint whose result path {@code upload} is under, if any, that something landed there.
   *
   * @return why the upload starts no job, or empty when it is not under any result path
   */
  public Optional<Skip> landed(ObjectCreated upload) {
    for (Map.Entry<String, List<ObjectRef>> endpoint : resultPaths.entrySet()) {
      for (ObjectRef path : endpoint.getValue()) {
        if (path.bucket().equals(upload.bucket()) && upload.key().startsWith(path.key())) {
          log.debug("s3://{}/{} is under endpoint {}'s result path; telling its running jobs", upload.bucket(),
              upload.key(), endpoint.getKey());
          notices.resultLanded(endpoint.getKey(), new ObjectRef(upload.bucket(), upload.key()));
          return Optional.of(new Skip(upload.bucket(), upload.key(), "an answer of asynchronous endpoint "
              + endpoint.getKey() + " (under " + path + "): the job waiting for it was told"));
        }
      }
    }
    return Optional.empty();
  }
}
