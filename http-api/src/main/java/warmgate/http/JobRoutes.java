package warmgate.http;

import static org.apache.pekko.http.javadsl.server.PathMatchers.segment;

import java.util.List;
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
import warmgate.Failures;
import warmgate.InvalidInput;
import warmgate.auth.Forbidden;
import warmgate.auth.Principal;
import warmgate.config.WebhookSettings;
import warmgate.gateway.EndpointBusy;
import warmgate.gateway.JobJournal;
import warmgate.gateway.Jobs;
import warmgate.index.JobIndex;
import warmgate.index.JobQuery;
import warmgate.ingest.ObjectPolicy;
import warmgate.job.JobIds;
import warmgate.request.RequestCommand;

/**
 * {@code /v1/jobs}: submit a job, list jobs, look at one, read its journal, cancel it, redrive it, review its
 * result. A principal sees only its own jobs; another owner's job answers 404 exactly like one that does not
 * exist, so ids reveal nothing. The list comes from the read side's index, never from the entities, and so
 * lags a moment behind them. Reviewing takes an admin token: a review is a second pair of eyes, not the
 * owner's own.
 */
public final class JobRoutes extends AllDirectives {
  /** Printable ASCII, as Stripe and the IETF draft allow; long enough for a UUID or a hash. */
  private static final Pattern IDEMPOTENCY_KEY = Pattern.compile("[\\x21-\\x7e]{1,255}");

  private final Jobs jobs;
  private final JobJournal journal;
  private final Set<String> endpoints;
  private final WebhookSettings webhooks;
  private final JobIndex index;
  private final ObjectPolicy objects;

  /** Without the list route ({@code GET /v1/jobs} is not found), jobs naming any bucket. */
  public JobRoutes(Jobs jobs, JobJournal journal, Set<String> endpoints, WebhookSettings webhooks) {
    this(jobs, journal, null, endpoints, ObjectPolicy.open(), webhooks);
  }

  /** Jobs naming any bucket. */
  public JobRoutes(Jobs jobs, JobJournal journal, JobIndex index, Set<String> endpoints, WebhookSettings webhooks) {
    this(jobs, journal, index, endpoints, ObjectPolicy.open(), webhooks);
  }

  /**
   * @param index where {@code GET /v1/jobs} lists from; null leaves the list route out
   * @param objects the buckets and output prefixes a submitted job may name
   */
  public JobRoutes(Jobs jobs, JobJournal journal, JobIndex index, Set<String> endpoints, ObjectPolicy objects,
      WebhookSettings webhooks) {
    this.jobs = jobs;
    this.journal = journal;
    this.index = index;
    this.endpoints = Set.copyOf(endpoints);
    this.objects = objects;
    this.webhooks = webhooks;
  }

  /** The routes as {@code principal} may use them. */
  public Route route(Principal principal) {
    return pathPrefix("jobs", () -> concat(
        pathEnd(() -> post(() -> optionalHeaderValueByName("Idempotency-Key", key ->
            entity(Unmarshaller.entityToByteArray(), body -> submit(principal, key, body))))),
        index == null ? reject() : pathEnd(() -> get(() -> parameterMultiMap(params -> list(principal, params)))),
        path(segment(), jobId -> get(() -> visibleJob(principal, jobId, this::found))),
        path(segment().slash("events"), jobId -> get(() -> visibleJob(principal, jobId, job -> events(jobId)))),
        path(segment().slash("cancel"), jobId -> post(() -> jobOr404(principal, jobId, id -> jobs.cancel(id,
            "cancelled through the API")))),
        path(segment().slash("retry"), jobId -> post(() -> withReason(reason -> retry(principal, jobId, reason)))),
        path(segment().slash("approve"), jobId -> post(() -> approve(principal, jobId))),
        path(segment().slash("reject"), jobId -> post(() -> withReason(reason -> reject(principal, jobId, reason))))));
  }

  private Route submit(Principal principal, Optional<String> idempotencyKey, byte[] body) {
    idempotencyKey.ifPresent(key -> {
      if (!IDEMPOTENCY_KEY.matcher(key).matches()) {
        throw new InvalidInput("invalid_header", "Idempotency-Key must be 1 to 255 printable ASCII characters");
      }
    });
    var spec = JobRequest.parse(body, endpoints, objects, principal, webhooks);
    String jobId = idempotencyKey.map(key -> JobIds.forIdempotencyKey(spec.owner(), key)).orElseGet(JobIds::random);
    return onComplete(jobs.submit(jobId, spec), outcome -> {
      if (outcome.isFailure()) {
        Throwable failure = outcome.failed().get();
        Throwable cause = Failures.unwrap(failure);
        // A client can wait and resubmit: 429 says so; everything else goes to the one exception handler.
        return cause instanceof EndpointBusy busy ? complete(ApiErrors.busy(StatusCodes.TOO_MANY_REQUESTS, busy))
            : failWith(cause);
      }
      RequestCommand.Submitted submitted = outcome.get();
      if (submitted.duplicate() && !submitted.sameRequest()) {
        return complete(JsonResponses.error(StatusCodes.CONFLICT, "idempotency_conflict",
            "Idempotency-Key was already used for a different job (" + jobId + "); use a new key for a new job"));
      }
      var response = JsonResponses.json(StatusCodes.ACCEPTED, submitted.job())
          .addHeader(Location.create("/v1/jobs/" + jobId));
      return complete(submitted.duplicate() ? response.addHeader(RawHeader.create("Idempotent-Replayed", "true"))
          : response);
    });
  }

  /**
   * 200 with one page of jobs from the index, newest first. A principal that is not an admin lists its own
   * jobs only: naming another owner is 403, as submitting for one is.
   */
  private Route list(Principal principal, Map<String, List<String>> params) {
    JobQuery query = JobQuery.parse(params);
    if (!principal.admin()) {
      if (query.owner() != null && !query.owner().equals(principal.owner())) {
        throw new Forbidden("token " + principal.name() + " lists the jobs of owner '" + principal.owner()
            + "' only; leave out 'owner' or use an admin token");
      }
      query = query.withOwner(principal.owner());
    }
    return onSuccess(index.list(query), page -> complete(JsonResponses.json(StatusCodes.OK, page)));
  }

  /** 200 with the job back in {@code WAITING_FOR_INPUTS}; 409 unless it had failed. */
  private Route retry(Principal principal, String jobId, String reason) {
    return jobOr404(principal, jobId, id -> jobs.retry(id, reason == null ? "retried through the API by "
        + principal.name() : reason));
  }

  /** 200 once the result is published and the job SUCCEEDED; 409 unless it awaits review. */
  private Route approve(Principal principal, String jobId) {
    principal.requireAdmin("approving a result");
    return jobOr404(principal, jobId, id -> jobs.approve(id, principal.name()));
  }

  /** 200 with the job FAILED and its held result discarded; 409 unless it awaits review. */
  private Route reject(Principal principal, String jobId, String reason) {
    principal.requireAdmin("rejecting a result");
    return jobOr404(principal, jobId, id -> jobs.reject(id, principal.name(), reason));
  }

  /** An optional body {@code {"reason": "..."}}: what a person says about a redrive or a rejection. */
  private Route withReason(Function<String, Route> inner) {
    return entity(Unmarshaller.entityToByteArray(), body -> inner.apply(ReasonBody.parse(body)));
  }

  /**
   * The one way to a single job: looks it up, answers 404 unless {@code principal} may see it, and only then
   * runs {@code then} on it. Every per-job route goes through here, so nothing acts before the owner check.
   */
  private Route visibleJob(Principal principal, String jobId, Function<RequestCommand.JobView, Route> then) {
    if (!JobIds.isValid(jobId)) {
      return notFound(jobId);
    }
    return onSuccess(jobs.find(jobId), job -> job
        .filter(view -> principal.mayAccess(view.owner()))
        .map(then)
        .orElseGet(() -> notFound(jobId)));
  }

  /**
   * 200 with the job {@code call} answers (a state change is in the journal when this answers), for a job
   * {@code principal} may see; 404 otherwise. {@code call} runs after the owner check.
   */
  private Route jobOr404(Principal principal, String jobId, Function<String,
      CompletionStage<Optional<RequestCommand.JobView>>> call) {
    return visibleJob(principal, jobId, visible -> onSuccess(call.apply(jobId), job -> job
        .map(this::found)
        .orElseGet(() -> notFound(jobId))));
  }

  private Route found(RequestCommand.JobView job) {
    return complete(JsonResponses.json(StatusCodes.OK, job));
  }

  private Route notFound(String jobId) {
    return complete(JsonResponses.notFound("no job " + jobId));
  }

  private Route events(String jobId) {
    return onSuccess(journal.events(jobId), entries -> entries.isEmpty()
        ? complete(JsonResponses.notFound("no job " + jobId))
        : complete(JsonResponses.json(StatusCodes.OK, Map.of("jobId", jobId, "events", entries))));
  }
}
