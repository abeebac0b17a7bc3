package warmgate.index;

import java.sql.Connection;
import java.time.Instant;
import java.util.ArrayList;
import java.util.List;
import javax.sql.DataSource;
import warmgate.job.JobSpec;
import warmgate.job.JobStatus;
import warmgate.job.ObjectRef;
import warmgate.request.Request;
import warmgate.request.RequestEntity;

/** Puts jobs into the index the way the projection does: their events, folded by {@link JobIndexProjection#apply}. */
public final class IndexRows {
  private final DataSource pool;

  public IndexRows(DataSource pool) {
    this.pool = pool;
  }

  /** A job of {@code owner} on {@code endpoint}, created at {@code createdAt}, brought to {@code status}. */
  public void job(String jobId, String owner, String endpoint, Instant createdAt, JobStatus status) throws Exception {
    ObjectRef image = new ObjectRef("gen3d", "users/" + owner + "/input/" + jobId + "_image.png");
    JobSpec spec = new JobSpec(endpoint, owner, java.util.Map.of("image", image),
        new ObjectRef("gen3d", "users/" + owner + "/output/" + jobId + ".ply"), null, null, image.toString(), false);
    List<Request.Event> events = new ArrayList<>();
    events.add(new Request.JobSubmitted(jobId, spec, createdAt.plusSeconds(600), createdAt));
    Instant t = createdAt.plusSeconds(1);
    switch (status) {
      case WAITING_FOR_INPUTS -> { }
      case QUEUED -> events.add(new Request.JobQueued(t));
      case RUNNING -> {
        events.add(new Request.JobQueued(t));
        events.add(new Request.AttemptStarted(1, "lease", t));
      }
      case RETRY_WAIT -> {
        events.add(new Request.JobQueued(t));
        events.add(new Request.EndpointUnavailable("endpoint " + endpoint + " is FAILED", t.plusSeconds(60), t));
      }
      case AWAITING_REVIEW, SUCCEEDED -> {
        events.add(new Request.JobQueued(t));
        events.add(new Request.AttemptStarted(1, "lease", t));
        events.add(status == JobStatus.SUCCEEDED ? new Request.JobSucceeded(1, "etag", t) : new Request.ResultHeld(1,
            "etag", t));
      }
      case FAILED -> events.add(new Request.JobFailed("the inputs could not be read", t));
      case CANCELLED -> events.add(new Request.JobCancelled("not needed", t));
    }
    try (Connection c = pool.getConnection()) {
      c.setAutoCommit(false);
      for (int i = 0; i < events.size(); i++) {
        JobIndexProjection.apply(c, RequestEntity.ENTITY_KEY.name() + "|" + jobId, i + 1, events.get(i));
      }
      c.commit();
    }
  }
}
