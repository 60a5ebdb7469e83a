import { createRealtimeClient, type RealtimeClient, type RealtimeOptions } from '@sightline/realtime';
import { useState, type ReactNode } from 'react';
import { RealtimeContext } from './context';
import { createRealtimeStore } from './realtimeStore';
import { useClient } from './useClient';

export interface RealtimeProviderProps {
  /** A client you created with `createRealtimeClient()`; the provider never closes it. @default undefined */
  client?: RealtimeClient | null | undefined;
  /**
   * Options of a client the provider creates after mount (once, StrictMode included) and closes on
   * unmount. Read once; ignored while `client` is set.
   * @default undefined
   */
  config?: RealtimeOptions | undefined;
  /** Messages kept per channel for `useChannel`. Read once. @default 100 */
  historySize?: number | undefined;
  children?: ReactNode;
}

const close = (client: RealtimeClient) => client.close();

/**
 * Live data for `useChannel`, `useMetric`, `useAlerts` and `useConnectionState` below it, in a
 * zustand store of its own: a message re-renders only the components that read what it changed,
 * and bursts are applied once per animation frame. Nothing connects during a server render.
 *
 * @example
 * <RealtimeProvider config={{ url: 'https://collect.example.com', getToken: () => readToken }}>
 *   <Dashboard />
 * </RealtimeProvider>
 */
export function RealtimeProvider({ client, config, historySize, children }: RealtimeProviderProps) {
  const [rt] = useState(() => createRealtimeStore(historySize));
  useClient(client, config, createRealtimeClient, close, rt.attach);
  return <RealtimeContext.Provider value={rt}>{children}</RealtimeContext.Provider>;
}
