-- Identifiers of events compare as bytes (COLLATE "C"), whatever the database's
-- locale (docs/decisions/0018). Every stored event is placed in the primary key
-- by (project_id, message_id), and in the received index by project_id; under a
-- linguistic collation (a server created with en_US.UTF-8, the usual default)
-- each of those comparisons goes through the locale's rules: about a fifth of
-- PostgreSQL's CPU per ingested row, measured. Ids are opaque: equality is all
-- that matters, and it is the same under "C" (also for session_id's hash
-- index). A database already in the C locale (as PGlite and the test servers
-- are) gets the same order; its indexes are rebuilt all the same.
-- The column values stay as they are (no table rewrite), but the three indexes
-- that use these columns are rebuilt under an ACCESS EXCLUSIVE lock, so reads and
-- writes of events wait: on a large table, run it in a quiet hour. Changing a
-- column's type drops its planner statistics, hence the ANALYZE (a sample of
-- about 30,000 rows). Runs unchanged on PGlite and PostgreSQL 14+.
ALTER TABLE events
  ALTER COLUMN project_id TYPE text COLLATE "C",
  ALTER COLUMN message_id TYPE text COLLATE "C",
  ALTER COLUMN session_id TYPE text COLLATE "C";
ANALYZE events (project_id, message_id, session_id);
