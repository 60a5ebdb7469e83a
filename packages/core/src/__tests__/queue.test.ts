import { createStore, entries, set, setMany } from 'idb-keyval';
import { beforeEach, describe, expect, it, vi } from 'vitest';
import { unstable_memoryStorage, type QueueStorage } from '../index';
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

describe('IndexedDB persistence', () => {
  it('stores one key per event, keyed by messageId', async () => {
    const writeKey = uniqueKey();
    const { analytics, online } = setup({ writeKey, storage: 'auto' });
    online.set(false);
    analytics.track('A');
    analytics.track('B');
    await analytics.flush();
    const rows = await stored(writeKey);
    expect(rows).toHaveLength(2);
    for (const [key, value] of rows) expect(JSON.parse(value as string).messageId).toBe(key);
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
