import type { BufferPool } from './bufferPool';
import { EVENT_COLUMNS, copyRows, type CopyRows } from './copyRows';
import type { Queryable } from './database';
import { INSERT_EVENTS_SQL, eventRecord } from './eventRecords';
import type { EventRow } from './validateEvent';

/** Tuning of the write path. */
export interface EventWriterOptions {
  /**
   * Most rows in one statement. Requests that arrive while a statement runs are
   * grouped into the next one, up to this many rows.
   * @default 5000 (the collector passes 1,500 on PostgreSQL, see decision 0017)
   */
  maxRows?: number | undefined;
  /**
   * Statements in flight at once. PGlite runs one at a time anyway; a
   * PostgreSQL server gains from two or three on a few cores.
   * @default 1
   */
  concurrency?: number | undefined;
  /**
   * Told, after each commit, the rows a request stored: new ones only, never duplicates (for
   * realtime). Runs synchronously on the write path: keep it cheap; a throw is ignored.
   */
  onStored?: ((projectId: string, receivedAt: string, rows: readonly EventRow[]) => void) | undefined;
  /** Where COPY data is built; each request's goes back once its rows are stored or refused. */
  buffers?: BufferPool | undefined;
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
  /**
   * Store `rows` for `projectId`; resolves once they are durable. `receivedAt` and the rows'
   * timestamps are ISO 8601 with a zone (as validateEvent makes them); anything else rejects.
   */
  write(projectId: string, receivedAt: string, rows: readonly EventRow[]): Promise<WriteResult>;
  /** Resolves when every write accepted so far has finished. */
  drain(): Promise<void>;
}

interface Job {
  projectId: string;
  receivedAt: string;
  rows: readonly EventRow[];
  /** Rough size in the statement, see {@link charsOf}. */
  chars: number;
  /** The rows as binary COPY tuples, built as the request arrives; null when the database has no COPY. */
  copy: CopyRows | null;
  accepted: number;
  /** The rows this request stored (new ones only), for `onStored`. */
  stored: EventRow[];
  resolve(result: WriteResult): void;
  reject(error: unknown): void;
}

const DEADLOCK = '40P01';
const UNIQUE_VIOLATION = '23505';

/**
 * Most JSON text in one statement, in UTF-16 units (at most 3 UTF-8 bytes
 * each, so under 192 MiB). The deduplicating INSERT sends a group as one json
 * parameter, and a PostgreSQL value is limited to 1 GB (jsonb, which it was
 * once, to 256 MiB); 5,000 large events could otherwise come near it. A single request larger than this still
 * goes, alone (its body is bounded by maxBatchBytes).
 */
const MAX_GROUP_CHARS = 64 * 1024 * 1024;

// Project ids and messageIds never contain NUL (validated), so it separates them safely.
const keyOf = (projectId: string, messageId: string): string => `${projectId}\0${messageId}`;

/** Rough size of a request's rows in the statement, for {@link MAX_GROUP_CHARS}. */
function charsOf(rows: readonly EventRow[]): number {
  let chars = 0;
  for (const row of rows) chars += row.properties.length + row.traits.length + row.context.length + 256;
  return chars;
}

/**
 * The write path: one COPY per group of requests when none of its messageIds
 * is stored yet, else one `INSERT ... ON CONFLICT DO NOTHING RETURNING` that
 * tells each request what was new. While a statement runs, new requests queue
 * up and go together in the next one (group commit), so throughput grows with
 * load without any timer adding latency when idle.
 */
export function createEventWriter(db: Queryable, options: EventWriterOptions = {}): EventWriter {
  const maxRows = Math.max(1, options.maxRows ?? 5000);
  const concurrency = Math.max(1, options.concurrency ?? 1);
  const copyIn = db.copyIn?.bind(db);
  const onStored = options.onStored;
  const buffers = options.buffers;
  // Once a request is answered its COPY data is read no more: the database has it (or refused it).
  const release = (job: Job): void => {
    if (job.copy) buffers?.give(job.copy.data);
  };
  const queue: Job[] = [];
  let running = 0;
  let idleWaiters: Array<() => void> = [];

  function pump(): void {
    while (running < concurrency && queue.length > 0) {
      const group: Job[] = [];
      let rows = 0;
      let chars = 0;
      while (
        queue.length > 0 &&
        (group.length === 0 || (rows + queue[0]!.rows.length <= maxRows && chars + queue[0]!.chars <= MAX_GROUP_CHARS))
      ) {
        const job = queue.shift()!;
        group.push(job);
        rows += job.rows.length;
        chars += job.chars;
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
      for (const job of group) {
        release(job);
        job.resolve({ accepted: job.accepted, duplicates: job.rows.length - job.accepted });
        if (onStored && job.stored.length > 0) {
          try {
            onStored(job.projectId, job.receivedAt, job.stored);
          } catch {}
        }
      }
    } catch (error) {
      if (group.length === 1) {
        release(group[0]!);
        group[0]!.reject(error);
        return;
      }
      // Keep one bad request from failing the others grouped with it.
      for (const job of group) await runGroup([job]);
    }
  }

  async function insertGroup(group: Job[]): Promise<void> {
    for (const job of group) (job.accepted = 0), (job.stored = []);
    if (copyIn && (await copied(copyIn, group))) return;
    // Each key's first row in the group, with the index of its request: a messageId repeated
    // within the group is a duplicate of its first occurrence.
    const firsts = new Map<string, { j: number; row: EventRow }>();
    for (let j = 0; j < group.length; j++) {
      const job = group[j]!;
      for (const row of job.rows) {
        const key = keyOf(job.projectId, row.messageId);
        if (!firsts.has(key)) firsts.set(key, { j, row });
      }
    }
    await insertRecords(group, firsts);
  }

  /**
   * COPY the group's rows (binary, decision 0017), the cheapest way into
   * PostgreSQL: well under the server's CPU per row of the INSERT below, which
   * first extracts every row from one json parameter (docs/decisions/0007). COPY cannot skip a stored
   * key, nor one repeated across the group's requests: it then fails whole
   * (false here) and the group goes through the INSERT instead. Rare: only
   * resent events do that.
   */
  async function copied(copyIn: NonNullable<Queryable['copyIn']>, group: Job[]): Promise<boolean> {
    try {
      await copyIn('events', EVENT_COLUMNS, group.map((job) => job.copy!.data));
    } catch (error) {
      // A stored key, or one a concurrent COPY holds in the opposite order.
      const code = (error as { code?: unknown }).code;
      if (code === UNIQUE_VIOLATION || code === DEADLOCK) return false;
      throw error;
    }
    for (const job of group) {
      job.accepted = job.copy!.rows.length;
      job.stored = job.copy!.rows;
    }
    return true;
  }

  /** `INSERT ... ON CONFLICT DO NOTHING RETURNING`: tells each request which of its rows were new. */
  async function insertRecords(group: Job[], firsts: ReadonlyMap<string, { j: number; row: EventRow }>, attempt = 0): Promise<void> {
    // `j` indexes the request's project and receipt time (SQL arrays start at 1).
    const records = Array.from(firsts.values(), ({ j, row }) => eventRecord(j + 1, row));
    try {
      // pg and PGlite both send a string parameter as is, whatever its type.
      const { rows: inserted } = await db.query<{ project_id: string; message_id: string }>(INSERT_EVENTS_SQL, [
        group.map((job) => job.projectId),
        group.map((job) => job.receivedAt),
        `[${records.join(',')}]`,
      ]);
      for (const { project_id, message_id } of inserted) {
        const first = firsts.get(keyOf(project_id, message_id));
        if (!first) continue;
        const owner = group[first.j]!;
        owner.accepted++;
        owner.stored.push(first.row);
      }
    } catch (error) {
      // Two statements inserting the same keys in opposite orders (a client
      // retrying while its first try is still in flight) can deadlock; the
      // server aborts one, which then finds the keys taken. Rows keep batch
      // order rather than being sorted, so `seq` follows arrival order.
      if (attempt < 3 && (error as { code?: unknown }).code === DEADLOCK) return insertRecords(group, firsts, attempt + 1);
      throw error;
    }
  }

  return {
    write(projectId, receivedAt, rows) {
      if (rows.length === 0) return Promise.resolve({ accepted: 0, duplicates: 0 });
      return new Promise<WriteResult>((resolve, reject) => {
        // Built now, while the database works on earlier groups, so that a
        // free connection gets its next COPY without waiting for it.
        const copy = copyIn ? copyRows(projectId, receivedAt, rows, buffers) : null;
        queue.push({ projectId, receivedAt, rows, chars: charsOf(rows), copy, accepted: 0, stored: [], resolve, reject });
        pump();
      });
    },
    drain() {
      if (running === 0 && queue.length === 0) return Promise.resolve();
      return new Promise<void>((resolve) => idleWaiters.push(resolve));
    },
  };
}
