import { afterAll, beforeAll, describe, expect, inject, it } from 'vitest';
import type {} from '../../../testing/src/globalSetup';
import { createDatabase } from '../../../testing/src/postgres';
import { openPgDatabase, openPgliteDatabase, type Database } from '../index';
import { loadMigrations, migrate } from '../migrate';
import { BACKENDS, plansWithoutSeqScan, useBackend } from './helpers';

const insertEvent = (db: Database, projectId: string, messageId: string, sessionId: string | null) =>
  db.query<{ message_id: string }>(
    `INSERT INTO events (project_id, message_id, type, event, anonymous_id, session_id, timestamp, received_at)
     VALUES ($1, $2, 'track', 'E', 'a', $3, now(), now())
     ON CONFLICT DO NOTHING RETURNING message_id`,
    [projectId, messageId, sessionId],
  );

describe.each(BACKENDS)('upgrading a database with events on %s', (name) => {
  const backend = useBackend(name);
  let db: Database;
  beforeAll(async () => {
    const storage = backend.storage();
    db = storage.databaseUrl !== undefined ? await openPgDatabase(storage.databaseUrl) : await openPgliteDatabase(storage.dataDir!);
  });
  afterAll(async () => {
    await db?.close();
  });

  it('0007 makes event ids compare as bytes and keeps the rows, the deduplication and the index lookups', async () => {
    const migrations = await loadMigrations();
    expect(await migrate(db, migrations.filter((m) => m.version <= '0006'))).toHaveLength(6);
    // Ids whose order differs between a linguistic collation and bytes (case, accents). These
    // databases are in the C locale already, so their order does not change here (the test below
    // shows it on a linguistic one); the collations of the columns and indexes do.
    const ids = ['b-2', 'B-1', 'é-3', 'e-4'];
    for (const [i, id] of ids.entries()) expect((await insertEvent(db, 'p1', id, `s-${i % 2}`)).rows).toHaveLength(1);

    expect(await migrate(db, migrations)).toEqual(['0007']);

    const collations = await db.query<{ column_name: string; collation_name: string | null }>(
      "SELECT column_name, collation_name FROM information_schema.columns WHERE table_name = 'events' AND column_name IN ('project_id', 'message_id', 'session_id') ORDER BY column_name",
    );
    expect(collations.rows).toEqual([
      { column_name: 'message_id', collation_name: 'C' },
      { column_name: 'project_id', collation_name: 'C' },
      { column_name: 'session_id', collation_name: 'C' },
    ]);
    const indexCollations = await db.query<{ index: string; collations: string }>(
      `SELECT i.indexrelid::regclass::text AS index, string_agg(coalesce(c.collname, '-'), ',' ORDER BY k.n) AS collations
       FROM pg_index i CROSS JOIN LATERAL unnest(i.indcollation) WITH ORDINALITY AS k(oid, n)
       LEFT JOIN pg_collation c ON c.oid = k.oid
       WHERE i.indrelid = 'events'::regclass AND i.indexrelid::regclass::text IN ('events_pkey', 'events_project_received_idx', 'events_session_hash')
       GROUP BY 1 ORDER BY 1`,
    );
    // '-': a column that has no collation (received_at).
    expect(indexCollations.rows).toEqual([
      { index: 'events_pkey', collations: 'C,C' },
      { index: 'events_project_received_idx', collations: 'C,-' },
      { index: 'events_session_hash', collations: 'C' },
    ]);
    // Changing a column's type drops its statistics: the migration gathers them again.
    const analyzed = await db.query<{ attname: string }>(
      "SELECT attname FROM pg_stats WHERE tablename = 'events' AND attname IN ('project_id', 'message_id', 'session_id') ORDER BY attname",
    );
    expect(analyzed.rows.map((r) => r.attname)).toEqual(['message_id', 'project_id', 'session_id']);
    // Every row survived, and the primary key still refuses a stored id (and only that one).
    expect((await db.query<{ n: number }>("SELECT count(*)::int AS n FROM events WHERE project_id = 'p1'")).rows[0]!.n).toBe(4);
    expect((await insertEvent(db, 'p1', 'B-1', null)).rows).toHaveLength(0);
    expect((await insertEvent(db, 'p1', 'b-1', null)).rows).toHaveLength(1);
    expect((await insertEvent(db, 'p2', 'B-1', null)).rows).toHaveLength(1);
    // Byte order now: upper case before lower case, 'é' (0xC3 0xA9) after every ASCII letter.
    const ordered = await db.query<{ message_id: string }>("SELECT message_id FROM events WHERE project_id = 'p1' ORDER BY message_id");
    expect(ordered.rows.map((r) => r.message_id)).toEqual(['B-1', 'b-1', 'b-2', 'e-4', 'é-3']);

    // The rebuilt secondary indexes still serve their lookups (ON CONFLICT above used the primary key).
    const [session, recent] = await plansWithoutSeqScan(db, [
      "SELECT 1 FROM events WHERE session_id = 's-1'",
      "SELECT 1 FROM events WHERE project_id = 'p1' ORDER BY received_at DESC LIMIT 5",
    ]);
    expect(session).toContain('events_session_hash');
    expect(recent).toContain('events_project_received_idx');
    expect((await db.query<{ n: number }>("SELECT count(*)::int AS n FROM events WHERE session_id = 's-1'")).rows[0]!.n).toBe(2);
  });
});

describe('0007 on a PostgreSQL database with a linguistic collation', () => {
  it('turns the ids from the locale\'s order to byte order', async (context) => {
    // ICU ships with Debian's PostgreSQL 15 (LOCALE_PROVIDER is new in 15); C.utf8 with every recent glibc.
    const admin = await openPgDatabase(inject('databaseUrl'));
    const { rows } = await admin
      .query<{ icu: boolean }>("SELECT current_setting('server_version_num')::int >= 150000 AND EXISTS (SELECT 1 FROM pg_collation WHERE collprovider = 'i') AS icu")
      .finally(() => admin.close());
    if (!rows[0]!.icu) context.skip('this PostgreSQL server has no ICU collations');
    const created = await createDatabase(inject('databaseUrl'), 'sightline_icu', "TEMPLATE template0 LOCALE_PROVIDER icu ICU_LOCALE 'en-US' LOCALE 'C.utf8'");
    let db: Database | undefined;
    try {
      db = await openPgDatabase(created.url);
      const migrations = await loadMigrations();
      await migrate(db, migrations.filter((m) => m.version <= '0006'));
      for (const id of ['b-2', 'B-1', 'a-3']) await insertEvent(db, 'p1', id, null);
      const order = async () =>
        (await db!.query<{ message_id: string }>("SELECT message_id FROM events WHERE project_id = 'p1' ORDER BY message_id")).rows.map((r) => r.message_id);
      expect(await order()).toEqual(['a-3', 'B-1', 'b-2']);
      expect(await migrate(db, migrations)).toEqual(['0007']);
      expect(await order()).toEqual(['B-1', 'a-3', 'b-2']);
      expect((await insertEvent(db, 'p1', 'B-1', null)).rows).toHaveLength(0);
    } finally {
      await db?.close();
      await created.drop();
    }
  });
});
