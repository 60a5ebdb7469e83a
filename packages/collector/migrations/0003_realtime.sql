-- Realtime (protocol section 9): one counter row per (project, channel) and a
-- bounded history of its messages. Runs unchanged on PGlite and PostgreSQL.

-- The counter row hands out seqs: a publish increments last_seq in the same
-- statement that inserts its messages, so it holds the row lock until commit
-- and seq order is commit order (a SEQUENCE would leave gaps on rollback and
-- let n+1 be visible before n). live_until is the lease of the process(es)
-- serving subscribers; publishing to a channel whose lease ended is a no-op,
-- and taking it again draws a new epoch, so old cursors get a reset.
CREATE TABLE realtime_channels (
  project_id text NOT NULL,
  channel    text NOT NULL,
  epoch      text NOT NULL,
  last_seq   bigint NOT NULL DEFAULT 0,
  live_until timestamptz NOT NULL,
  PRIMARY KEY (project_id, channel)
);

-- No foreign key to projects, as for events: the project id always comes from
-- an authenticated token. Pruned by count and age (the collector's history).
CREATE TABLE realtime_messages (
  project_id text NOT NULL,
  channel    text NOT NULL,
  seq        bigint NOT NULL,
  created_at timestamptz NOT NULL DEFAULT now(),
  kind       text NOT NULL,
  data       jsonb NOT NULL,
  PRIMARY KEY (project_id, channel, seq)
);
CREATE INDEX realtime_messages_created_idx ON realtime_messages (created_at);
