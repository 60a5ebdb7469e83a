import { enforceBounds, ids, type QueueItem } from './batcher';
import { byteLength } from './json';
import { memoryStorage, type QueueStorage } from './storage';

export type Queue = ReturnType<typeof createQueue>;

/**
 * The durable queue: an ordered memory mirror of the storage, written in batches
 * (one `setMany` per `commit()`, i.e. per drain of tracked calls), bounded by count and bytes (oldest dropped).
 * The storage is the truth shared by tabs; `sync()` re-reads it before a flush.
 */
export function createQueue(
  initialStorage: QueueStorage,
  maxCount: number,
  maxBytes: number,
  /** Storage failed: the queue now lives in memory. Called once. */
  onStorageError: (err: unknown) => void,
  onDrop: (reason: 'overflow' | 'corrupt', messageIds: string[]) => void,
) {
  let storage = initialStorage;
  let items: QueueItem[] = [];
  let bytes = 0;
  // Added but not yet confirmed written: kept across `sync()` re-reads.
  let unsaved = new Map<string, QueueItem>();
  let pending: QueueItem[] = [];
  let chain: Promise<unknown> = Promise.resolve();
  let degraded = false;

  const run = (op: () => Promise<unknown>): Promise<unknown> =>
    (chain = chain.then(op).catch((err) => {
      if (degraded) return;
      // Quota exceeded, private mode, a closed connection: keep going in memory, never crash.
      degraded = true;
      storage = memoryStorage(items.map((i) => [i.id, i.json]));
      unsaved.clear();
      onStorageError(err);
    }));

  const writePending = () => {
    const batch = pending;
    pending = [];
    return run(async () => {
      await storage.setMany(batch.map((i) => [i.id, i.json]));
      batch.forEach((i) => unsaved.delete(i.id));
    });
  };

  /** Write what `add()` queued, in one IndexedDB transaction; resolves once written (or degraded). */
  const commit = (): Promise<unknown> => {
    if (pending.length) writePending();
    return chain;
  };

  const bound = () => {
    const dropped = enforceBounds(items, maxCount, maxBytes, bytes);
    if (dropped.length) {
      dropped.forEach((i) => ((bytes -= i.size), unsaved.delete(i.id)));
      pending = pending.filter((i) => !dropped.includes(i));
      drop('overflow', ids(dropped));
    }
  };
  const drop = (reason: 'overflow' | 'corrupt', keys: string[]) => {
    void run(() => storage.delMany(keys));
    onDrop(reason, keys);
  };

  return {
    /** Queued items, oldest first. Read-only for callers. */
    get items(): readonly QueueItem[] {
      return items;
    },
    /** Sum of the queued events' JSON sizes. */
    get bytes(): number {
      return bytes;
    },
    add(item: QueueItem): void {
      items.push(item);
      bytes += item.size;
      unsaved.set(item.id, item);
      pending.push(item);
      bound();
    },
    commit,
    /** Remove delivered (or rejected) items from memory and storage. */
    remove(done: readonly QueueItem[]): Promise<unknown> {
      items = items.filter((i) => !done.includes(i) || ((bytes -= i.size), false));
      return run(() => storage.delMany(ids(done)));
    },
    /** Wait for every write so far, then merge what other tabs stored. */
    async sync(): Promise<void> {
      await commit();
      let stored: Array<[IDBValidKey, unknown]> | undefined;
      await run(async () => (stored = await storage.entries()));
      // The read failed: `storage` is now memory seeded from the mirror.
      stored ??= await storage.entries();
      const known = new Map(items.map((i) => [i.id, i]));
      const corrupt: string[] = [];
      // Added while reading: not in `stored` yet, not lost either.
      items = [...unsaved.values()];
      for (const [key, value] of stored) {
        const id = String(key);
        const item = known.get(id) ?? parse(id, value);
        item ? items.push(item) : corrupt.push(id);
      }
      // messageIds are UUID v7: id order is time order, across tabs too.
      items.sort((a, b) => (a.id < b.id ? -1 : 1));
      bytes = items.reduce((n, i) => n + i.size, 0);
      if (corrupt.length) drop('corrupt', corrupt);
      bound();
    },
    /** Forget everything, in memory and in storage (opt-out). */
    clear(): Promise<unknown> {
      items = [];
      pending = [];
      bytes = 0;
      unsaved.clear();
      return run(() => storage.clear());
    },
  };
}

// Stored data can be anything (older versions, manual edits, a half-written record): check it.
function parse(id: string, value: unknown): QueueItem | undefined {
  if (typeof value != 'string') return;
  try {
    const e = JSON.parse(value);
    if (e && e.messageId === id && typeof e.type == 'string' && typeof e.context == 'object') return { id, json: value, size: byteLength(value) };
  } catch {}
}
