package warmgate.request;

import static org.assertj.core.api.Assertions.assertThat;

import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Base64;
import java.util.List;
import org.apache.pekko.actor.typed.ActorSystem;
import org.apache.pekko.serialization.Serialization;
import org.apache.pekko.serialization.SerializationExtension;
import org.apache.pekko.serialization.Serializer;
import org.apache.pekko.serialization.Serializers;

/**
 * A job's whole journal as an earlier build stored it: {@code golden/journal-<name>.cbor.b64}, a manifest line
 * and a base64 line per event, oldest first (the format of SerializationCheck's golden files, repeated). As with
 * those, a missing file fails the test; {@code -Dwarmgate.golden.update=true} writes missing ones and never
 * rewrites an existing one.
 */
final class GoldenJournal {
  private static final Path DIR = Path.of("src/test/resources/golden");

  private GoldenJournal() {}

  /** The events stored under {@code name}, checked to read back as {@code expected}. */
  static List<Request.Event> read(ActorSystem<?> system, String name, List<Request.Event> expected) {
    Serialization serialization = SerializationExtension.get(system.classicSystem());
    Path file = DIR.resolve("journal-" + name + ".cbor.b64");
    try {
      if (Boolean.getBoolean("warmgate.golden.update") && !Files.exists(file)) {
        StringBuilder text = new StringBuilder();
        for (Request.Event event : expected) {
          Serializer serializer = serialization.findSerializerFor(event);
          text.append(Serializers.manifestFor(serializer, event)).append('\n')
              .append(Base64.getEncoder().encodeToString(serialization.serialize(event).get())).append('\n');
        }
        Files.writeString(file, text.toString(), StandardCharsets.UTF_8);
      }
      assertThat(file).as("golden journal %s; write it with -Dwarmgate.golden.update=true and commit it",
          name).exists();
      String[] lines = Files.readString(file, StandardCharsets.UTF_8).split("\n");
      List<Request.Event> events = new ArrayList<>();
      for (int i = 0; i + 1 < lines.length; i += 2) {
        Serializer serializer = serialization.serializerFor(Request.Event.class);
        events.add((Request.Event) serialization
            .deserialize(Base64.getDecoder().decode(lines[i + 1].trim()), serializer.identifier(), lines[i]).get());
      }
      assertThat(events).as("journal %s read from its golden bytes", name).isEqualTo(expected);
      return events;
    } catch (IOException e) {
      throw new UncheckedIOException(e);
    }
  }
}
