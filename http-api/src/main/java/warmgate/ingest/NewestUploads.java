package warmgate.ingest;

import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;

/**
 * Of several uploads of one bucket and key that arrive together (the records of one S3 event, one ingestion
 * batch), only the newest should start a job: the older content has already been overwritten, and running
 * the model on it would write an output the newer job overwrites again. "Newest" is decided by S3's
 * {@link Sequencer}; an upload without a valid sequencer cannot be ordered and is kept.
 */
public final class NewestUploads {
  private NewestUploads() {}

  /** The uploads to act on, in their original order, and the older ones left out with the reason. */
  public record Selection(List<ObjectCreated> newest, List<Skip> superseded) {
    public Selection {
      newest = List.copyOf(newest);
      superseded = List.copyOf(superseded);
    }
  }

  private record Key(String bucket, String key) {}

  public static Selection select(List<ObjectCreated> uploads) {
    Map<Key, Sequencer> latest = new HashMap<>();
    for (ObjectCreated upload : uploads) {
      Sequencer sequencer = Sequencer.orNull(upload.sequencer());
      if (sequencer != null) {
        latest.merge(new Key(upload.bucket(), upload.key()), sequencer, (a, b) -> b.isAfter(a) ? b : a);
      }
    }
    List<ObjectCreated> newest = new ArrayList<>();
    List<Skip> superseded = new ArrayList<>();
    for (ObjectCreated upload : uploads) {
      Sequencer sequencer = Sequencer.orNull(upload.sequencer());
      Sequencer newer = latest.get(new Key(upload.bucket(), upload.key()));
      if (sequencer != null && newer.isAfter(sequencer)) {
        superseded.add(new Skip(upload.bucket(), upload.key(), "superseded: a newer upload of the same key (sequencer "
            + newer.hex() + ", this one " + sequencer.hex() + ") arrived with it; only the newest starts a job"));
      } else {
        newest.add(upload);
      }
    }
    return new Selection(newest, superseded);
  }
}
