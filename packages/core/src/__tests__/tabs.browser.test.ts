// Three tabs of one origin share one IndexedDB queue: while they all track at
// once, one tab at a time flushes (navigator.locks), so no event is on the wire
// twice at the same time, and every event is stored exactly once.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import {
  exactlyOnce,
  useChromium,
  openSdkPage,
  serveSdkPage,
  sdkLog,
  startDeliveryRig,
  storedMessageIds,
  trackMany,
  testBackends,
  waitForDelivery,
  waitForPersisted,
  type DeliveryRig,
  type Fault,
  type ProxiedRequest,
  type SdkPageServer,
  type Page,
  type Request,
} from '@sightline/testing';

const backends = testBackends();

// Slow answers keep a tab inside its flush (holding the lock), and its page-exit beacons are lost,
// so only IndexedDB and another tab can deliver what it leaves behind.
const slowPostsLostBeacons = (request: ProxiedRequest): Fault | undefined =>
  request.method !== 'POST'
    ? undefined
    : request.contentType?.startsWith('text/plain')
      ? { drop: true }
      : { delayResponseMs: 1_000 };

interface SentBatch {
  tab: number;
  messageIds: string[];
  start: number;
  end: number;
}

/** Records every POST a tab makes, with the messageIds in it and when it was open. */
function recordBatches(page: Page, tab: number, into: SentBatch[]): void {
  const open = new Map<Request, SentBatch>();
  page.on('request', (request) => {
    if (request.method() !== 'POST') return;
    let messageIds: string[] = [];
    try {
      const body = JSON.parse(request.postData() ?? '{}') as { batch?: Array<{ messageId: string }> };
      messageIds = (body.batch ?? []).map((e) => e.messageId);
    } catch {
      // Not a batch.
    }
    const sent = { tab, messageIds, start: Date.now(), end: Infinity };
    open.set(request, sent);
    into.push(sent);
  });
  const done = (request: Request) => {
    const sent = open.get(request);
    if (sent) sent.end = Date.now();
    open.delete(request);
  };
  page.on('requestfinished', done);
  page.on('requestfailed', done);
}

const browser = useChromium();

describe.each(backends)('three tabs on $name', (backend) => {
  let rig: DeliveryRig;
  let site: SdkPageServer;

  beforeAll(async () => {
    rig = await startDeliveryRig(backend, 'tabs');
    site = await serveSdkPage({
      writeKey: rig.writeKey,
      host: rig.proxy.url,
      flushAt: 10,
      flushInterval: 100,
      retry: { baseDelay: 200, maxDelay: 2_000 },
    });
  });
  afterAll(async () => {
    await site?.close();
    await rig?.close();
  });

  it('every event stored once, and no messageId posted by two tabs at the same time', async () => {
    const context = await browser.newContext();
    try {
      const tabs = await Promise.all([0, 1, 2].map(() => openSdkPage(context, site)));
      const sent: SentBatch[] = [];
      tabs.forEach((page, tab) => recordBatches(page, tab, sent));
      // Slowish answers widen the window in which a second tab could send the same events, while
      // still letting the flushing tab empty the queue and release the lock now and then.
      rig.setFault((request) => (request.method === 'POST' ? { delayResponseMs: 40 } : undefined));

      const run = `tabs-${backend.name}`;
      const burst = 20;
      /** `page` tracks `burst` events `{ run, i }` from `from`, one every 15 ms. */
      const trackBurst = (page: Page, from: number) =>
        page.evaluate(
          ([run, from, n]) =>
            new Promise<void>((resolve) => {
              let i = from;
              const timer = setInterval(() => {
                (
                  window as unknown as { __sightline: { analytics: { track(n: string, p: object): void } } }
                ).__sightline.analytics.track('Tab', { run, i });
                if (++i === from + n) clearInterval(timer), resolve();
              }, 15);
            }),
          [run, from, burst] as const
        );
      // First one tab after the other, so the lock changes hands between tabs that each hold
      // stale copies of the shared queue in memory...
      for (const [tab, page] of tabs.entries()) {
        await trackBurst(page, tab * burst);
        await page.waitForTimeout(400);
      }
      // ...then all three at once, racing for the lock.
      await Promise.all(tabs.map((page, tab) => trackBurst(page, (3 + tab) * burst)));
      const total = 6 * burst;

      expect(await waitForDelivery(rig.collector.url, rig.readToken, run, total, { timeoutMs: 20_000 })).toEqual(
        exactlyOnce(total)
      );

      const parallel: string[] = [];
      for (const a of sent)
        for (const b of sent)
          if (a.tab < b.tab && a.start < b.end && b.start < a.end)
            parallel.push(...a.messageIds.filter((id) => b.messageIds.includes(id)));
      expect(parallel).toEqual([]);
      expect(rig.proxy.overlaps).toEqual([]);
      // The lock changed hands: more than one tab flushed the shared queue.
      expect(new Set(sent.filter((s) => s.messageIds.length > 0).map((s) => s.tab)).size).toBeGreaterThan(1);
      // With the lock and the re-read of the shared queue, nothing was even sent twice in sequence.
      const counts = new Map<string, number>();
      for (const s of sent) for (const id of s.messageIds) counts.set(id, (counts.get(id) ?? 0) + 1);
      expect([...counts.values()].filter((n) => n > 1)).toEqual([]);
    } finally {
      await context.close();
    }
  });

  it('a tab closed while it holds the flush lock: the surviving tab sends what it left, once', async () => {
    const context = await browser.newContext();
    try {
      const [closing, surviving] = await Promise.all([openSdkPage(context, site), openSdkPage(context, site)]);
      const run = `orphaned-${backend.name}`;
      rig.setFault(slowPostsLostBeacons);
      await trackMany(closing!, 'Orphaned', run, 40);
      await waitForPersisted(closing!, rig.writeKey, 40);
      await expect.poll(() => rig.proxy.requests.some((r) => r.method === 'POST' && r.endedAt === undefined)).toBe(true);
      await closing!.close({ runBeforeUnload: true });
      await closing!.waitForEvent('close');
      rig.setFault(undefined);

      // Any activity in the surviving tab flushes the shared queue, the orphaned events included.
      await trackMany(surviving!, 'Orphaned', run, 1, 40);
      expect(await waitForDelivery(rig.collector.url, rig.readToken, run, 41, { timeoutMs: 15_000 })).toEqual(exactlyOnce(41));
    } finally {
      await context.close();
    }
  });

  it('a tab closed while it holds the flush lock: an idle tab that found the lock busy sends what it left', async () => {
    const context = await browser.newContext();
    try {
      const closing = await openSdkPage(context, site);
      const run = `orphaned-idle-${backend.name}`;
      rig.setFault(slowPostsLostBeacons);
      await trackMany(closing, 'Orphaned', run, 40);
      await waitForPersisted(closing, rig.writeKey, 40);
      await expect.poll(() => rig.proxy.requests.some((r) => r.method === 'POST' && r.endedAt === undefined)).toBe(true);
      // Opened while the other tab flushes: its start-up flush finds the lock busy, then it stays idle.
      const surviving = await openSdkPage(context, site);
      await surviving.waitForTimeout(300);
      await closing.close({ runBeforeUnload: true });
      await closing.waitForEvent('close');
      // Page-exit requests leave after the page is gone: keep losing them, so only the idle tab can deliver.
      rig.setFault((request) => (request.method === 'POST' && request.contentType?.startsWith('text/plain') ? { drop: true } : undefined));

      // No call in the surviving tab: its waiting lock request is granted when the closed tab's lock goes.
      expect(await waitForDelivery(rig.collector.url, rig.readToken, run, 40, { timeoutMs: 15_000 })).toEqual(exactlyOnce(40));
    } finally {
      await context.close();
    }
  });
});
