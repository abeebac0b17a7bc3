package warmgate.persistence;

import java.nio.file.Path;
import warmgate.index.TestDatabase;

// H2 in a file of a temporary folder, as the embedded default runs; real journal plugin, no cluster.
class H2TagSeekReadDaoTest extends TagSeekReadDaoContract {
  @Override
  TestDatabase database(Path dir) {
    return TestDatabase.h2(dir);
  }
}
