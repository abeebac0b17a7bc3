package warmgate.ingest;

import com.typesafe.config.ConfigFactory;
import java.util.Set;

/** The route table the edge tests share: the shipped Gen3D route, read as the configuration would give it. */
public final class TestRoutes {
  private TestRoutes() {}

  /** {@code users/...png} uploads to bucket {@code gen3d} go to endpoint {@code gen3d} through the Gen3D pipeline. */
  public static RouteTable gen3d() {
    return RouteTable.fromConfig(ConfigFactory.parseString(
        "routes = [{ name = gen3d, bucket = gen3d, prefix = \"users/\", suffix = \".png\", endpoint = gen3d, "
            + "pipeline = gen3d }]"),
        Set.of("gen3d"));
  }
}
