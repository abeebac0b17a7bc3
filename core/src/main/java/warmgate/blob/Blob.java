package warmgate.blob;

/** An object's content with what the store knows about it. */
public record Blob(BlobInfo info, byte[] content) {}
