import { enforceBounds, ids, type QueueItem } from './batcher';
import type { Emitter } from './emitter';
import type { Reporter } from './errors';
import { byteLength } from './json';
import { memoryStorage, type QueueStorage } from './storage';
import type { AnalyticsEventMap, DroppedEvent } from './types';

export type Queue = ReturnType<typeof createQueue>;

/**
 * The durable queue: an ordered memory mirror of the storage, written in batches
 * (one `setMany` per `commit()`, i.e. per drain of tracked calls), bounded by count and bytes at
 * each commit (oldest dropped).
 * The storage is the truth shared by tabs; `sync()` re-reads it before a flush.
 */
export function createQueue(
  initialStorage: QueueStorage,
  maxCount: number,
  maxBytes: number,
  report: Reporter,
  emit: Emitter<AnalyticsEventMap>['emit'],
) {
  let storage = initialStorage;
  let items: QueueItem[] = [];
  let bytes = 0;
  // Added but not yet confirmed written: kept across `sync()` re-reads.
  const unsaved = new Set<QueueItem>();
  let pending: QueueItem[] = [];
  let chain: Promise<unknown> = Promise.resolve();

  // Quota exceeded, private mode, a closed connection: keep going in memory, never crash. Runs
  // once: operations run one at a time, and the memory storage never fails.
  const run = (op: () => Promise<unknown>): Promise<unknown> =>
    (chain = chain.then(op).catch((err) => {
      storage = memoryStorage(items.map((i) => [i.id, i.json]));
      unsaved.clear();
      report('storage', 'IndexedDB unavailable: queue in memory', err);
    }));

  /**
   * Enforce the bounds, delete what they dropped in one IndexedDB transaction, then write what
   * `add()` queued and was not dropped in one more. Once per drain, not per event: one transaction
   * per dropped event made every call on a full queue cost milliseconds. Resolves once written
   * (or degraded).
   */
  const commit = (): Promise<unknown> => {
    const dropped = new Set(enforceBounds(items, maxCount, maxBytes, bytes));
    dropped.forEach((i) => ((bytes -= i.size), unsaved.delete(i)));
    if (dropped.size) drop('overflow', ids([...dropped]));
    const batch = pending.filter((i) => !dropped.has(i));
    pending = [];
    if (batch.length)
      run(async () => {
        await storage.setMany(batch.map((i) => [i.id, i.json]));
        batch.forEach((i) => unsaved.delete(i));
      });
    return chain;
  };

  const drop = (reason: DroppedEvent['reason'], messageIds: string[]) => {
    void run(() => storage.delMany(messageIds));
    emit('dropped', { reason, count: messageIds.length, messageIds });
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
      unsaved.add(item);
      pending.push(item);
    },
    commit,
    /** Remove delivered (or rejected) items from memory and storage. */
    remove(done: readonly QueueItem[]): Promise<unknown> {
      items = items.filter((i) => !done.includes(i) || ((bytes -= i.size), false));
      return run(() => storage.delMany(ids(done)));
    },
    /** Wait for every write so far, then merge what other tabs stored. */
    async sync(): Promise<void> {
      commit();
      // Undefined when the read failed: `storage` is now memory seeded from the mirror.
      const stored = ((await run(() => storage.entries())) as Array<[IDBValidKey, unknown]> | undefined) ?? (await storage.entries());
      const known = new Map(items.map((i) => [i.id, i]));
      const corrupt: string[] = [];
      // Added while reading: not in `stored` yet, not lost either.
      items = [...unsaved];
      for (const [key, value] of stored) {
        const id = String(key);
        let item = known.get(id);
        // Stored data can be anything (older versions, manual edits, a half-written record): check it.
        if (!item && typeof value == 'string')
          try {
            const e = JSON.parse(value);
            if (e && e.messageId === id && typeof e.type == 'string' && typeof e.context == 'object') item = { id, json: value, size: byteLength(value) };
          } catch {}
        item ? items.push(item) : corrupt.push(id);
      }
      // messageIds are UUID v7: id order is time order, across tabs too.
      items.sort((a, b) => (a.id < b.id ? -1 : 1));
      bytes = items.reduce((n, i) => n + i.size, 0);
      if (corrupt.length) report('storage', 'Skipped corrupt stored events'), drop('corrupt', corrupt);
      commit();
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
