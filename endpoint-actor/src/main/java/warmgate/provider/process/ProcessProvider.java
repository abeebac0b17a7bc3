package warmgate.provider.process;

import java.nio.file.Path;
import warmgate.config.EndpointSettings;
import warmgate.endpoint.ManagedEndpoint;
import warmgate.endpoint.ProviderKind;
import warmgate.endpoint.Providers;

/** {@code provider = process}: a local model server per endpoint ({@link ProcessEndpoint}). */
public final class ProcessProvider implements ProviderKind {

  @Override
  public String name() {
    return "process";
  }

  @Override
  public void validate(EndpointSettings settings) {
    var c = settings.providerConfig();
    if (c.hasPath("command") && c.getStringList("command").isEmpty()) {
      throw new IllegalArgumentException("endpoint " + settings.name() + ": process.command is empty");
    }
  }

  @Override
  public Binder binder(Providers.Shared shared) {
    // Model processes end with the node that started them.
    ChildProcesses children = ChildProcesses.ofThisNode();
    return new Binder() {
      @Override
      public ManagedEndpoint bind(EndpointSettings settings) {
        return ProcessEndpoint.bind(settings, Path.of(settings.providerConfig().getString("state-dir")),
            shared.blocking(),
            shared.http(), children);
      }

      @Override
      public void close() {
        children.close();
      }
    };
  }
}
