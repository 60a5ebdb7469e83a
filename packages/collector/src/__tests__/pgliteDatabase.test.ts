import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { Worker } from 'node:worker_threads';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { Database } from '../database';
import { openPgliteDatabase } from '../pgliteDatabase';
import { copyTuples } from './helpers';

describe.each([true, false])('PGlite database (thread: %s)', (thread) => {
  let dir: string;
  let db: Database;

  beforeAll(async () => {
    dir = await mkdtemp(join(tmpdir(), 'sightline-pglite-db-'));
    db = await openPgliteDatabase(dir, { thread });
    await db.exec('CREATE TABLE t (id int PRIMARY KEY, note text, at timestamptz, doc json)');
  });
  afterAll(async () => {
    await db?.close();
    await rm(dir, { recursive: true, force: true });
  });

  it('returns rows with their types, and errors with their SQLSTATE code', async () => {
    await db.query('INSERT INTO t VALUES ($1, $2, $3, $4)', [1, 'one', '2026-01-02T03:04:05.000Z', '{"b":1,"a":[2]}']);
    const { rows } = await db.query<{ id: number; note: string; at: Date; doc: unknown }>('SELECT * FROM t WHERE id = $1', [1]);
    expect(rows).toEqual([{ id: 1, note: 'one', at: new Date('2026-01-02T03:04:05.000Z'), doc: { b: 1, a: [2] } }]);
    await expect(db.query('INSERT INTO t (id) VALUES (1)')).rejects.toMatchObject({ code: '23505', message: expect.stringContaining('duplicate key') });
  });

  it('copies rows in, all or none', async () => {
    // Binary COPY sends an int as 4 bytes; note is text.
    const int = (n: number) => String.fromCharCode(0, 0, 0, n);
    await db.copyIn!('t', ['id', 'note'], [copyTuples([[int(10), 'ten'], [int(11), 'eleven']]), copyTuples([[int(12), 'twelve']])]);
    await expect(db.copyIn!('t', ['id', 'note'], [copyTuples([[int(13), 'thirteen'], [int(10), 'again']])])).rejects.toMatchObject({ code: '23505' });
    const { rows } = await db.query<{ n: number }>('SELECT count(*)::int AS n FROM t WHERE id >= 10');
    expect(rows[0]!.n).toBe(3);
  });

  it('commits a transaction, rolls one back on a throw, and holds other statements until it ends', async () => {
    await db.transaction(async (tx) => {
      await tx.query('INSERT INTO t (id, note) VALUES (20, $1)', ['kept']);
    });
    const failure = new Error('changed my mind');
    await expect(
      db.transaction(async (tx) => {
        await tx.query('INSERT INTO t (id, note) VALUES (21, $1)', ['dropped']);
        throw failure;
      }),
    ).rejects.toBe(failure);
    let outside: Promise<unknown> | undefined;
    await db.transaction(async (tx) => {
      await tx.query('INSERT INTO t (id, note) VALUES (22, $1)', ['inside']);
      // Issued while the transaction is open: it runs after the commit and sees the row.
      outside = db.query('SELECT note FROM t WHERE id = 22');
      await new Promise((resolve) => setTimeout(resolve, 50));
      await tx.query('UPDATE t SET note = $1 WHERE id = 22', ['committed']);
    });
    expect(await outside).toEqual({ rows: [{ note: 'committed' }] });
    const { rows } = await db.query<{ id: number }>('SELECT id FROM t WHERE id BETWEEN 20 AND 29 ORDER BY id');
    expect(rows.map((r) => r.id)).toEqual([20, 22]);
  });

  it(thread ? 'keeps the event loop free while a statement runs' : 'blocks the event loop while a statement runs', async () => {
    let ticks = 0;
    const timer = setInterval(() => ticks++, 10);
    try {
      // A busy statement (pg_sleep would wait on a clock PGlite does not have); about 300-1,000 ms here.
      await db.query('SELECT count(*) FROM generate_series(1, 3000000) AS g WHERE g % 7 = 3');
    } finally {
      clearInterval(timer);
    }
    // On the worker the timer keeps ticking (about 100 times a second); on the calling thread it waits.
    if (thread) expect(ticks).toBeGreaterThan(20);
    else expect(ticks).toBeLessThan(5);
  });
});

it('says so when the worker is gone', async () => {
  const dir = await mkdtemp(join(tmpdir(), 'sightline-pglite-db-'));
  try {
    const db = await openPgliteDatabase(dir);
    await db.close();
    await expect(db.query('SELECT 1')).rejects.toThrow(/closed/);
    await db.close();
  } finally {
    await rm(dir, { recursive: true, force: true });
  }
});

it('opens the data directory again on a new thread after the worker stops, keeping what was committed', async () => {
  const dir = await mkdtemp(join(tmpdir(), 'sightline-pglite-db-'));
  const workers: Worker[] = [];
  const exits: Error[] = [];
  const db = await openPgliteDatabase(dir, { onWorkerStart: (worker) => workers.push(worker), onWorkerExit: (error) => exits.push(error) });
  try {
    await db.exec('CREATE TABLE kept (id int PRIMARY KEY)');
    await db.query('INSERT INTO kept VALUES (1)');
    // A transaction open when the thread stops is lost, and says so; so is a statement in flight.
    let inside!: () => void;
    const begun = new Promise<void>((resolve) => (inside = resolve));
    let terminated!: () => void;
    const gone = new Promise<void>((resolve) => (terminated = resolve));
    const lost = db
      .transaction(async (tx) => {
        await tx.query('INSERT INTO kept VALUES (2)');
        inside();
        await gone;
        await tx.query('INSERT INTO kept VALUES (3)');
      })
      .then(
        () => null,
        (error: Error) => error,
      );
    await begun;
    // A thread that dies within a second of starting is reopened only a second later (below): this one lived longer.
    await new Promise((resolve) => setTimeout(resolve, 1100));
    const inFlight = db.query('SELECT count(*) FROM generate_series(1, 3000000)').then(
      () => null,
      (error: Error) => error,
    );
    await workers[0]!.terminate();
    terminated();
    expect((await inFlight)?.message).toMatch(/PGlite worker stopped/);
    expect((await lost)?.message).toMatch(/transaction was lost/);
    expect(exits.map((e) => e.message)).toEqual([expect.stringMatching(/PGlite worker stopped \(exit code 1\)/)]);

    // The next statement starts a new thread on the same directory.
    const { rows } = await db.query<{ id: number }>('SELECT id FROM kept ORDER BY id');
    expect(rows.map((r) => r.id)).toEqual([1]);
    expect(workers).toHaveLength(2);

    // A thread that stops right after starting: statements fail at once for a second instead of
    // reopening the directory each time; then a new thread takes them.
    await workers[1]!.terminate();
    await expect(db.query('SELECT 1')).rejects.toThrow(/PGlite worker stopped/);
    expect(workers).toHaveLength(2);
    await new Promise((resolve) => setTimeout(resolve, 1100));
    await db.transaction(async (tx) => {
      await tx.query('INSERT INTO kept VALUES (4)');
    });
    expect((await db.query<{ n: number }>('SELECT count(*)::int AS n FROM kept')).rows[0]!.n).toBe(2);
    expect(workers).toHaveLength(3);
    // An answer the main thread cannot read (structured clone failed) names no call: the thread is
    // replaced, and what it held fails instead of waiting forever. First let the third thread live
    // past the restart backoff, so that losing it starts a fourth at once.
    await new Promise((resolve) => setTimeout(resolve, 1100));
    const unanswered = db.query('SELECT count(*) FROM generate_series(1, 3000000)').then(
      () => null,
      (error: Error) => error,
    );
    // Pending once call() is past its await for the current thread: after this turn of the event loop.
    await new Promise((resolve) => setImmediate(resolve));
    workers[2]!.emit('messageerror', new Error('could not deserialize'));
    expect((await unanswered)?.message).toMatch(/answer of the PGlite worker could not be read \(could not deserialize\)/);
    expect((await db.query<{ n: number }>('SELECT count(*)::int AS n FROM kept')).rows[0]!.n).toBe(2);
    expect(workers).toHaveLength(4);
  } finally {
    await db.close();
    await rm(dir, { recursive: true, force: true });
  }
  // Closing stops the thread without another restart.
  expect(exits).toHaveLength(3);
  await expect(db.query('SELECT 1')).rejects.toThrow(/closed/);
});
