import { mkdir } from 'node:fs/promises';
import { Worker } from 'node:worker_threads';
import { PGlite } from '@electric-sql/pglite';
import { copyData } from './copyRows';
import type { Database, QueryResult, Queryable, Row } from './database';

/** How {@link openPgliteDatabase} runs the engine. */
export interface PgliteOptions {
  /**
   * Run PGlite on a worker thread (`worker/pglite-worker.mjs`), so that its
   * statements no longer stop the event loop: the collector reads requests
   * while the engine stores earlier ones, on a second core (decision 0016).
   * `false` runs it on the calling thread.
   * @default true
   */
  thread?: boolean | undefined;
}

/**
 * Open (creating on first use) an embedded PostgreSQL in `dataDir`.
 * PGlite runs one statement at a time, so callers need no pool.
 */
export async function openPgliteDatabase(dataDir: string, options: PgliteOptions = {}): Promise<Database> {
  return options.thread === false ? openInThread(dataDir) : openOnWorker(dataDir);
}

// A COPY's data, as PGlite reads it: from the blob passed along, under this name.
const copySql = (table: string, columns: readonly string[]) => `COPY ${table} (${columns.join(', ')}) FROM '/dev/blob' (FORMAT binary)`;

async function openInThread(dataDir: string): Promise<Database> {
  await mkdir(dataDir, { recursive: true });
  const pg = await PGlite.create({ dataDir });
  let closed: Promise<void> | undefined;

  const wrap = (q: Pick<PGlite, 'query' | 'exec'>): Required<Queryable> => ({
    async query<R extends Row = Row>(sql: string, params?: readonly unknown[]): Promise<QueryResult<R>> {
      const result = await q.query<R>(sql, params ? [...params] : undefined);
      return { rows: result.rows };
    },
    async exec(sql: string): Promise<void> {
      await q.exec(sql);
    },
    async copyIn(table: string, columns: readonly string[], chunks: readonly Buffer[]): Promise<void> {
      await q.query(copySql(table, columns), [], { blob: new Blob(copyData(chunks) as BlobPart[]) });
    },
  });
  const root = wrap(pg);

  return {
    kind: 'pglite',
    ...root,
    transaction: (fn) => pg.transaction((tx) => fn(wrap(tx))),
    close() {
      closed ??= pg.close();
      return closed;
    },
  };
}

/** What the worker answers (see worker/pglite-worker.mjs). */
interface Answer {
  id?: number;
  rows?: Row[];
  tx?: number;
  error?: Record<string, unknown> & { message: string };
  ready?: boolean;
  failed?: Record<string, unknown> & { message: string };
}

/** An Error again from the worker's plain fields, `code` (SQLSTATE) and the others included. */
function revive(fields: Record<string, unknown> & { message: string }): Error {
  const { message, name: _name, stack: _stack, ...rest } = fields;
  return Object.assign(new Error(message), rest);
}

// How long close() lets PGlite finish and close before the thread is stopped.
const CLOSE_TIMEOUT_MS = 5_000;

async function openOnWorker(dataDir: string): Promise<Database> {
  // Next to migrations/: one level up from both src/ and dist/.
  const worker = new Worker(new URL('../worker/pglite-worker.mjs', import.meta.url), { workerData: { dataDir } });
  const pending = new Map<number, { resolve: (answer: Answer) => void; reject: (error: Error) => void }>();
  let nextId = 1;
  let gone: Error | undefined;
  let closed: Promise<void> | undefined;

  const failAll = (error: Error) => {
    gone ??= error;
    for (const { reject } of pending.values()) reject(error);
    pending.clear();
  };

  try {
    await new Promise<void>((resolve, reject) => {
      const onStart = (answer: Answer) => {
        worker.off('message', onStart);
        if (answer.failed) reject(revive(answer.failed));
        else resolve();
      };
      worker.on('message', onStart);
      worker.once('error', reject);
      worker.once('exit', (code) => reject(new Error(`The PGlite worker exited (code ${code}) while opening ${dataDir}.`)));
    });
  } catch (error) {
    await worker.terminate();
    throw error;
  }
  worker.on('message', (answer: Answer) => {
    const waiting = answer.id === undefined ? undefined : pending.get(answer.id);
    if (!waiting) return;
    pending.delete(answer.id!);
    if (answer.error) waiting.reject(revive(answer.error));
    else waiting.resolve(answer);
  });
  worker.on('error', (error) => failAll(error));
  worker.on('exit', (code) => failAll(new Error(`The PGlite worker exited (code ${code}).`)));

  function call(message: Record<string, unknown>, transfer: ArrayBuffer[] = []): Promise<Answer> {
    if (gone) return Promise.reject(gone);
    const id = nextId++;
    return new Promise<Answer>((resolve, reject) => {
      pending.set(id, { resolve, reject });
      try {
        worker.postMessage({ ...message, id }, transfer);
      } catch (error) {
        // A parameter structured clone cannot copy.
        pending.delete(id);
        reject(error);
      }
    });
  }

  const queryable = (tx: number | undefined): Required<Queryable> => ({
    async query<R extends Row = Row>(sql: string, params?: readonly unknown[]): Promise<QueryResult<R>> {
      const answer = await call({ op: 'query', sql, params, tx });
      return { rows: (answer.rows ?? []) as R[] };
    },
    async exec(sql: string): Promise<void> {
      await call({ op: 'exec', sql, tx });
    },
    async copyIn(table: string, columns: readonly string[], chunks: readonly Buffer[]): Promise<void> {
      // One exact copy, handed over (transferred): structured clone would copy each Buffer's whole
      // underlying memory, and the writer keeps its chunks to send them again alone if need be.
      const parts = copyData(chunks);
      const data = new Uint8Array(parts.reduce((bytes, part) => bytes + part.length, 0));
      let at = 0;
      for (const part of parts) {
        data.set(part, at);
        at += part.length;
      }
      await call({ op: 'query', sql: copySql(table, columns), params: [], tx, blob: [data] }, [data.buffer]);
    },
  });
  const root = queryable(undefined);

  return {
    kind: 'pglite',
    ...root,
    async transaction(fn) {
      const { tx } = await call({ op: 'begin' });
      let result;
      try {
        result = await fn(queryable(tx));
      } catch (error) {
        await call({ op: 'end', tx, commit: false }).catch(() => {});
        throw error;
      }
      await call({ op: 'end', tx, commit: true });
      return result;
    },
    close() {
      closed ??= (async () => {
        // PGlite closes once the statement in progress ends; a stuck one must not hold shutdown.
        let timer: NodeJS.Timeout | undefined;
        const stuck = new Promise<void>((resolve) => (timer = setTimeout(resolve, CLOSE_TIMEOUT_MS)));
        if (!gone) await Promise.race([call({ op: 'close' }).catch(() => {}), stuck]);
        clearTimeout(timer);
        gone ??= new Error('The PGlite database is closed.');
        await worker.terminate();
      })();
      return closed;
    },
  };
}
