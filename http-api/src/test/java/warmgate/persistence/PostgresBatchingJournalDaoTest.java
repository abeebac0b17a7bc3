package warmgate.persistence;

import java.nio.file.Path;
import warmgate.index.TestDatabase;

// Real PostgreSQL (a fresh database on 127.0.0.1:5432), real journal plugin; no cluster.
class PostgresBatchingJournalDaoTest extends BatchingJournalDaoContract {
  @Override
  TestDatabase database(Path dir) {
    return TestDatabase.postgres(dir);
  }
}
