-- Warmgate journal schema for PostgreSQL: the tables of pekko-persistence-jdbc 1.1, written so that it can
-- run on every start (everything IF NOT EXISTS). Statements are separated by a line holding only ';'.
CREATE TABLE IF NOT EXISTS event_journal(
  ordering BIGSERIAL,
  persistence_id VARCHAR(255) NOT NULL,
  sequence_number BIGINT NOT NULL,
  deleted BOOLEAN DEFAULT FALSE NOT NULL,
  writer VARCHAR(255) NOT NULL,
  write_timestamp BIGINT,
  adapter_manifest VARCHAR(255),
  event_ser_id INTEGER NOT NULL,
  event_ser_manifest VARCHAR(255) NOT NULL,
  event_payload BYTEA NOT NULL,
  meta_ser_id INTEGER,
  meta_ser_manifest VARCHAR(255),
  meta_payload BYTEA,
  PRIMARY KEY(persistence_id, sequence_number)
)
;
CREATE UNIQUE INDEX IF NOT EXISTS event_journal_ordering_idx ON event_journal(ordering)
;
-- Warmgate's own: audits find the first and last event of a time range without reading the whole journal.
CREATE INDEX IF NOT EXISTS event_journal_write_timestamp_idx ON event_journal(write_timestamp)
;
CREATE TABLE IF NOT EXISTS event_tag(
  event_id BIGINT,
  tag VARCHAR(256),
  PRIMARY KEY(event_id, tag),
  CONSTRAINT fk_event_journal FOREIGN KEY(event_id) REFERENCES event_journal(ordering) ON DELETE CASCADE
)
;
-- Warmgate's own: the projections read events by tag, and the job waker asks for the last event of each tag
-- (warmgate.index.JdbcIndexProgress); the primary key leads with event_id, so without this both scan the table.
CREATE INDEX IF NOT EXISTS event_tag_tag_idx ON event_tag(tag, event_id)
;
CREATE TABLE IF NOT EXISTS snapshot(
  persistence_id VARCHAR(255) NOT NULL,
  sequence_number BIGINT NOT NULL,
  created BIGINT NOT NULL,
  snapshot_ser_id INTEGER NOT NULL,
  snapshot_ser_manifest VARCHAR(255) NOT NULL,
  snapshot_payload BYTEA NOT NULL,
  meta_ser_id INTEGER,
  meta_ser_manifest VARCHAR(255),
  meta_payload BYTEA,
  PRIMARY KEY(persistence_id, sequence_number)
)
;
-- The read side (warmgate.index): pekko-projection-jdbc 1.0's offset and management tables (postgres-dialect
-- with use-lowercase-schema), and the job index the projection writes in the same transaction as its offsets.
CREATE TABLE IF NOT EXISTS pekko_projection_offset_store (
  projection_name VARCHAR(255) NOT NULL,
  projection_key VARCHAR(255) NOT NULL,
  current_offset VARCHAR(255) NOT NULL,
  manifest VARCHAR(4) NOT NULL,
  mergeable BOOLEAN NOT NULL,
  last_updated BIGINT NOT NULL,
  PRIMARY KEY(projection_name, projection_key)
)
;
CREATE INDEX IF NOT EXISTS projection_name_index ON pekko_projection_offset_store (projection_name)
;
CREATE TABLE IF NOT EXISTS pekko_projection_management (
  projection_name VARCHAR(255) NOT NULL,
  projection_key VARCHAR(255) NOT NULL,
  paused BOOLEAN NOT NULL,
  last_updated BIGINT NOT NULL,
  PRIMARY KEY(projection_name, projection_key)
)
;
-- One row per job, as the fold of its events says (warmgate.request.JobSummary). Columns after last_seq_nr
-- are the fold's own memory: whether the job owes an error report or a callback, so has_work (the waker's
-- question: does the job act on its own?) can be kept up to date.
CREATE TABLE IF NOT EXISTS job_index (
  job_id VARCHAR(255) PRIMARY KEY,
  status VARCHAR(32) NOT NULL,
  endpoint VARCHAR(255) NOT NULL,
  owner VARCHAR(255),
  attempts INT NOT NULL,
  created_at TIMESTAMP WITH TIME ZONE NOT NULL,
  updated_at TIMESTAMP WITH TIME ZONE NOT NULL,
  output VARCHAR(2048),
  error VARCHAR(4096),
  last_seq_nr BIGINT NOT NULL,
  callbacks BOOLEAN NOT NULL,
  report_owed BOOLEAN NOT NULL,
  callback_owed BOOLEAN NOT NULL,
  has_work BOOLEAN NOT NULL
)
;
-- Added with per-owner fair share: the job's priority, for enlisting a queued job again after a restart.
-- NULL in rows written before it: interactive.
ALTER TABLE job_index ADD COLUMN IF NOT EXISTS priority VARCHAR(16)
;
-- GET /v1/jobs lists newest first, paging on (created_at, job_id): one index for the whole list and one per
-- filter a list is usually narrowed by (a non-admin always filters by owner).
CREATE INDEX IF NOT EXISTS job_index_created_idx ON job_index (created_at, job_id)
;
CREATE INDEX IF NOT EXISTS job_index_owner_idx ON job_index (owner, created_at, job_id)
;
CREATE INDEX IF NOT EXISTS job_index_status_idx ON job_index (status, created_at, job_id)
;
CREATE INDEX IF NOT EXISTS job_index_endpoint_idx ON job_index (endpoint, created_at, job_id)
;
-- The waker pages through the jobs that have work, by id; a partial index stays as small as that set.
CREATE INDEX IF NOT EXISTS job_index_work_idx ON job_index (job_id) WHERE has_work
;
