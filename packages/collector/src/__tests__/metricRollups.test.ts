import { describe, expect, it } from 'vitest';
import type { EventRow } from '../index';
import {
  addRows,
  bucketKey,
  bucketsToFlush,
  isLate,
  mergePending,
  metricSampleOf,
  updatesByMetric,
  userHashOf,
  visitMetrics,
  type PendingRollups,
  type RollupLimits,
} from '../realtime/metricRollups';
import { eventRow } from './helpers';

const limits: RollupLimits = { maxUsersPerBucket: 10_000, lateMs: 60_000 };
const AT = '2026-01-02T03:04:05.678Z';
const NOW = Date.parse(AT) + 500;
const SECOND = Date.parse('2026-01-02T03:04:05.000Z');
const MINUTE = Date.parse('2026-01-02T03:04:00.000Z');

const metric = (name: unknown, value: unknown, overrides: Partial<EventRow> = {}) =>
  eventRow({ event: 'Metric Recorded', properties: JSON.stringify({ name, value, type: 'gauge' }), ...overrides });

function visited(row: EventRow): [string, number | null][] {
  const out: [string, number | null][] = [];
  visitMetrics(row, (name, value) => out.push([name, value]));
  return out;
}

describe('visitMetrics: the channels an event feeds (protocol 9.1)', () => {
  it('every event feeds $events; page events $pageviews; track events their name', () => {
    expect(visited(eventRow({ type: 'identify', event: null }))).toEqual([['$events', null]]);
    expect(visited(eventRow({ type: 'page', event: null, name: 'Home' }))).toEqual([['$events', null], ['$pageviews', null]]);
    expect(visited(eventRow({ type: 'screen', event: null, name: 'Home' }))).toEqual([['$events', null]]);
    expect(visited(eventRow({ event: 'Signup' }))).toEqual([['$events', null], ['Signup', null]]);
  });

  it('a Metric Recorded event feeds its metric name with its value, and the track name without one', () => {
    expect(visited(metric('latency', 12.5))).toEqual([['$events', null], ['Metric Recorded', null], ['latency', 12.5]]);
    expect(visited(metric('Metric Recorded', 3))).toEqual([['$events', null], ['Metric Recorded', 3]]);
  });

  it('a value that is not a finite number counts without a value; a missing name feeds no metric', () => {
    expect(visited(metric('latency', '12'))).toEqual([['$events', null], ['Metric Recorded', null], ['latency', null]]);
    expect(visited(metric('latency', null))).toContainEqual(['latency', null]);
    expect(visited(metric('latency', true))).toContainEqual(['latency', null]);
    expect(visited(metric(42, 1))).toEqual([['$events', null], ['Metric Recorded', null]]);
    expect(visited(metric('', 1))).toEqual([['$events', null], ['Metric Recorded', null]]);
    expect(visited(eventRow({ event: 'Metric Recorded', properties: '[1,2]' }))).toEqual([['$events', null], ['Metric Recorded', null]]);
    expect(metricSampleOf('not json')).toEqual({ name: null, value: null });
  });

  it('a track event or a metric cannot pose as $events or $pageviews', () => {
    expect(visited(eventRow({ event: '$pageviews' }))).toEqual([['$events', null]]);
    expect(visited(metric('$events', 1))).toEqual([['$events', null], ['Metric Recorded', null]]);
  });
});

const user = (userId: string | null, anonymousId: string | null = null) => userHashOf({ userId, anonymousId });
const users = (...keys: string[]) => new Set(keys.map((k) => (k.startsWith('u:') ? user(k.slice(2)) : user(null, k.slice(2)))));

describe('userHashOf', () => {
  it('counts the userId, else the anonymousId, as a stable 53-bit integer', () => {
    expect(user('u1', 'a1')).toBe(user('u1', 'other'));
    expect(user('u1')).not.toBe(user(null, 'u1'));
    expect(user(null, 'a1')).toBe(user(null, 'a1'));
    // The same in every process: a fixed function of the id, whatever its length.
    expect(user('u'.repeat(5000))).toBe(user('u'.repeat(5000)));
    expect(user(`${'u'.repeat(4999)}v`)).not.toBe(user('u'.repeat(5000)));
  });

  it('spreads ids that differ by a character over the whole range without collisions', () => {
    const seen = new Set<number>();
    let outOfRange = 0;
    let high = 0;
    for (let i = 0; i < 200_000; i++) {
      const h = user(null, `anon-${i}`);
      if (!Number.isSafeInteger(h) || h < 0) outOfRange++;
      if (h > 2 ** 52) high++;
      seen.add(h);
    }
    expect(outOfRange).toBe(0);
    expect(seen.size).toBe(200_000);
    // About half of the values use the top bit.
    expect(high).toBeGreaterThan(90_000);
    expect(high).toBeLessThan(110_000);
  });
});

describe('addRows', () => {
  const everything = () => true;

  it('counts per second and per minute by received time, with distinct users and sum/min/max of values', () => {
    const pending: PendingRollups = new Map();
    const rows = [
      metric('latency', 10, { userId: 'u1' }),
      metric('latency', 30, { userId: 'u1', anonymousId: 'other' }),
      metric('latency', -5, { anonymousId: 'a2' }),
      metric('latency', 'n/a', { anonymousId: 'a3' }),
      eventRow({ type: 'page', event: null, anonymousId: 'a2' }),
    ];
    expect(addRows(pending, AT, rows, everything, NOW, limits)).toBeGreaterThan(0);
    const second = pending.get(bucketKey('latency', '1s', SECOND))!;
    const minute = pending.get(bucketKey('latency', '1m', MINUTE))!;
    for (const bucket of [second, minute]) {
      expect(bucket).toMatchObject({ metric: 'latency', count: 4, sum: 35, min: -5, max: 30 });
      expect(bucket.userHashes).toEqual(users('a:a2', 'a:a3', 'u:u1'));
    }
    expect(pending.get(bucketKey('$events', '1s', SECOND))).toMatchObject({ count: 5, sum: null, min: null, max: null });
    expect(pending.get(bucketKey('$pageviews', '1m', MINUTE))).toMatchObject({ count: 1, sum: null });
    expect(pending.get(bucketKey('Metric Recorded', '1s', SECOND))).toMatchObject({ count: 4, sum: null });
  });

  it('sums across requests; a bucket without any finite value keeps sum/min/max null', () => {
    const pending: PendingRollups = new Map();
    addRows(pending, AT, [metric('m', 'x')], everything, NOW, limits);
    expect(pending.get(bucketKey('m', '1s', SECOND))).toMatchObject({ count: 1, sum: null, min: null, max: null });
    addRows(pending, AT, [metric('m', 0)], everything, NOW, limits);
    expect(pending.get(bucketKey('m', '1s', SECOND))).toMatchObject({ count: 2, sum: 0, min: 0, max: 0 });
    addRows(pending, '2026-01-02T03:04:06.001Z', [metric('m', 7)], everything, NOW, limits);
    expect(pending.get(bucketKey('m', '1s', SECOND + 1000))).toMatchObject({ count: 1, sum: 7 });
    expect(pending.get(bucketKey('m', '1m', MINUTE))).toMatchObject({ count: 3, sum: 7, min: 0, max: 7 });
  });

  it('gathers only the live metrics, asking once per name per request', () => {
    const pending: PendingRollups = new Map();
    const asked: string[] = [];
    const live = (name: string) => (asked.push(name), name === 'Signup');
    const rows = [eventRow({ event: 'Signup' }), eventRow({ event: 'Signup' }), eventRow({ event: 'Other' }), eventRow({ event: 'Other' })];
    addRows(pending, AT, rows, live, NOW, limits);
    expect(asked.sort()).toEqual(['$events', 'Other', 'Signup']);
    expect([...pending.values()].map((b) => `${b.metric}/${b.interval}/${b.count}`).sort()).toEqual(['Signup/1m/2', 'Signup/1s/2']);
  });

  it('skips buckets that ended too long ago, caps the users per bucket, and gathers none for a full one', () => {
    const pending: PendingRollups = new Map();
    addRows(pending, AT, [eventRow()], everything, Date.parse(AT) + 1000 + 60_001, limits);
    expect([...pending.values()].map((b) => b.interval)).toEqual(['1m', '1m']);
    expect(isLate('1m', MINUTE, MINUTE + 120_001, 60_000)).toBe(true);
    expect(isLate('1m', MINUTE, MINUTE + 120_000, 60_000)).toBe(false);

    const capped: PendingRollups = new Map();
    const rows = Array.from({ length: 10 }, (_, i) => eventRow({ anonymousId: `a${i}` }));
    addRows(capped, AT, rows, everything, NOW, { ...limits, maxUsersPerBucket: 3 });
    expect(capped.get(bucketKey('E', '1s', SECOND))).toMatchObject({ count: 10 });
    expect(capped.get(bucketKey('E', '1s', SECOND))!.userHashes.size).toBe(3);

    const full: PendingRollups = new Map();
    addRows(full, AT, rows, everything, NOW, limits, new Set([bucketKey('E', '1m', MINUTE)]));
    expect(full.get(bucketKey('E', '1m', MINUTE))).toMatchObject({ count: 10, usersFull: true });
    expect(full.get(bucketKey('E', '1m', MINUTE))!.userHashes.size).toBe(0);
    expect(full.get(bucketKey('E', '1s', SECOND))!.userHashes.size).toBe(10);
  });
});

describe('mergePending, bucketsToFlush, updatesByMetric', () => {
  it('merges a failed flush back, orders buckets for locking, and shapes metric_update data', () => {
    const a: PendingRollups = new Map();
    const b: PendingRollups = new Map();
    addRows(a, AT, [metric('zeta', 5, { anonymousId: 'a1' }), eventRow({ event: 'alpha', anonymousId: 'a1' })], () => true, NOW, limits);
    addRows(b, AT, [metric('zeta', -1, { anonymousId: 'a2' }), metric('zeta', 'x', { anonymousId: 'a1' })], () => true, NOW, limits);
    mergePending(a, b, limits.maxUsersPerBucket);
    expect(a.get(bucketKey('zeta', '1s', SECOND))).toMatchObject({ count: 3, sum: 4, min: -1, max: 5 });
    expect(a.get(bucketKey('zeta', '1s', SECOND))!.userHashes).toEqual(users('a:a1', 'a:a2'));

    const buckets = bucketsToFlush(a, NOW, limits.lateMs);
    expect(buckets.map((x) => `${x.metric}/${x.interval}`)).toEqual([
      '$events/1m', '$events/1s', 'Metric Recorded/1m', 'Metric Recorded/1s', 'alpha/1m', 'alpha/1s', 'zeta/1m', 'zeta/1s',
    ]);
    expect(bucketsToFlush(a, Date.parse(AT) + 1000 + 60_001, limits.lateMs).every((x) => x.interval === '1m')).toBe(true);

    const totals = new Map([[bucketKey('zeta', '1s', SECOND), { count: 9, users: 4, sum: 1.5, min: -1, max: 5 }]]);
    expect([...updatesByMetric(buckets, totals)]).toEqual([
      ['zeta', [{ name: 'zeta', interval: '1s', bucket: '2026-01-02T03:04:05.000Z', count: 9, users: 4, sum: 1.5, min: -1, max: 5 }]],
    ]);
  });
});
