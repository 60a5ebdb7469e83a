import type { Queryable } from './database';
import type { EventRow } from './validateEvent';

/** Tuning of the write path. */
export interface EventWriterOptions {
  /**
   * Most rows in one INSERT. Requests that arrive while a statement runs are
   * grouped into the next one, up to this many rows.
   * @default 5000
   */
  maxRows?: number | undefined;
  /**
   * Statements in flight at once. PGlite runs one at a time anyway; a
   * PostgreSQL server gains from two or three on a few cores.
   * @default 1
   */
  concurrency?: number | undefined;
}

/** How a request's events fared. */
export interface WriteResult {
  /** Stored now. */
  accepted: number;
  /** Already stored before (same project and messageId), or repeated in the same write. */
  duplicates: number;
}

/** Writes events, grouping concurrent requests into few statements. */
export interface EventWriter {
  /** Store `rows` for `projectId`; resolves once they are durable. */
  write(projectId: string, receivedAt: string, rows: readonly EventRow[]): Promise<WriteResult>;
  /** Resolves when every write accepted so far has finished. */
  drain(): Promise<void>;
}

interface Job {
  projectId: string;
  receivedAt: string;
  rows: readonly EventRow[];
  accepted: number;
  resolve(result: WriteResult): void;
  reject(error: unknown): void;
}

const INSERT_SQL = `INSERT INTO events (project_id, message_id, type, event, name, user_id, anonymous_id,
  group_id, previous_id, session_id, timestamp, sent_at, received_at, properties, traits, context)
SELECT p, m, t, e, n, u, a, g, pv, s, ts::timestamptz, sa::timestamptz, ra::timestamptz, pj::jsonb, tj::jsonb, cj::jsonb
FROM unnest($1::text[], $2::text[], $3::text[], $4::text[], $5::text[], $6::text[], $7::text[], $8::text[],
  $9::text[], $10::text[], $11::text[], $12::text[], $13::text[], $14::text[], $15::text[], $16::text[])
  AS x(p, m, t, e, n, u, a, g, pv, s, ts, sa, ra, pj, tj, cj)
ON CONFLICT (project_id, message_id) DO NOTHING
RETURNING project_id, message_id`;

const DEADLOCK = '40P01';

// Project ids and messageIds never contain NUL (validated), so it separates them safely.
const keyOf = (projectId: string, messageId: string): string => `${projectId}\0${messageId}`;

/**
 * The write path: one multi-row `INSERT ... SELECT FROM unnest(...)` per group
 * of requests, `ON CONFLICT DO NOTHING` for dedupe, `RETURNING` to tell each
 * request what was new. While a statement runs, new requests queue up and go
 * together in the next one (group commit), so throughput grows with load
 * without any timer adding latency when idle.
 */
export function createEventWriter(db: Queryable, options: EventWriterOptions = {}): EventWriter {
  const maxRows = Math.max(1, options.maxRows ?? 5000);
  const concurrency = Math.max(1, options.concurrency ?? 1);
  const queue: Job[] = [];
  let running = 0;
  let idleWaiters: Array<() => void> = [];

  function pump(): void {
    while (running < concurrency && queue.length > 0) {
      const group: Job[] = [];
      let rows = 0;
      while (queue.length > 0 && (group.length === 0 || rows + queue[0]!.rows.length <= maxRows)) {
        const job = queue.shift()!;
        group.push(job);
        rows += job.rows.length;
      }
      running++;
      void runGroup(group).finally(() => {
        running--;
        pump();
        if (running === 0 && queue.length === 0) {
          const waiters = idleWaiters;
          idleWaiters = [];
          for (const wake of waiters) wake();
        }
      });
    }
  }

  async function runGroup(group: Job[]): Promise<void> {
    try {
      await insertGroup(group);
      for (const job of group) job.resolve({ accepted: job.accepted, duplicates: job.rows.length - job.accepted });
    } catch (error) {
      if (group.length === 1) {
        group[0]!.reject(error);
        return;
      }
      // Keep one bad request from failing the others grouped with it.
      for (const job of group) await runGroup([job]);
    }
  }

  async function insertGroup(group: Job[], attempt = 0): Promise<void> {
    const owners = new Map<string, Job>();
    const entries: Array<{ job: Job; row: EventRow }> = [];
    for (const job of group) {
      job.accepted = 0;
      for (const row of job.rows) {
        const key = keyOf(job.projectId, row.messageId);
        // A messageId repeated within the group is a duplicate of its first occurrence.
        if (owners.has(key)) continue;
        owners.set(key, job);
        entries.push({ job, row });
      }
    }
    if (entries.length === 0) return;

    const n = entries.length;
    const cols: Array<Array<string | null>> = Array.from({ length: 16 }, () => new Array<string | null>(n));
    for (let i = 0; i < n; i++) {
      const { job, row } = entries[i]!;
      cols[0]![i] = job.projectId;
      cols[1]![i] = row.messageId;
      cols[2]![i] = row.type;
      cols[3]![i] = row.event;
      cols[4]![i] = row.name;
      cols[5]![i] = row.userId;
      cols[6]![i] = row.anonymousId;
      cols[7]![i] = row.groupId;
      cols[8]![i] = row.previousId;
      cols[9]![i] = row.sessionId;
      cols[10]![i] = row.timestamp;
      cols[11]![i] = row.sentAt;
      cols[12]![i] = job.receivedAt;
      cols[13]![i] = row.properties;
      cols[14]![i] = row.traits;
      cols[15]![i] = row.context;
    }
    try {
      const { rows } = await db.query<{ project_id: string; message_id: string }>(INSERT_SQL, cols);
      for (const inserted of rows) {
        const owner = owners.get(keyOf(inserted.project_id, inserted.message_id));
        if (owner) owner.accepted++;
      }
    } catch (error) {
      // Two statements inserting the same keys in opposite orders (a client
      // retrying while its first try is still in flight) can deadlock; the
      // server aborts one, which then finds the keys taken. Rows keep batch
      // order rather than being sorted, so `seq` follows arrival order.
      if (attempt < 3 && (error as { code?: unknown }).code === DEADLOCK) return insertGroup(group, attempt + 1);
      throw error;
    }
  }

  return {
    write(projectId, receivedAt, rows) {
      if (rows.length === 0) return Promise.resolve({ accepted: 0, duplicates: 0 });
      return new Promise<WriteResult>((resolve, reject) => {
        queue.push({ projectId, receivedAt, rows, accepted: 0, resolve, reject });
        pump();
      });
    },
    drain() {
      if (running === 0 && queue.length === 0) return Promise.resolve();
      return new Promise<void>((resolve) => idleWaiters.push(resolve));
    },
  };
}
