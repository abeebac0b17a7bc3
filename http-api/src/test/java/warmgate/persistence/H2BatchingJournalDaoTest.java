package warmgate.persistence;

import java.nio.file.Path;
import warmgate.index.TestDatabase;

// Real H2 file (the embedded default), real journal plugin; no cluster.
class H2BatchingJournalDaoTest extends BatchingJournalDaoContract {
  @Override
  TestDatabase database(Path dir) {
    return TestDatabase.h2(dir);
  }
}
