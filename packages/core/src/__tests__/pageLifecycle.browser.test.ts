// Events survive the page going away: a reload in the middle of a slow flush,
// a tab closed right after tracking (beacon), and a tab closed while its beacon is lost.
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import {
  exactlyOnce,
  fetchRecentEvents,
  useChromium,
  openSdkPage,
  pageConsole,
  sdkLog,
  serveSdkPage,
  startDeliveryRig,
  testBackends,
  trackMany,
  waitForDelivery,
  waitForPersisted,
  type DeliveryRig,
  type SdkPageServer,
  type BrowserContext,
  type Page,
} from '@sightline/testing';

const backends = testBackends();

const browser = useChromium();

describe.each(backends)('page lifecycle on $name', (backend) => {
  let rig: DeliveryRig;
  let site: SdkPageServer | undefined;
  let context: BrowserContext | undefined;

  beforeAll(async () => {
    rig = await startDeliveryRig(backend, 'lifecycle');
  });
  afterAll(async () => {
    await rig?.close();
  });
  afterEach(async () => {
    rig.setFault(undefined);
    await context?.close();
    await site?.close();
    context = undefined;
    site = undefined;
  });

  async function setUp(config: Record<string, unknown>) {
    // debug: the SDK's own log lines end up in failure messages (see `diagnose`).
    site = await serveSdkPage({
      debug: true,
      writeKey: rig.writeKey,
      host: rig.proxy.url,
      retry: { baseDelay: 200, maxDelay: 2_000 },
      ...config,
    });
    context = await browser.newContext();
    return { site, context };
  }

  /** The closed page's last log lines and every page-exit request, for failure messages. */
  const diagnose = (page: Page) =>
    JSON.stringify(
      {
        console: pageConsole(page).slice(-15),
        pageExitRequests: rig.proxy.requests
          .filter((r) => r.contentType?.startsWith('text/plain'))
          .map((r) => ({ ids: r.messageIds.length, status: r.status ?? 'cut', at: r.startedAt })),
      },
      null,
      1
    );

  const storedCount = async (run: string) =>
    (await fetchRecentEvents(rig.collector.url, rig.readToken)).filter((e) => e.properties?.run === run).length;

  it('a reload in the middle of a slow flush: the next page sends the rest, each event stored once', async () => {
    const { site, context } = await setUp({ flushAt: 10, flushInterval: 200 });
    const page = await openSdkPage(context, site);
    const run = `reload-${backend.name}`;
    // A slow collector: every answer takes 800 ms, so most of the queue is still waiting at reload.
    rig.setFault((request) => (request.method === 'POST' ? { delayResponseMs: 800 } : undefined));

    await trackMany(page, 'Reload', run, 200);
    // Reload while a batch is on the wire and unanswered.
    await expect
      .poll(() => rig.proxy.requests.some((r) => r.method === 'POST' && r.forwarded && r.endedAt === undefined))
      .toBe(true);
    const storedAtReload = await storedCount(run);
    await page.reload();
    rig.setFault(undefined);
    await page.waitForFunction(() => 'analytics' in ((window as unknown as { __sightline?: object }).__sightline ?? {}));

    expect(storedAtReload).toBeLessThan(200);
    expect(await waitForDelivery(rig.collector.url, rig.readToken, run, 200)).toEqual(exactlyOnce(200));
  });

  it('a tab closed right after tracking: the beacon delivers every event', async () => {
    // Nothing is sent during the page's life: only the page-exit path can deliver.
    const { site, context } = await setUp({ flushAt: 1_000, flushInterval: 60_000 });
    const page = await openSdkPage(context, site);
    const run = `beacon-${backend.name}`;
    const beaconsBefore = rig.proxy.requests.filter((r) => r.contentType?.startsWith('text/plain')).length;

    // Closed at once: the IndexedDB write may not have committed (Chromium aborts it with the page),
    // so the beacon is these events' only way out.
    await trackMany(page, 'Beacon', run, 30);
    await page.close({ runBeforeUnload: true });
    await page.waitForEvent('close');

    const report = await waitForDelivery(rig.collector.url, rig.readToken, run, 30, { timeoutMs: 10_000 });
    expect(report, diagnose(page)).toEqual(exactlyOnce(30));
    expect(rig.proxy.requests.filter((r) => r.contentType?.startsWith('text/plain')).length).toBeGreaterThan(beaconsBefore);
    // Whatever did reach IndexedDB is resent by the next page and deduplicated.
    const next = await openSdkPage(context, site);
    await next.evaluate(() =>
      (window as unknown as { __sightline: { analytics: { flush(): Promise<void> } } }).__sightline.analytics.flush()
    );
    expect(await waitForDelivery(rig.collector.url, rig.readToken, run, 30)).toEqual(exactlyOnce(30));
  });

  it('a beaconed event stays queued until a 2xx: the next load resends it and the collector dedupes', async () => {
    const { site, context } = await setUp({ flushAt: 1_000, flushInterval: 60_000 });
    const page = await openSdkPage(context, site);
    const run = `beacon-resend-${backend.name}`;
    await trackMany(page, 'Beacon Resend', run, 30);
    await waitForPersisted(page, rig.writeKey, 30);
    await page.close({ runBeforeUnload: true });
    await page.waitForEvent('close');
    const report = await waitForDelivery(rig.collector.url, rig.readToken, run, 30, { timeoutMs: 10_000 });
    expect(report, diagnose(page)).toEqual(exactlyOnce(30));

    // A beacon has no answer, so the events stayed in IndexedDB; the next page resends them and the
    // collector's (project, messageId) key turns the resend into duplicates, not new rows.
    const next = await openSdkPage(context, site);
    await next.evaluate(() =>
      (window as unknown as { __sightline: { analytics: { flush(): Promise<void> } } }).__sightline.analytics.flush()
    );
    await expect.poll(async () => (await sdkLog(next)).delivered.length, { timeout: 10_000 }).toBe(30);
    expect(await waitForDelivery(rig.collector.url, rig.readToken, run, 30)).toEqual(exactlyOnce(30));
  });

  it('a tab closed while its beacon is lost: the next load sends everything from IndexedDB', async () => {
    const { site, context } = await setUp({ flushAt: 1_000, flushInterval: 60_000 });
    const page = await openSdkPage(context, site);
    const run = `beacon-lost-${backend.name}`;
    // Cut every page-exit request (text/plain) on the way in: the collector never sees them.
    rig.setFault((request) =>
      request.method === 'POST' && request.contentType?.startsWith('text/plain') ? { drop: true } : undefined
    );

    await trackMany(page, 'Beacon Lost', run, 30);
    await waitForPersisted(page, rig.writeKey, 30);
    await page.close({ runBeforeUnload: true });
    await page.waitForEvent('close');
    await expect
      .poll(() => rig.proxy.requests.some((r) => r.contentType?.startsWith('text/plain') && r.messageIds.length > 0))
      .toBe(true);
    expect(await storedCount(run)).toBe(0);
    rig.setFault(undefined);

    await openSdkPage(context, site).then((next) =>
      next.evaluate(() =>
        (window as unknown as { __sightline: { analytics: { flush(): Promise<void> } } }).__sightline.analytics.flush()
      )
    );
    expect(await waitForDelivery(rig.collector.url, rig.readToken, run, 30, { timeoutMs: 10_000 })).toEqual(exactlyOnce(30));
  });
});
