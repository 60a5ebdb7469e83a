// SQL of the metric rollups (migrations/0004_metrics.sql): merge a process's pending buckets into
// the shared totals, and prune old buckets. The same statements run on PGlite and PostgreSQL.
import type { Database, Queryable } from '../database';
import { bucketKey, type BucketTotals, type MetricInterval, type PendingBucket } from './metricRollups';

// One jsonb parameter for the whole flush (pg would escape every element of array parameters in
// JavaScript), upserted in its order (see bucketsToFlush). Buckets travel as ms since the epoch
// and come back the same way, so neither side parses a timestamp. The user sets are merged in
// the row (DISTINCT over both arrays, at most the cap) while the row is locked; a full bucket is
// left alone. The subquery assigns user_hashes and users from one computation.
const UPSERT_ROLLUPS = `INSERT INTO metric_rollups AS r (project_id, metric, resolution, bucket, count, users, user_hashes, sum, min, max)
SELECT $1, d.metric, d.resolution, to_timestamp(d.bucket_ms / 1000.0), d.count, cardinality(d.hashes), d.hashes, d.sum, d.min, d.max
  FROM ROWS FROM (jsonb_to_recordset($2::jsonb) AS (metric text, resolution text, bucket_ms double precision, count bigint,
         hashes bigint[], sum double precision, min double precision, max double precision)) WITH ORDINALITY
    AS d(metric, resolution, bucket_ms, count, hashes, sum, min, max, ord)
 ORDER BY d.ord
ON CONFLICT (project_id, metric, resolution, bucket) DO UPDATE SET
  count = r.count + excluded.count,
  sum = coalesce(r.sum + excluded.sum, r.sum, excluded.sum),
  min = least(r.min, excluded.min),
  max = greatest(r.max, excluded.max),
  (user_hashes, users) = (
    SELECT merged, cardinality(merged) FROM (
      SELECT CASE WHEN r.users >= $3::int OR cardinality(excluded.user_hashes) = 0 THEN r.user_hashes
             ELSE ARRAY(SELECT DISTINCT h FROM unnest(r.user_hashes || excluded.user_hashes) AS u(h) LIMIT $3::int) END AS merged
    ) m)
RETURNING metric, resolution, (extract(epoch FROM bucket) * 1000)::float8 AS bucket_ms, count, users, sum, min, max`;

const numberOrNull = (value: unknown): number | null => (value === null || value === undefined ? null : Number(value));

/**
 * Add `buckets` (one project, in {@link bucketsToFlush} order) to the shared totals, their
 * distinct users up to `maxUsers` per bucket, in ONE statement, and return the merged totals by
 * bucket key. Run it inside a transaction: the rows stay locked until commit, which orders
 * concurrent flushes.
 */
export async function storeRollups(
  tx: Queryable,
  projectId: string,
  buckets: readonly PendingBucket[],
  maxUsers: number,
): Promise<Map<string, BucketTotals>> {
  const totals = new Map<string, BucketTotals>();
  if (buckets.length === 0) return totals;
  const data = buckets.map((b) => ({
    metric: b.metric,
    resolution: b.interval,
    bucket_ms: b.bucketMs,
    count: b.count,
    hashes: [...b.userHashes],
    sum: b.sum,
    min: b.min,
    max: b.max,
  }));
  const { rows } = await tx.query<{ metric: string; resolution: MetricInterval; bucket_ms: unknown; count: unknown; users: unknown; sum: unknown; min: unknown; max: unknown }>(
    UPSERT_ROLLUPS,
    [projectId, JSON.stringify(data), maxUsers],
  );
  for (const row of rows) {
    totals.set(bucketKey(row.metric, row.resolution, Number(row.bucket_ms)), {
      count: Number(row.count),
      users: Number(row.users),
      sum: numberOrNull(row.sum),
      min: numberOrNull(row.min),
      max: numberOrNull(row.max),
    });
  }
  return totals;
}

/** How long buckets are kept after they start, per interval. */
export type MetricRetention = Readonly<Record<MetricInterval, number>>;

// Any constant works; it only has to be the same in every collector process (pruneHistory uses 0x5157_1f).
const PRUNE_LOCK_ID = 0x5157_20;

/**
 * Delete buckets older than `retention`. One process at a time prunes; the others skip.
 * Returns the number of buckets deleted.
 */
export async function pruneMetricRollups(db: Database, retention: MetricRetention): Promise<number> {
  return db.transaction(async (tx) => {
    const lock = await tx.query<{ ok: boolean }>('SELECT pg_try_advisory_xact_lock($1) AS ok', [PRUNE_LOCK_ID]);
    if (!lock.rows[0]?.ok) return 0;
    const { rows } = await tx.query<{ n: unknown }>(
      `WITH d AS (
         DELETE FROM metric_rollups
          WHERE (resolution = '1s' AND bucket < now() - make_interval(secs => $1::double precision))
             OR (resolution = '1m' AND bucket < now() - make_interval(secs => $2::double precision))
         RETURNING 1
       )
       SELECT count(*) AS n FROM d`,
      [retention['1s'] / 1000, retention['1m'] / 1000],
    );
    return Number(rows[0]?.n ?? 0);
  });
}
