-- Sightline collector schema, version 1: projects, credentials and events.
-- Runs unchanged on PGlite and on PostgreSQL 14+.

CREATE TABLE projects (
  id             text PRIMARY KEY,
  name           text NOT NULL,
  retention_days integer NOT NULL DEFAULT 365 CHECK (retention_days > 0),
  created_at     timestamptz NOT NULL DEFAULT now()
);

-- Write keys travel in browsers and are public by nature, so they are stored
-- as SHA-256 hashes only to keep one lookup path with read tokens.
CREATE TABLE write_keys (
  key_hash   text PRIMARY KEY,
  project_id text NOT NULL REFERENCES projects (id) ON DELETE CASCADE,
  created_at timestamptz NOT NULL DEFAULT now()
);
CREATE INDEX write_keys_project_idx ON write_keys (project_id);

-- Read tokens are secrets: only their SHA-256 hash is stored.
CREATE TABLE read_tokens (
  token_hash text PRIMARY KEY,
  project_id text NOT NULL REFERENCES projects (id) ON DELETE CASCADE,
  created_at timestamptz NOT NULL DEFAULT now()
);
CREATE INDEX read_tokens_project_idx ON read_tokens (project_id);

-- No foreign key to projects: the ingest hot path inserts thousands of rows
-- per statement and a per-row FK check costs more than it protects (the
-- project id comes from an authenticated key, never from the payload).
CREATE TABLE events (
  project_id   text NOT NULL,
  -- Insertion order, to list the newest events stably within one received_at.
  seq          bigint GENERATED ALWAYS AS IDENTITY,
  message_id   text NOT NULL,
  type         text NOT NULL,
  event        text,
  name         text,
  user_id      text,
  anonymous_id text,
  group_id     text,
  previous_id  text,
  session_id   text,
  timestamp    timestamptz NOT NULL,
  sent_at      timestamptz,
  received_at  timestamptz NOT NULL,
  properties   jsonb NOT NULL DEFAULT '{}'::jsonb,
  traits       jsonb NOT NULL DEFAULT '{}'::jsonb,
  context      jsonb NOT NULL DEFAULT '{}'::jsonb,
  PRIMARY KEY (project_id, message_id)
);
CREATE INDEX events_project_received_idx ON events (project_id, received_at);
CREATE INDEX events_project_timestamp_idx ON events (project_id, timestamp);
