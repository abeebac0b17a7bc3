package warmgate.index;

import java.time.Instant;
import warmgate.job.JobStatus;

/** A job as the index lists it: a row of {@code job_index}, in the JSON shape of {@code GET /v1/jobs}. */
public record JobRow(
    String jobId,
    JobStatus status,
    String endpoint,
    String owner,
    int attempts,
    Instant createdAt,
    Instant updatedAt,
    String output,
    String error) {}
