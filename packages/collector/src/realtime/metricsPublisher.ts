// The `metrics:<name>` channels (protocol 9.6, docs/decisions/0010): rolls stored events into
// per-second and per-minute buckets while a channel is live, merges them into the totals every
// process shares, and publishes the merged totals as `metric_update` messages.
import type { Database } from '../database';
import type { EventRow } from '../validateEvent';
import type { HubLogger, PendingPublish, RealtimeHub } from './hubTypes';
import { INTERVAL_MS, addRows, bucketKey, bucketsToFlush, mergePending, updatesByMetric, type PendingBucket, type PendingRollups } from './metricRollups';
import { pruneMetricRollups, storeRollups, type MetricRetention } from './metricStore';

/** Tuning of the metric rollups. Every one is optional. */
export interface MetricsPublisherOptions {
  /**
   * How long events gather in the process before their buckets are merged into the database
   * and published (one transaction per project).
   * @default 1000
   */
  flushIntervalMs?: number | undefined;
  /**
   * Distinct users counted per bucket, over all processes; past it `users` stays at the cap.
   * @default 10000
   */
  maxUsersPerBucket?: number | undefined;
  /**
   * How often buckets past their retention (1s: 2 minutes, 1m: 10 minutes) are deleted.
   * @default 30000
   */
  pruneIntervalMs?: number | undefined;
}

/** Defaults of {@link MetricsPublisherOptions}. */
export const METRICS_DEFAULTS = { flushIntervalMs: 1_000, maxUsersPerBucket: 10_000, pruneIntervalMs: 30_000 } as const;

/** The family key the hub answers for "any `metrics:<name>` channel of the project". */
const METRICS_FAMILY = 'metrics:';
// A bucket takes rows (and retried flushes) until this long after it ended; the retention below
// leaves a margin over it plus a slow flush, so a pruned bucket is never re-created with partial
// totals that would replace the full ones.
const LATE_MS = 60_000;
const RETENTION: MetricRetention = { '1s': 120_000, '1m': 600_000 };
// A project's flush that failed this many times in a row is dropped (logged), not retried forever.
const MAX_FAILED_FLUSHES = 3;
// Flushes lock rows in one order and should not deadlock; a retry covers what that misses.
const DEADLOCK = '40P01';
const MAX_DEADLOCK_ATTEMPTS = 3;

/** What the collector calls. */
export interface MetricsPublisher {
  /**
   * Rows one request stored (new ones only, after their commit): counted for the project's live
   * `metrics:*` channels. One lookup while none is live. Never throws.
   */
  stored(projectId: string, receivedAt: string, rows: readonly EventRow[]): void;
  /** Start the prune timer, once the database is open. */
  start(): void;
  /** Merge and publish what is pending now; resolves when nothing is pending or in flight. */
  flush(): Promise<void>;
  /** Delete buckets past their retention now; resolves with the rows deleted. */
  prune(): Promise<number>;
  /** Stop the timers, then flush what is pending, for at most `graceMs`. Idempotent. */
  close(graceMs: number): Promise<void>;
}

/** The part of the hub the rollups use. */
export type MetricsHub = Pick<RealtimeHub, 'isLive' | 'publishIn'>;

const positive = (value: number | undefined, fallback: number) =>
  value !== undefined && Number.isFinite(value) && value > 0 ? value : fallback;

/** Create the rollups of one collector process; `db` may be a lazy handle (nothing runs before `start()` or a live channel). */
export function createMetricsPublisher(db: Database, hub: MetricsHub, log: HubLogger, options: MetricsPublisherOptions = {}): MetricsPublisher {
  const flushIntervalMs = positive(options.flushIntervalMs, METRICS_DEFAULTS.flushIntervalMs);
  const pruneIntervalMs = positive(options.pruneIntervalMs, METRICS_DEFAULTS.pruneIntervalMs);
  const limits = { maxUsersPerBucket: Math.floor(positive(options.maxUsersPerBucket, METRICS_DEFAULTS.maxUsersPerBucket)), lateMs: LATE_MS };
  let pending = new Map<string, PendingRollups>();
  // Per project, the buckets the database holds the cap of users for, until they stop taking rows.
  const full = new Map<string, Map<string, number>>();
  const failures = new Map<string, number>();
  let flushTimer: NodeJS.Timeout | undefined;
  let pruneTimer: NodeJS.Timeout | undefined;
  let flushing: Promise<void> | undefined;
  let pruning: Promise<number> | undefined;
  let closing: Promise<void> | undefined;
  let closed = false;

  // Armed by the first pending row, so an idle process runs no timer.
  function schedule(): void {
    if (flushTimer || flushing || closed || pending.size === 0) return;
    flushTimer = setTimeout(() => {
      flushTimer = undefined;
      void flushOnce();
    }, flushIntervalMs);
    flushTimer.unref();
  }

  /**
   * Upsert the totals and publish them in ONE transaction: the rollup rows stay locked until
   * commit, so a concurrent flush of another process merges after it and publishes after it
   * (under the channel's counter row lock): seq order is totals order.
   */
  async function flushProject(projectId: string, rollups: PendingRollups): Promise<void> {
    const buckets = bucketsToFlush(rollups, Date.now(), LATE_MS);
    if (buckets.length === 0) return;
    for (let attempt = 1; ; attempt++) {
      try {
        const { published, totals } = await db.transaction(async (tx) => {
          const totals = await storeRollups(tx, projectId, buckets, limits.maxUsersPerBucket);
          const published: PendingPublish[] = [];
          // By metric name, the order every process takes the counter rows in.
          for (const [name, updates] of updatesByMetric(buckets, totals)) {
            const publish = await hub.publishIn(tx, projectId, `metrics:${name}`, 'metric_update', updates);
            if (publish) published.push(publish);
          }
          return { published, totals };
        });
        for (const publish of published) publish.committed();
        rememberFull(projectId, buckets, totals);
        return;
      } catch (error) {
        if (attempt >= MAX_DEADLOCK_ATTEMPTS || (error as { code?: unknown }).code !== DEADLOCK) throw error;
      }
    }
  }

  function rememberFull(projectId: string, buckets: readonly PendingBucket[], totals: ReadonlyMap<string, { users: number }>): void {
    const now = Date.now();
    let known = full.get(projectId);
    for (const [key, until] of known ?? []) if (until < now) known!.delete(key);
    for (const b of buckets) {
      const key = bucketKey(b.metric, b.interval, b.bucketMs);
      if ((totals.get(key)?.users ?? 0) < limits.maxUsersPerBucket) continue;
      if (!known) full.set(projectId, (known = new Map()));
      known.set(key, b.bucketMs + INTERVAL_MS[b.interval] + LATE_MS);
    }
    if (known?.size === 0) full.delete(projectId);
  }

  function flushOnce(): Promise<void> {
    flushing ??= (async () => {
      const batch = pending;
      pending = new Map();
      for (const [projectId, rollups] of batch) {
        try {
          await flushProject(projectId, rollups);
          failures.delete(projectId);
        } catch (error) {
          const failed = (failures.get(projectId) ?? 0) + 1;
          if (failed >= MAX_FAILED_FLUSHES) {
            failures.delete(projectId);
            log.warn({ err: error, projectId }, 'realtime: metric rollups dropped after repeated flush failures');
            continue;
          }
          failures.set(projectId, failed);
          log.warn({ err: error, projectId }, 'realtime: metric rollup flush failed; retrying with the next one');
          // Rolled back as a whole: nothing of it counted, so it goes again with what came meanwhile.
          const current = pending.get(projectId);
          if (current) mergePending(current, rollups, limits.maxUsersPerBucket);
          else pending.set(projectId, rollups);
        }
      }
    })().finally(() => {
      flushing = undefined;
      schedule();
    });
    return flushing;
  }

  async function flushAll(): Promise<void> {
    clearTimeout(flushTimer);
    flushTimer = undefined;
    while (flushing || pending.size > 0) await (flushing ?? flushOnce());
  }

  function prune(): Promise<number> {
    pruning ??= pruneMetricRollups(db, RETENTION).finally(() => {
      pruning = undefined;
    });
    return pruning;
  }

  return {
    stored(projectId, receivedAt, rows) {
      if (closed || !hub.isLive(projectId, METRICS_FAMILY)) return;
      try {
        const rollups = pending.get(projectId) ?? new Map();
        const isLive = (name: string) => hub.isLive(projectId, `metrics:${name}`);
        addRows(rollups, receivedAt, rows, isLive, Date.now(), limits, full.get(projectId));
        if (rollups.size > 0) pending.set(projectId, rollups);
        schedule();
      } catch (error) {
        log.warn({ err: error, projectId }, 'realtime: counting rows for metric rollups failed');
      }
    },
    start() {
      if (pruneTimer || closed) return;
      pruneTimer = setInterval(() => {
        if (!pruning) prune().catch((error: unknown) => log.warn({ err: error }, 'realtime: metric rollup prune failed'));
      }, pruneIntervalMs);
      // Housekeeping never keeps the process alive on its own.
      pruneTimer.unref();
    },
    flush: flushAll,
    prune,
    close(graceMs) {
      closing ??= (async () => {
        closed = true;
        clearInterval(pruneTimer);
        // A database that stopped answering must not hold shutdown.
        let timer: NodeJS.Timeout | undefined;
        await Promise.race([
          Promise.allSettled([flushAll(), pruning]),
          new Promise((resolve) => (timer = setTimeout(resolve, graceMs))),
        ]);
        clearTimeout(timer);
      })();
      return closing;
    },
  };
}
