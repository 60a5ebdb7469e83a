import { createAnalytics, type Analytics, type AnalyticsOptions } from '@sightline/core';
import { useState, type ReactNode } from 'react';
import { createBufferedAnalytics } from './bufferedAnalytics';
import { AnalyticsContext } from './context';
import { useClient } from './useClient';

export interface AnalyticsProviderProps {
  /**
   * A client you created with `createAnalytics()`; the provider never shuts it down. While it is
   * `undefined` (the SDK loads lazily, the user has not consented yet) calls are buffered.
   * @default undefined
   */
  // eslint-disable-next-line @typescript-eslint/no-explicit-any -- any event map
  client?: Analytics<any> | null | undefined;
  /**
   * Options of a client the provider creates after mount (once, StrictMode included) and shuts down
   * on unmount. Read once; ignored while `client` is set.
   * @default undefined
   */
  config?: AnalyticsOptions | undefined;
  children?: ReactNode;
}

const shutdown = (client: Analytics) => void client.shutdown();

/**
 * Gives `useAnalytics()` and the tracking hooks below it their client. Calls made before the client
 * exists (first render, children's effects, lazy loading) are buffered and delivered in order;
 * nothing is created or tracked during a server render.
 *
 * @example
 * <AnalyticsProvider config={{ writeKey: 'wk', host: 'https://collect.example.com' }}>
 *   <App />
 * </AnalyticsProvider>
 */
export function AnalyticsProvider({ client, config, children }: AnalyticsProviderProps) {
  const [buffer] = useState(createBufferedAnalytics);
  useClient(client, config, createAnalytics, shutdown, buffer.attach);
  return <AnalyticsContext.Provider value={buffer.actions}>{children}</AnalyticsContext.Provider>;
}
