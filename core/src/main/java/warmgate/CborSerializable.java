package warmgate;

/**
 * Marker for every message and event that crosses a node boundary or reaches the journal. Bound to
 * Pekko's Jackson CBOR serializer in {@code serialization.conf}; Pekko's own marker is test-only.
 */
public interface CborSerializable {}
