import { Analytics } from '@segment/analytics-node';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { Collector } from '../index';
import { BACKENDS, recent, startTestCollector, useBackend } from './helpers';

describe.each(BACKENDS)("Segment's analytics-node delivers to the collector on %s", (name) => {
  const backend = useBackend(name);
  const project = { id: 'segment', writeKey: 'wk-segment', readToken: 'rt-segment' };
  let collector: Collector;

  beforeAll(async () => {
    collector = await startTestCollector(backend, { projects: [project] });
  });
  afterAll(async () => {
    await collector?.close();
  });

  it('stores track, identify, page and group calls', async () => {
    const errors: unknown[] = [];
    const analytics = new Analytics({ writeKey: project.writeKey, host: collector.url, flushAt: 3, flushInterval: 50, maxRetries: 0 });
    analytics.on('error', (error) => errors.push(error));
    analytics.identify({ userId: 'u-1', traits: { email: 'ada@example.com', plan: 'pro' } });
    analytics.track({ userId: 'u-1', event: 'Order Completed', properties: { revenue: 42.5, currency: 'EUR' } });
    analytics.page({ anonymousId: 'anon-9', name: 'Pricing', properties: { path: '/pricing' } });
    analytics.group({ userId: 'u-1', groupId: 'acme', traits: { seats: 12 } });
    analytics.track({ anonymousId: 'anon-9', event: 'AI Generation', properties: { model: 'gpt-x', inputTokens: 12, outputTokens: 40, latencyMs: 830, success: true } });
    await analytics.closeAndFlush({ timeout: 10_000 });
    expect(errors).toEqual([]);

    const events = (await recent(collector.url, project.readToken)).body.events as Array<Record<string, any>>;
    expect(events).toHaveLength(5);
    const byType = (type: string, event?: string) => events.find((e) => e['type'] === type && (event === undefined || e['event'] === event));
    expect(byType('identify')).toMatchObject({ userId: 'u-1', traits: { email: 'ada@example.com', plan: 'pro' } });
    expect(byType('track', 'Order Completed')).toMatchObject({ userId: 'u-1', properties: { revenue: 42.5, currency: 'EUR' } });
    expect(byType('page')).toMatchObject({ anonymousId: 'anon-9', name: 'Pricing' });
    expect(byType('group')).toMatchObject({ groupId: 'acme', traits: { seats: 12 } });
    expect(byType('track', 'AI Generation')?.['properties']).toMatchObject({ model: 'gpt-x', outputTokens: 40 });
    // The library's own context and its messageIds survive the trip.
    expect(byType('track', 'Order Completed')?.['context']).toMatchObject({ library: { name: '@segment/analytics-node' } });
    for (const event of events) expect(event['messageId']).toEqual(expect.any(String));
  });
});
