import type { FetchLike, RealtimeOptions, WebSocketClass } from './types';

export type ResolvedOptions = RealtimeOptions & { WebSocket: WebSocketClass; fetch: FetchLike };

/**
 * The WebSocket class and fetch to use; throws only for what the app must fix (style rule 7).
 * Timing defaults are applied where each option is read (documented with `@default` in `types.ts`).
 */
export function resolveOptions(options: RealtimeOptions): ResolvedOptions {
  const WebSocket = options.WebSocket ?? (globalThis as { WebSocket?: WebSocketClass }).WebSocket;
  if (!WebSocket) {
    throw new TypeError("[sightline] No WebSocket: pass `WebSocket` from 'ws' (Node 20 has none).");
  }
  if (typeof options.getToken != 'function') {
    throw new TypeError('[sightline] `getToken` must be a function returning the read token.');
  }
  // `fetch` unbound throws "Illegal invocation" in browsers.
  const fetch: FetchLike = options.fetch ?? ((url, init) => globalThis.fetch(url, init));
  return { ...options, WebSocket, fetch };
}
