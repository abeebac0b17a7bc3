package warmgate.e2e;

import io.fabric8.kubernetes.client.server.mock.KubernetesCrudDispatcher;
import io.fabric8.mockwebserver.http.MockResponse;
import io.fabric8.mockwebserver.http.RecordedRequest;

/**
 * fabric8's CRUD dispatcher, with the {@code Content-Type: application/json} the real API server sends. The mock
 * answers JSON with no Content-Type, which HTTP reads as application/octet-stream, and Pekko's kubernetes-api
 * discovery then refuses the pod list ({@code Unsupported Content-Type application/octet-stream}): without this, no
 * node would ever see another.
 */
final class JsonCrudDispatcher extends KubernetesCrudDispatcher {
  @Override
  public MockResponse dispatch(RecordedRequest request) {
    MockResponse response = super.dispatch(request);
    if (response.header("Content-Type") == null) {
      response.setHeader("Content-Type", "application/json");
    }
    return response;
  }
}
