import type { Queryable } from './database';

/** Options of {@link sweepRetention}. */
export interface RetentionSweepOptions {
  /**
   * Most rows one DELETE removes, so no statement holds locks (or a large
   * transaction) for long while ingest goes on.
   * @default 10000
   */
  chunkSize?: number | undefined;
  /** The current time, for tests. */
  now?: Date | undefined;
}

const DAY_MS = 86_400_000;

// By physical row id: a bounded DELETE without needing a unique column. ANY(ARRAY(...))
// lets PostgreSQL use a TID scan; the same SQL runs on PGlite.
const DELETE_CHUNK = `WITH gone AS (
  DELETE FROM events
   WHERE ctid = ANY(ARRAY(
     SELECT ctid FROM events WHERE project_id = $1 AND received_at < $2::timestamptz LIMIT $3
   ))
  RETURNING 1
)
SELECT count(*)::int AS n FROM gone`;

/**
 * Delete the events each project keeps no longer (`projects.retention_days`,
 * by `received_at`), in chunks of `chunkSize` rows. Returns the rows deleted.
 */
export async function sweepRetention(db: Queryable, options: RetentionSweepOptions = {}): Promise<number> {
  const chunkSize = Math.max(1, options.chunkSize ?? 10_000);
  const now = (options.now ?? new Date()).getTime();
  const { rows: projects } = await db.query<{ id: string; retention_days: number }>(
    'SELECT id, retention_days FROM projects ORDER BY id',
  );
  let deleted = 0;
  for (const project of projects) {
    const cutoff = new Date(now - Number(project.retention_days) * DAY_MS).toISOString();
    for (;;) {
      const { rows } = await db.query<{ n: number }>(DELETE_CHUNK, [project.id, cutoff, chunkSize]);
      const n = Number(rows[0]?.n ?? 0);
      deleted += n;
      if (n < chunkSize) break;
    }
  }
  return deleted;
}
