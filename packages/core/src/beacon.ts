import { batchBody, takeBatch } from './batcher';
import { byteLength } from './json';
import type { Queue } from './queue';
import { defaultBeacon, type BeaconLike, type FetchLike } from './transport';

/**
 * Chrome refuses `sendBeacon`/`keepalive` bodies once 64 KB are in flight for the page
 * (Fetch spec "keepalive" quota); spend at most that over the page's life.
 */
export const BEACON_BUDGET = 64 * 1024;

/**
 * Page-exit delivery: send what fits in the remaining budget through `sendBeacon`, else
 * `fetch(keepalive)`, both `text/plain` with `writeKey` in the body (no headers, no preflight).
 * Beaconed events stay queued until a 2xx confirms them (a beacon has no answer): a lost beacon is
 * resent on the next load and the collector dedupes by `messageId`. They are marked so the same
 * page never beacons them twice.
 */
export function createBeacon(
  queue: Queue,
  url: string,
  writeKey: string,
  fetch: FetchLike | undefined,
  // `null`: no beacons (`env.sendBeacon: null`).
  beacon: BeaconLike | null | undefined = defaultBeacon(),
) {
  const sent = new Set<string>();
  let used = 0;
  return (): void => {
    const batch = takeBatch(queue.items, Infinity, BEACON_BUDGET - used, (i) => sent.has(i.id));
    const body = batchBody(batch, writeKey);
    const bytes = byteLength(body);
    // takeBatch always takes one event: it may alone exceed what is left.
    if (!batch.length || used + bytes > BEACON_BUDGET) return;
    if (!beacon?.(url, body)) {
      if (!fetch) return;
      fetch(url, { method: 'POST', headers: { 'Content-Type': 'text/plain' }, body, keepalive: true }).catch(() => {});
    }
    used += bytes;
    batch.forEach((i) => sent.add(i.id));
  };
}
