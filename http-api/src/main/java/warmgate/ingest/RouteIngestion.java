package warmgate.ingest;

import java.util.ArrayList;
import java.util.List;
import java.util.Optional;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.CompletionStage;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;
import warmgate.InvalidInput;
import warmgate.gateway.Jobs;
import warmgate.provider.AsyncResult;

/**
 * {@link Ingestion} through the configured routes; of several uploads of one key in a batch only the newest starts a
 * job. An upload under an asynchronous endpoint's result path is an answer, never a job: it goes to
 * {@link AsyncResultIntake} whatever the routes say.
 */
public final class RouteIngestion implements Ingestion {
  private static final Logger log = LoggerFactory.getLogger(RouteIngestion.class);

  private final RouteTable routes;
  private final ObjectPolicy objects;
  private final Jobs jobs;
  private final AsyncResultIntake results;

  /** Jobs naming any bucket and writing anywhere; no asynchronous endpoints. */
  public RouteIngestion(RouteTable routes, Jobs jobs) {
    this(routes, ObjectPolicy.open(), jobs, AsyncResultIntake.none());
  }

  /**
   * @param objects where a route's jobs may write (an endpoint's output-prefixes)
   * @param results the asynchronous endpoints' results
   */
  public RouteIngestion(RouteTable routes, ObjectPolicy objects, Jobs jobs, AsyncResultIntake results) {
    this.routes = routes;
    this.objects = objects;
    this.jobs = jobs;
    this.results = results;
  }

  @Override
  public Optional<AsyncResult> noticeResult(String message) {
    return results.notice(message);
  }

  @Override
  public CompletionStage<Report> ingest(List<ObjectCreated> uploads) {
    List<CompletableFuture<Accepted>> submissions = new ArrayList<>();
    NewestUploads.Selection selection = NewestUploads.select(uploads);
    List<Skip> skipped = new ArrayList<>(selection.superseded());
    for (ObjectCreated upload : selection.newest()) {
      Optional<Skip> answer = results.landed(upload);
      if (answer.isPresent()) {
        skipped.add(answer.get());
        continue;
      }
      RouteTable.Routing routing = checked(routes.route(upload), upload);
      if (routing instanceof RouteTable.Routing.Job job) {
        submissions.add(jobs.submit(job.jobId(), job.spec())
            .thenApply(s -> new Accepted(job.jobId(), upload.bucket(), upload.key(), s.duplicate()))
            .toCompletableFuture());
      } else if (routing instanceof RouteTable.Routing.Refused refused) {
        // Somebody sent a reference no job can use: worth a line, as a 400 would be for a client.
        log.warn("Refused s3://{}/{}: {}", refused.skip().bucket(), refused.skip().key(), refused.skip().reason());
        skipped.add(refused.skip());
      } else {
        Skip skip = ((RouteTable.Routing.Skipped) routing).skip();
        log.debug("Skipped s3://{}/{}: {}", skip.bucket(), skip.key(), skip.reason());
        skipped.add(skip);
      }
    }
    return CompletableFuture.allOf(submissions.toArray(CompletableFuture[]::new))
        .thenApply(done -> new Report(submissions.stream().map(CompletableFuture::join).toList(),
            List.copyOf(skipped)));
  }

  /** The job, unless it would write where its endpoint may not: then skipped, as a bad key is. */
  private RouteTable.Routing checked(RouteTable.Routing routing, ObjectCreated upload) {
    if (routing instanceof RouteTable.Routing.Job job) {
      try {
        objects.check(job.spec());
      } catch (InvalidInput refused) {
        return new RouteTable.Routing.Refused(Skip.unroutable(upload.bucket(), upload.key(), refused.getMessage()));
      }
    }
    return routing;
  }
}
