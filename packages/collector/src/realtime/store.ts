import { randomBytes } from 'node:crypto';
import type { Database, Queryable } from '../database';
import type { ChannelHead } from './resolveCursor';

/** A message read back from the history, `data` still JSON text. */
export interface StoredMessage {
  seq: number;
  at: string;
  kind: string;
  data: string;
}

/** A new epoch: opaque, 12 characters (protocol: at most 32). */
export function newEpoch(): string {
  return randomBytes(9).toString('base64url');
}

function iso(value: unknown): string {
  return value instanceof Date ? value.toISOString() : new Date(String(value)).toISOString();
}

/**
 * Take or extend the lease of `channels` (one project) for `ttlMs` and return their heads. A
 * channel whose lease had ended gets a new epoch: what was published meanwhile was dropped, so
 * cursors of the old epoch must be reset. Channels are locked in name order, so two leases over
 * the same channels cannot deadlock.
 */
export async function takeLeases(
  db: Queryable,
  projectId: string,
  channels: readonly string[],
  ttlMs: number,
): Promise<Map<string, ChannelHead>> {
  const names = [...new Set(channels)].sort();
  const heads = new Map<string, ChannelHead>();
  if (names.length === 0) return heads;
  const { rows } = await db.query<{ channel: string; epoch: string; last_seq: unknown }>(
    `INSERT INTO realtime_channels (project_id, channel, epoch, last_seq, live_until)
     SELECT $1, c.channel, c.epoch, 0, now() + make_interval(secs => $4::double precision)
       FROM unnest($2::text[], $3::text[]) AS c(channel, epoch)
     ON CONFLICT (project_id, channel) DO UPDATE SET
       epoch = CASE WHEN realtime_channels.live_until > now() THEN realtime_channels.epoch ELSE excluded.epoch END,
       live_until = GREATEST(realtime_channels.live_until, excluded.live_until)
     RETURNING channel, epoch, last_seq`,
    [projectId, names, names.map(() => newEpoch()), ttlMs / 1000],
  );
  for (const row of rows) heads.set(row.channel, { epoch: row.epoch, lastSeq: Number(row.last_seq) });
  return heads;
}

/** The heads of `channels` (one project) without touching their leases; unknown channels are left out. */
export async function readHeads(db: Queryable, projectId: string, channels: readonly string[]): Promise<Map<string, ChannelHead>> {
  const heads = new Map<string, ChannelHead>();
  if (channels.length === 0) return heads;
  const { rows } = await db.query<{ channel: string; epoch: string; last_seq: unknown }>(
    'SELECT channel, epoch, last_seq FROM realtime_channels WHERE project_id = $1 AND channel = ANY($2::text[])',
    [projectId, [...channels]],
  );
  for (const row of rows) heads.set(row.channel, { epoch: row.epoch, lastSeq: Number(row.last_seq) });
  return heads;
}

/**
 * Append messages to a live channel; `null` when it is not live (nobody subscribes: dropped).
 * One statement, so one implicit transaction: the UPDATE locks the counter row until commit,
 * hence seqs are gapless and committed in order (n+1 is never visible before n).
 */
export async function appendMessages(
  db: Queryable,
  projectId: string,
  channel: string,
  kind: string,
  dataJsons: readonly string[],
): Promise<{ epoch: string; lastSeq: number; at: string } | null> {
  const { rows } = await db.query<{ epoch: string; last_seq: unknown; at: unknown }>(
    `WITH c AS (
       UPDATE realtime_channels SET last_seq = last_seq + $3::bigint
        WHERE project_id = $1 AND channel = $2 AND live_until > now()
       RETURNING last_seq, epoch, now() AS at
     ), ins AS (
       INSERT INTO realtime_messages (project_id, channel, seq, created_at, kind, data)
       SELECT $1, $2, c.last_seq - $3::bigint + d.i, c.at, $4, d.value
         FROM c, jsonb_array_elements($5::jsonb) WITH ORDINALITY AS d(value, i)
     )
     SELECT last_seq, epoch, at FROM c`,
    [projectId, channel, dataJsons.length, kind, `[${dataJsons.join(',')}]`],
  );
  const row = rows[0];
  return row ? { epoch: row.epoch, lastSeq: Number(row.last_seq), at: iso(row.at) } : null;
}

/** Up to `limit` messages after `afterSeq`, oldest first, none older than `maxAgeMs`. */
export async function readMessages(
  db: Queryable,
  projectId: string,
  channel: string,
  afterSeq: number,
  limit: number,
  maxAgeMs: number,
): Promise<StoredMessage[]> {
  const { rows } = await db.query<{ seq: unknown; created_at: unknown; kind: string; data: string }>(
    `SELECT seq, created_at, kind, data::text AS data FROM realtime_messages
      WHERE project_id = $1 AND channel = $2 AND seq > $3
        AND created_at > now() - make_interval(secs => $5::double precision)
      ORDER BY seq LIMIT $4`,
    [projectId, channel, afterSeq, limit, maxAgeMs / 1000],
  );
  return rows.map((row) => ({ seq: Number(row.seq), at: iso(row.created_at), kind: row.kind, data: row.data }));
}

// Any constant works; it only has to be the same in every collector process.
const PRUNE_LOCK_ID = 0x5157_1f;

/**
 * Delete messages beyond the history bounds (the newest `size` per channel, at most `maxAgeMs`
 * old), and channels unserved for a day. One process at a time prunes; the others skip.
 * Returns the number of messages deleted.
 */
export async function pruneHistory(db: Database, size: number, maxAgeMs: number): Promise<number> {
  return db.transaction(async (tx) => {
    const lock = await tx.query<{ ok: boolean }>('SELECT pg_try_advisory_xact_lock($1) AS ok', [PRUNE_LOCK_ID]);
    if (!lock.rows[0]?.ok) return 0;
    const { rows } = await tx.query<{ n: unknown }>(
      `WITH d AS (
         DELETE FROM realtime_messages m USING realtime_channels c
          WHERE m.project_id = c.project_id AND m.channel = c.channel
            AND (m.seq <= c.last_seq - $1::bigint OR m.created_at < now() - make_interval(secs => $2::double precision))
         RETURNING 1
       )
       SELECT count(*) AS n FROM d`,
      [size, maxAgeMs / 1000],
    );
    // Channels nobody served for a day: their messages expired long ago, and a client can name
    // any number of `metrics:<name>` channels. A later lease starts them again with a new epoch.
    await tx.query("DELETE FROM realtime_channels WHERE live_until < now() - interval '1 day'");
    return Number(rows[0]?.n ?? 0);
  });
}
