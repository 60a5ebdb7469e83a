import { beforeEach, describe, expect, it, vi } from 'vitest';
import { createAnalytics, unstable_createLocalLockManager, type FetchLike } from '../index';
import { fakeOnline, fakePageExit, uniqueKey } from './helpers';

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
