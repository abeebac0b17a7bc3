package warmgate.service;

import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.CompletionStage;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;
import warmgate.notification.NewestUploads;
import warmgate.notification.ObjectCreated;
import warmgate.notification.Skip;
import warmgate.route.RouteTable;

/** {@link Ingestion} through the configured routes; of several uploads of one key in a batch only the newest starts a job. */
public final class RouteIngestion implements Ingestion {
  private static final Logger log = LoggerFactory.getLogger(RouteIngestion.class);

  private final RouteTable routes;
  private final Jobs jobs;

  public RouteIngestion(RouteTable routes, Jobs jobs) {
    this.routes = routes;
    this.jobs = jobs;
  }

  @Override
  public CompletionStage<Report> ingest(List<ObjectCreated> uploads) {
    List<CompletableFuture<Accepted>> submissions = new ArrayList<>();
    NewestUploads.Selection selection = NewestUploads.select(uploads);
    List<Skip> skipped = new ArrayList<>(selection.superseded());
    for (ObjectCreated upload : selection.newest()) {
      RouteTable.Routing routing = routes.route(upload);
      if (routing instanceof RouteTable.Routing.Job job) {
        submissions.add(jobs.submit(job.jobId(), job.spec())
            .thenApply(s -> new Accepted(job.jobId(), upload.bucket(), upload.key(), s.duplicate()))
            .toCompletableFuture());
      } else {
        Skip skip = ((RouteTable.Routing.Skipped) routing).skip();
        log.debug("Skipped s3://{}/{}: {}", skip.bucket(), skip.key(), skip.reason());
        skipped.add(skip);
      }
    }
    return CompletableFuture.allOf(submissions.toArray(CompletableFuture[]::new))
        .thenApply(done -> new Report(submissions.stream().map(CompletableFuture::join).toList(), List.copyOf(skipped)));
  }
}
