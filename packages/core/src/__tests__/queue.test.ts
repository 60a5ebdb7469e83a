import { createStore, entries, set, setMany } from 'idb-keyval';
import { beforeEach, describe, expect, it, vi } from 'vitest';
import { unstable_idbStorage, unstable_memoryStorage, type QueueStorage } from '../index';
import { setup, sleep, uniqueKey } from './helpers';

beforeEach(() => localStorage.clear());

const stored = (writeKey: string) => entries(createStore('sightline-' + writeKey, 'events'));

describe('queue bounds', () => {
  it('drops the oldest beyond maxQueueEvents and reports the counts', async () => {
    const { analytics, collector, dropped, online } = setup({ maxQueueEvents: 5, flushAt: 100 });
    online.set(false);
    for (let i = 0; i < 8; i++) analytics.track('E' + i);
    await vi.waitFor(() => expect(dropped.reduce((n, d) => n + d.count, 0)).toBe(3));
    expect(dropped.every((d) => d.reason === 'overflow')).toBe(true);
    online.set(true);
    await analytics.flush();
    expect(collector.names()).toEqual(['E3', 'E4', 'E5', 'E6', 'E7']);
  });

  it('drops the oldest beyond maxQueueBytes', async () => {
    const { analytics, collector, dropped, online } = setup({ maxQueueBytes: 5_000, flushAt: 100 });
    online.set(false);
    for (let i = 0; i < 6; i++) analytics.track('E' + i, { pad: 'x'.repeat(1200) });
    await analytics.flush();
    expect(dropped.reduce((n, d) => n + d.count, 0)).toBeGreaterThanOrEqual(2);
    online.set(true);
    await analytics.flush();
    expect(collector.names().at(-1)).toBe('E5');
    expect(collector.names()).not.toContain('E0');
  });
});

describe('a full queue', () => {
  // A memory storage that records each delete, to count transactions.
  const countingStorage = () => {
    const mem = unstable_memoryStorage();
    const deletes: string[][] = [];
    const writes: number[] = [];
    const storage: QueueStorage = {
      ...mem,
      delMany: (keys) => (deletes.push(keys), mem.delMany(keys)),
      setMany: (entries) => (writes.push(entries.length), mem.setMany(entries)),
    };
    return { storage, deletes, writes, keys: async () => (await mem.entries()).map(([k]) => String(k)) };
  };
  const drains = async (analytics: { track(event: string): void; flush(): Promise<void> }, from: number, count: number, size: number) => {
    for (let d = 0; d < count; d++) {
      for (let i = 0; i < size; i++) analytics.track('E' + (from + d * size + i));
      await analytics.flush();
    }
  };

  it('drops the oldest once per drain: one delete and one report for all of its events', async () => {
    const { storage, deletes, keys } = countingStorage();
    const { analytics, collector, dropped, online } = setup({ maxQueueEvents: 50, flushAt: 1000, storage });
    online.set(false);
    await drains(analytics, 0, 1, 50);
    expect(deletes).toHaveLength(0);
    await drains(analytics, 50, 3, 20);
    // Three drains of 20 on a full queue: three deletes of 20, not 60 deletes of one.
    expect(deletes.map((d) => d.length)).toEqual([20, 20, 20]);
    expect(dropped).toEqual([20, 20, 20].map((count) => ({ reason: 'overflow', count })));
    expect(await keys()).toHaveLength(50);
    online.set(true);
    await analytics.flush();
    expect(collector.names()).toEqual(Array.from({ length: 50 }, (_, i) => 'E' + (60 + i)));
  });

  it('a drain larger than the bound keeps its newest events, and never writes the others', async () => {
    const { storage, keys, writes } = countingStorage();
    const { analytics, collector, dropped, online } = setup({ maxQueueEvents: 50, flushAt: 1000, storage });
    online.set(false);
    await drains(analytics, 0, 1, 120);
    expect(dropped).toEqual([{ reason: 'overflow', count: 70 }]);
    expect(writes).toEqual([50]);
    expect(await keys()).toHaveLength(50);
    online.set(true);
    await analytics.flush();
    expect(collector.names()).toEqual(Array.from({ length: 50 }, (_, i) => 'E' + (70 + i)));
  });
});

describe('IndexedDB persistence', () => {
  it('stores the events of one drain as one record keyed by the first messageId', async () => {
    const writeKey = uniqueKey();
    const { analytics, online } = setup({ writeKey, storage: 'auto' });
    online.set(false);
    analytics.track('A');
    analytics.track('B');
    await analytics.flush();
    analytics.track('C');
    await analytics.flush();
    const rows = await stored(writeKey);
    expect(rows).toHaveLength(2);
    // Each record holds [id, json] pairs, keyed by its first id; each id is its event's messageId.
    const records = rows.map(([key, value]) => [key, value as Array<[string, string]>] as const);
    expect(records.map(([, pairs]) => pairs.map(([, json]) => JSON.parse(json).event))).toEqual([['A', 'B'], ['C']]);
    for (const [key, pairs] of records) {
      expect(key).toBe(pairs[0]![0]);
      for (const [id, json] of pairs) expect(JSON.parse(json).messageId).toBe(id);
    }
  });

  it('survives a reload: a new instance on the same store sends what the old one left, none lost', async () => {
    const writeKey = uniqueKey();
    const first = setup({ writeKey, storage: 'auto' });
    first.online.set(false);
    for (let i = 0; i < 30; i++) first.analytics.track('E' + i);
    await first.analytics.flush();
    // "Reload": the old page dies without sending.
    await first.analytics.shutdown();

    const second = setup({ writeKey, storage: 'auto' });
    second.analytics.track('After');
    await vi.waitFor(() => expect(second.collector.stored.size).toBe(31));
    expect(second.collector.names()).toEqual([...Array.from({ length: 30 }, (_, i) => 'E' + i), 'After']);
    // Delivered events are removed from IndexedDB.
    await vi.waitFor(async () => expect(await stored(writeKey)).toHaveLength(0));
  });

  it('keeps events stored until a 2xx confirms them', async () => {
    const writeKey = uniqueKey();
    let ok = false;
    const { analytics, collector } = setup({ writeKey, storage: 'auto', retry: { baseDelay: 10_000, maxDelay: 10_000 }, env: { random: () => 0.99 } }, () => (ok ? 200 : 503));
    analytics.track('A');
    await analytics.flush();
    expect(collector.requests).toHaveLength(1);
    expect(await stored(writeKey)).toHaveLength(1);
    ok = true;
    await analytics.flush();
    expect(await stored(writeKey)).toHaveLength(0);
  });

  it('skips and deletes corrupt stored entries with a report', async () => {
    const writeKey = uniqueKey();
    const store = createStore('sightline-' + writeKey, 'events');
    const good = { type: 'track', event: 'Good', messageId: 'm-good', timestamp: new Date().toISOString(), anonymousId: 'a', context: {} };
    await setMany(
      [
        ['m-good', JSON.stringify(good)],
        ['m-bad-json', '{nope'],
        ['m-object', { not: 'a string' }],
        ['m-mismatch', JSON.stringify({ ...good, messageId: 'other' })],
      ],
      store,
    );
    const { analytics, collector, errors, dropped } = setup({ writeKey, storage: 'auto' });
    await analytics.flush();
    expect(collector.names()).toEqual(['Good']);
    expect(dropped).toEqual([{ reason: 'corrupt', count: 3 }]);
    expect(errors.map((e) => e.code)).toContain('storage');
    expect(await entries(store)).toHaveLength(0);
  });

  it('reads events another tab stored before flushing', async () => {
    const writeKey = uniqueKey();
    const { analytics, collector } = setup({ writeKey, storage: 'auto' });
    const other = { type: 'track', event: 'From Other Tab', messageId: '00000000-0000-7000-8000-000000000001', timestamp: new Date().toISOString(), anonymousId: 'a', context: {} };
    await set(other.messageId, JSON.stringify(other), createStore('sightline-' + writeKey, 'events'));
    analytics.track('Mine');
    await analytics.flush();
    expect(collector.names()).toEqual(['From Other Tab', 'Mine']);
  });
});

describe('idbStorage records', () => {
  const entry = (id: string): [string, string] => [id, JSON.stringify({ type: 'track', event: id, messageId: id, anonymousId: 'a', context: {} })];

  it('deleting part of a record rewrites it with the rest; deleting the rest removes it', async () => {
    const name = 'sightline-' + uniqueKey();
    const storage = unstable_idbStorage(name);
    await storage.setMany([entry('m1'), entry('m2'), entry('m3')]);
    await storage.delMany(['m2']);
    expect((await storage.entries()).map(([k]) => k)).toEqual(['m1', 'm3']);
    expect(await entries(createStore(name, 'events'))).toEqual([['m1', [entry('m1'), entry('m3')]]]);
    await storage.delMany(['m1', 'm3']);
    expect(await entries(createStore(name, 'events'))).toEqual([]);
  });

  it("a second instance (another tab) deletes inside records it has read, without losing the others' events", async () => {
    const name = 'sightline-' + uniqueKey();
    const tabA = unstable_idbStorage(name);
    const tabB = unstable_idbStorage(name);
    await tabA.setMany([entry('a1'), entry('a2')]);
    await tabB.setMany([entry('b1')]);
    await tabB.entries();
    await tabB.delMany(['a1', 'b1']);
    // A keeps writing after B rewrote A's record: nothing of either is lost.
    await tabA.setMany([entry('a3')]);
    expect((await tabA.entries()).map(([k]) => k).sort()).toEqual(['a2', 'a3']);
  });

  it('reads and deletes events stored one key each (the earlier layout)', async () => {
    const name = 'sightline-' + uniqueKey();
    await setMany([entry('old1'), entry('old2')], createStore(name, 'events'));
    const storage = unstable_idbStorage(name);
    expect((await storage.entries()).map(([k]) => k)).toEqual(['old1', 'old2']);
    await storage.delMany(['old1']);
    expect(await entries(createStore(name, 'events'))).toEqual([entry('old2')]);
  });

  it('a record with a corrupt entry loses that entry only', async () => {
    const writeKey = uniqueKey();
    const good = { type: 'track', event: 'Good', messageId: 'm-good', timestamp: new Date().toISOString(), anonymousId: 'a', context: {} };
    await set('m-good', [['m-good', JSON.stringify(good)], [7, { not: 'json' }], ['m-half']], createStore('sightline-' + writeKey, 'events'));
    const { analytics, collector, dropped } = setup({ writeKey, storage: 'auto' });
    await analytics.flush();
    expect(collector.names()).toEqual(['Good']);
    expect(dropped).toEqual([{ reason: 'corrupt', count: 2 }]);
    await vi.waitFor(async () => expect(await stored(writeKey)).toHaveLength(0));
  });
});

describe('storage failures degrade to memory', () => {
  it('a failing storage (quota) is reported once; delivery goes on from memory', async () => {
    const failing: QueueStorage = {
      entries: async () => [],
      setMany: () => Promise.reject(new DOMException('quota', 'QuotaExceededError')),
      delMany: async () => {},
      clear: async () => {},
    };
    const { analytics, collector, errors } = setup({ storage: failing });
    analytics.track('A');
    analytics.track('B');
    await analytics.flush();
    analytics.track('C');
    await analytics.flush();
    expect(collector.names()).toEqual(['A', 'B', 'C']);
    expect(errors.filter((e) => e.code === 'storage')).toHaveLength(1);
  });

  it('a storage whose reads fail keeps the in-memory events', async () => {
    const mem = unstable_memoryStorage();
    const flaky: QueueStorage = { ...mem, entries: () => Promise.reject(new Error('InvalidStateError')) };
    const { analytics, collector, errors } = setup({ storage: flaky });
    analytics.track('A');
    await analytics.flush();
    expect(collector.names()).toEqual(['A']);
    expect(errors.map((e) => e.code)).toEqual(['storage']);
  });

  it('storage: memory never touches IndexedDB', async () => {
    const writeKey = uniqueKey();
    const { analytics, online } = setup({ writeKey, storage: 'memory' });
    online.set(false);
    analytics.track('A');
    await sleep(10);
    expect(await stored(writeKey)).toHaveLength(0);
  });
});
