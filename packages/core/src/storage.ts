import { createStore, promisifyRequest } from 'idb-keyval';

/**
 * Where the queue persists: one key per event (its `messageId`), the value its JSON.
 * Replace it through `env.storage` (tests, other runtimes). Every method may reject;
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
 * every tab of the origin with the same write key. The four verbs are idb-keyval's `entries`,
 * `setMany`, `delMany` and `clear` written against our store only: importing idb-keyval's own
 * verbs also pulls its default store and a cursor fallback for browsers without `getAll`
 * (pre-2017), about 160 bytes gzipped of the 6 KB budget.
 */
export function idbStorage(name: string): QueueStorage {
  const store = createStore(name, 'events');
  // One readwrite transaction; resolves when it commits (durable), rejects on abort (quota).
  const write = (fn: (s: IDBObjectStore) => void) => store('readwrite', (s) => (fn(s), promisifyRequest(s.transaction)));
  return {
    entries: () =>
      store('readonly', (s) =>
        Promise.all([promisifyRequest(s.getAllKeys()), promisifyRequest(s.getAll())]).then(([keys, values]) => keys.map((k, i): [IDBValidKey, unknown] => [k, values[i]])),
      ),
    setMany: (e) => write((s) => e.forEach(([k, v]) => s.put(v, k))),
    delMany: (keys) => write((s) => keys.forEach((k) => s.delete(k))),
    clear: () => write((s) => s.clear()),
  };
}
