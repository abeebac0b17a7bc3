package warmgate.http;

import static org.apache.pekko.http.javadsl.server.PathMatchers.segment;

import java.util.Map;
import java.util.Optional;
import java.util.Set;
import java.util.concurrent.CompletionStage;
import java.util.function.Function;
import java.util.regex.Pattern;
import org.apache.pekko.http.javadsl.model.StatusCodes;
import org.apache.pekko.http.javadsl.model.headers.Location;
import org.apache.pekko.http.javadsl.model.headers.RawHeader;
import org.apache.pekko.http.javadsl.server.AllDirectives;
import org.apache.pekko.http.javadsl.server.Route;
import org.apache.pekko.http.javadsl.unmarshalling.Unmarshaller;
import warmgate.InvalidInput;
import warmgate.config.WebhookSettings;
import warmgate.job.JobIds;
import warmgate.request.Request;
import warmgate.service.JobJournal;
import warmgate.service.Jobs;

/** {@code /v1/jobs}: submit a job, look at it, read its journal, cancel it, redrive it, review its result. */
public final class JobRoutes extends AllDirectives {
  /** Printable ASCII, as Stripe and the IETF draft allow; long enough for a UUID or a hash. */
  private static final Pattern IDEMPOTENCY_KEY = Pattern.compile("[\\x21-\\x7e]{1,255}");

  private final Jobs jobs;
  private final JobJournal journal;
  private final Set<String> endpoints;
  private final WebhookSettings webhooks;

  public JobRoutes(Jobs jobs, JobJournal journal, Set<String> endpoints, WebhookSettings webhooks) {
    this.jobs = jobs;
    this.journal = journal;
    this.endpoints = Set.copyOf(endpoints);
    this.webhooks = webhooks;
  }

  public Route route() {
    return pathPrefix("jobs", () -> concat(
        pathEnd(() -> post(() -> optionalHeaderValueByName("Idempotency-Key", key ->
            entity(Unmarshaller.entityToByteArray(), body -> submit(key, body))))),
        path(segment(), jobId -> get(() -> find(jobId))),
        path(segment().slash("events"), jobId -> get(() -> events(jobId))),
        path(segment().slash("cancel"), jobId -> post(() -> cancel(jobId))),
        path(segment().slash("retry"), jobId -> post(() -> withReason(reason -> retry(jobId, reason)))),
        path(segment().slash("approve"), jobId -> post(() -> approve(jobId))),
        path(segment().slash("reject"), jobId -> post(() -> withReason(reason -> reject(jobId, reason))))));
  }

  private Route submit(Optional<String> idempotencyKey, byte[] body) {
    idempotencyKey.ifPresent(key -> {
      if (!IDEMPOTENCY_KEY.matcher(key).matches()) {
        throw new InvalidInput("invalid_header", "Idempotency-Key must be 1 to 255 printable ASCII characters");
      }
    });
    var spec = JobRequest.parse(body, endpoints, null, webhooks);
    String jobId = idempotencyKey.map(key -> JobIds.forIdempotencyKey(spec.owner(), key)).orElseGet(JobIds::random);
    return onSuccess(jobs.submit(jobId, spec), submitted -> {
      if (submitted.duplicate() && !submitted.sameRequest()) {
        return complete(JsonResponses.error(StatusCodes.CONFLICT, "idempotency_conflict",
            "Idempotency-Key was already used for a different job (" + jobId + "); use a new key for a new job"));
      }
      var response = JsonResponses.json(StatusCodes.ACCEPTED, submitted.job())
          .addHeader(Location.create("/v1/jobs/" + jobId));
      return complete(submitted.duplicate() ? response.addHeader(RawHeader.create("Idempotent-Replayed", "true")) : response);
    });
  }

  private Route find(String jobId) {
    return jobOr404(jobId, jobs::find);
  }

  /** 200 with the cancelled job: the cancellation is in the journal when this answers. */
  private Route cancel(String jobId) {
    return jobOr404(jobId, id -> jobs.cancel(id, "cancelled through the API"));
  }

  /** 200 with the job back in {@code WAITING_FOR_INPUTS}; 409 unless it had failed. */
  private Route retry(String jobId, String reason) {
    return jobOr404(jobId, id -> jobs.retry(id, reason == null ? "retried through the API" : reason));
  }

  /** 200 once the result is published and the job SUCCEEDED; 409 unless it awaits review. */
  private Route approve(String jobId) {
    return jobOr404(jobId, id -> jobs.approve(id, null));
  }

  /** 200 with the job FAILED and its held result discarded; 409 unless it awaits review. */
  private Route reject(String jobId, String reason) {
    return jobOr404(jobId, id -> jobs.reject(id, null, reason));
  }

  /** An optional body {@code {"reason": "..."}}: what a person says about a redrive or a rejection. */
  private Route withReason(Function<String, Route> inner) {
    return entity(Unmarshaller.entityToByteArray(), body -> inner.apply(ReasonBody.parse(body)));
  }

  /** 200 with the job {@code call} answers, or 404 for an id that cannot exist or that no job has. */
  private Route jobOr404(String jobId, Function<String, CompletionStage<Optional<Request.JobView>>> call) {
    if (!JobIds.isValid(jobId)) {
      return complete(JsonResponses.notFound("no job " + jobId));
    }
    return onSuccess(call.apply(jobId), job -> job
        .map(view -> complete(JsonResponses.json(StatusCodes.OK, view)))
        .orElseGet(() -> complete(JsonResponses.notFound("no job " + jobId))));
  }

  private Route events(String jobId) {
    if (!JobIds.isValid(jobId)) {
      return complete(JsonResponses.notFound("no job " + jobId));
    }
    return onSuccess(journal.events(jobId), entries -> entries.isEmpty()
        ? complete(JsonResponses.notFound("no job " + jobId))
        : complete(JsonResponses.json(StatusCodes.OK, Map.of("jobId", jobId, "events", entries))));
  }
}
