// @vitest-environment node
import { afterAll, beforeAll, describe, expect, it } from 'vitest';

// The project's setup file installs fake-indexeddb everywhere; a server has none.
const g = globalThis as { indexedDB?: unknown };
const saved = g.indexedDB;
beforeAll(() => void delete g.indexedDB);
afterAll(() => void (g.indexedDB = saved));

describe('SSR / Node', () => {
  it('imports and runs without window, document, localStorage or indexedDB', async () => {
    expect(typeof (globalThis as { window?: unknown }).window).toBe('undefined');
    expect(typeof (globalThis as { indexedDB?: unknown }).indexedDB).toBe('undefined');
    const { createAnalytics } = await import('../index');
    const bodies: string[] = [];
    const errors: string[] = [];
    const analytics = createAnalytics({
      writeKey: 'ssr',
      host: 'http://collector.internal',
      onError: (e) => errors.push(e.code),
      env: { fetch: async (_u, init) => (bodies.push(init.body), { status: 200, headers: { get: () => null } }) },
    });
    analytics.page('Home');
    analytics.track('Rendered', { ok: true });
    analytics.identify('u1');
    expect(analytics.anonymousId).toMatch(/^[0-9a-f-]{36}$/);
    expect(analytics.sessionId).toMatch(/^[0-9a-f-]{36}$/);
    await analytics.flush();
    await analytics.shutdown();
    // IndexedDB is missing: reported once, the queue ran in memory.
    expect(errors).toEqual(['storage']);
    const batch = bodies.flatMap((b) => JSON.parse(b).batch);
    expect(batch.map((e: { type: string }) => e.type)).toEqual(['page', 'track', 'identify']);
    expect(batch[1].context.page).toBeUndefined();
  });

  it('storage: memory in Node reports nothing', async () => {
    const { createAnalytics } = await import('../index');
    const errors: string[] = [];
    const analytics = createAnalytics({ writeKey: 'ssr2', storage: 'memory', onError: (e) => errors.push(e.code), env: { fetch: async () => ({ status: 200, headers: { get: () => null } }) } });
    analytics.track('A');
    await analytics.shutdown();
    expect(errors).toEqual([]);
  });
});
