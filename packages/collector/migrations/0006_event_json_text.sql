-- Event payloads as json (validated text, kept as sent) instead of jsonb (a
-- parsed binary tree) (docs/decisions/0015). Building the jsonb tree of
-- properties, traits and context was about a fifth of PostgreSQL's CPU per
-- ingested row; json only checks the syntax. Readers get the same values, in
-- the client's key order. Queries that look inside a payload parse it then:
-- cast it (`properties::jsonb`) or index an expression where that matters.
-- Rewrites the table once; runs unchanged on PGlite and PostgreSQL 14+.
ALTER TABLE events
  ALTER COLUMN properties TYPE json USING properties::json,
  ALTER COLUMN properties SET DEFAULT '{}'::json,
  ALTER COLUMN traits TYPE json USING traits::json,
  ALTER COLUMN traits SET DEFAULT '{}'::json,
  ALTER COLUMN context TYPE json USING context::json,
  ALTER COLUMN context SET DEFAULT '{}'::json;
