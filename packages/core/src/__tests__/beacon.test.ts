import { beforeEach, describe, expect, it, vi } from 'vitest';
import { BEACON_BUDGET } from '../index';
import { setup, uniqueKey } from './helpers';

beforeEach(() => localStorage.clear());

function beaconRecorder(accept = true) {
  const calls: Array<{ url: string; body: { batch: Array<{ messageId: string; event: string }>; writeKey: string }; bytes: number }> = [];
  const sendBeacon = (url: string, body: string) => {
    calls.push({ url, body: JSON.parse(body), bytes: new TextEncoder().encode(body).length });
    return accept;
  };
  return { calls, sendBeacon };
}

describe('page exit', () => {
  it('beacons queued events (writeKey in the body) on page exit and keeps them stored', async () => {
    const b = beaconRecorder();
    const writeKey = uniqueKey();
    const { analytics, collector, pageExit, online } = setup({ writeKey, storage: 'auto', env: { sendBeacon: b.sendBeacon } });
    online.set(false);
    analytics.track('A');
    analytics.track('B');
    await analytics.flush();
    pageExit.exit();
    expect(b.calls).toHaveLength(1);
    expect(b.calls[0]!.url).toBe('https://collector.test/v1/batch');
    expect(b.calls[0]!.body.writeKey).toBe(writeKey);
    expect(b.calls[0]!.body.batch.map((e) => e.event)).toEqual(['A', 'B']);
    // Same page, another exit signal: nothing is beaconed twice.
    pageExit.exit();
    expect(b.calls).toHaveLength(1);
    // No answer from a beacon: the events stay queued and go out normally (the collector dedupes).
    online.set(true);
    await vi.waitFor(() => expect(collector.names()).toEqual(['A', 'B']));
  });

  it('spends at most 64 KB over the page', async () => {
    const b = beaconRecorder();
    const { analytics, pageExit, online } = setup({ env: { sendBeacon: b.sendBeacon }, flushAt: 1000 });
    online.set(false);
    for (let i = 0; i < 40; i++) analytics.track('E' + i, { pad: 'x'.repeat(3000) });
    await analytics.flush();
    pageExit.exit();
    for (let i = 40; i < 60; i++) analytics.track('E' + i, { pad: 'x'.repeat(3000) });
    await analytics.flush();
    pageExit.exit();
    const total = b.calls.reduce((n, c) => n + c.bytes, 0);
    expect(b.calls.length).toBeGreaterThanOrEqual(1);
    expect(total).toBeLessThanOrEqual(BEACON_BUDGET);
    expect(total).toBeGreaterThan(BEACON_BUDGET - 4000);
    const ids = b.calls.flatMap((c) => c.body.batch.map((e) => e.messageId));
    expect(new Set(ids).size).toBe(ids.length);
  });

  it('falls back to fetch keepalive with text/plain when sendBeacon refuses', async () => {
    const b = beaconRecorder(false);
    const { analytics, collector, pageExit, online } = setup({ env: { sendBeacon: b.sendBeacon } }, () => 200);
    analytics.track('A');
    await analytics.flush();
    online.set(false);
    analytics.track('B');
    await analytics.flush();
    const before = collector.requests.length;
    pageExit.exit();
    await vi.waitFor(() => expect(collector.requests.length).toBe(before + 1));
    const req = collector.requests.at(-1)!;
    expect(req.keepalive).toBe(true);
    expect(req.headers['Content-Type']).toBe('text/plain');
    expect(req.body.batch.map((e) => e.event)).toEqual(['B']);
  });

  it('the default page-exit manager listens to pagehide and visibilitychange:hidden', async () => {
    const b = beaconRecorder();
    const { analytics, online } = setup({ env: { sendBeacon: b.sendBeacon, pageExit: undefined as never } });
    // `setup` passes a fake unless overridden; build one on the real window instead.
    void analytics;
    online.set(false);
    const { createAnalytics } = await import('../index');
    const real = createAnalytics({ writeKey: uniqueKey(), host: 'https://c.test', storage: 'memory', env: { sendBeacon: b.sendBeacon, online: { isOnline: () => false, subscribe: () => () => {} } } });
    real.track('A');
    await real.flush();
    window.dispatchEvent(new Event('pagehide'));
    expect(b.calls).toHaveLength(1);
    real.track('B');
    await real.flush();
    Object.defineProperty(document, 'visibilityState', { value: 'hidden', configurable: true });
    document.dispatchEvent(new Event('visibilitychange'));
    expect(b.calls).toHaveLength(2);
    expect(b.calls[1]!.body.batch.map((e) => e.event)).toEqual(['B']);
    await real.shutdown();
    Object.defineProperty(document, 'visibilityState', { value: 'visible', configurable: true });
  });
});
