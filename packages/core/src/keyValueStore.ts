/** Small synchronous persistence (ids, session, opt-out). Replace it through `env.kv`. */
export interface KeyValueStore {
  get(key: string): string | null;
  set(key: string, value: string): void;
  remove(key: string): void;
}

/**
 * `localStorage`, shared by the tabs of the origin, falling back to memory where it is missing
 * or throws (SSR: ReferenceError; storage disabled by policy: SecurityError on access;
 * Safari private mode before 11: QuotaExceededError on `setItem`).
 */
export function createKeyValueStore(): KeyValueStore {
  // Values `localStorage` refused; read first. Read once: a throwing getter costs microseconds per call.
  const mem = new Map<string, string>();
  let ls: Storage | undefined;
  try {
    ls = globalThis.localStorage;
  } catch {}
  return {
    get(k) {
      // Where `localStorage` is missing this throws too.
      try {
        return mem.get(k) ?? ls!.getItem(k);
      } catch {
        return null;
      }
    },
    set(k, v) {
      try {
        ls!.setItem(k, v);
        mem.delete(k);
      } catch {
        mem.set(k, v);
      }
    },
    remove(k) {
      mem.delete(k);
      try {
        ls!.removeItem(k);
      } catch {}
    },
  };
}
