// The embedded PostgreSQL (PGlite) on a thread of its own (docs/decisions/0016).
// PGlite runs its engine synchronously on the thread that calls it, so on the
// collector's main thread every COPY stopped the reading of other requests.
// Here the engine works while the main thread reads; src/pgliteDatabase.ts is
// the other end. Plain JavaScript, so that it runs unbuilt from src and dist.
//
// Messages in:  { id, op: 'query', sql, params?, tx?, blob? }   blob: COPY data chunks
//               { id, op: 'exec', sql, tx? }
//               { id, op: 'begin' }                             answers { tx }
//               { id, op: 'end', tx, commit }
//               { id, op: 'close' }
// Messages out: { ready: true } once open, or { failed: error }; then { id, rows? , tx? } or { id, error }.
import { parentPort, workerData } from 'node:worker_threads';
import { mkdir } from 'node:fs/promises';
import { PGlite } from '@electric-sql/pglite';

const port = parentPort;
/** @type {Map<number, { tx: any, end: (commit: boolean) => void, settled: Promise<void> }>} */
const transactions = new Map();
let nextTx = 1;
const ROLLBACK = new Error('rollback');

/**
 * An error as plain fields: structured clone keeps only the message of an Error, not `code` and
 * the others. Only the scalar ones (code, detail, severity, ...): PGlite also hangs the query's
 * options on its errors, with a failed COPY's whole data, which need not travel back.
 */
function plain(error) {
  if (!(error instanceof Error)) return { message: String(error) };
  const fields = {};
  for (const [key, value] of Object.entries(error)) if (value === null || ['string', 'number', 'boolean', 'bigint'].includes(typeof value)) fields[key] = value;
  return { ...fields, name: error.name, message: error.message };
}

async function open() {
  await mkdir(workerData.dataDir, { recursive: true });
  return PGlite.create({ dataDir: workerData.dataDir });
}

/**
 * Open a transaction that stays open until its `end` message; resolves with its id once inside.
 * PGlite holds every other statement until it ends, as it does for its own transaction().
 */
function begin(pg) {
  const id = nextTx++;
  return new Promise((resolve, reject) => {
    const entry = { tx: undefined, end: () => {}, settled: Promise.resolve() };
    const ending = new Promise((end) => (entry.end = end));
    entry.settled = pg
      .transaction(async (tx) => {
        entry.tx = tx;
        transactions.set(id, entry);
        resolve(id);
        if (!(await ending)) throw ROLLBACK;
      })
      .then(
        () => undefined,
        (error) => {
          if (error !== ROLLBACK) throw error;
        },
      );
    // BEGIN failed: no transaction to answer with. (Once resolved, `end` reports a failed COMMIT.)
    entry.settled.catch(reject);
  });
}

async function handle(pg, message) {
  const target = message.tx === undefined ? pg : transactions.get(message.tx)?.tx;
  if (target === undefined) throw new Error(`No open transaction ${message.tx}.`);
  switch (message.op) {
    case 'query': {
      const options = message.blob ? { blob: new Blob(message.blob) } : undefined;
      const result = await target.query(message.sql, message.params, options);
      return { rows: result.rows };
    }
    case 'exec':
      await target.exec(message.sql);
      return {};
    case 'begin':
      return { tx: await begin(pg) };
    case 'end': {
      const open = transactions.get(message.tx);
      transactions.delete(message.tx);
      open.end(message.commit);
      await open.settled;
      return {};
    }
    case 'close':
      await pg.close();
      return {};
    default:
      throw new Error(`Unknown operation ${message.op}.`);
  }
}

try {
  const pg = await open();
  const reply = (message) => {
    try {
      port.postMessage(message);
    } catch (error) {
      // A value structured clone cannot copy: the caller still gets an answer.
      port.postMessage({ id: message.id, error: { message: `Cannot send the result: ${error.message}` } });
    }
  };
  port.on('message', (message) => {
    handle(pg, message).then(
      (answer) => reply({ id: message.id, ...answer }),
      (error) => reply({ id: message.id, error: plain(error) }),
    );
  });
  // A call that cannot be read names no id to answer, and its caller would wait forever: stop the
  // thread instead; the main thread fails what was pending and opens a new one (as after a crash).
  // The exit code tells it why (UNREADABLE_CALL_EXIT in src/pgliteDatabase.ts).
  port.on('messageerror', () => process.exit(97));
  port.postMessage({ ready: true });
} catch (error) {
  port.postMessage({ failed: plain(error) });
}
