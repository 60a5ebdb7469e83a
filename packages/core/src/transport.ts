/** The parts of a `fetch` Response that delivery reads. */
export interface TransportResponse {
  status: number;
  headers: { get(name: string): string | null };
  /** The parsed body (`{ accepted, duplicates }`, per-event errors on a 400); read so the connection is released. */
  json?(): Promise<unknown>;
}

/** A `fetch`-compatible function. Inject a fake through `env.fetch` to test without a network. */
export type FetchLike = (
  url: string,
  init: { method: 'POST'; headers: Record<string, string>; body: string; keepalive?: boolean },
) => Promise<TransportResponse>;

/** Send `body` (a JSON string) without waiting for an answer; `false` when the browser refused it. */
export type BeaconLike = (url: string, body: string) => boolean;

/**
 * `navigator.sendBeacon` with a `text/plain` Blob: a CORS-safelisted content type, so no preflight
 * (a preflight cannot complete while the page unloads).
 */
export function defaultBeacon(): BeaconLike | undefined {
  if (!globalThis.navigator?.sendBeacon) return;
  return (url, body) => {
    try {
      return navigator.sendBeacon(url, new Blob([body], { type: 'text/plain' }));
    } catch {
      return false;
    }
  };
}
