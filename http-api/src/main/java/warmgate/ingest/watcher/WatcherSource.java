package warmgate.ingest.watcher;

import org.slf4j.Logger;
import org.slf4j.LoggerFactory;
import warmgate.config.BlobStoreSettings;
import warmgate.ingest.IngestionSource;

/** The local bucket folders, scanned for new files while the blob store is local and the watch interval is not 0. */
public final class WatcherSource implements IngestionSource {
  private static final Logger log = LoggerFactory.getLogger(WatcherSource.class);

  @Override
  public Started start(Node node) {
    BlobStoreSettings blobs = BlobStoreSettings.fromConfig(node.warmgate());
    if (!blobs.kind().equals("local") || blobs.watchInterval().isZero()) {
      return Started.nothing();
    }
    var watcher = new LocalBucketWatcher(blobs.localRoot(), blobs.watchInterval(), node.ingestion()::ingest);
    watcher.start();
    log.info("Watching {} for uploads every {} ms", blobs.localRoot().toAbsolutePath(),
        blobs.watchInterval().toMillis());
    return Started.resource(watcher);
  }
}
