// Pure aggregation of stored events into the buckets of the `metrics:<name>` channels (protocol 9.6).
// No I/O and no clock: metricsPublisher.ts feeds it and writes what it gathers to the database.
import type { EventRow } from '../validateEvent';

/** The bucket widths of protocol 9.6. */
export type MetricInterval = '1s' | '1m';

/** The width of each interval, in milliseconds. */
export const INTERVAL_MS: Readonly<Record<MetricInterval, number>> = { '1s': 1_000, '1m': 60_000 };
const INTERVALS = Object.entries(INTERVAL_MS) as [MetricInterval, number][];

/** The `data` of a `metric_update` message (protocol 9.6). */
export interface MetricUpdate {
  name: string;
  interval: MetricInterval;
  /** Start of the bucket, ISO 8601 UTC. */
  bucket: string;
  count: number;
  users: number;
  sum: number | null;
  min: number | null;
  max: number | null;
}

/** What this process gathered for one bucket since its last flush. */
export interface PendingBucket {
  metric: string;
  interval: MetricInterval;
  /** Start of the bucket, in ms since the epoch. */
  bucketMs: number;
  count: number;
  /** `null` until a finite `Metric Recorded` value lands in the bucket; so are `min` and `max`. */
  sum: number | null;
  min: number | null;
  max: number | null;
  /** Distinct users ({@link userHashOf}), at most the cap. */
  userHashes: Set<number>;
  /** The database already holds the cap of users for this bucket: gathering more is wasted. */
  usersFull: boolean;
}

/** The pending buckets of one project, by {@link bucketKey}. */
export type PendingRollups = Map<string, PendingBucket>;

/** Bounds of the aggregation. */
export interface RollupLimits {
  /** Users kept per bucket; past it `users` is a lower bound. */
  maxUsersPerBucket: number;
  /** A bucket that ended longer ago than this takes nothing more (its rows may be pruned). */
  lateMs: number;
}

/** The reserved track event of custom metrics (protocol 5.3). */
export const METRIC_RECORDED = 'Metric Recorded';
/** Every event. */
export const ALL_EVENTS = '$events';
/** `page` events. */
export const PAGEVIEWS = '$pageviews';

/** Identifies a bucket; metric names never hold NUL (validation refuses it, channel names exclude controls). */
export const bucketKey = (metric: string, interval: MetricInterval, bucketMs: number): string =>
  `${metric}\u0000${interval}\u0000${bucketMs}`;

/**
 * Who counts once in `users`: the `userId`, else the `anonymousId` (protocol 9.6), as a 53-bit
 * hash (cyrb53: two 32-bit multiply-xor lanes), the same in every process. Among 10,000 users
 * the chance that two share a hash is about 1 in 180 million, so `users` is exact in practice,
 * and a bucket's set is 8 bytes per user whatever the length of the ids.
 */
export function userHashOf(row: Pick<EventRow, 'userId' | 'anonymousId'>): number {
  const key = row.userId !== null ? `u:${row.userId}` : `a:${row.anonymousId ?? ''}`;
  let h1 = 0xdeadbeef;
  let h2 = 0x41c6ce57;
  for (let i = 0; i < key.length; i++) {
    const c = key.charCodeAt(i);
    h1 = Math.imul(h1 ^ c, 2654435761);
    h2 = Math.imul(h2 ^ c, 1597334677);
  }
  h1 = Math.imul(h1 ^ (h1 >>> 16), 2246822507) ^ Math.imul(h2 ^ (h2 >>> 13), 3266489909);
  h2 = Math.imul(h2 ^ (h2 >>> 16), 2246822507) ^ Math.imul(h1 ^ (h1 >>> 13), 3266489909);
  return 4294967296 * (2097151 & h2) + (h1 >>> 0);
}

/** The `name` and, when a finite number, the `value` of a `Metric Recorded` event's properties. */
export function metricSampleOf(propertiesJson: string): { name: string | null; value: number | null } {
  let properties: unknown;
  try {
    properties = JSON.parse(propertiesJson);
  } catch {
    return { name: null, value: null };
  }
  if (typeof properties !== 'object' || properties === null) return { name: null, value: null };
  const { name, value } = properties as { name?: unknown; value?: unknown };
  return {
    name: typeof name === 'string' && name.length > 0 ? name : null,
    // Validation does not check Metric Recorded properties: a string, a boolean or a missing value counts, without a value.
    value: typeof value === 'number' && Number.isFinite(value) ? value : null,
  };
}

const isReserved = (name: string) => name === ALL_EVENTS || name === PAGEVIEWS;

/**
 * Call `visit` once per metric `row` feeds: `$events`; `$pageviews` for a `page`; the event name
 * of a `track`; and for `Metric Recorded` the metric's `name`, with its value (the track name
 * `Metric Recorded` itself counts without one). A track event cannot pose as `$events` or `$pageviews`.
 */
export function visitMetrics(row: EventRow, visit: (name: string, value: number | null) => void): void {
  visit(ALL_EVENTS, null);
  if (row.type === 'page') visit(PAGEVIEWS, null);
  if (row.type !== 'track' || row.event === null || isReserved(row.event)) return;
  if (row.event !== METRIC_RECORDED) return visit(row.event, null);
  const sample = metricSampleOf(row.properties);
  if (sample.name !== METRIC_RECORDED) visit(METRIC_RECORDED, null);
  if (sample.name !== null && !isReserved(sample.name)) visit(sample.name, sample.value);
}

/** Whether a bucket ended more than `lateMs` before `nowMs`. */
export function isLate(interval: MetricInterval, bucketMs: number, nowMs: number, lateMs: number): boolean {
  return bucketMs + INTERVAL_MS[interval] + lateMs < nowMs;
}

/**
 * Add the rows of one request (received at `receivedAt`) to `pending`, for the metrics `isLive`
 * accepts (asked once per name). Users are not gathered for the buckets in `full` (already at
 * the cap in the database). Returns how many (metric, row) pairs were counted.
 */
export function addRows(
  pending: PendingRollups,
  receivedAt: string,
  rows: readonly EventRow[],
  isLive: (name: string) => boolean,
  nowMs: number,
  limits: RollupLimits,
  full: { has(key: string): boolean } = new Set<string>(),
): number {
  const receivedMs = Date.parse(receivedAt);
  if (!Number.isFinite(receivedMs)) return 0;
  // Every row of a request shares its buckets: look each metric's up once.
  const targets = new Map<string, PendingBucket[] | null>();
  const bucketsOf = (name: string): PendingBucket[] | null => {
    let buckets = targets.get(name);
    if (buckets !== undefined) return buckets;
    buckets = null;
    if (isLive(name)) {
      buckets = [];
      for (const [interval, width] of INTERVALS) {
        const bucketMs = Math.floor(receivedMs / width) * width;
        if (isLate(interval, bucketMs, nowMs, limits.lateMs)) continue;
        const key = bucketKey(name, interval, bucketMs);
        let bucket = pending.get(key);
        if (!bucket) {
          const usersFull = full.has(key);
          bucket = { metric: name, interval, bucketMs, count: 0, sum: null, min: null, max: null, userHashes: new Set(), usersFull };
          pending.set(key, bucket);
        }
        buckets.push(bucket);
      }
    }
    targets.set(name, buckets);
    return buckets;
  };
  let counted = 0;
  for (const row of rows) {
    let user: number | undefined;
    visitMetrics(row, (name, value) => {
      const buckets = bucketsOf(name);
      if (!buckets) return;
      user ??= userHashOf(row);
      for (const bucket of buckets) {
        bucket.count++;
        if (value !== null) {
          bucket.sum = (bucket.sum ?? 0) + value;
          bucket.min = bucket.min === null ? value : Math.min(bucket.min, value);
          bucket.max = bucket.max === null ? value : Math.max(bucket.max, value);
        }
        if (!bucket.usersFull && bucket.userHashes.size < limits.maxUsersPerBucket) bucket.userHashes.add(user);
        counted++;
      }
    });
  }
  return counted;
}

/** Add `from` into `into` (a flush that failed goes back into the next one). */
export function mergePending(into: PendingRollups, from: PendingRollups, maxUsers: number): void {
  for (const [key, b] of from) {
    const a = into.get(key);
    if (!a) {
      into.set(key, b);
      continue;
    }
    a.count += b.count;
    a.usersFull ||= b.usersFull;
    if (b.sum !== null) a.sum = (a.sum ?? 0) + b.sum;
    if (b.min !== null) a.min = a.min === null ? b.min : Math.min(a.min, b.min);
    if (b.max !== null) a.max = a.max === null ? b.max : Math.max(a.max, b.max);
    for (const user of b.userHashes) {
      if (a.usersFull || a.userHashes.size >= maxUsers) break;
      a.userHashes.add(user);
    }
  }
}

/**
 * The buckets of `pending` that are not late, in one fixed order (metric, interval, bucket by
 * code units): every process locks rollup rows in this order, so two flushes cannot deadlock.
 */
export function bucketsToFlush(pending: PendingRollups, nowMs: number, lateMs: number): PendingBucket[] {
  const buckets = [...pending.values()].filter((b) => !isLate(b.interval, b.bucketMs, nowMs, lateMs));
  return buckets.sort((a, b) =>
    a.metric !== b.metric ? (a.metric < b.metric ? -1 : 1) : a.interval !== b.interval ? (a.interval < b.interval ? -1 : 1) : a.bucketMs - b.bucketMs,
  );
}

/** Totals of one bucket as the database merged them. */
export interface BucketTotals {
  count: number;
  users: number;
  sum: number | null;
  min: number | null;
  max: number | null;
}

/**
 * One `metric_update` per flushed bucket, with the merged `totals`, grouped by metric in the
 * order of `buckets`. A bucket without totals is left out.
 */
export function updatesByMetric(buckets: readonly PendingBucket[], totals: ReadonlyMap<string, BucketTotals>): Map<string, MetricUpdate[]> {
  const out = new Map<string, MetricUpdate[]>();
  for (const b of buckets) {
    const t = totals.get(bucketKey(b.metric, b.interval, b.bucketMs));
    if (!t) continue;
    let list = out.get(b.metric);
    if (!list) out.set(b.metric, (list = []));
    list.push({ name: b.metric, interval: b.interval, bucket: new Date(b.bucketMs).toISOString(), ...t });
  }
  return out;
}
