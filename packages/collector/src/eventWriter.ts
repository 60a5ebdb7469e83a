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
  /** Rough size in the statement, see {@link charsOf}. */
  chars: number;
  accepted: number;
  resolve(result: WriteResult): void;
  reject(error: unknown): void;
}

// The whole group travels as ONE jsonb parameter (an array of records built by
// concatenating JSON texts, see `recordOf`), plus two small arrays holding the
// project id and receipt time of each request in the group, indexed by `j`.
// 16 `text[]` parameters cost far more: pg escapes every element of every
// array in JavaScript, and the server parses 16 array literals.
// Absent keys read as NULL; the JSON columns default to '{}'.
const INSERT_SQL = `INSERT INTO events (project_id, message_id, type, event, name, user_id, anonymous_id,
  group_id, previous_id, session_id, timestamp, sent_at, received_at, properties, traits, context)
SELECT ($1::text[])[x.j], x.m, x.t, x.e, x.n, x.u, x.a, x.g, x.pv, x.s, x.ts, x.sa, ($2::timestamptz[])[x.j],
  coalesce(x.pj, '{}'::jsonb), coalesce(x.tj, '{}'::jsonb), coalesce(x.cj, '{}'::jsonb)
FROM jsonb_to_recordset($3::jsonb) AS x(j int, m text, t text, e text, n text, u text, a text, g text, pv text,
  s text, ts timestamptz, sa timestamptz, pj jsonb, tj jsonb, cj jsonb)
ON CONFLICT (project_id, message_id) DO NOTHING
RETURNING project_id, message_id`;

const DEADLOCK = '40P01';

/**
 * Most JSON text in one statement, in UTF-16 units (at most 3 UTF-8 bytes
 * each, so under 192 MiB). A jsonb value is limited to 256 MiB; 5,000 large
 * events could otherwise come near it. A single request larger than this still
 * goes, alone (its body is bounded by maxBatchBytes).
 */
const MAX_GROUP_CHARS = 64 * 1024 * 1024;

// Project ids and messageIds never contain NUL (validated), so it separates them safely.
const keyOf = (projectId: string, messageId: string): string => `${projectId}\0${messageId}`;

// Lone surrogates: JSON.stringify escapes them (\ud800), and jsonb refuses such
// escapes. Over the text protocol they used to become U+FFFD (UTF-8 encoding);
// keep that. The `u` flag makes the class match unpaired surrogates only.
const LONE_SURROGATE = /[\ud800-\udfff]/gu;

/** `value` as a JSON string literal jsonb accepts. */
function jsonString(value: string): string {
  const text = JSON.stringify(value);
  // Escapes other than \" and \\ come out as \uXXXX only for control characters and lone surrogates: rare.
  return text.includes('\\u') ? JSON.stringify(value.replace(LONE_SURROGATE, '\ufffd')) : text;
}

/**
 * One row as a JSON object, by concatenation: the JSON columns are already
 * JSON text (from validation), so nothing is serialised twice. Types and
 * timestamps need no escaping (an {@link EventType} and ISO strings from
 * `parseTimestamp`/`toISOString`); NULL columns and empty objects are left out.
 */
function recordOf(job: number, row: EventRow): string {
  let r = `{"j":${job},"m":${jsonString(row.messageId)},"t":"${row.type}","ts":"${row.timestamp}"`;
  if (row.event !== null) r += `,"e":${jsonString(row.event)}`;
  if (row.name !== null) r += `,"n":${jsonString(row.name)}`;
  if (row.userId !== null) r += `,"u":${jsonString(row.userId)}`;
  if (row.anonymousId !== null) r += `,"a":${jsonString(row.anonymousId)}`;
  if (row.groupId !== null) r += `,"g":${jsonString(row.groupId)}`;
  if (row.previousId !== null) r += `,"pv":${jsonString(row.previousId)}`;
  if (row.sessionId !== null) r += `,"s":${jsonString(row.sessionId)}`;
  if (row.sentAt !== null) r += `,"sa":"${row.sentAt}"`;
  if (row.properties !== '{}') r += `,"pj":${row.properties}`;
  if (row.traits !== '{}') r += `,"tj":${row.traits}`;
  if (row.context !== '{}') r += `,"cj":${row.context}`;
  return `${r}}`;
}

/** Rough size of a request's rows in the statement, for {@link MAX_GROUP_CHARS}. */
function charsOf(rows: readonly EventRow[]): number {
  let chars = 0;
  for (const row of rows) chars += row.properties.length + row.traits.length + row.context.length + 256;
  return chars;
}

/**
 * The write path: one multi-row `INSERT ... SELECT FROM jsonb_to_recordset($3)`
 * per group of requests, `ON CONFLICT DO NOTHING` for dedupe, `RETURNING` to tell each
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
    const projectIds: string[] = [];
    const receivedAts: string[] = [];
    const records: string[] = [];
    for (let j = 0; j < group.length; j++) {
      const job = group[j]!;
      job.accepted = 0;
      projectIds.push(job.projectId);
      receivedAts.push(job.receivedAt);
      for (const row of job.rows) {
        const key = keyOf(job.projectId, row.messageId);
        // A messageId repeated within the group is a duplicate of its first occurrence.
        if (owners.has(key)) continue;
        owners.set(key, job);
        // `j` indexes the request's project and receipt time (SQL arrays start at 1).
        records.push(recordOf(j + 1, row));
      }
    }
    if (records.length === 0) return;

    try {
      // pg and PGlite both send a string parameter as is, whatever its type.
      const { rows } = await db.query<{ project_id: string; message_id: string }>(INSERT_SQL, [
        projectIds,
        receivedAts,
        `[${records.join(',')}]`,
      ]);
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
        queue.push({ projectId, receivedAt, rows, chars: charsOf(rows), accepted: 0, resolve, reject });
        pump();
      });
    },
    drain() {
      if (running === 0 && queue.length === 0) return Promise.resolve();
      return new Promise<void>((resolve) => idleWaiters.push(resolve));
    },
  };
}
