package warmgate.ingest;

/** A record that was read but starts no job, with the reason a user can act on. */
public record Skip(String bucket, String key, String reason) {}
