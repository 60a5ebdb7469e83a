-- Protocol 4.2: backends SHOULD index the session (context.sessionId, stored
-- in session_id). IF NOT EXISTS keeps the script harmless if run again; on a
-- large table this locks writes while it builds (run it by hand with
-- CREATE INDEX CONCURRENTLY first if that matters: this then does nothing).
CREATE INDEX IF NOT EXISTS events_project_session_idx ON events (project_id, session_id);
