package warmgate.e2e;

import io.fabric8.kubernetes.api.model.Pod;
import io.fabric8.kubernetes.client.KubernetesClient;
import io.fabric8.kubernetes.client.server.mock.KubernetesMockServer;
import io.fabric8.mockwebserver.Context;
import io.fabric8.mockwebserver.MockWebServer;
import io.fabric8.mockwebserver.http.RecordedRequest;
import java.io.IOException;
import java.net.InetAddress;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.concurrent.TimeUnit;

/**
 * A stand-in for the Kubernetes API server a pod reaches (no real one can be had here): fabric8's mock server over
 * HTTPS, in CRUD mode, so it keeps the pods it is sent and lists them by label selector as the API server does. It
 * checks no token and no RBAC. Beside it lies what Kubernetes gives every container to find and trust its API
 * server: the service-account files and the {@code KUBERNETES_SERVICE_*} variables.
 */
final class KubernetesApi implements AutoCloseable {
  /** The service-account token a pod is given; the stand-in takes any. */
  static final String TOKEN = "stand-in-service-account-token";

  private final KubernetesMockServer server;
  private final KubernetesClient client;
  private final Path serviceAccount;
  private final String namespace;

  private KubernetesApi(KubernetesMockServer server, Path serviceAccount, String namespace) {
    this.server = server;
    this.client = server.createClient();
    this.serviceAccount = serviceAccount;
    this.namespace = namespace;
  }

  /**
   * @param dir where the service-account folder goes
   * @param namespace the pods' namespace, as the service-account folder names it to a pod
   */
  static KubernetesApi start(Path dir, String namespace) throws IOException {
    var server = new KubernetesMockServer(new Context(), new MockWebServer(), new HashMap<>(),
        new JsonCrudDispatcher(), true);
    server.init(InetAddress.getLoopbackAddress(), 0);
    try {
      // As mounted at /var/run/secrets/kubernetes.io/serviceaccount. Pekko reads the token and the namespace
      // verbatim: a trailing newline would end up inside the Authorization header and the request path.
      Path serviceAccount = Files.createDirectories(dir.resolve("serviceaccount"));
      Files.copy(Path.of(server.getSelfSignedCertificate().certificatePath()), serviceAccount.resolve("ca.crt"));
      Files.writeString(serviceAccount.resolve("token"), TOKEN);
      Files.writeString(serviceAccount.resolve("namespace"), namespace);
      return new KubernetesApi(server, serviceAccount, namespace);
    } catch (IOException | RuntimeException e) {
      server.destroy();
      throw e;
    }
  }

  /**
   * The variables Kubernetes sets in every container, which Pekko's kubernetes-api discovery reads for the API
   * server's address. The host is the name the mock's certificate is issued to, so TLS checks it as with a real one.
   */
  Map<String, String> environment() {
    return Map.of("KUBERNETES_SERVICE_HOST", "localhost", "KUBERNETES_SERVICE_PORT",
        Integer.toString(server.getPort()));
  }

  /** Where Pekko's kubernetes-api discovery reads the service-account files, in place of the pod's mount. */
  String discoveryHocon() {
    return """
        pekko.discovery.kubernetes-api {
          api-ca-path = "%1$s/ca.crt"
          api-token-path = "%1$s/token"
          pod-namespace-path = "%1$s/namespace"
        }
        """.formatted(serviceAccount);
  }

  Pod create(Pod pod) {
    return client.pods().inNamespace(namespace).resource(pod).create();
  }

  void delete(String pod) {
    client.pods().inNamespace(namespace).withName(pod).delete();
  }

  /** The pods the API lists with these labels, as discovery asks for them. */
  List<Pod> pods(Map<String, String> labels) {
    return client.pods().inNamespace(namespace).withLabels(labels).list().getItems();
  }

  /** A request the API server received: its method, path with query, and Authorization header. */
  record Request(String method, String path, String authorization) {}

  /** The requests received since the last call, oldest first. */
  List<Request> takeRequests() throws InterruptedException {
    List<Request> requests = new ArrayList<>();
    for (RecordedRequest r = server.takeRequest(0, TimeUnit.SECONDS); r != null;
        r = server.takeRequest(0, TimeUnit.SECONDS)) {
      requests.add(new Request(r.getMethod(), r.getPath(), r.getHeader("Authorization")));
    }
    return requests;
  }

  @Override
  public void close() {
    client.close();
    server.destroy();
  }
}
