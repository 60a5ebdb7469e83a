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
  /**
   * Told when the worker thread is lost: it stopped unexpectedly (a crash of the
   * engine, the thread running out of memory), or a message between the threads
   * could not be read, after which it is stopped. Statements in flight fail with that error,
   * open transactions are lost, and the next statement opens the data
   * directory again on a new thread (PostgreSQL's crash recovery replays what
   * was committed). Only with `thread: true`.
   * @default a warning on stderr
   */
  onWorkerExit?: ((error: Error) => void) | undefined;
  /** @internal For tests: each worker thread as it starts. */
  onWorkerStart?: ((worker: Worker) => void) | undefined;
}

/**
 * Open (creating on first use) an embedded PostgreSQL in `dataDir`.
 * PGlite runs one statement at a time, so callers need no pool.
 */
export async function openPgliteDatabase(dataDir: string, options: PgliteOptions = {}): Promise<Database> {
  return options.thread === false ? openInThread(dataDir) : openOnWorker(dataDir, options);
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

// After a failed restart, statements fail at once with its error for this long before the next try.
const RESTART_BACKOFF_MS = 1_000;

// The worker's exit code when a call posted to it could not be deserialized (worker/pglite-worker.mjs).
const UNREADABLE_CALL_EXIT = 97;

/** One worker thread and the calls it has not answered yet. */
interface Lane {
  worker: Worker;
  pending: Map<number, { resolve: (answer: Answer) => void; reject: (error: Error) => void }>;
  /** Counts the threads started: a transaction belongs to the one that began it. */
  generation: number;
  nextId: number;
  /** Why the thread was lost, once it was. A guard: calls go to the current lane, which is never a lost one. */
  lost?: Error;
}

/** Post `message` to the lane's thread; resolves with its answer, rejects with its error. */
function post(lane: Lane, message: Record<string, unknown>, transfer: ArrayBuffer[] = []): Promise<Answer> {
  if (lane.lost) return Promise.reject(lane.lost);
  const id = lane.nextId++;
  return new Promise<Answer>((resolve, reject) => {
    lane.pending.set(id, { resolve, reject });
    try {
      lane.worker.postMessage({ ...message, id }, transfer);
    } catch (error) {
      // A parameter structured clone cannot copy.
      lane.pending.delete(id);
      reject(error);
    }
  });
}

/** Fail every call the lane's thread has not answered. */
function failPending(lane: Lane, error: Error): void {
  for (const { reject } of lane.pending.values()) reject(error);
  lane.pending.clear();
}

/** Start a worker on `dataDir` and wait until PGlite is open on it. */
async function startLane(dataDir: string, generation: number, onStart?: (worker: Worker) => void): Promise<Lane> {
  // Next to migrations/: one level up from both src/ and dist/.
  const worker = new Worker(new URL('../worker/pglite-worker.mjs', import.meta.url), { workerData: { dataDir } });
  onStart?.(worker);
  try {
    await new Promise<void>((resolve, reject) => {
      const onReady = (answer: Answer) => {
        worker.off('message', onReady);
        if (answer.failed) reject(revive(answer.failed));
        else resolve();
      };
      worker.on('message', onReady);
      worker.once('error', reject);
      worker.once('exit', (code) => reject(new Error(`The PGlite worker exited (code ${code}) while opening ${dataDir}.`)));
    });
  } catch (error) {
    await worker.terminate();
    throw error;
  }
  const lane: Lane = { worker, pending: new Map(), generation, nextId: 1 };
  worker.on('message', (answer: Answer) => {
    const waiting = answer.id === undefined ? undefined : lane.pending.get(answer.id);
    if (!waiting) return;
    lane.pending.delete(answer.id!);
    if (answer.error) waiting.reject(revive(answer.error));
    else waiting.resolve(answer);
  });
  return lane;
}

async function openOnWorker(dataDir: string, options: PgliteOptions): Promise<Database> {
  const onWorkerExit =
    options.onWorkerExit ?? ((error: Error) => process.emitWarning(`[sightline] ${error.message} Opening ${dataDir} again on a new thread.`));
  let generation = 1;
  let lane: Lane | undefined;
  let restarting: Promise<Lane> | undefined;
  let restartFailure: { error: Error; at: number } | undefined;
  let closed: Promise<void> | undefined;
  let closedError: Error | undefined;

  // Resolves once the last thread that failed has exited: a new one must not open the directory before.
  let previousExit: Promise<void> = Promise.resolve();
  // A thread that stops without close(): fail what it held, and let the next call start another.
  const watch = (current: Lane) => {
    const startedAt = Date.now();
    const exited = new Promise<void>((resolve) => current.worker.once('exit', () => resolve()));
    const lose = (error: Error) => {
      if (current.lost) return;
      current.lost = closedError ?? error;
      // Even while closing: close() must not wait for answers a dead thread will never send.
      failPending(current, closedError ?? error);
      if (closedError) return;
      if (lane === current) lane = undefined;
      previousExit = exited;
      // A thread that dies right after it started would be reopened on every statement: wait first.
      if (Date.now() - startedAt < RESTART_BACKOFF_MS) restartFailure = { error, at: Date.now() };
      onWorkerExit(error);
    };
    current.worker.on('error', (error) => lose(new Error(`The PGlite worker failed: ${error.message}.`)));
    current.worker.on('exit', (code) =>
      lose(
        new Error(
          code === UNREADABLE_CALL_EXIT
            ? 'A call could not be read by the PGlite worker, which stopped.'
            : `The PGlite worker stopped (exit code ${code}).`,
        ),
      ),
    );
    // An answer that cannot be read names no call, so one statement would wait forever: replace the thread instead.
    current.worker.on('messageerror', (error) => {
      lose(new Error(`An answer of the PGlite worker could not be read (${error.message}).`));
      void current.worker.terminate();
    });
  };

  lane = await startLane(dataDir, generation, options.onWorkerStart);
  watch(lane);
  // close() awaits it, so that no thread has the directory open once close() resolves.
  let stopping: Promise<unknown> = Promise.resolve();

  function currentLane(): Promise<Lane> {
    if (lane) return Promise.resolve(lane);
    if (restartFailure && Date.now() - restartFailure.at < RESTART_BACKOFF_MS) return Promise.reject(restartFailure.error);
    restarting ??= previousExit.then(() => startLane(dataDir, ++generation, options.onWorkerStart)).then(
      (started) => {
        restarting = undefined;
        restartFailure = undefined;
        // close() may have run meanwhile: then this thread only has to stop.
        if (closedError) {
          stopping = started.worker.terminate();
          throw closedError;
        }
        lane = started;
        watch(started);
        return started;
      },
      (error: Error) => {
        restarting = undefined;
        restartFailure = { error, at: Date.now() };
        throw error;
      },
    );
    return restarting;
  }

  /** Post `message` to the worker and wait for its answer; `owner` is the thread a transaction began on. */
  async function call(message: Record<string, unknown>, transfer: ArrayBuffer[] = [], owner?: number): Promise<Answer & { generation: number }> {
    if (closedError) throw closedError;
    if (owner !== undefined && owner !== lane?.generation) {
      throw new Error('The transaction was lost: the PGlite worker stopped while it was open.');
    }
    const target = await currentLane();
    return { ...(await post(target, message, transfer)), generation: target.generation };
  }

  const queryable = (tx: number | undefined, owner: number | undefined): Required<Queryable> => ({
    async query<R extends Row = Row>(sql: string, params?: readonly unknown[]): Promise<QueryResult<R>> {
      const answer = await call({ op: 'query', sql, params, tx }, [], owner);
      return { rows: (answer.rows ?? []) as R[] };
    },
    async exec(sql: string): Promise<void> {
      await call({ op: 'exec', sql, tx }, [], owner);
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
      await call({ op: 'query', sql: copySql(table, columns), params: [], tx, blob: [data] }, [data.buffer], owner);
    },
  });
  const root = queryable(undefined, undefined);

  return {
    kind: 'pglite',
    ...root,
    async transaction(fn) {
      const { tx, generation: owner } = await call({ op: 'begin' });
      let result;
      try {
        result = await fn(queryable(tx, owner));
      } catch (error) {
        await call({ op: 'end', tx, commit: false }, [], owner).catch(() => {});
        throw error;
      }
      await call({ op: 'end', tx, commit: true }, [], owner);
      return result;
    },
    close() {
      closed ??= (async () => {
        // No restart from here on; a restart under way finds closedError and stops its thread.
        closedError = new Error('The PGlite database is closed.');
        const current = lane;
        if (!current) {
          await restarting?.catch(() => {});
          await stopping;
          // A lost thread may still be stopping, with the directory open.
          await previousExit;
          return;
        }
        // PGlite closes once the statement in progress ends; a stuck one must not hold shutdown.
        let timer: NodeJS.Timeout | undefined;
        const stuck = new Promise<void>((resolve) => (timer = setTimeout(resolve, CLOSE_TIMEOUT_MS)));
        await Promise.race([post(current, { op: 'close' }).catch(() => {}), stuck]);
        clearTimeout(timer);
        failPending(current, closedError);
        await current.worker.terminate();
      })();
      return closed;
    },
  };
}
