import { listen } from './listen';

/** Whether the network is believed reachable. Replace it through `env.online` (core) or `onlineManager` (realtime). */
export interface OnlineManager {
  isOnline(): boolean;
  /** Called with the new state; returns the unsubscribe function. */
  subscribe(listener: (online: boolean) => void): () => void;
}

/**
 * `navigator.onLine` plus the window `online`/`offline` events. `onLine === true` only means
 * "a network interface is up", so a failed request is still a plain retry; `false` is reliable.
 */
export function createOnlineManager(): OnlineManager {
  return {
    isOnline: () => globalThis.navigator?.onLine !== false,
    subscribe: (listener) => listen(globalThis, { online: () => listener(true), offline: () => listener(false) }),
  };
}
