-- Cheaper secondary indexes on events (docs/decisions/0014). Every stored event
-- updates each index of the table, and the two replaced here were about a third
-- of PostgreSQL's CPU per ingested row (measured with COPY, one connection).
-- Runs unchanged on PGlite and PostgreSQL 14+.

-- Event time: queries read ranges of it, which is what BRIN serves, at a tiny
-- fraction of a btree's write cost. Rows arrive roughly in time order; the
-- minmax-multi summaries keep late events (offline replay, skewed clocks) from
-- widening whole block ranges. autosummarize summarises each filled range
-- without waiting for VACUUM (a server setting; PGlite ignores it, and ranges
-- not summarised yet are simply read).
DROP INDEX IF EXISTS events_project_timestamp_idx;
CREATE INDEX IF NOT EXISTS events_timestamp_brin ON events
  USING brin (timestamp timestamptz_minmax_multi_ops) WITH (autosummarize = on);

-- Sessions are looked up by equality only: a hash index costs less per row
-- than the (project_id, session_id) btree, on random session ids most of all.
-- It still serves protocol 4.2's SHOULD; the project is checked on the rows.
DROP INDEX IF EXISTS events_project_session_idx;
CREATE INDEX IF NOT EXISTS events_session_hash ON events USING hash (session_id);
