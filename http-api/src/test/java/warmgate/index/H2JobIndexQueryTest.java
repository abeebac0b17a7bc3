package warmgate.index;

import java.nio.file.Path;

// Real H2 file database; rows written by the projection's fold, no actor system.
class H2JobIndexQueryTest extends JobIndexQueryContract {
  @Override
  TestDatabase database(Path dir) {
    return TestDatabase.h2(dir);
  }
}
