package warmgate.blob;

import java.util.Map;
import warmgate.job.ObjectRef;

/** What a store knows about an object without reading it. */
public record BlobInfo(ObjectRef ref, long size, String eTag, String contentType, Map<String, String> metadata) {
  public BlobInfo {
    metadata = Map.copyOf(metadata);
  }
}
