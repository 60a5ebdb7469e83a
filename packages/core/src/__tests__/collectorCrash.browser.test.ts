// The collector process is SIGKILLed in the middle of a stream of events and
// restarted on the same port and data: every event still arrives, once.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import {
  exactlyOnce,
  useChromium,
  openSdkPage,
  sdkLog,
  serveSdkPage,
  startDeliveryRig,
  storedMessageIds,
  testBackends,
  waitForDelivery,
  type DeliveryRig,
  type SdkPageServer,
} from '@sightline/testing';

const backends = testBackends();

const browser = useChromium();

describe.each(backends)('collector crash on $name', (backend) => {
  let rig: DeliveryRig;
  let site: SdkPageServer;

  beforeAll(async () => {
    rig = await startDeliveryRig(backend, 'crash');
    site = await serveSdkPage({
      writeKey: rig.writeKey,
      host: rig.proxy.url,
      flushAt: 5,
      flushInterval: 100,
      retry: { baseDelay: 200, maxDelay: 1_000 },
    });
  });
  afterAll(async () => {
    await site?.close();
    await rig?.close();
  });

  it('SIGKILL mid-stream and a restart on the same data: all events arrive once', async () => {
    const context = await browser.newContext();
    try {
      const page = await openSdkPage(context, site);
      const run = `crash-${backend.name}`;
      const total = 120;
      // One event every 25 ms for 3 s, so events are queued before, during and after the outage.
      const streaming = page.evaluate(
        ([run, total]) =>
          new Promise<void>((resolve) => {
            let i = 0;
            const timer = setInterval(() => {
              (
                window as unknown as { __sightline: { analytics: { track(n: string, p: object): void } } }
              ).__sightline.analytics.track('Crash', { run, i });
              if (++i === total) clearInterval(timer), resolve();
            }, 25);
          }),
        [run, total] as const
      );

      await page.waitForTimeout(700);
      const storedBeforeCrash = rig.proxy.requests.filter((r) => r.status === 200).length;
      await rig.collector.kill();
      const killedAt = Date.now();
      await page.waitForTimeout(1_000);
      await rig.collector.restart();
      const restartedAt = Date.now();
      await streaming;

      expect(storedBeforeCrash).toBeGreaterThan(0);
      // The SDK did try during the outage and failed (connection refused), then recovered.
      expect(
        rig.proxy.requests.some(
          (r) => r.method === 'POST' && r.startedAt > killedAt && r.startedAt < restartedAt && r.status === undefined
        )
      ).toBe(true);
      expect(await waitForDelivery(rig.collector.url, rig.readToken, run, total, { timeoutMs: 20_000 })).toEqual(
        exactlyOnce(total)
      );
      const log = await sdkLog(page);
      expect(log.dropped).toEqual([]);
      expect(await storedMessageIds(rig.collector.url, rig.readToken, run)).toEqual(new Set(log.tracked));
    } finally {
      await context.close();
    }
  });
});
