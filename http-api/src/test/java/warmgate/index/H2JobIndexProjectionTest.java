package warmgate.index;

import java.nio.file.Path;

// Real H2 file database, real journal and projection; no cluster.
class H2JobIndexProjectionTest extends JobIndexProjectionContract {
  @Override
  TestDatabase database(Path dir) {
    return TestDatabase.h2(dir);
  }
}
