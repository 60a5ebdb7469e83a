import type { Analytics } from '@sightline/core';
import { describe, expectTypeOf, it } from 'vitest';
import { useAnalytics, useChannel, useMetric, useTrackOnMount, type AnalyticsProviderProps, type ChannelSnapshot, type MetricUpdate } from '../index';

interface AppEvents {
  'Signed Up': { plan: 'free' | 'pro' };
  'Viewed Pricing': { plans?: number };
}

describe('useAnalytics', () => {
  it('types track() by the app event map', () => {
    const { track, page, identify, flush } = useAnalytics<AppEvents>();
    track('Signed Up', { plan: 'pro' });
    track('Viewed Pricing');
    // @ts-expect-error unknown event
    track('Signed Upp', { plan: 'pro' });
    // @ts-expect-error wrong property type
    track('Signed Up', { plan: 'gold' });
    // @ts-expect-error required properties missing
    track('Signed Up');
    page('Home', { section: 'hero' });
    identify('u1', { plan: 'pro' });
    expectTypeOf(flush()).toEqualTypeOf<Promise<void>>();
  });

  it('binds once: useAppAnalytics = useAnalytics<AppEvents>', () => {
    const useAppAnalytics = useAnalytics<AppEvents>;
    // @ts-expect-error unknown event
    useAppAnalytics().track('Nope');
  });

  it('useTrackOnMount with an event map', () => {
    useTrackOnMount<AppEvents, 'Signed Up'>('Signed Up', { plan: 'free' });
    // @ts-expect-error wrong property type
    useTrackOnMount<AppEvents, 'Signed Up'>('Signed Up', { plan: 1 });
    useTrackOnMount('Anything', { free: 'form' });
  });
});

describe('providers', () => {
  it('accept a client typed by any event map', () => {
    const client = {} as Analytics<AppEvents>;
    expectTypeOf({ client }).toExtend<AnalyticsProviderProps>();
  });
});

describe('realtime hooks', () => {
  it('useChannel returns the snapshot, or what select picks', () => {
    expectTypeOf(useChannel<{ id: string }>('alerts')).toEqualTypeOf<ChannelSnapshot<{ id: string }>>();
    expectTypeOf(useChannel<{ id: string }, number>('alerts', { select: (c) => c.messages.length })).toEqualTypeOf<number>();
  });

  it('useMetric gives the bucket totals', () => {
    expectTypeOf(useMetric('page_views').data).toEqualTypeOf<MetricUpdate | undefined>();
  });
});
