// The app the SSR and hydration tests render: every hook and component of the package, and on the
// server a render-phase call on top (the worst a host app does; StrictMode would double it on the client).
import type { AnalyticsOptions } from '@sightline/core';
import type { RealtimeOptions } from '@sightline/realtime';
import { useState } from 'react';
import {
  AnalyticsProvider,
  PageViews,
  RealtimeProvider,
  RealTimeMetrics,
  TrackOnView,
  useAlerts,
  useAnalytics,
  useChannel,
  useConnectionState,
  useIdentify,
  useMetric,
  useTrackOnMount,
} from '../index';

function Page({ run }: { run: string }) {
  const { track } = useAnalytics();
  useState(() => typeof window == 'undefined' && track('Rendered On The Server', { run }));
  useTrackOnMount('Landing Viewed', { run });
  useIdentify('user-ssr', { run });
  const { state } = useConnectionState();
  const { isLoading } = useMetric('page_views');
  const alerts = useAlerts();
  const events = useChannel('events', { select: (c) => c.messages.length });
  return (
    <main>
      <PageViews path="/landing" search="?ref=ssr" properties={{ run }} />
      <p id="live">{`${state} ${isLoading ? 'loading' : 'live'} ${alerts.length} ${events}`}</p>
      <RealTimeMetrics metrics={['page_views', 'conversions']}>{({ isLoading: l }) => <p>{l ? 'metrics loading' : 'metrics'}</p>}</RealTimeMetrics>
      <TrackOnView event="Hero Viewed" properties={{ run }}>
        hero
      </TrackOnView>
    </main>
  );
}

export function SsrApp({ run, analytics, realtime }: { run: string; analytics: AnalyticsOptions; realtime: RealtimeOptions }) {
  return (
    <AnalyticsProvider config={analytics}>
      <RealtimeProvider config={realtime}>
        <Page run={run} />
      </RealtimeProvider>
    </AnalyticsProvider>
  );
}
