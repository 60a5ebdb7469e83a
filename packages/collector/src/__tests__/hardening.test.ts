import { request as httpRequest } from 'node:http';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { openPgDatabase, openPgliteDatabase, type Collector, type Database, type ProjectCredentials, type Queryable } from '../index';
import { loadMigrations, migrate } from '../migrate';
import { sweepRetention } from '../retention';
import { BACKENDS, basic, plansWithoutSeqScan, post, recent, startTestCollector, trackEvent, useBackend, type TestBackend } from './helpers';

/** The backend's storage opened by the test, to hand to a collector as `database`. */
async function openBackend(backend: TestBackend): Promise<Database> {
  const storage = backend.storage();
  return storage.databaseUrl ? openPgDatabase(storage.databaseUrl) : openPgliteDatabase(storage.dataDir!);
}

/** A database whose event inserts wait until released, and whose health probe can fail. */
function gated(inner: Database) {
  let open!: () => void;
  let gate = Promise.resolve();
  const state = {
    inserts: 0,
    failHealth: false,
    hold() {
      gate = new Promise<void>((resolve) => (open = resolve));
    },
    release() {
      open?.();
    },
  };
  const database: Database = {
    kind: inner.kind,
    async query(sql, params) {
      if (state.failHealth && sql === 'SELECT 1') throw new Error('connect ECONNREFUSED db.internal:5432 user=secret');
      if (sql.startsWith('INSERT INTO events')) {
        state.inserts++;
        await gate;
      }
      return inner.query(sql, params);
    },
    exec: (sql) => inner.exec(sql),
    transaction: (fn) => inner.transaction(fn),
    close: async () => {},
  };
  return { database, state };
}

function logSink() {
  const lines: Array<Record<string, unknown>> = [];
  return { lines, destination: { write: (line: string) => lines.push(JSON.parse(line) as Record<string, unknown>) } };
}

async function until(check: () => boolean, ms = 5_000): Promise<void> {
  const end = Date.now() + ms;
  while (!check()) {
    if (Date.now() > end) throw new Error('timed out waiting');
    await new Promise((resolve) => setTimeout(resolve, 10));
  }
}

/** Send the headers and a part of a declared body, never the rest; resolve with the status if one comes. */
function partialUpload(url: string, headers: Record<string, string>): Promise<number | 'no answer'> {
  return new Promise((resolve) => {
    const req = httpRequest(`${url}/v1/batch`, { method: 'POST', headers: { 'content-type': 'application/json', 'content-length': '200000', ...headers } });
    const timer = setTimeout(() => {
      req.destroy();
      resolve('no answer');
    }, 2_000);
    req.on('response', (response) => {
      clearTimeout(timer);
      response.resume();
      req.destroy();
      resolve(response.statusCode ?? 0);
    });
    req.on('error', () => {});
    req.write('{"batch":[');
  });
}

describe.each(BACKENDS)('hardening on %s', (name) => {
  const backend = useBackend(name);
  let collector: Collector;
  let url: string;
  let project: ProjectCredentials;
  const logs = logSink();

  beforeAll(async () => {
    collector = await startTestCollector(backend, {
      projects: [{ id: 'hard', writeKey: 'wk-hard', readToken: 'rt-hard' }],
      rateLimit: { requestsPerSecond: 0.01, burst: 1_000 },
      logLevel: 'info',
      logDestination: logs.destination,
      retentionIntervalMs: false,
    });
    url = collector.url;
    project = collector.projects[0]!;
  });
  afterAll(async () => {
    await collector?.close();
  });

  it('answers 401 to any present Authorization header that is not a usable Basic, even with a good body key', async () => {
    const body = { batch: [trackEvent()], writeKey: project.writeKey };
    for (const authorization of ['Token abc', 'Basic', `Basic ${Buffer.from(':x').toString('base64')}`, 'Basic %%%']) {
      const answer = await post(`${url}/v1/batch`, body, { headers: { authorization } });
      expect(answer, authorization).toMatchObject({ status: 401, body: { error: { code: 'unauthorized' } } });
    }
    // Without a header the body key still works.
    expect((await post(`${url}/v1/batch`, body)).status).toBe(200);
  });

  it('on read endpoints answers 401 to an unknown Basic key and 403 only to a known write key', async () => {
    const read = (authorization: string) => fetch(`${url}/v1/events/recent`, { headers: { authorization } });
    expect((await read(basic('no-such-key'))).status).toBe(401);
    expect((await read('Token abc')).status).toBe(401);
    expect((await read(basic(project.writeKey))).status).toBe(403);
    expect((await read(`Bearer ${project.writeKey}`)).status).toBe(403);
  });

  it('takes only digits as limit', async () => {
    for (const limit of ['1e3', '0x10', '1.0', '+5', ' 5', '', '0', '-1']) {
      const response = await fetch(`${url}/v1/events/recent?limit=${encodeURIComponent(limit)}`, { headers: { authorization: `Bearer ${project.readToken}` } });
      expect(response.status, JSON.stringify(limit)).toBe(400);
      expect(await response.json()).toMatchObject({ error: { code: 'invalid_query' } });
    }
    expect((await recent(url, project.readToken, 5)).status).toBe(200);
    expect((await recent(url, project.readToken, 5000)).status).toBe(200);
  });

  it('refuses a body that is not valid UTF-8 with invalid_json, and still drops a BOM', async () => {
    const json = Buffer.from(JSON.stringify({ batch: [trackEvent({ event: 'Caf\u00e9' })] }));
    const latin1 = Buffer.from(json.toString('utf8').replace('Café', 'Caf\u0000'), 'utf8');
    latin1[latin1.indexOf(0)] = 0xe9; // "é" in Latin-1: an invalid UTF-8 sequence
    const answer = await post(`${url}/v1/batch`, null, { writeKey: project.writeKey, raw: latin1 });
    expect(answer).toMatchObject({ status: 400, body: { error: { code: 'invalid_json' } } });
    const withBom = Buffer.concat([Buffer.from([0xef, 0xbb, 0xbf]), json]);
    expect((await post(`${url}/v1/batch`, null, { writeKey: project.writeKey, raw: withBom })).status).toBe(200);
  });

  it('refuses members nested past 1,000 levels with invalid_field and stores the rest of the batch', async () => {
    // 16,000 levels fit in the 32 KB event limit and ran PostgreSQL's JSON parser out of stack: a 500 for the whole batch.
    // Bodies are written by hand: JSON.stringify recurses and would run out of stack first.
    const event = (name: string, member: string, levels: number) =>
      JSON.stringify(trackEvent({ event: name, [member]: { list: 0 } })).replace('{"list":0}', `{"list":${'['.repeat(levels - 1)}${']'.repeat(levels - 1)}}`);
    // A member nobody stores counts too: sizing the event would have serialised it (a stack overflow, a 500).
    const compact = `{"batch":[${event('Deep OK', 'properties', 1000)},${event('Too Deep', 'properties', 1001)},${event('Far Too Deep', 'context', 16_000)},${event('Deep Extra', 'extra', 10_000)}]}`;
    // A line break sends the body the JSON.parse way, which must count the same.
    for (const [label, body, accepted] of [['compact', compact, 1], ['JSON.parse path', compact.replace('[', '[\n'), 0]] as const) {
      const answer = await post(`${url}/v1/batch`, null, { writeKey: project.writeKey, raw: body });
      expect(answer, label).toMatchObject({ status: 400, body: { accepted, duplicates: 1 - accepted, error: { code: 'invalid_events' } } });
      const details = (answer.body as { error: { details: Array<{ index: number; code: string }> } }).error.details;
      expect(details.map((d) => [d.index, d.code]), label).toEqual([[1, 'invalid_field'], [2, 'invalid_field'], [3, 'invalid_field']]);
    }
    const stored = (await recent(url, project.readToken, 20)).body as { events: Array<{ event: string }> };
    expect(stored.events.filter((e) => e.event === 'Deep OK')).toHaveLength(1);
  });

  it('answers 401 and 429 for a header key before the body is uploaded', async () => {
    expect(await partialUpload(url, { authorization: basic('unknown-key') })).toBe(401);
    expect(await partialUpload(url, { authorization: 'Token abc' })).toBe(401);
    const limited = await collector.createProject({ id: 'limited' });
    // Spend the burst of 1,000 quickly, then the next request is refused before its body.
    const limiter = Array.from({ length: 1_000 }, () => fetch(`${url}/v1/batch`, { method: 'POST', headers: { authorization: basic(limited.writeKey) }, body: 'x' }));
    await Promise.all(limiter.map((r) => r.then((res) => res.arrayBuffer())));
    expect(await partialUpload(url, { authorization: basic(limited.writeKey) })).toBe(429);
  });

  it('answers /healthz 503 with a fixed message and logs the detail', async () => {
    const inner = await openBackend(backend);
    const { database, state } = gated(inner);
    const sink = logSink();
    const other = await startTestCollector(backend, { database, logLevel: 'info', logDestination: sink.destination, retentionIntervalMs: false });
    try {
      state.failHealth = true;
      const response = await fetch(`${other.url}/healthz`);
      expect(response.status).toBe(503);
      const body = (await response.json()) as { error: { message: string } };
      expect(body).toMatchObject({ error: { code: 'unavailable', message: 'The database does not answer.' } });
      expect(JSON.stringify(body)).not.toMatch(/secret|ECONNREFUSED/);
      expect(JSON.stringify(sink.lines)).toMatch(/ECONNREFUSED/);
    } finally {
      await other.close();
      await inner.close();
    }
  });

  it('logs each request by path only, with the project and counts of ingest', async () => {
    const before = logs.lines.length;
    await post(`${url}/beacon/v1/batch?writeKey=${project.writeKey}`, { batch: [trackEvent(), trackEvent(), { type: 'nope' }] });
    await until(() => logs.lines.slice(before).some((l) => l['msg'] === 'request'));
    const line = logs.lines.slice(before).find((l) => l['msg'] === 'request')!;
    expect(line).toMatchObject({ url: '/beacon/v1/batch', status: 400, projectId: 'hard', accepted: 2, duplicates: 0, invalid: 1 });
    expect(JSON.stringify(logs.lines)).not.toContain(`writeKey=${project.writeKey}`);
  });

  it('sets request and connection timeouts', () => {
    expect(collector.app.initialConfig.connectionTimeout).toBe(60_000);
    expect(collector.app.server.requestTimeout).toBe(30_000);
  });

  it('stores properties, traits and context as json, in the order the client sent', async () => {
    const db = collector.database;
    const types = await db.query<{ column_name: string; data_type: string }>(
      "SELECT column_name, data_type FROM information_schema.columns WHERE table_name = 'events' AND column_name IN ('properties', 'traits', 'context') ORDER BY column_name",
    );
    expect(types.rows).toEqual([
      { column_name: 'context', data_type: 'json' },
      { column_name: 'properties', data_type: 'json' },
      { column_name: 'traits', data_type: 'json' },
    ]);
    const event = trackEvent({ event: 'Key Order', properties: { zeta: 1, alpha: { z: true, a: [2, 1] }, mid: 'x' } });
    // Both write paths: COPY for a new event, the deduplicating INSERT when the group holds a stored one.
    const again = trackEvent({ event: 'Key Order', properties: { zeta: 2, alpha: 0, mid: 'y' } });
    expect((await post(`${url}/v1/batch`, { batch: [event] }, { writeKey: project.writeKey })).status).toBe(200);
    expect((await post(`${url}/v1/batch`, { batch: [event, again] }, { writeKey: project.writeKey })).body).toEqual({ accepted: 1, duplicates: 1 });
    const stored = (await recent(url, project.readToken, 5)).body as { events: Array<{ event: string; properties: Record<string, unknown> }> };
    const keys = stored.events.filter((e) => e.event === 'Key Order').map((e) => [Object.keys(e.properties), Object.keys(e.properties['alpha'] as object)]);
    // jsonb would have given mid, zeta, alpha (shorter keys first) and a before z.
    expect(keys).toEqual([[['zeta', 'alpha', 'mid'], []], [['zeta', 'alpha', 'mid'], ['z', 'a']]]);
  });

  it('indexes sessions (hash) and event time (BRIN), and migrations stay idempotent', async () => {
    const db = collector.database;
    const indexes = async () =>
      (await db.query<{ indexname: string; indexdef: string }>("SELECT indexname, indexdef FROM pg_indexes WHERE tablename = 'events' ORDER BY indexname")).rows;
    const before = await indexes();
    expect(before.map((r) => r.indexname)).toEqual(['events_pkey', 'events_project_received_idx', 'events_session_hash', 'events_timestamp_brin']);
    expect(before.find((r) => r.indexname === 'events_session_hash')!.indexdef).toMatch(/USING hash \(session_id\)/);
    expect(before.find((r) => r.indexname === 'events_timestamp_brin')!.indexdef).toMatch(/USING brin \("?timestamp"? timestamptz_minmax_multi_ops\)/);
    const versions = await db.query<{ version: string }>('SELECT version FROM schema_migrations ORDER BY version');
    expect(versions.rows.map((r) => r.version)).toEqual(['0001', '0002', '0003', '0004', '0005', '0006', '0007']);
    // Run again: nothing applied; and the index script itself can run twice.
    expect(await migrate(db, await loadMigrations())).toEqual([]);
    const swap = (await loadMigrations()).find((m) => m.version === '0005')!;
    await db.exec(swap.sql);
    expect(await indexes()).toEqual(before);
    // The planner can use both for the lookups they are for.
    const [session, time] = await plansWithoutSeqScan(db, [
      "SELECT 1 FROM events WHERE project_id = 'hard' AND session_id = 's-1'",
      "SELECT count(*) FROM events WHERE timestamp >= now() - interval '1 day'",
    ]);
    expect(session).toContain('events_session_hash');
    expect(time).toContain('events_timestamp_brin');
  });

  it('deletes events past each project retention, in chunks, and keeps the rest', async () => {
    await collector.createProject({ id: 'short', retentionDays: 1 });
    await collector.createProject({ id: 'long', retentionDays: 30 });
    const db = collector.database;
    const insert = (projectId: string, id: string, daysAgo: number) =>
      db.query(
        `INSERT INTO events (project_id, message_id, type, event, anonymous_id, timestamp, received_at)
         VALUES ($1, $2, 'track', 'Old', 'a', now(), now() - make_interval(days => $3))`,
        [projectId, id, daysAgo],
      );
    for (const projectId of ['short', 'long']) {
      for (let i = 0; i < 3; i++) await insert(projectId, `ancient-${i}`, 40);
      await insert(projectId, 'two-days', 2);
      await insert(projectId, 'fresh', 0);
    }
    const left = async (projectId: string) =>
      (await db.query<{ message_id: string }>('SELECT message_id FROM events WHERE project_id = $1 ORDER BY message_id', [projectId])).rows.map(
        (r) => r.message_id,
      );
    // Chunks of 2 rows: several DELETEs per project.
    expect(await sweepRetention(db, { chunkSize: 2 })).toBe(7);
    expect(await left('short')).toEqual(['fresh']);
    expect(await left('long')).toEqual(['fresh', 'two-days']);
    await insert('short', 'ancient-again', 5);
    expect(await collector.sweepRetention()).toBe(1);
    expect(await left('short')).toEqual(['fresh']);
    expect(await collector.sweepRetention()).toBe(0);
  });

  it('answers 503 with Retry-After past maxQueuedRows, and stores again once the queue drains', async () => {
    const inner = await openBackend(backend);
    const { database, state } = gated(inner);
    const other = await startTestCollector(backend, { database, maxQueuedRows: 5, projects: [{ id: 'hard', writeKey: 'wk-hard', readToken: 'rt-hard' }], retentionIntervalMs: false });
    try {
      state.hold();
      const first = post(`${other.url}/v1/batch`, { batch: [trackEvent(), trackEvent(), trackEvent()] }, { writeKey: 'wk-hard' });
      await until(() => state.inserts > 0);
      const second = await post(`${other.url}/v1/batch`, { batch: [trackEvent(), trackEvent(), trackEvent()] }, { writeKey: 'wk-hard' });
      expect(second).toMatchObject({ status: 503, body: { error: { code: 'unavailable' } } });
      expect(second.headers.get('retry-after')).toBe('1');
      state.release();
      expect((await first).body).toEqual({ accepted: 3, duplicates: 0 });
      // A batch larger than the bound passes when nothing is queued.
      const big = await post(`${other.url}/v1/batch`, { batch: Array.from({ length: 8 }, () => trackEvent()) }, { writeKey: 'wk-hard' });
      expect(big.body).toEqual({ accepted: 8, duplicates: 0 });
    } finally {
      state.release();
      await other.close();
      await inner.close();
    }
  });

  it('closes within the shutdown timeout when inserts hang, logging what was left', async () => {
    const inner = await openBackend(backend);
    const { database, state } = gated(inner);
    const sink = logSink();
    const other = await startTestCollector(backend, {
      database,
      shutdownTimeoutMs: 300,
      logDestination: sink.destination,
      projects: [{ id: 'hard', writeKey: 'wk-hard', readToken: 'rt-hard' }],
      retentionIntervalMs: false,
    });
    try {
      state.hold();
      const pending = post(`${other.url}/v1/batch`, { batch: [trackEvent(), trackEvent()] }, { writeKey: 'wk-hard' }).catch(() => null);
      await until(() => state.inserts > 0);
      const started = Date.now();
      await other.close();
      expect(Date.now() - started).toBeLessThan(5_000);
      expect(sink.lines.find((l) => typeof l['queuedRows'] === 'number')).toMatchObject({ queuedRows: 2 });
      await pending;
    } finally {
      state.release();
      await inner.close();
    }
  });

  it('sets the retention of the writeKey shorthand project at every start', async () => {
    const first = await startTestCollector(backend, { writeKey: 'wk-dev', retentionDays: 7, retentionIntervalMs: false });
    const days = async (c: Collector) => (await c.database.query<{ retention_days: number }>("SELECT retention_days FROM projects WHERE id = 'default'")).rows[0]?.retention_days;
    try {
      expect(await days(first)).toBe(7);
    } finally {
      await first.close();
    }
    const second = await startTestCollector(backend, { writeKey: 'wk-dev', retentionDays: 9, retentionIntervalMs: false });
    try {
      expect(await days(second)).toBe(9);
    } finally {
      await second.close();
    }
  });
});

describe('PostgreSQL pool', () => {
  const backend = useBackend('postgres');

  it('sets a statement timeout and reports idle connection errors', async () => {
    const errors: Error[] = [];
    const db = await openPgDatabase(backend.storage().databaseUrl!, { onError: (error) => errors.push(error) });
    const admin = await openPgDatabase(backend.storage().databaseUrl!, { onError: () => {} });
    try {
      expect((await db.query<{ statement_timeout: string }>('SHOW statement_timeout')).rows[0]!.statement_timeout).toBe('30s');
      const mine: Queryable = db;
      await mine.query('SELECT 1');
      // Kill the pool's idle connection from outside, as a server restart would.
      await admin.query(
        `SELECT pg_terminate_backend(pid) FROM pg_stat_activity
          WHERE datname = current_database() AND pid <> pg_backend_pid() AND application_name = 'sightline-collector' AND state = 'idle'`,
      );
      await until(() => errors.length > 0);
      expect(errors[0]).toBeInstanceOf(Error);
      // The pool reconnects at the next query.
      expect((await db.query<{ one: number }>('SELECT 1 AS one')).rows[0]!.one).toBe(1);
    } finally {
      await db.close();
      await admin.close();
    }
  });
});
