import { beforeEach, describe, expect, it, vi } from 'vitest';
import { createAnalytics, unstable_createLocalLockManager, type FetchLike } from '../index';
import { fakeCollector, fakeOnline, fakePageExit, uniqueKey } from './helpers';

beforeEach(() => localStorage.clear());

describe('several tabs on one store', () => {
  it('two instances never send the same event in parallel, and every event arrives', async () => {
    const writeKey = uniqueKey();
    const inFlight = new Map<string, number>();
    const sends = new Map<string, number>();
    let overlap = 0;
    // A slow collector: a parallel flush of the same events would overlap here.
    const fetch: FetchLike = async (_url, init) => {
      const ids: string[] = JSON.parse(init.body).batch.map((e: { messageId: string }) => e.messageId);
      for (const id of ids) {
        if (inFlight.get(id)) overlap++;
        inFlight.set(id, 1);
        sends.set(id, (sends.get(id) ?? 0) + 1);
      }
      await new Promise((r) => setTimeout(r, 15));
      ids.forEach((id) => inFlight.delete(id));
      return { status: 200, headers: { get: () => null } };
    };
    // happy-dom has no navigator.locks: a realm-wide lock stands in for it, as in a page with two clients.
    const tab = () =>
      createAnalytics({
        writeKey,
        host: 'https://c.test',
        flushAt: 5,
        flushInterval: 5,
        env: { fetch, online: fakeOnline().manager, pageExit: fakePageExit().manager, locks: unstable_createLocalLockManager() },
      });
    const a = tab();
    const b = tab();
    for (let i = 0; i < 20; i++) (i % 2 ? a : b).track('E' + i);
    await Promise.all([a.flush(), b.flush()]);
    await vi.waitFor(() => expect(sends.size).toBe(20), { timeout: 3000 });
    expect(overlap).toBe(0);
    expect([...sends.values()].every((n) => n === 1)).toBe(true);
  });

  it('a tab that dies holding the flush lock: an idle tab that found the lock busy sends its events', async () => {
    const writeKey = uniqueKey();
    const locks = unstable_createLocalLockManager();
    // Tab A's request never gets an answer: the tab closes mid-flush, its beacon is lost.
    let die!: (err: Error) => void;
    const hung = new Promise<never>((_, reject) => (die = reject));
    const requestsA: string[] = [];
    const onlineA = fakeOnline();
    const a = createAnalytics({
      writeKey,
      host: 'https://c.test',
      flushInterval: 5,
      // No retry within the test: tab A is gone.
      retry: { baseDelay: 60_000, maxDelay: 60_000 },
      env: { fetch: async () => (requestsA.push('batch'), hung), online: onlineA.manager, pageExit: fakePageExit().manager, sendBeacon: null, locks, random: () => 0.99 },
    });
    for (let i = 0; i < 5; i++) a.track('E' + i);
    await vi.waitFor(() => expect(requestsA).toHaveLength(1));
    // Tab B opens meanwhile, tracks nothing, and finds the lock busy on its start-up pass.
    const b = fakeCollector();
    const tabB = createAnalytics({ writeKey, host: 'https://c.test', flushInterval: 5, env: { fetch: b.fetch, online: fakeOnline().manager, pageExit: fakePageExit().manager, sendBeacon: null, locks } });
    await new Promise((r) => setTimeout(r, 50));
    expect(b.requests).toHaveLength(0);
    // Tab A dies: the browser releases its lock.
    onlineA.set(false);
    die(new TypeError('Failed to fetch'));
    await vi.waitFor(() => expect(b.names()).toEqual(['E0', 'E1', 'E2', 'E3', 'E4']), { timeout: 1000 });
    await tabB.shutdown();
  });

  it('the local lock manager queues waiters and runs them in turn', async () => {
    const locks = unstable_createLocalLockManager();
    const order: string[] = [];
    let release!: () => void;
    const first = locks.request('l', () => new Promise<void>((r) => (release = r)).then(() => void order.push('first')));
    expect(await locks.request('l', async () => void order.push('skipped'))).toBe(false);
    const waiter = locks.request('l', async () => void order.push('waiter'), true);
    release();
    expect(await Promise.all([first, waiter])).toEqual([true, true]);
    expect(order).toEqual(['first', 'waiter']);
  });

  it('uses navigator.locks with ifAvailable when present', async () => {
    const request = vi.fn(async (_name: string, _opts: LockOptions, cb: (lock: Lock | null) => Promise<unknown>) => cb({ name: 'x', mode: 'exclusive' } as Lock));
    Object.defineProperty(navigator, 'locks', { value: { request }, configurable: true });
    try {
      const writeKey = uniqueKey();
      const fetch: FetchLike = async () => ({ status: 200, headers: { get: () => null } });
      const a = createAnalytics({ writeKey, host: 'https://c.test', storage: 'memory', env: { fetch, online: fakeOnline().manager } });
      a.track('A');
      await a.flush();
      expect(request).toHaveBeenCalledWith('sightline-flush-' + writeKey, { ifAvailable: true }, expect.any(Function));
    } finally {
      delete (navigator as { locks?: unknown }).locks;
    }
  });
});
