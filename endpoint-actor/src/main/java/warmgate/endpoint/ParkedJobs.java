package warmgate.endpoint;

/**
 * How an endpoint reaches the jobs of its queue that have left memory while they wait (parked, see
 * {@link EndpointCommand.Park}), and how it gets them back after it lost its queue. The endpoint knows jobs by id
 * only; the wiring (sharding for jobs, the job index for what is queued) lives with the jobs.
 */
public interface ParkedJobs {

  /** Delivers {@code reply} to job {@code jobId}, starting the job's actor if it is not in memory. */
  void deliver(String jobId, EndpointCommand.SlotReply reply);

  /**
   * The entity of endpoint {@code endpoint} has (re)started with an empty queue: the jobs parked in its queue
   * before must be enlisted again ({@link EndpointCommand.Enlist}) from where jobs are recorded.
   */
  void recall(String endpoint);

  /**
   * What a {@link #recall} may publish on the node's event stream for whoever enlists queued jobs, so that the
   * endpoints need not hold a reference to it; local to the node, never serialized.
   */
  record Recall(String endpoint) {}

  /**
   * For endpoints whose jobs never park (tests and tools without sharded jobs): what would go around a job's actor
   * is dropped, and the job, in memory, gets it by asking again.
   */
  ParkedJobs NONE = new ParkedJobs() {
    @Override
    public void deliver(String jobId, EndpointCommand.SlotReply reply) {}

    @Override
    public void recall(String endpoint) {}
  };
}
