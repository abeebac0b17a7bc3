package warmgate.request;

import java.time.Clock;
import java.time.Duration;
import java.time.Instant;
import java.util.concurrent.ThreadLocalRandom;
import org.apache.pekko.actor.typed.javadsl.ActorContext;
import org.apache.pekko.actor.typed.javadsl.TimerScheduler;
import org.apache.pekko.pattern.StatusReply;
import org.apache.pekko.persistence.typed.javadsl.EffectBuilder;
import org.apache.pekko.persistence.typed.javadsl.EffectFactories;
import org.apache.pekko.persistence.typed.javadsl.ReplyEffect;
import warmgate.Failures;
import warmgate.config.RequestSettings;
import warmgate.job.JobSpec;
import warmgate.job.ObjectRef;
import warmgate.request.Request.CallbackDelivered;
import warmgate.request.Request.CallbackFailed;
import warmgate.request.Request.ErrorReportAbandoned;
import warmgate.request.Request.ErrorReported;
import warmgate.request.Request.JobCancelled;
import warmgate.request.Request.JobFailed;
import warmgate.request.Request.JobRetried;
import warmgate.request.Request.ResultApproved;
import warmgate.request.Request.ResultRejected;
import warmgate.request.RequestCommand.Approve;
import warmgate.request.RequestCommand.CallbackAnswered;
import warmgate.request.RequestCommand.Cancel;
import warmgate.request.RequestCommand.ErrorReportRefused;
import warmgate.request.RequestCommand.ErrorReportWritten;
import warmgate.request.RequestCommand.JobLookup;
import warmgate.request.RequestCommand.Published;
import warmgate.request.RequestCommand.Reject;
import warmgate.request.RequestCommand.Retry;
import warmgate.request.RequestCommand.Timer;
import warmgate.request.RequestState.AwaitingReview;
import warmgate.request.RequestState.Callback;
import warmgate.request.RequestState.Cancelled;
import warmgate.request.RequestState.Failed;
import warmgate.request.RequestState.Job;
import warmgate.request.RequestState.Queued;
import warmgate.request.RequestState.Running;

/**
 * The handlers of a job that has stopped making progress by itself, and what it still owes: a result awaiting
 * review (approve, reject), a failure (its error report, a redrive), the callback of any job, cancellation, and
 * {@link #settle} once it is at rest. {@link RequestEntity} picks the handler; a redrive hands the job back to
 * {@link ActivePhases}. The duties' bookkeeping lives here, in {@link Duty} objects.
 */
final class AtRestPhases {
  private final RequestEntity entity;
  private final String jobId;
  private final RequestEntity.Deps deps;
  private final RequestSettings settings;
  private final Clock clock;
  private final ActorContext<RequestCommand> ctx;
  private final TimerScheduler<RequestCommand> timers;
  private final Slots slots;
  private final ErrorReportDuty report;
  private final CallbackDuty callback;
  private final Duty publishing = new Duty();

  AtRestPhases(RequestEntity entity, String jobId, RequestEntity.Deps deps, ActorContext<RequestCommand> ctx,
      TimerScheduler<RequestCommand> timers, Slots slots) {
    this.entity = entity;
    this.jobId = jobId;
    this.deps = deps;
    this.settings = deps.settings();
    this.clock = deps.clock();
    this.ctx = ctx;
    this.timers = timers;
    this.slots = slots;
    this.report = new ErrorReportDuty(settings.backoffMin(), settings.backoffMax(),
        () -> ThreadLocalRandom.current().nextDouble());
    this.callback = new CallbackDuty(deps.webhookSettings(), () -> ThreadLocalRandom.current().nextDouble());
  }

  // ---- AwaitingReview: approval publishes the held result

  ReplyEffect<Request.Event, RequestState> approve(AwaitingReview state, Approve cmd) {
    if (!publishing.start()) {
      return Effect().reply(cmd.replyTo(), StatusReply.error("job " + jobId + " is being approved already"));
    }
    JobSpec spec = state.core().spec();
    ctx.pipeToSelf(deps.step().publish(jobId, state.attempt(), spec, heldOutput(spec)), (written,
        failure) -> failure == null
        ? new Published(cmd.reviewer(), written.eTag(), null, cmd.replyTo())
        : new Published(cmd.reviewer(), null, String.valueOf(Failures.unwrap(failure)), cmd.replyTo()));
    return Effect().noReply();
  }

  ReplyEffect<Request.Event, RequestState> published(AwaitingReview state, Published cmd) {
    publishing.answered();
    if (cmd.failure() != null) {
      entity.log().warn("Job {}: publishing the approved result failed: {}", jobId, cmd.failure());
      return Effect().reply(cmd.replyTo(), StatusReply.error(
          RequestEntity.UNAVAILABLE + "the result could not be published (" + cmd.failure()
              + "); the job still awaits review, approve it again"));
    }
    return persist(state, new ResultApproved(cmd.reviewer(), cmd.outputETag(), clock.instant()))
        .thenRun(s -> {
          entity.log().info("Job {} approved by {}; output {}", jobId, RequestState.reviewerName(cmd.reviewer()),
              state.core().spec().output());
          settle(s);
        })
        .thenReply(cmd.replyTo(), s -> StatusReply.success(new JobLookup(((Job) s).view())));
  }

  /** A publish that answers after the job left review (cancelled meanwhile). */
  ReplyEffect<Request.Event, RequestState> publishedTooLate(Published cmd) {
    publishing.answered();
    return Effect().reply(cmd.replyTo(), StatusReply.error("job " + jobId + " is no longer awaiting review"));
  }

  ReplyEffect<Request.Event, RequestState> reject(AwaitingReview state, Reject cmd) {
    String reason = cmd.reason() == null || cmd.reason().isBlank() ? "no reason given" : cmd.reason();
    return persist(state, new ResultRejected(cmd.reviewer(), reason, clock.instant()))
        .thenRun(s -> {
          entity.log().info("Job {} rejected by {}: {}", jobId, RequestState.reviewerName(cmd.reviewer()), reason);
          discardHeld(state.core().spec());
          settle(s);
        })
        .thenReply(cmd.replyTo(), s -> StatusReply.success(new JobLookup(((Job) s).view())));
  }

  StatusReply<JobLookup> notAwaitingReview(Job state) {
    return StatusReply.error("job " + jobId + " is " + state.status()
        + "; only jobs awaiting review can be approved or rejected");
  }

  private void discardHeld(JobSpec spec) {
    ObjectRef held = heldOutput(spec);
    deps.step().discard(held).whenComplete((ok, failure) -> {
      if (failure != null) {
        entity.log().warn("Job {}: the held result {} could not be removed: {}", jobId, held, Failures.unwrap(failure));
      }
    });
  }

  private ObjectRef heldOutput(JobSpec spec) {
    return RequestState.heldOutput(jobId, spec);
  }

  // ---- Failed: redrives and the error report

  ReplyEffect<Request.Event, RequestState> fail(Job before, String error, Instant now) {
    return persist(before, new JobFailed(error, now))
        .thenRun(s -> {
          timers.cancel(Timer.CHECK_INPUTS);
          timers.cancel(Timer.ACQUIRE_AGAIN);
          timers.cancel(Timer.PARK);
          entity.log().warn("Job {} failed: {}", jobId, error);
          settle(s);
        })
        .thenNoReply();
  }

  ReplyEffect<Request.Event, RequestState> retry(Failed state, Retry cmd) {
    Instant now = clock.instant();
    String reason = cmd.reason() == null || cmd.reason().isBlank() ? "retried" : cmd.reason();
    return persist(state, new JobRetried(reason, now.plus(settings.inputsTimeout()), now))
        .thenRun(s -> {
          timers.cancel(Timer.REPORT_ERROR);
          timers.cancel(Timer.PASSIVATE);
          entity.active.cancelled(false);
          JobSpec spec = state.core().spec();
          deps.step().clearErrorReport(spec).whenComplete((ok, failure) -> {
            if (failure != null) {
              entity.log().warn("Job {}: the old error report {} could not be removed: {}", jobId, spec.errorOutput(),
                  Failures.unwrap(failure));
            }
          });
          entity.log().info("Job {} redriven ({}); it was FAILED: {}", jobId, reason, state.error());
          entity.active.waitForInputs(spec);
        })
        .thenReply(cmd.replyTo(), s -> StatusReply.success(new JobLookup(((Job) s).view())));
  }

  ReplyEffect<Request.Event, RequestState> reportError(Failed state) {
    if (report.start(state)) {
      byte[] body = ErrorReportDuty.report(state.view());
      ctx.pipeToSelf(deps.step().writeErrorReport(jobId, state.core().spec(), body), ErrorReportDuty::outcome);
    }
    return Effect().noReply();
  }

  ReplyEffect<Request.Event, RequestState> errorReportWritten(Failed state, ErrorReportWritten cmd) {
    if (cmd.failure() != null) {
      Duration again = report.failed();
      entity.log().warn("Job {}: writing {} failed ({} time(s)), trying again in {} s: {}", jobId,
          state.core().spec().errorOutput(),
          report.failures(), again.toSeconds(), cmd.failure());
      timers.startSingleTimer(Timer.REPORT_ERROR, Timer.REPORT_ERROR, again);
      return Effect().noReply();
    }
    report.ended();
    return persist(state, new ErrorReported(cmd.eTag(), clock.instant()))
        .thenRun(this::settle)
        .thenNoReply();
  }

  /** Given up for good and recorded, so neither this actor nor the waker tries again after a restart. */
  ReplyEffect<Request.Event, RequestState> errorReportRefused(Failed state, ErrorReportRefused cmd) {
    report.ended();
    return persist(state, new ErrorReportAbandoned(cmd.reason(), clock.instant()))
        .thenRun(s -> {
          timers.cancel(Timer.REPORT_ERROR);
          entity.log().warn("Job {}: gave up its error report: {}", jobId, cmd.reason());
          settle(s);
        })
        .thenNoReply();
  }

  /**
   * A write that answers after the job was redriven: nothing to record, but the write is over, or the job would
   * never write the report of its next failure.
   */
  ReplyEffect<Request.Event, RequestState> errorReportTooLate() {
    report.answered();
    return Effect().noReply();
  }

  // ---- Any job: callbacks, cancellation

  ReplyEffect<Request.Event, RequestState> deliverCallback(Job state) {
    Callback due = state.core().callback();
    if (callback.start(due)) {
      String id = CallbackDuty.webhookId(state.core(), due.status());
      int attempt = due.failures() + 1;
      byte[] body = CallbackDuty.body(id, due.status(), state.view());
      ctx.pipeToSelf(deps.webhooks().send(state.core().spec().callbackUrl(), id, body),
          (status, failure) -> CallbackDuty.answer(due.status(), attempt, status, failure));
    }
    return Effect().noReply();
  }

  ReplyEffect<Request.Event, RequestState> callbackAnswered(Job state, CallbackAnswered cmd) {
    callback.answered();
    Callback due = state.core().callback();
    if (due == null || due.status() != cmd.status()) {
      settle(state); // a newer notice replaced this one while it was on its way
      return Effect().noReply();
    }
    Instant now = clock.instant();
    if (CallbackDuty.delivered(cmd)) {
      return persist(state, new CallbackDelivered(cmd.status(), cmd.attempt(), cmd.httpStatus(), now))
          .thenRun(this::settle)
          .thenNoReply();
    }
    String error = CallbackDuty.error(cmd);
    Instant retryAt = callback.retryAt(cmd.attempt(), now);
    return persist(state, new CallbackFailed(cmd.status(), cmd.attempt(), error, retryAt, now))
        .thenRun(s -> {
          if (retryAt == null) {
            entity.log().warn("Job {}: gave up on its {} callback after {} attempts: {}", jobId, cmd.status(),
                cmd.attempt(), error);
          } else {
            entity.log().info("Job {}: {} callback attempt {} failed, again at {}: {}", jobId, cmd.status(),
                cmd.attempt(), retryAt, error);
          }
          settle(s);
        })
        .thenNoReply();
  }

  ReplyEffect<Request.Event, RequestState> cancel(Job state, Cancel cmd) {
    if (state instanceof Cancelled) {
      return Effect().reply(cmd.replyTo(), StatusReply.success(new JobLookup(state.view())));
    }
    if (!state.status().isCancellable()) {
      return Effect().reply(cmd.replyTo(), StatusReply.error("job " + jobId + " is " + state.status()
          + "; only waiting, queued, retrying, running or reviewed jobs can be cancelled"));
    }
    String reason = cmd.reason() == null || cmd.reason().isBlank() ? "cancelled" : cmd.reason();
    return persist(state, new JobCancelled(reason, clock.instant()))
        .thenRun(s -> {
          entity.active.cancelled(true);
          timers.cancel(Timer.CHECK_INPUTS);
          timers.cancel(Timer.ACQUIRE_AGAIN);
          timers.cancel(Timer.PARK);
          timers.cancel(Timer.RETRY_DUE);
          if (state instanceof Running running) {
            entity.active.releaseLease(running);
          } else if (state instanceof AwaitingReview) {
            discardHeld(state.core().spec());
          } else if (state instanceof Queued queued) {
            // Takes the job out of the endpoint's queue; a grant already on its way is returned on arrival.
            slots.release(queued.core().spec().endpoint(), null);
          }
          entity.log().info("Job {} cancelled while {} ({})", jobId, state.status(), reason);
          settle(s);
        })
        .thenReply(cmd.replyTo(), s -> StatusReply.success(new JobLookup(((Job) s).view())));
  }

  // ---- At rest

  /**
   * Does what a job at rest still owes (its error report, its callback) and, once nothing is owed, lets the
   * actor passivate. Until then it stays, and the waker starts it again after a crash, so no duty is forgotten.
   */
  void settle(RequestState state) {
    if (!(state instanceof Job job)) {
      timers.startSingleTimer(Timer.PASSIVATE, Timer.PASSIVATE, settings.passivateAfter());
      return;
    }
    if (job instanceof Failed failed && failed.owesReport() && !timers.isTimerActive(Timer.REPORT_ERROR)) {
      reportError(failed);
    }
    Callback due = job.core().callback();
    if (due != null) {
      Duration wait = due.retryAt() == null ? Duration.ZERO : Duration.between(clock.instant(), due.retryAt());
      if (wait.isNegative() || wait.isZero()) {
        deliverCallback(job);
      } else {
        timers.startSingleTimer(Timer.DELIVER_CALLBACK, Timer.DELIVER_CALLBACK, wait);
      }
    }
    if (job.hasWork()) {
      timers.cancel(Timer.PASSIVATE);
    } else {
      timers.startSingleTimer(Timer.PASSIVATE, Timer.PASSIVATE, settings.passivateAfter());
    }
  }

  // Named as in the entity, whose effects these are.
  private EffectFactories<Request.Event, RequestState> Effect() {
    return entity.Effect();
  }

  private EffectBuilder<Request.Event, RequestState> persist(RequestState before, Request.Event event) {
    return entity.persist(before, event);
  }
}
