import { backoffDelay, parseRetryAfter } from './backoff';
import { batchBody, ids, takeBatch, type QueueItem } from './batcher';
import type { LockManager } from './lockManager';
import type { OnlineManager } from './onlineManager';
import type { Emitter } from './emitter';
import type { Reporter } from './errors';
import type { Logger } from './logger';
import type { AnalyticsOptions } from './options';
import type { Queue } from './queue';
import type { FetchLike } from './transport';
import type { AnalyticsEventMap } from './types';

/** What the collector answers: `{ accepted, duplicates }`, and on a 400 `error.details` per rejected event. */
interface IngestAnswer {
  accepted?: number;
  duplicates?: number;
  error?: { code: string; message: string; details?: Array<{ index: number; messageId: string | null; code: string; message: string }> };
}

export type Delivery = ReturnType<typeof createDelivery>;

/**
 * The send loop. One pass holds the cross-tab lock, re-reads the shared queue and sends batches
 * until it is empty, a request fails (then waits with backoff) or the browser goes offline.
 */
export function createDelivery(
  options: AnalyticsOptions,
  queue: Queue,
  url: string,
  fetch: FetchLike | undefined,
  online: OnlineManager,
  locks: LockManager,
  now: () => number,
  random: () => number,
  emit: Emitter<AnalyticsEventMap>['emit'],
  report: Reporter,
  log: Logger,
) {
  const { writeKey, retry = {} } = options;
  const flushAt = options.flushAt ?? 20;
  const flushInterval = options.flushInterval ?? 1000;
  const maxBatchBytes = options.maxBatchBytes ?? 450_000;
  const auth = 'Basic ' + btoa(writeKey + ':');
  const lockName = 'sightline-flush-' + writeKey;
  let attempt = 0;
  let backoffUntil = 0;
  let timer: ReturnType<typeof setTimeout> | undefined;
  let due = Infinity;
  let running: Promise<void> | undefined;
  let again = false;
  let waiting: Promise<unknown> | undefined;
  let stopped = false;

  const schedule = (ms: number) => {
    if (stopped || now() + ms >= due) return;
    clearTimeout(timer);
    due = now() + ms;
    timer = setTimeout(() => ((due = Infinity), void flush(false)), ms);
    // Node/SSR: a pending flush timer must not keep the process alive (call shutdown() to drain).
    (timer as { unref?: () => void }).unref?.();
  };

  // Holding the lock: re-read the shared queue and send until it is empty, offline or failing.
  const work = async () => {
    await queue.sync();
    let maxCount = flushAt;
    while (!stopped && online.isOnline()) {
      const batch = takeBatch(queue.items, maxCount, maxBatchBytes);
      // Events other tabs store meanwhile go out with their own pass (they queue for the lock).
      if (!batch.length) return;
      // Stays 0 on a network error.
      let status = 0;
      let retryAfter: number | undefined;
      let cause: unknown;
      let answer: IngestAnswer | undefined;
      try {
        const res = await fetch!(url, {
          method: 'POST',
          headers: { 'Content-Type': 'application/json', Authorization: auth },
          body: batchBody(batch),
        });
        status = res.status;
        retryAfter = parseRetryAfter(res.headers.get('Retry-After'), now());
        // Read every answer: an unread body holds its connection, and a 400 lists the rejected events.
        answer = (await res.json?.().catch(() => {})) as IngestAnswer | undefined;
      } catch (err) {
        cause = err;
      }
      if (!status || status == 408 || status == 429 || status >= 500) {
        attempt++;
        // The server's Retry-After wins over our backoff (both ways: longer or shorter).
        const wait = retryAfter ?? backoffDelay(attempt, retry.baseDelay ?? 1000, retry.maxDelay ?? 30_000, random);
        backoffUntil = now() + wait;
        schedule(wait);
        return report('delivery', `Send failed (${status || 'network'}), retry in ${wait} ms`, cause, { status, retryIn: wait });
      }
      // Payload too large: resend in halves (halving the count halves the bytes too).
      if (status == 413 && batch.length > 1) {
        maxCount = Math.ceil(batch.length / 2);
        continue;
      }
      // 2xx, or 400 (the collector kept the valid events), 401, 403, 404...: retrying cannot help.
      attempt = 0;
      await queue.remove(batch);
      const details = answer?.error?.details;
      // Delivered: a 2xx batch, or what a 400's `error.details` does not list (the collector stored
      // those); every other event goes to `lost`.
      const lost: QueueItem[] = [];
      const done = batch.filter((item, i) => status < 300 || (details?.some && !details.some((x) => x.index === i)) || !lost.push(item));
      if (lost[0]) report('delivery', 'Batch rejected: HTTP ' + status, undefined, { status }), emit('dropped', { reason: 'rejected', count: lost.length, messageIds: ids(lost), status, error: answer?.error?.message });
      if (done[0]) log('delivered', done.length, answer), emit('delivered', { count: done.length, messageIds: ids(done) });
    }
  };

  const pass = async (force: boolean) => {
    if (!fetch || !online.isOnline()) return;
    if (!force && now() < backoffUntil) return schedule(backoffUntil - now());
    // Another tab is flushing. Queue for the lock (one waiter per tab): if that tab dies holding it
    // (closed mid-request, its beacon lost), its events are still in storage and we send them.
    if (!(await locks.request(lockName, work))) waiting ??= locks.request(lockName, work, true).then(() => (waiting = undefined));
  };

  const flush = (force: boolean): Promise<void> => {
    // Asked during a pass: run once more after it, so events queued meanwhile are not left waiting.
    if (running) {
      again = true;
      return running;
    }
    return (running = (async () => {
      try {
        await pass(force);
        // A flush asked for during a pass runs again after it, unless that pass just failed (backoff).
        while (again && !stopped && now() >= backoffUntil) {
          again = false;
          await pass(true);
        }
      } finally {
        running = undefined;
        again = false;
      }
    })());
  };

  return {
    /** Attempt delivery now; `force` ignores a pending backoff (manual flush, back online). */
    flush,
    /** An event was queued: flush when a batch is full, else within `flushInterval`. */
    queued(): void {
      if (queue.items.length >= flushAt || queue.bytes >= maxBatchBytes) void flush(false);
      else schedule(flushInterval);
    },
    stop(): void {
      stopped = true;
      clearTimeout(timer);
    },
  };
}
