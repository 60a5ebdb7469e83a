-- Realtime metric rollups (protocol 9.6, docs/decisions/0010): the totals of the
-- `metrics:<name>` channels, shared by every collector process on one database.
-- Runs unchanged on PGlite and PostgreSQL.

-- One row per (project, metric, resolution, bucket), bucket = the received time
-- truncated to the second ('1s') or the minute ('1m'). Each process adds what it
-- ingested with one upsert per flush; the row lock orders those upserts, and the
-- metric_update published in the same transaction carries the merged totals.
-- sum/min/max stay NULL until a `Metric Recorded` value lands in the bucket.
-- user_hashes holds a 53-bit hash of each distinct user (userId, else
-- anonymousId), at most the cap, and users its length: one row to rewrite per
-- bucket and flush instead of a row per user (decision 0010 measured both).
CREATE TABLE metric_rollups (
  project_id  text NOT NULL,
  metric      text NOT NULL,
  resolution  text NOT NULL CHECK (resolution IN ('1s', '1m')),
  bucket      timestamptz NOT NULL,
  count       bigint NOT NULL DEFAULT 0,
  users       integer NOT NULL DEFAULT 0,
  user_hashes bigint[] NOT NULL DEFAULT '{}',
  sum         double precision,
  min         double precision,
  max         double precision,
  PRIMARY KEY (project_id, metric, resolution, bucket)
);
-- For the prune, which deletes buckets a few minutes after they start.
CREATE INDEX metric_rollups_bucket_idx ON metric_rollups (bucket);
