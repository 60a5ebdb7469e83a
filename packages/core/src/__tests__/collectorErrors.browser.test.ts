// The collector's own error answers, read across origins by the real SDK: a 401
// must be readable (CORS headers on errors too) so the batch is dropped, not retried
// forever; a 429's Retry-After must be exposed so the SDK waits as long as it says.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import {
  exactlyOnce,
  launchChromium,
  openSdkPage,
  sdkLog,
  serveSdkPage,
  startInProcessCollector,
  trackMany,
  waitForDelivery,
  type Browser,
  type InProcessCollector,
  type Page,
} from '@sightline/testing';

/** Statuses of the POSTs a page made, as the browser saw them. */
function recordStatuses(page: Page): number[] {
  const seen: number[] = [];
  page.on('response', (response) => {
    if (response.request().method() === 'POST') seen.push(response.status());
  });
  return seen;
}

let browser: Browser;
let collector: InProcessCollector;
const writeKey = 'wk_errors';
const readToken = 'rt_errors';

beforeAll(async () => {
  // One request per second and no burst: the second batch in a row gets the collector's own 429.
  [browser, collector] = await Promise.all([
    launchChromium(),
    startInProcessCollector({ writeKey, readToken, rateLimit: { requestsPerSecond: 1, burst: 1 } }),
  ]);
});
afterAll(async () => {
  await browser?.close();
  await collector?.close();
});

describe('collector error answers across origins', () => {
  it('a 401 (unknown write key) is read by the page and the batch is dropped, not retried', async () => {
    const site = await serveSdkPage({
      writeKey: 'wk_unknown',
      host: collector.url,
      flushAt: 5,
      flushInterval: 100,
      retry: { baseDelay: 50, maxDelay: 200 },
    });
    const context = await browser.newContext();
    try {
      const page = await openSdkPage(context, site);
      const statuses = recordStatuses(page);
      await trackMany(page, 'Unauthorized', 'unauthorized', 5);
      await expect.poll(async () => (await sdkLog(page)).dropped.length, { timeout: 5_000 }).toBe(1);
      expect((await sdkLog(page)).dropped[0]).toMatchObject({ reason: 'rejected', status: 401, count: 5 });
      // Had CORS hidden the 401, fetch would have failed as a network error and retried every ~50 ms.
      await page.waitForTimeout(500);
      expect(statuses).toEqual([401]);
    } finally {
      await context.close();
      await site.close();
    }
  });

  it("the collector's own 429 Retry-After is honoured and every event still arrives once", async () => {
    const site = await serveSdkPage({
      writeKey,
      host: collector.url,
      flushAt: 5,
      flushInterval: 50,
      retry: { baseDelay: 50, maxDelay: 200 },
    });
    const context = await browser.newContext();
    try {
      const page = await openSdkPage(context, site);
      const statuses = recordStatuses(page);
      await trackMany(page, 'Rate Limited', 'rate-limited', 20);

      expect(await waitForDelivery(collector.url, readToken, 'rate-limited', 20, { timeoutMs: 20_000 })).toEqual(exactlyOnce(20));
      expect(statuses).toContain(429);
      // The SDK read Retry-After (exposed through CORS): it waits whole seconds, not the 50-200 ms
      // backoff, and the next delivery comes no sooner (page clock).
      const { timeline } = await sdkLog(page);
      const rateLimited = timeline.filter((t) => t.status === 429);
      expect(rateLimited.length).toBeGreaterThan(0);
      for (const t of rateLimited) {
        expect(t.retryIn).toBeGreaterThanOrEqual(1_000);
        const next = timeline.find((d) => d.kind === 'delivered' && d.at > t.at);
        expect(next!.at - t.at).toBeGreaterThanOrEqual(950);
      }
    } finally {
      await context.close();
      await site.close();
    }
  });
});
