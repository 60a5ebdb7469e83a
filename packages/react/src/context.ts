import { createContext } from 'react';
import { createBufferedAnalytics, type AnalyticsActions } from './bufferedAnalytics';
import type { RealtimeStore } from './realtimeStore';

/** Outside any `AnalyticsProvider`: calls are dropped (development builds say so). */
export const DETACHED: AnalyticsActions = /* @__PURE__ */ createBufferedAnalytics(0).actions;

export const AnalyticsContext = /* @__PURE__ */ createContext<AnalyticsActions>(DETACHED);

export const RealtimeContext = /* @__PURE__ */ createContext<RealtimeStore | null>(null);
