import { describe, expectTypeOf, it } from 'vitest';
import { createAnalytics, type Analytics, type FetchLike, type Properties, type SightlineError } from '../index';

interface MyEvents {
  'Signed Up': { plan: 'free' | 'pro' };
  'Logged Out': {};
  'Viewed Item': { id: string; price?: number };
}

describe('typed event maps', () => {
  const analytics = createAnalytics<MyEvents>({ writeKey: 'wk' });

  it('checks names and properties of declared events', () => {
    analytics.track('Signed Up', { plan: 'pro' });
    analytics.track('Viewed Item', { id: 'a' }, { category: 'analytics' });
    // Events with no required property may omit properties.
    analytics.track('Logged Out');
    // @ts-expect-error: 'x' is not a plan
    analytics.track('Signed Up', { plan: 'x' });
    // @ts-expect-error: properties are required when the event declares required ones
    analytics.track('Signed Up');
    // @ts-expect-error: missing `id`
    analytics.track('Viewed Item', { price: 1 });
    // @ts-expect-error: with an event map, unknown names are typos
    analytics.track('Signed Upp', { plan: 'pro' });
  });

  it('allows unknown names when the map is widened with Record<string, Properties>', () => {
    const loose = createAnalytics<MyEvents & Record<string, Properties>>({ writeKey: 'wk' });
    loose.track('Anything', { whatever: 1 });
    loose.track('Signed Up', { plan: 'free' });
    // @ts-expect-error: known events stay checked
    loose.track('Signed Up', { plan: 'x' });
  });

  it('without a map any name and loose properties are accepted', () => {
    const untyped = createAnalytics({ writeKey: 'wk' });
    expectTypeOf(untyped).toEqualTypeOf<Analytics<Record<string, Properties>>>();
    untyped.track('Anything');
    untyped.track('Anything', { a: 1, nested: { b: [1, 2] } });
  });

  it('types listeners and getters', () => {
    analytics.on('delivered', (d) => expectTypeOf(d.messageIds).toEqualTypeOf<string[]>());
    analytics.on('dropped', (d) => expectTypeOf(d.reason).toEqualTypeOf<'overflow' | 'rejected' | 'corrupt'>());
    analytics.on('dropped', (d) => expectTypeOf(d.error).toEqualTypeOf<string | undefined>());
    analytics.on('error', (e) => expectTypeOf(e).toEqualTypeOf<SightlineError>());
    // @ts-expect-error: unknown emitter event
    analytics.on('sent', () => {});
    expectTypeOf(analytics.on('error', () => {})).toEqualTypeOf<() => void>();
    expectTypeOf(analytics.anonymousId).toBeString();
    expectTypeOf(analytics.userId).toEqualTypeOf<string | undefined>();
    expectTypeOf(analytics.track('Logged Out')).toBeVoid();
    expectTypeOf(analytics.flush()).toEqualTypeOf<Promise<void>>();
  });

  it('types the reserved helpers', () => {
    analytics.recordMetric('latency', 12, { type: 'histogram', category: 'performance', labels: { route: '/' } });
    // @ts-expect-error: not a metric type
    analytics.recordMetric('latency', 12, { type: 'meter' });
    // @ts-expect-error: required AI Generation fields missing
    analytics.trackAIGeneration({ model: 'm' });
    analytics.trackAIFeedback({ traceId: 't', score: 1 });
  });

  it('accepts a fetch-like env with or without a readable body', () => {
    const bare: FetchLike = async () => ({ status: 200, headers: { get: () => null } });
    const withBody: FetchLike = async () => ({ status: 200, headers: { get: () => null }, json: async () => ({ accepted: 1, duplicates: 0 }) });
    createAnalytics({ writeKey: 'wk', env: { fetch: bare } });
    createAnalytics({ writeKey: 'wk', env: { fetch: withBody } });
    // The global fetch is a FetchLike.
    expectTypeOf(fetch).toMatchTypeOf<FetchLike>();
  });
});
