package warmgate.testing;

import static org.assertj.core.api.Assertions.assertThat;

import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Base64;
import org.apache.pekko.actor.typed.ActorSystem;
import org.apache.pekko.serialization.Serialization;
import org.apache.pekko.serialization.SerializationExtension;
import org.apache.pekko.serialization.Serializer;
import org.apache.pekko.serialization.Serializers;

/**
 * Sends a message through the serializer the running system picked for it, as remoting and the journal would.
 *
 * <p>Events are also checked against golden files: the bytes an earlier build wrote must still read back as the
 * same event, or journals written by that build could no longer be replayed. A missing golden file fails the
 * test; run once with {@code -Dwarmgate.golden.update=true} to write the missing ones (existing files are never
 * rewritten), then commit them.
 */
public final class SerializationCheck {
  private static final String UPDATE_PROPERTY = "warmgate.golden.update";

  private final Serialization serialization;
  private final Path goldenDir;

  /** @param goldenDir the module's {@code src/test/resources/golden} (tests run in the module's folder) */
  public SerializationCheck(ActorSystem<?> system, Path goldenDir) {
    this.serialization = SerializationExtension.get(system.classicSystem());
    this.goldenDir = goldenDir;
  }

  /** Round-trips {@code message} through Jackson CBOR and checks it comes back equal. */
  public void roundTrips(Object message) {
    Serializer serializer = serialization.findSerializerFor(message);
    assertThat(serializer.getClass().getSimpleName())
        .as("serializer for %s", message.getClass().getName())
        .isEqualTo("JacksonCborSerializer");
    byte[] bytes = serialization.serialize(message).get();
    String manifest = Serializers.manifestFor(serializer, message);
    Object back = serialization.deserialize(bytes, serializer.identifier(), manifest).get();
    assertThat(back).as("%s after a round trip", message.getClass().getName()).isEqualTo(message);
  }

  /**
   * Round-trips {@code event} and checks that the golden bytes stored under {@code name} still read back as it.
   */
  public void matchesGolden(String name, Object event) {
    roundTrips(event);
    Serializer serializer = serialization.findSerializerFor(event);
    String manifest = Serializers.manifestFor(serializer, event);
    Path file = goldenDir.resolve(name + ".cbor.b64");
    try {
      // Only missing files are written: existing ones are what earlier builds put into journals.
      if (Boolean.getBoolean(UPDATE_PROPERTY) && !Files.exists(file)) {
        Files.createDirectories(goldenDir);
        byte[] bytes = serialization.serialize(event).get();
        Files.writeString(file, manifest + "\n" + Base64.getEncoder().encodeToString(bytes) + "\n",
            StandardCharsets.UTF_8);
      }
      assertThat(file)
          .as("golden file for %s; write it with -D%s=true and commit it", name, UPDATE_PROPERTY)
          .exists();
      String[] lines = Files.readString(file, StandardCharsets.UTF_8).split("\n");
      assertThat(lines[0]).as("manifest stored for %s", name).isEqualTo(manifest);
      Object read = serialization.deserialize(Base64.getDecoder().decode(lines[1].trim()), serializer.identifier(),
          lines[0])
          .get();
      assertThat(read).as("%s read from its golden bytes", name).isEqualTo(event);
    } catch (IOException e) {
      throw new UncheckedIOException(e);
    }
  }
}
