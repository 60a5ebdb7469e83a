// "No event lost, none stored twice" in real Chromium against the real collector
// (a child process, on PGlite and on a PostgreSQL server): baseline, offline,
// server errors with Retry-After, and answers lost after the collector stored the batch.
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import {
  exactlyOnce,
  useChromium,
  openSdkPage,
  sdkLog,
  serveSdkPage,
  startDeliveryRig,
  storedMessageIds,
  testBackends,
  trackMany,
  waitForDelivery,
  type DeliveryRig,
  type SdkPageServer,
  type BrowserContext,
} from '@sightline/testing';

const backends = testBackends();

const browser = useChromium();

describe.each(backends)('delivery on $name', (backend) => {
  let rig: DeliveryRig;
  let site: SdkPageServer | undefined;
  let context: BrowserContext | undefined;

  beforeAll(async () => {
    rig = await startDeliveryRig(backend, 'delivery');
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

  /** A fresh profile (empty IndexedDB) and a page server whose SDK sends through the rig's proxy. */
  async function setUp(config: Record<string, unknown> = {}) {
    site = await serveSdkPage({
      writeKey: rig.writeKey,
      host: rig.proxy.url,
      flushAt: 20,
      flushInterval: 200,
      retry: { baseDelay: 200, maxDelay: 2_000 },
      ...config,
    });
    context = await browser.newContext();
    return { site, context };
  }

  /** How many times the proxy saw each of `ids` sent. */
  const sendsOf = (ids: readonly string[]) => {
    const counts = rig.proxy.sendCounts();
    return ids.map((id) => counts.get(id) ?? 0);
  };

  it('stores every tracked event exactly once, each sent once', async () => {
    const { site, context } = await setUp();
    const page = await openSdkPage(context, site);
    const run = `baseline-${backend.name}`;
    const before = rig.proxy.ingestTotals();
    await trackMany(page, 'Baseline', run, 100);

    expect(await waitForDelivery(rig.collector.url, rig.readToken, run, 100)).toEqual(exactlyOnce(100));
    const log = await sdkLog(page);
    expect(log.tracked).toHaveLength(100);
    // The very messageIds the SDK minted are the ones stored, and the SDK saw each confirmed.
    expect(await storedMessageIds(rig.collector.url, rig.readToken, run)).toEqual(new Set(log.tracked));
    expect(new Set(log.delivered)).toEqual(new Set(log.tracked));
    // Nothing failed, so nothing may have been resent, and the collector saw no duplicate.
    expect(sendsOf(log.tracked).every((n) => n === 1)).toBe(true);
    const after = rig.proxy.ingestTotals();
    expect({ accepted: after.accepted - before.accepted, duplicates: after.duplicates - before.duplicates }).toEqual({
      accepted: 100,
      duplicates: 0,
    });
    expect(log.errors).toEqual([]);
  });

  it('keeps events tracked offline and sends them once back online', async () => {
    const { site, context } = await setUp();
    const page = await openSdkPage(context, site);
    const run = `offline-${backend.name}`;
    const before = rig.proxy.requests.length;

    await context.setOffline(true);
    await trackMany(page, 'Offline', run, 50);
    // Several flush intervals: nothing may reach the network, nothing may be dropped.
    await page.waitForTimeout(1_000);
    expect(rig.proxy.requests.length).toBe(before);
    expect((await sdkLog(page)).dropped).toEqual([]);

    await context.setOffline(false);
    expect(await waitForDelivery(rig.collector.url, rig.readToken, run, 50)).toEqual(exactlyOnce(50));
    expect(await storedMessageIds(rig.collector.url, rig.readToken, run)).toEqual(new Set((await sdkLog(page)).tracked));
  });

  it('retries through 500s and 429 Retry-After until every event is stored once', async () => {
    const { site, context } = await setUp();
    const page = await openSdkPage(context, site);
    const run = `errors-${backend.name}`;
    const failed: Array<{ status: number; at: number }> = [];
    rig.setFault((request) => {
      if (request.method !== 'POST' || failed.length >= 4) return undefined;
      const status = failed.length < 2 ? 500 : 429;
      failed.push({ status, at: Date.now() });
      return status === 429 ? { status, headers: { 'retry-after': '1' } } : { status };
    });

    await trackMany(page, 'Errors', run, 60);
    expect(await waitForDelivery(rig.collector.url, rig.readToken, run, 60, { timeoutMs: 30_000 })).toEqual(exactlyOnce(60));
    expect(failed.map((f) => f.status)).toEqual([500, 500, 429, 429]);

    // Retry-After: 1 means the next attempt waits a second, not the 200 ms backoff. Measured in the
    // page's clock: from each 429 to the next delivery.
    const log = await sdkLog(page);
    const rateLimited = log.timeline.filter((t) => t.status === 429);
    expect(rateLimited.map((t) => t.retryIn)).toEqual([1_000, 1_000]);
    const last429 = rateLimited.at(-1)!;
    const nextDelivery = log.timeline.find((t) => t.kind === 'delivered' && t.at > last429.at);
    expect(nextDelivery!.at - last429.at).toBeGreaterThanOrEqual(950);
    expect(log.dropped).toEqual([]);
    expect(await storedMessageIds(rig.collector.url, rig.readToken, run)).toEqual(new Set(log.tracked));
  });

  it('stores once when the collector stored a batch but its answer was lost', async () => {
    const { site, context } = await setUp();
    const page = await openSdkPage(context, site);
    const run = `lost-answer-${backend.name}`;
    const before = rig.proxy.ingestTotals();
    let lost = 0;
    // The first two batches reach the database, then the connection dies before the 200 arrives.
    rig.setFault((request) => (request.method === 'POST' && lost < 2 ? (lost++, { loseAnswer: true }) : undefined));

    await trackMany(page, 'Lost Answer', run, 40);
    expect(await waitForDelivery(rig.collector.url, rig.readToken, run, 40)).toEqual(exactlyOnce(40));
    expect(lost).toBe(2);
    // The SDK did resend (at-least-once); the collector's primary key absorbed it.
    const log = await sdkLog(page);
    expect(sendsOf(log.tracked).some((n) => n > 1)).toBe(true);
    // The collector said so: it counted the resent events as duplicates, and accepted each event once.
    const after = rig.proxy.ingestTotals();
    expect(after.accepted - before.accepted).toBe(40);
    expect(after.duplicates - before.duplicates).toBeGreaterThan(0);
    expect(await storedMessageIds(rig.collector.url, rig.readToken, run)).toEqual(new Set(log.tracked));
  });
});
