import { createStore, promisifyRequest } from 'idb-keyval';

/**
 * Where the queue persists, seen as one entry per event: key its `messageId`, value its JSON
 * (how entries map to records is the storage's business). Replace it through `env.storage` (tests, other runtimes). Every method may reject;
 * the queue then falls back to memory.
 */
export interface QueueStorage {
  /** Every stored `[key, value]`; values may be anything (the queue validates them). */
  entries(): Promise<Array<[IDBValidKey, unknown]>>;
  setMany(entries: Array<[string, string]>): Promise<void>;
  delMany(keys: string[]): Promise<void>;
  clear(): Promise<void>;
}

/** A `QueueStorage` in a `Map`: the fallback where IndexedDB is missing or failing. */
export function memoryStorage(seed?: Iterable<[string, string]>): QueueStorage {
  const map = new Map<string, string>(seed);
  return {
    entries: async () => [...map],
    setMany: async (e) => e.forEach(([k, v]) => map.set(k, v)),
    delMany: async (keys) => keys.forEach((k) => map.delete(k)),
    clear: async () => map.clear(),
  };
}

/**
 * IndexedDB through idb-keyval's `createStore` (database `name`, object store `events`), shared by
 * every tab of the origin with the same write key.
 *
 * One record per `setMany` (a drain of tracked calls), keyed by its first messageId, holding its
 * `[id, json]` pairs: Chromium charges 30-40 us of main-thread time per `put` whatever its size, so
 * one key per event could not meet the 20 us/event budget (decision 0006). Deleting some of a
 * record's events rewrites it with the rest inside one transaction, so tabs never lose each
 * other's writes. A plain value under a messageId is read as one event (the earlier layout).
 *
 * The verbs are written against our store only: idb-keyval's own also pull its default store and a
 * cursor fallback for pre-2017 browsers, about 160 bytes gzipped of the 6 KB budget.
 */
export function idbStorage(name: string): QueueStorage {
  const store = createStore(name, 'events');
  // The record holding each event id stored (as of the last `entries()`, plus this tab's writes).
  const where = new Map<string, IDBValidKey>();
  // One readwrite transaction; resolves when it commits (durable), rejects on abort (quota).
  const write = (fn: (s: IDBObjectStore) => void) => store('readwrite', (s) => (fn(s), promisifyRequest(s.transaction)));
  // Stored data can be anything (older versions, manual edits): the queue validates each pair.
  const pairs = (v: unknown, k: IDBValidKey): Array<[string, unknown]> =>
    (Array.isArray(v) ? v : [[k, v]]).map((p) => [String(p?.[0]), p?.[1]]);
  return {
    entries: () =>
      store('readonly', (s) =>
        Promise.all([promisifyRequest(s.getAllKeys()), promisifyRequest(s.getAll())]).then(([keys, values]) => {
          where.clear();
          return keys.flatMap((k, i) => pairs(values[i], k).map((p) => (where.set(p[0], k), p)));
        }),
      ),
    setMany: (e) =>
      write((s) => {
        const k = e[0]?.[0];
        if (k) s.put(e, k), e.forEach(([id]) => where.set(id, k));
      }),
    delMany: (ids) =>
      write((s) => {
        const gone = new Set(ids);
        new Set(ids.map((id) => where.get(id) ?? id)).forEach((k) => {
          const r = s.get(k);
          r.onsuccess = () => {
            const keep = Array.isArray(r.result) ? pairs(r.result, k).filter((p) => !gone.has(p[0])) : [];
            keep.length ? s.put(keep, k) : s.delete(k);
          };
        });
      }),
    clear: () => write((s) => s.clear()),
  };
}
