import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { openPgDatabase, type Database, type EventRow } from '../index';
import { createRealtimeHub } from '../realtime/hub';
import type { RealtimeHub } from '../realtime/hubTypes';
import { createMetricsPublisher, type MetricsPublisher, type MetricsPublisherOptions } from '../realtime/metricsPublisher';
import { resolveRealtimeOptions } from '../realtime/options';
import { BACKENDS, eventRow, useBackend, useMigratedDatabase, type TestBackend } from './helpers';
import { range } from './realtimeHelpers';

// A failed flush is only logged: every test ends by checking that none failed.
const warnings: string[] = [];
const quiet = { warn: (fields: { err?: { message?: string } }, message: string) => void warnings.push(`${message}: ${fields.err?.message}`) };

/** One "process": a hub and its rollups on `db`. */
function processOn(db: Database, options: MetricsPublisherOptions = {}): { hub: RealtimeHub; metrics: MetricsPublisher } {
  const hub = createRealtimeHub(db, resolveRealtimeOptions(), quiet);
  return { hub, metrics: createMetricsPublisher(db, hub, quiet, options) };
}

async function lease(hub: RealtimeHub, projectId: string, channels: string[]): Promise<void> {
  await hub.resolve(projectId, channels.map((channel) => ({ channel, since: null, epoch: null })), { lease: true, limit: 0 });
}

/** Every `metric_update` of a channel, oldest first. */
async function updates(hub: RealtimeHub, projectId: string, channel: string): Promise<any[]> {
  const [head] = await hub.resolve(projectId, [{ channel, since: null, epoch: null }], { lease: false, limit: 0 });
  const [all] = await hub.resolve(projectId, [{ channel, since: 0, epoch: head!.epoch }], { lease: false, limit: 500 });
  return all!.messages.map((m) => JSON.parse(m.text)).map((m) => ({ seq: m.seq, kind: m.kind, ...m.data }));
}

async function count(db: Database, sql: string, params: unknown[]): Promise<number> {
  const { rows } = await db.query<{ n: unknown }>(sql, params);
  return Number(rows[0]!.n);
}

const nowIso = () => new Date().toISOString();
const metric = (name: string, value: unknown, overrides: Partial<EventRow> = {}) =>
  eventRow({ event: 'Metric Recorded', properties: JSON.stringify({ name, value }), ...overrides });

/** A second connection to the same database on PostgreSQL (another process); the same handle on PGlite. */
function useSecondDatabase(backend: TestBackend, first: () => Database): () => Database {
  let db: Database | undefined;
  beforeAll(async () => {
    const url = backend.storage().databaseUrl;
    if (url !== undefined) db = await openPgDatabase(url);
  });
  afterAll(async () => {
    await db?.close();
  });
  return () => db ?? first();
}

describe.each(BACKENDS)('metric rollups on %s', (name) => {
  const backend = useBackend(name);
  const database = useMigratedDatabase(backend);
  const second = useSecondDatabase(backend, database);
  const opened: { hub: RealtimeHub; metrics: MetricsPublisher }[] = [];
  const open = (db: Database, options?: MetricsPublisherOptions) => {
    const p = processOn(db, options);
    opened.push(p);
    return p;
  };
  afterAll(async () => {
    for (const p of opened) {
      await p.metrics.close(1000);
      await p.hub.close(1000);
    }
  });
  afterEach(() => {
    expect(warnings.splice(0)).toEqual([]);
  });

  it('merges what two processes gathered into one total per bucket, users distinct across them', async () => {
    const a = open(database());
    const b = open(second());
    await lease(a.hub, 'p1', ['metrics:latency', 'metrics:$events']);
    await lease(b.hub, 'p1', ['metrics:latency']);
    const at = nowIso();
    a.metrics.stored('p1', at, [metric('latency', 10, { userId: 'u1' }), metric('latency', 'bad', { anonymousId: 'x' })]);
    b.metrics.stored('p1', at, [metric('latency', -4, { userId: 'u1' }), metric('latency', 50, { userId: 'u2' })]);
    await Promise.all([a.metrics.flush(), b.metrics.flush()]);

    const got = await updates(a.hub, 'p1', 'metrics:latency');
    const latest = (interval: string) => got.filter((u) => u.interval === interval).at(-1);
    for (const interval of ['1s', '1m']) {
      expect(latest(interval)).toMatchObject({ kind: 'metric_update', name: 'latency', interval, count: 4, users: 3, sum: 56, min: -4, max: 50 });
    }
    const bucket = latest('1s').bucket as string;
    expect(Date.parse(bucket) % 1000).toBe(0);
    expect(Date.parse(latest('1m').bucket) % 60_000).toBe(0);
    expect(Date.parse(at) - Date.parse(bucket)).toBeLessThan(1000);
    // Only a leased $events (b would see it at its next refresh of the live channels): a's rows alone,
    // and no values on a channel of every event.
    expect((await updates(a.hub, 'p1', 'metrics:$events')).at(-1)).toMatchObject({ count: 2, users: 2, sum: null, min: null, max: null });
  });

  it('a later update for the same bucket never has lower totals, with concurrent flushes', async () => {
    const a = open(database());
    const b = open(second());
    await lease(a.hub, 'p2', ['metrics:busy']);
    await lease(b.hub, 'p2', ['metrics:busy']);
    const at = nowIso();
    for (const round of range(1, 15)) {
      a.metrics.stored('p2', at, range(1, 3).map((i) => eventRow({ event: 'busy', anonymousId: `a-${round}-${i}` })));
      b.metrics.stored('p2', at, range(1, 2).map((i) => eventRow({ event: 'busy', anonymousId: `b-${round}-${i}` })));
      await Promise.all([a.metrics.flush(), b.metrics.flush()]);
    }
    const got = await updates(a.hub, 'p2', 'metrics:busy');
    expect(got.map((u) => u.seq)).toEqual(range(1, got.length));
    for (const interval of ['1s', '1m']) {
      const series = got.filter((u) => u.interval === interval);
      expect(series.length).toBe(30);
      for (let i = 1; i < series.length; i++) {
        expect(series[i].count).toBeGreaterThan(series[i - 1].count);
        expect(series[i].users).toBeGreaterThan(series[i - 1].users);
      }
      expect(series.at(-1)).toMatchObject({ count: 75, users: 75 });
    }
  });

  it('caps distinct users per bucket over all processes', async () => {
    const a = open(database(), { maxUsersPerBucket: 3 });
    const b = open(second(), { maxUsersPerBucket: 3 });
    await lease(a.hub, 'p3', ['metrics:capped']);
    await lease(b.hub, 'p3', ['metrics:capped']);
    const at = nowIso();
    a.metrics.stored('p3', at, [eventRow({ event: 'capped', anonymousId: 'x1' }), eventRow({ event: 'capped', anonymousId: 'x2' })]);
    await a.metrics.flush();
    b.metrics.stored('p3', at, range(1, 5).map((i) => eventRow({ event: 'capped', anonymousId: `y${i}` })));
    await b.metrics.flush();
    expect((await updates(a.hub, 'p3', 'metrics:capped')).at(-1)).toMatchObject({ count: 7, users: 3 });
    expect(await count(database(), "SELECT cardinality(user_hashes) AS n FROM metric_rollups WHERE project_id = 'p3' AND resolution = '1s'", [])).toBe(3);
    // Full now: b stops gathering users for these buckets, and the totals still count the events.
    b.metrics.stored('p3', at, [eventRow({ event: 'capped', anonymousId: 'z1' })]);
    await b.metrics.flush();
    expect((await updates(a.hub, 'p3', 'metrics:capped')).at(-1)).toMatchObject({ count: 8, users: 3 });
  });

  it('computes nothing for channels nobody watches', async () => {
    const a = open(database());
    a.metrics.stored('p4', nowIso(), [eventRow({ event: 'Quiet' }), metric('quiet', 1)]);
    await lease(a.hub, 'p4', ['metrics:watched']);
    a.metrics.stored('p4', nowIso(), [eventRow({ event: 'Quiet' }), metric('quiet', 1), eventRow({ event: 'watched' })]);
    await a.metrics.flush();
    const { rows } = await database().query<{ metric: string }>("SELECT DISTINCT metric FROM metric_rollups WHERE project_id = 'p4'", []);
    expect(rows.map((r) => r.metric)).toEqual(['watched']);
    expect(await count(database(), "SELECT count(*) AS n FROM realtime_messages WHERE project_id = 'p4'", [])).toBe(2);
  });

  it('close() flushes what is pending', async () => {
    const a = open(database(), { flushIntervalMs: 60_000 });
    await lease(a.hub, 'p5', ['metrics:last']);
    a.metrics.stored('p5', nowIso(), [eventRow({ event: 'last' })]);
    await a.metrics.close(5000);
    expect(await count(database(), "SELECT count(*) AS n FROM metric_rollups WHERE project_id = 'p5'", [])).toBe(2);
    expect((await updates(a.hub, 'p5', 'metrics:last')).map((u) => u.interval).sort()).toEqual(['1m', '1s']);
  });

  it('the flush timer publishes without being asked', async () => {
    const a = open(database(), { flushIntervalMs: 50 });
    await lease(a.hub, 'p6', ['metrics:timed']);
    a.metrics.stored('p6', nowIso(), [eventRow({ event: 'timed' })]);
    const end = Date.now() + 10_000;
    while ((await updates(a.hub, 'p6', 'metrics:timed')).length < 2 && Date.now() < end) await new Promise((r) => setTimeout(r, 50));
    expect((await updates(a.hub, 'p6', 'metrics:timed')).length).toBe(2);
  });

  it('prunes buckets past their retention, keeping recent ones', async () => {
    const db = database();
    const insert = (resolution: string, ageSec: number) =>
      db.query(
        `INSERT INTO metric_rollups (project_id, metric, resolution, bucket, count, users, user_hashes)
         VALUES ('p7', 'old', $1, date_trunc('second', now()) - make_interval(secs => $2::double precision), 1, 1, '{42}')`,
        [resolution, ageSec],
      );
    await insert('1s', 600);
    await insert('1s', 5);
    await insert('1m', 3600);
    await insert('1m', 300);
    const a = open(db);
    expect(await a.metrics.prune()).toBe(2);
    const { rows } = await db.query<{ resolution: string }>("SELECT resolution FROM metric_rollups WHERE project_id = 'p7' ORDER BY resolution", []);
    expect(rows.map((r) => r.resolution)).toEqual(['1m', '1s']);
  });
});
