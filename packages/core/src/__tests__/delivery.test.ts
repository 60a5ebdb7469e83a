import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest';
import type { DroppedEvent, FetchLike, SightlineEvent } from '../index';
import { setup, sleep } from './helpers';

beforeEach(() => localStorage.clear());
afterEach(() => vi.restoreAllMocks());

describe('batching', () => {
  it('sends a full batch at once (count bound) to /v1/batch with Basic auth', async () => {
    const { analytics, collector } = setup({ flushAt: 5, flushInterval: 60_000, writeKey: 'wk' });
    for (let i = 0; i < 4; i++) analytics.track('E' + i);
    await sleep(20);
    expect(collector.requests).toHaveLength(0);
    // The 5th event fills a batch; a flush sends everything queued, in batches of flushAt.
    for (let i = 4; i < 12; i++) analytics.track('E' + i);
    await vi.waitFor(() => expect(collector.stored.size).toBe(12));
    expect(collector.requests.map((r) => r.body.batch.length)).toEqual([5, 5, 2]);
    const req = collector.requests[0]!;
    expect(req.url).toBe('https://collector.test/v1/batch');
    expect(req.headers.Authorization).toBe('Basic ' + btoa('wk:'));
    expect(req.headers['Content-Type']).toBe('application/json');
    expect(typeof req.body.sentAt).toBe('string');
    expect(req.body.writeKey).toBeUndefined();
    expect(collector.names()).toEqual(Array.from({ length: 12 }, (_, i) => 'E' + i));
  });

  it('a batch filled while a send is in flight goes out right after it, not at the next interval', async () => {
    let release!: () => void;
    const gate = new Promise<void>((r) => (release = r));
    const { analytics, collector } = setup({ flushAt: 2, flushInterval: 60_000 }, async (_r, n) => (n == 1 ? (await gate, 200) : 200));
    analytics.track('A');
    analytics.track('B');
    await vi.waitFor(() => expect(collector.requests).toHaveLength(1));
    analytics.track('C');
    analytics.track('D');
    await sleep(5);
    release();
    await vi.waitFor(() => expect(collector.stored.size).toBe(4));
    expect(collector.names()).toEqual(['A', 'B', 'C', 'D']);
  });

  it('sends a partial batch after flushInterval (time bound)', async () => {
    const { analytics, collector } = setup({ flushAt: 100, flushInterval: 30 });
    analytics.track('A');
    analytics.track('B');
    await sleep(5);
    expect(collector.requests).toHaveLength(0);
    await vi.waitFor(() => expect(collector.stored.size).toBe(2));
    expect(collector.requests).toHaveLength(1);
  });

  it('splits by bytes (maxBatchBytes)', async () => {
    const { analytics, collector } = setup({ flushAt: 100, maxBatchBytes: 10_000, flushInterval: 60_000 });
    for (let i = 0; i < 10; i++) analytics.track('Big', { blob: 'x'.repeat(3000) });
    await analytics.flush();
    expect(collector.stored.size).toBe(10);
    for (const r of collector.requests) expect(JSON.stringify(r.body).length).toBeLessThanOrEqual(10_000);
    expect(collector.requests.length).toBeGreaterThanOrEqual(4);
  });

  it('builds the event: type, UUID v7 messageId, timestamp, ids, context', async () => {
    const { analytics, collector } = setup();
    analytics.track('Signed Up', { plan: 'pro' });
    await analytics.flush();
    const e = collector.requests[0]!.body.batch[0]!;
    expect(e).toMatchObject({ type: 'track', event: 'Signed Up', properties: { plan: 'pro' }, anonymousId: analytics.anonymousId });
    expect(e.messageId).toMatch(/^[0-9a-f]{8}-[0-9a-f]{4}-7/);
    expect(new Date(e.timestamp).getTime()).toBeGreaterThan(Date.now() - 5000);
    expect(e.context.library).toEqual({ name: '@sightline/core', version: expect.any(String) });
    expect(e.context.sessionId).toBe(analytics.sessionId);
  });
});

describe('what track() records at the call', () => {
  it('track() leaves the ISO timestamp, messageId and context to the microtask drain', async () => {
    const { analytics, collector } = setup();
    const iso = vi.spyOn(Date.prototype, 'toISOString');
    analytics.track('A');
    analytics.track('B');
    expect(iso).not.toHaveBeenCalled();
    await analytics.flush();
    const [a, b] = collector.requests[0]!.body.batch;
    expect(a!.timestamp).toMatch(/^\d{4}-\d\d-\d\dT/);
    expect(a!.messageId < b!.messageId).toBe(true);
  });

  it('page, session, ids and properties are those of the call, though the event is built in the drain', async () => {
    const { analytics, collector } = setup();
    history.pushState({}, '', '/first?utm_source=news');
    const props = { n: 1 };
    analytics.track('A', props);
    const session = analytics.sessionId;
    const anonymousId = analytics.anonymousId;
    // All before the microtask drain runs.
    props.n = 2;
    history.pushState({}, '', '/second');
    analytics.reset();
    analytics.identify('u1');
    analytics.track('B');
    await analytics.flush();
    const [a, , b] = collector.requests.flatMap((r) => r.body.batch);
    expect(a).toMatchObject({ event: 'A', properties: { n: 1 }, anonymousId, context: { sessionId: session, page: { path: '/first' }, campaign: { source: 'news' } } });
    expect(a!.userId).toBeUndefined();
    expect(b).toMatchObject({ event: 'B', userId: 'u1', anonymousId: analytics.anonymousId, context: { sessionId: analytics.sessionId, page: { path: '/second' } } });
    expect(b!.anonymousId).not.toBe(anonymousId);
    expect(b!.context.sessionId).not.toBe(session);
    expect(b!.context.campaign).toBeUndefined();
    expect(a!.messageId < b!.messageId).toBe(true);
    expect(Date.parse(a!.timestamp)).toBeLessThanOrEqual(Date.parse(b!.timestamp));
  });
});

describe('retry', () => {
  it('retries 500, 429 (Retry-After) and network errors, then delivers every event exactly once', async () => {
    const answers = [500, 0, { status: 429, headers: { 'retry-after': '0.05' } }];
    const { analytics, collector, errors, delivered } = setup({ flushAt: 3 }, (_req, n) => answers[n - 1] ?? 200);
    for (let i = 0; i < 7; i++) analytics.track('E' + i);
    await vi.waitFor(() => expect(collector.stored.size).toBe(7), { timeout: 3000 });
    expect([...collector.stored.values()].every((n) => n === 1)).toBe(true);
    expect(new Set(delivered)).toEqual(new Set(collector.stored.keys()));
    expect(errors.map((e) => e.status)).toEqual([500, 0, 429]);
    expect(errors[2]!.message).toMatch(/retry in 50 ms/);
  });

  it('waits for Retry-After before the next attempt', async () => {
    const times: number[] = [];
    const { analytics, collector } = setup({ retry: { baseDelay: 1, maxDelay: 1 } }, (_r, n) => (times.push(Date.now()), n == 1 ? { status: 429, headers: { 'retry-after': '0.2' } } : 200));
    analytics.track('A');
    await vi.waitFor(() => expect(collector.stored.size).toBe(1), { timeout: 2000 });
    expect(times[1]! - times[0]!).toBeGreaterThanOrEqual(190);
  });

  it('keeps retrying with backoff while the collector fails, without losing events', async () => {
    let failing = true;
    const { analytics, collector } = setup({}, () => (failing ? 503 : 200));
    for (let i = 0; i < 5; i++) analytics.track('E' + i);
    await vi.waitFor(() => expect(collector.requests.length).toBeGreaterThanOrEqual(4));
    expect(collector.stored.size).toBe(0);
    failing = false;
    await vi.waitFor(() => expect(collector.stored.size).toBe(5), { timeout: 2000 });
  });

  it.each([400, 401, 403])('does not retry HTTP %i: the batch is dropped and reported', async (status) => {
    const { analytics, collector, errors, dropped } = setup({}, (_r, n) => (n == 1 ? status : 200));
    analytics.track('A');
    analytics.track('B');
    await analytics.flush();
    await sleep(50);
    expect(collector.requests).toHaveLength(1);
    expect(dropped).toEqual([{ reason: 'rejected', count: 2 }]);
    expect(errors).toMatchObject([{ code: 'delivery', status }]);
    // The queue moved on: later events go out.
    analytics.track('C');
    await analytics.flush();
    expect(collector.names()).toEqual(['C']);
  });

  it('splits a batch in halves on 413 and resends', async () => {
    const { analytics, collector, dropped } = setup({ flushAt: 100, flushInterval: 60_000 }, (req) => (req.body.batch.length > 2 ? 413 : 200));
    for (let i = 0; i < 8; i++) analytics.track('E' + i);
    await analytics.flush();
    expect(collector.stored.size).toBe(8);
    expect(collector.requests.map((r) => r.body.batch.length)).toEqual([8, 4, 2, 2, 2, 2]);
    expect(collector.names()).toEqual(Array.from({ length: 8 }, (_, i) => 'E' + i));
    expect(dropped).toEqual([]);
  });

  it('drops a single event the collector still calls too large', async () => {
    const { analytics, collector, dropped } = setup({}, () => 413);
    analytics.track('A');
    await analytics.flush();
    expect(collector.requests).toHaveLength(1);
    expect(dropped).toEqual([{ reason: 'rejected', count: 1 }]);
  });
});

describe('online / offline', () => {
  it('pauses while offline and resumes at once on `online`', async () => {
    const { analytics, collector, online } = setup({ flushAt: 1 });
    online.set(false);
    for (let i = 0; i < 3; i++) analytics.track('E' + i);
    await analytics.flush();
    await sleep(40);
    expect(collector.requests).toHaveLength(0);
    online.set(true);
    await vi.waitFor(() => expect(collector.stored.size).toBe(3));
  });

  it('going online skips a pending backoff wait', async () => {
    let fail = true;
    const { analytics, collector, online } = setup({ retry: { baseDelay: 60_000, maxDelay: 60_000 } }, () => (fail ? 0 : 200));
    vi.spyOn(Math, 'random').mockReturnValue(0.99);
    analytics.track('A');
    // Seconds, not the default 1 s, for a loaded machine: the backoff being skipped is 60 s.
    await vi.waitFor(() => expect(collector.requests).toHaveLength(1), { timeout: 5_000 });
    fail = false;
    online.set(false);
    online.set(true);
    await vi.waitFor(() => expect(collector.stored.size).toBe(1), { timeout: 5_000 });
  });
});

describe('flush and shutdown', () => {
  it('flush() resolves after delivery and never rejects', async () => {
    const { analytics, collector } = setup({ flushInterval: 60_000 }, () => 0);
    analytics.track('A');
    await expect(analytics.flush()).resolves.toBeUndefined();
    expect(collector.requests).toHaveLength(1);
  });

  it('shutdown() flushes, then ignores calls and removes listeners', async () => {
    const { analytics, collector } = setup({ flushInterval: 60_000 });
    const seen: unknown[] = [];
    analytics.on('delivered', (d) => seen.push(d));
    analytics.track('A');
    await analytics.shutdown();
    expect(collector.stored.size).toBe(1);
    expect(seen).toHaveLength(1);
    analytics.track('B');
    await analytics.flush();
    expect(collector.requests).toHaveLength(1);
  });

  it('on() returns an unsubscribe function', async () => {
    const { analytics } = setup();
    const seen: unknown[] = [];
    const off = analytics.on('delivered', (d) => seen.push(d));
    off();
    analytics.track('A');
    await analytics.flush();
    expect(seen).toEqual([]);
  });
});

describe('collector answers', () => {
  /** A collector answering `status` with the JSON `body`; records each batch and whether its body was read. */
  const answering = (status: number, body: (batch: SightlineEvent[]) => unknown) => {
    const reads: string[] = [];
    const batches: SightlineEvent[][] = [];
    const fetch: FetchLike = async (_url, init) => {
      const batch: SightlineEvent[] = JSON.parse(init.body).batch;
      batches.push(batch);
      return { status, headers: { get: () => null }, json: async () => (reads.push('json'), body(batch)) };
    };
    return { fetch, reads, batches };
  };

  it('reads the body of a 2xx (releasing the connection) and logs { accepted, duplicates } under debug', async () => {
    const log = vi.spyOn(console, 'log').mockImplementation(() => {});
    const c = answering(200, () => ({ accepted: 1, duplicates: 1 }));
    const { analytics, delivered } = setup({ debug: true, env: { fetch: c.fetch } });
    analytics.track('A');
    analytics.track('B');
    await analytics.flush();
    expect(c.reads).toEqual(['json']);
    expect(delivered).toHaveLength(2);
    expect(log).toHaveBeenCalledWith('[sightline]', 'delivered', 2, { accepted: 1, duplicates: 1 });
  });

  it('a 400 with per-event errors drops only the listed events; the rest count as delivered', async () => {
    const c = answering(400, (batch) => ({
      error: {
        code: 'invalid_events',
        message: '1 of 3 events are invalid; the others were stored.',
        details: [{ index: 1, messageId: batch[1]!.messageId, code: 'invalid_string', message: 'event must be a string' }],
      },
      accepted: 2,
      duplicates: 0,
    }));
    const { analytics, delivered, errors } = setup({ env: { fetch: c.fetch } });
    const dropped: DroppedEvent[] = [];
    analytics.on('dropped', (d) => dropped.push(d));
    analytics.track('A');
    analytics.track('B');
    analytics.track('C');
    await analytics.flush();
    const [a, b, cc] = c.batches[0]!.map((e) => e.messageId);
    expect(dropped).toEqual([
      { reason: 'rejected', count: 1, messageIds: [b], status: 400, error: '1 of 3 events are invalid; the others were stored.' },
    ]);
    expect(delivered).toEqual([a, cc]);
    expect(errors).toMatchObject([{ code: 'delivery', status: 400 }]);
    // Settled: nothing is resent.
    await analytics.flush();
    expect(c.batches).toHaveLength(1);
  });

  it('a 400 whose body cannot be read drops the whole batch', async () => {
    const fetch: FetchLike = async () => ({ status: 400, headers: { get: () => null }, json: () => Promise.reject(new SyntaxError('Unexpected token <')) });
    const { analytics, delivered, dropped } = setup({ env: { fetch } });
    analytics.track('A');
    analytics.track('B');
    await analytics.flush();
    expect(dropped).toEqual([{ reason: 'rejected', count: 2 }]);
    expect(delivered).toEqual([]);
  });
});
