package warmgate.ingest;

import java.util.List;
import warmgate.ingest.eventbridge.EventBridgeSource;
import warmgate.ingest.s3.S3Source;
import warmgate.ingest.sns.SnsRoutes;
import warmgate.ingest.sns.SnsSource;
import warmgate.ingest.sqs.SqsSource;
import warmgate.ingest.watcher.WatcherSource;

/** Every way uploads reach a node; a new source is one line here. */
public final class IngestionSources {
  private IngestionSources() {}

  /** The sources as the configuration describes them. */
  public static List<IngestionSource> all() {
    return List.of(new S3Source(), SnsSource.fromConfig(), new EventBridgeSource(), new WatcherSource(),
        new SqsSource());
  }

  /** The same, with the SNS route given: a test node trusts its own signing CA and serves its certificate itself. */
  public static List<IngestionSource> all(SnsRoutes sns) {
    return all().stream().map(source -> source instanceof SnsSource ? SnsSource.using(sns) : source).toList();
  }
}
