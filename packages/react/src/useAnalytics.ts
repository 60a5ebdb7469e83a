import type { Properties } from '@sightline/core';
import { useContext } from 'react';
import type { AnalyticsActions } from './bufferedAnalytics';
import { AnalyticsContext, DETACHED } from './context';

/**
 * The nearest `AnalyticsProvider`'s calls: `track`, `page`, `identify`, `group`, `alias`, `reset`,
 * `flush`, `optOut`/`optIn`/`setConsent`... Each function is stable (safe in effect dependencies)
 * and never throws. Pass your event map to type event names and properties; bind it once with
 * `export const useAppAnalytics = useAnalytics<AppEvents>;`.
 */
export function useAnalytics<E extends object = Record<string, Properties>>(): AnalyticsActions<E> {
  const actions = useContext(AnalyticsContext);
  if (typeof process != 'undefined' && process.env.NODE_ENV !== 'production' && actions === DETACHED)
    console.warn('[sightline] useAnalytics() outside <AnalyticsProvider>: calls are dropped.');
  return actions as AnalyticsActions<E>;
}
