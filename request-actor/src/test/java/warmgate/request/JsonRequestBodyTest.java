package warmgate.request;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import com.fasterxml.jackson.databind.node.ObjectNode;
import java.io.ByteArrayInputStream;
import java.io.IOException;
import java.io.InputStream;
import java.util.Base64;
import java.util.List;
import java.util.Random;
import org.junit.jupiter.api.Test;
import warmgate.Json;

// The streamed JSON request, against the request Jackson builds in memory; no actors.
class JsonRequestBodyTest {

  @Test
  void streamsTheSameJsonAsBuildingItWholeWithItsExactLength() throws IOException {
    // 3 * 16 KiB is one chunk: sizes around it, and ones that leave one and two bytes of padding.
    for (int size : new int[] {0, 1, 2, 3, 49_151, 49_152, 49_153, 200_000}) {
      byte[] image = random(size, size);
      byte[] mask = random(7, size + 1);
      ObjectNode template = Json.mapper().createObjectNode().put("steps", 30).put("image", "replaced");

      var body = JsonRequestBody.of(template, List.of(
          new JsonRequestBody.Input("image", new ByteArrayInputStream(image), image.length),
          new JsonRequestBody.Input("mask \"quoted\"", new ByteArrayInputStream(mask), mask.length)));
      byte[] streamed;
      try (InputStream in = body.open()) {
        streamed = in.readAllBytes();
      }

      assertThat(streamed).hasSize((int) body.length());
      ObjectNode parsed = (ObjectNode) Json.mapper().readTree(streamed);
      assertThat(parsed.get("steps").asInt()).isEqualTo(30);
      assertThat(Base64.getDecoder().decode(parsed.get("image").asText())).isEqualTo(image);
      assertThat(Base64.getDecoder().decode(parsed.get("mask \"quoted\"").asText())).isEqualTo(mask);
      assertThat(parsed.size()).isEqualTo(3);
    }
  }

  @Test
  void anEmptyTemplateGetsNoLeadingComma() throws IOException {
    var body = JsonRequestBody.of(Json.mapper().createObjectNode(), List.of(
        new JsonRequestBody.Input("image", new ByteArrayInputStream(new byte[] {1, 2, 3}), 3)));
    try (InputStream in = body.open()) {
      assertThat(new String(in.readAllBytes(), java.nio.charset.StandardCharsets.UTF_8))
          .isEqualTo("{\"image\":\"AQID\"}");
    }
  }

  @Test
  void anInputThatIsNotTheSizeItsMetadataSaidFailsTheRead() {
    var shorter = JsonRequestBody.of(Json.mapper().createObjectNode(), List.of(
        new JsonRequestBody.Input("image", new ByteArrayInputStream(new byte[5]), 6)));
    assertThatThrownBy(() -> shorter.open().readAllBytes()).isInstanceOf(IOException.class)
        .hasMessageContaining("ended after 5 of its 6 bytes");
    var longer = JsonRequestBody.of(Json.mapper().createObjectNode(), List.of(
        new JsonRequestBody.Input("image", new ByteArrayInputStream(new byte[100_000]), 6)));
    assertThatThrownBy(() -> longer.open().readAllBytes()).isInstanceOf(IOException.class)
        .hasMessageContaining("grew while it was read");
  }

  private static byte[] random(int size, long seed) {
    byte[] bytes = new byte[size];
    new Random(seed).nextBytes(bytes);
    return bytes;
  }
}
