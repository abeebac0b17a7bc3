package warmgate.blob;

import java.util.List;
import java.util.concurrent.Executor;
import warmgate.config.BlobStoreSettings;

/** The configured blob store. */
public final class BlobStores {
  private BlobStores() {}

  /**
   * @param blocking where the local store does its file I/O
   * @param resources receives what must be closed at shutdown
   */
  public static BlobStore create(BlobStoreSettings settings, Executor blocking, List<AutoCloseable> resources) {
    if (settings.kind().equals("s3")) {
      S3BlobStore s3 = S3BlobStore.create(settings);
      resources.add(s3);
      return s3;
    }
    FileNameEncoding.requireUtf8();
    return new LocalBlobStore(settings.localRoot(), blocking);
  }
}
