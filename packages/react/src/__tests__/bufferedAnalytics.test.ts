import { describe, expect, it, vi } from 'vitest';
import { createBufferedAnalytics, MAX_BUFFERED_CALLS } from '../bufferedAnalytics';
import { recordingClient } from './helpers';

describe('createBufferedAnalytics', () => {
  it('keeps calls made before a client, replays them in order on attach with the time they were made, then passes calls through', () => {
    const clock = vi.spyOn(Date, 'now').mockReturnValue(1_000);
    const buffer = createBufferedAnalytics();
    const { track, page, identify, setConsent, trackAIFeedback } = buffer.actions;
    track('Early', { n: 1 });
    clock.mockReturnValue(2_000);
    const options = { category: 'analytics' };
    identify('u1', { plan: 'pro' }, options);
    page(undefined, { path: '/a' });
    // A time of the caller's own is kept; an undefined one is not a time.
    track('Dated', undefined, { timestamp: 500 });
    track('Undated', undefined, { timestamp: undefined });
    trackAIFeedback({ traceId: 't', score: 1 });
    setConsent({ analytics: true });
    clock.mockReturnValue(60_000);
    const { client, calls } = recordingClient();
    buffer.attach(client);
    expect(calls).toEqual([
      ['track', 'Early', { n: 1 }, { timestamp: 1_000 }],
      ['identify', 'u1', { plan: 'pro' }, { timestamp: 2_000 }],
      ['page', undefined, { path: '/a' }, { timestamp: 2_000 }],
      ['track', 'Dated', undefined, { timestamp: 500 }],
      ['track', 'Undated', undefined, { timestamp: 2_000 }],
      ['trackAIFeedback', { traceId: 't', score: 1 }, { timestamp: 2_000 }],
      ['setConsent', { analytics: true }],
    ]);
    // The caller's options are read through, not copied or changed: an inherited or getter
    // `category` (consent) still reaches the client.
    expect((calls[1]![3] as { category?: string }).category).toBe('analytics');
    expect(options).toEqual({ category: 'analytics' });
    clock.mockRestore();
    track('Late');
    expect(calls.at(-1)).toEqual(['track', 'Late']);
  });

  it('stamps each event call at the position of its options, and no other call', () => {
    const buffer = createBufferedAnalytics();
    const a = buffer.actions;
    a.track('T');
    a.page('P');
    a.screen('S');
    a.identify('u');
    a.group('g');
    a.alias('u2');
    a.trackAIGeneration({ model: 'm' } as never);
    a.trackAIFeedback({ traceId: 't', score: 1 });
    a.recordMetric('latency', 1, { type: 'gauge' });
    a.reset();
    const { client, calls } = recordingClient();
    buffer.attach(client);
    // As in @sightline/core's types: options third for the first six, second for the AI helpers.
    const stampedAt = calls.map((call) => call.findIndex((arg) => typeof (arg as { timestamp?: unknown })?.timestamp === 'number'));
    expect(calls.map((call) => call[0])).toEqual(['track', 'page', 'screen', 'identify', 'group', 'alias', 'trackAIGeneration', 'trackAIFeedback', 'recordMetric', 'reset']);
    expect(stampedAt).toEqual([3, 3, 3, 3, 3, 3, 2, 2, -1, -1]);
  });

  it('has stable functions: the same before and after attach', () => {
    const buffer = createBufferedAnalytics();
    const before = { ...buffer.actions };
    buffer.attach(recordingClient().client);
    expect(buffer.actions.track).toBe(before.track);
    expect(Object.keys(buffer.actions).sort()).toEqual(
      ['alias', 'flush', 'group', 'identify', 'optIn', 'optOut', 'page', 'recordMetric', 'reset', 'screen', 'setConsent', 'track', 'trackAIFeedback', 'trackAIGeneration'],
    );
  });

  it("resolves a flush() made before the client once the client's flush has run", async () => {
    const buffer = createBufferedAnalytics();
    let flushed = false;
    const done = buffer.actions.flush().then(() => flushed);
    buffer.actions.track('After flush');
    const { client, calls } = recordingClient();
    buffer.attach(client);
    expect(await done).toBe(false);
    expect(calls.map((c) => c[0])).toEqual(['flush', 'track']);
    flushed = true;
  });

  it(`bounds the buffer at ${MAX_BUFFERED_CALLS} calls, dropping the oldest`, () => {
    const buffer = createBufferedAnalytics(3);
    for (let i = 0; i < 5; i++) buffer.actions.track('E', { i });
    const { client, calls } = recordingClient();
    buffer.attach(client);
    expect(calls.map((c) => (c[2] as { i: number }).i)).toEqual([2, 3, 4]);
  });

  it('after detach buffers again; limit 0 (outside a provider) drops every call', async () => {
    const buffer = createBufferedAnalytics();
    const first = recordingClient();
    const detach = buffer.attach(first.client);
    detach();
    buffer.actions.track('Between');
    expect(first.calls).toEqual([]);
    const second = recordingClient();
    buffer.attach(second.client);
    expect(second.calls).toEqual([['track', 'Between', undefined, { timestamp: expect.any(Number) }]]);

    const dropping = createBufferedAnalytics(0);
    dropping.actions.track('Nowhere');
    await expect(dropping.actions.flush()).resolves.toBeUndefined();
    const third = recordingClient();
    dropping.attach(third.client);
    expect(third.calls).toEqual([]);
  });
});
