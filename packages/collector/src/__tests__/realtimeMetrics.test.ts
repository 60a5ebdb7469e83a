import { createRealtimeClient, type RealtimeEvent } from '@sightline/realtime';
import { isDeepStrictEqual } from 'node:util';
import WebSocket from 'ws';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { openPgDatabase, openPgliteDatabase, type Collector, type Database } from '../index';
import { LIVE_REFRESH_MS } from '../realtime/hub';
import type { MetricUpdate } from '../realtime/metricRollups';
import { BACKENDS, post, recent, startTestCollector, trackEvent, useBackend, useTwoCollectors, type TestBackend } from './helpers';
import { range, sleep, waitFor } from './realtimeHelpers';

const P = { id: 'met', writeKey: 'wk-met', readToken: 'rt-met' };
const QUIET = { id: 'met-quiet', writeKey: 'wk-met-quiet', readToken: 'rt-met-quiet' };
const WATCHED = ['$events', '$pageviews', 'Signup', 'latency'];

const cleanups: (() => unknown)[] = [];
afterEach(async () => {
  for (const cleanup of cleanups.splice(0).reverse()) await cleanup();
});

/** The real client subscribed to `metrics:<name>` for each name; the metric_update data it got, in order. */
function watch(url: string, token: string, names: readonly string[]) {
  const c = createRealtimeClient({ url, getToken: () => token, WebSocket, readyTimeoutMs: 1000 });
  cleanups.push(() => c.close());
  const events: RealtimeEvent[] = [];
  for (const name of names) c.subscribe(`metrics:${name}`, (event) => events.push(event));
  const messages = () => events.filter((e): e is Extract<RealtimeEvent, { type: 'message' }> => e.type === 'message');
  return {
    ready: () => waitFor(() => names.every((n) => c.cursor(`metrics:${n}`) !== undefined), 5000, 'subscribed'),
    messages,
    /** The newest update per interval and bucket of one metric, as a client keeps them (protocol 9.6: later replaces earlier). */
    latest(name: string) {
      const out = new Map<string, unknown>();
      for (const m of messages()) if (m.channel === `metrics:${name}`) out.set(keyOf(m.data as MetricUpdate), m.data);
      return out;
    },
  };
}

const keyOf = (u: Pick<MetricUpdate, 'interval' | 'bucket'>) => `${u.interval} ${u.bucket}`;

/** What protocol 9.6 says the totals are, computed here from the stored events (GET /v1/events/recent). */
function expectedTotals(events: any[], name: string): Map<string, MetricUpdate> {
  const out = new Map<string, MetricUpdate & { keys: Set<string> }>();
  for (const e of events) {
    const isMetric = e.type === 'track' && e.event === 'Metric Recorded' && e.properties?.name === name;
    const feeds = name === '$events' || (name === '$pageviews' && e.type === 'page') || (e.type === 'track' && e.event === name) || isMetric;
    if (!feeds) continue;
    const value = isMetric && typeof e.properties.value === 'number' ? (e.properties.value as number) : null;
    for (const [interval, width] of [['1s', 1000], ['1m', 60_000]] as const) {
      const bucket = new Date(Math.floor(Date.parse(e.receivedAt) / width) * width).toISOString();
      const k = keyOf({ interval, bucket });
      const t = out.get(k) ?? { name, interval, bucket, count: 0, users: 0, sum: null, min: null, max: null, keys: new Set<string>() };
      t.count++;
      t.keys.add(e.userId !== null ? `u:${e.userId}` : `a:${e.anonymousId}`);
      t.users = t.keys.size;
      if (value !== null) {
        t.sum = (t.sum ?? 0) + value;
        t.min = Math.min(t.min ?? value, value);
        t.max = Math.max(t.max ?? value, value);
      }
      out.set(k, t);
    }
  }
  return new Map([...out].map(([k, { keys, ...t }]) => [k, t]));
}

/** A mixed batch: pages, a watched track event, one nobody watches, custom metrics (one value not a number). */
function mixedBatch(tag: string): Record<string, unknown>[] {
  const metric = (value: unknown, who: Record<string, unknown>) =>
    trackEvent({ event: 'Metric Recorded', properties: { name: 'latency', value, type: 'gauge' }, ...who });
  return [
    trackEvent({ type: 'page', event: undefined, name: 'Home', anonymousId: `anon-${tag}` }),
    trackEvent({ type: 'page', event: undefined, name: 'Pricing', anonymousId: 'anon-shared', userId: 'user-1' }),
    trackEvent({ event: 'Signup', anonymousId: 'anon-shared' }),
    trackEvent({ event: 'Signup', anonymousId: 'anon-other', userId: 'user-1' }),
    trackEvent({ event: 'Unwatched', anonymousId: `anon-${tag}` }),
    trackEvent({ type: 'identify', event: undefined, userId: `user-${tag}`, traits: { plan: 'pro' } }),
    metric(120, { userId: 'user-1' }),
    metric(-3.5, { anonymousId: `anon-${tag}` }),
    metric('fast', { anonymousId: 'anon-shared' }),
  ];
}

/** Wait until the client's newest updates equal the totals computed from what was stored. */
async function expectGlobalTotals(url: string, token: string, sub: ReturnType<typeof watch>, storedCount: number): Promise<void> {
  const events = (await recent(url, token, 1000)).body.events as any[];
  expect(events).toHaveLength(storedCount);
  // Key order aside: messages read back from the history went through jsonb.
  const matches = (name: string) => isDeepStrictEqual(Object.fromEntries(sub.latest(name)), Object.fromEntries(expectedTotals(events, name)));
  await waitFor(() => WATCHED.every(matches), 15_000, 'the totals of every stored event').catch(() => {});
  for (const name of WATCHED) expect(Object.fromEntries(sub.latest(name))).toEqual(Object.fromEntries(expectedTotals(events, name)));
}

/** Seqs contiguous per channel, and a later update of a bucket never below an earlier one. */
function expectOrdered(sub: ReturnType<typeof watch>): void {
  const last = new Map<string, MetricUpdate>();
  const seqs = new Map<string, number>();
  for (const m of sub.messages()) {
    expect(m.seq).toBe((seqs.get(m.channel) ?? 0) + 1);
    seqs.set(m.channel, m.seq);
    const u = m.data as MetricUpdate;
    const before = last.get(`${m.channel} ${keyOf(u)}`);
    if (before) {
      expect(u.count).toBeGreaterThanOrEqual(before.count);
      expect(u.users).toBeGreaterThanOrEqual(before.users);
    }
    last.set(`${m.channel} ${keyOf(u)}`, u);
  }
}

async function rollupCount(db: Database, projectId: string, metric?: string): Promise<number> {
  const { rows } = await db.query<{ n: unknown }>(
    'SELECT count(*) AS n FROM metric_rollups WHERE project_id = $1 AND ($2::text IS NULL OR metric = $2)',
    [projectId, metric ?? null],
  );
  return Number(rows[0]!.n);
}

describe.each(BACKENDS)('metrics:<name> channels on %s', (name) => {
  const backend = useBackend(name);
  let collector: Collector;

  beforeAll(async () => {
    collector = await startTestCollector(backend, { projects: [P, QUIET] });
  });
  afterAll(async () => {
    await collector?.close();
  });

  it('publishes per-second and per-minute totals of $events, $pageviews, a track name and a Metric Recorded name', async () => {
    const sub = watch(collector.url, P.readToken, WATCHED);
    await sub.ready();
    const first = mixedBatch('one');
    expect((await post(`${collector.url}/v1/batch`, { batch: first }, { writeKey: P.writeKey })).body).toMatchObject({ accepted: 9 });
    // A second request at least a second later lands in another 1s bucket (and maybe the same minute).
    await sleep(1100);
    const second = mixedBatch('two');
    expect((await post(`${collector.url}/v1/batch`, { batch: second }, { writeKey: P.writeKey })).body).toMatchObject({ accepted: 9 });
    // Resent: duplicates are not counted again.
    expect((await post(`${collector.url}/v1/batch`, { batch: first }, { writeKey: P.writeKey })).body).toMatchObject({ duplicates: 9 });

    await expectGlobalTotals(collector.url, P.readToken, sub, 18);
    const seconds = (name: string) => [...sub.latest(name).values()].filter((u) => (u as MetricUpdate).interval === '1s');
    expect(seconds('latency')).toHaveLength(2);
    expect(seconds('latency')[0]).toMatchObject({ name: 'latency', count: 3, users: 3, sum: 116.5, min: -3.5, max: 120 });
    expect(seconds('Signup')[0]).toMatchObject({ count: 2, users: 2, sum: null, min: null, max: null });
    expectOrdered(sub);
    // Nobody watches `Unwatched` (nor `Metric Recorded`): nothing was computed for it.
    expect(await rollupCount(collector.database, P.id, 'Unwatched')).toBe(0);
    expect(await rollupCount(collector.database, P.id, 'Metric Recorded')).toBe(0);
  });

  it('computes nothing for a project whose metrics channels nobody watches', async () => {
    const batch = range(1, 20).map((i) => trackEvent({ event: 'Signup', anonymousId: `q-${i}` }));
    expect((await post(`${collector.url}/v1/batch`, { batch }, { writeKey: QUIET.writeKey })).status).toBe(200);
    await sleep(1500);
    expect(await rollupCount(collector.database, QUIET.id)).toBe(0);
  });
});

describe('metrics:<name> across two collectors on one PostgreSQL', () => {
  const backend = useBackend('postgres');
  const pair = useTwoCollectors(backend, { projects: [P] });

  it('a subscriber on A sees the global totals of what A and B ingested, in order', async () => {
    const { a, b } = pair;
    const sub = watch(a.url, P.readToken, WATCHED);
    await sub.ready();
    // B sees A's leases at its next refresh of the live channels (two periods: a loaded machine may delay one).
    await sleep(2 * LIVE_REFRESH_MS + 500);
    const sends: Promise<unknown>[] = [];
    for (const round of range(1, 6)) {
      for (const [c, side] of [[a, 'a'], [b, 'b']] as const) {
        sends.push(post(`${c.url}/v1/batch`, { batch: mixedBatch(`${side}${round}`) }, { writeKey: P.writeKey }));
      }
      await sleep(250);
    }
    for (const answer of (await Promise.all(sends)) as { body: { accepted: number } }[]) expect(answer.body.accepted).toBe(9);
    await expectGlobalTotals(a.url, P.readToken, sub, 108);
    expectOrdered(sub);
  });
});

describe.each(BACKENDS)('metric rollups on shutdown (%s)', (name) => {
  const backend = useBackend(name);

  async function openStorage(b: TestBackend): Promise<Database> {
    const storage = b.storage();
    return storage.databaseUrl !== undefined ? openPgDatabase(storage.databaseUrl) : openPgliteDatabase(storage.dataDir!);
  }

  it('close() merges what is pending before the database closes', async () => {
    const c = await startTestCollector(backend, { projects: [P] });
    const sub = watch(c.url, P.readToken, ['Signup']);
    await sub.ready();
    const batch = range(1, 5).map((i) => trackEvent({ event: 'Signup', anonymousId: `s-${i}` }));
    expect((await post(`${c.url}/v1/batch`, { batch }, { writeKey: P.writeKey })).status).toBe(200);
    await c.close();
    const db = await openStorage(backend);
    try {
      const { rows } = await db.query<{ count: unknown; users: unknown }>("SELECT count, users FROM metric_rollups WHERE metric = 'Signup'", []);
      expect(rows.map((r) => [Number(r.count), Number(r.users)])).toEqual([
        [5, 5],
        [5, 5],
      ]);
    } finally {
      await db.close();
    }
  });
});
