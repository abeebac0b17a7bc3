package warmgate.ingest;

import warmgate.job.JobSpec;

/** Turns an upload that a route matched into the job it starts, or says why it starts none. */
public interface Pipeline {

  String name();

  Plan plan(String endpoint, ObjectCreated upload);

  /** A pipeline's answer for one upload. */
  sealed interface Plan {}

  record Run(JobSpec spec) implements Plan {}

  record Ignore(String reason) implements Plan {}
}
