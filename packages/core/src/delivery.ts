import { backoffDelay, parseRetryAfter } from './backoff';
import { batchBody, ids, takeBatch, type QueueItem } from './batcher';
import type { LockManager } from './lockManager';
import type { OnlineManager } from './onlineManager';
import type { Emitter } from './emitter';
import type { Reporter } from './errors';
import type { AnalyticsOptions } from './options';
import type { Queue } from './queue';
import type { FetchLike } from './transport';
import type { AnalyticsEventMap } from './types';

/** What delivery needs from the client: resolved managers and the reporting functions. */
export interface DeliveryDeps {
  queue: Queue;
  url: string;
  fetch: FetchLike | undefined;
  online: OnlineManager;
  locks: LockManager;
  now: () => number;
  random: () => number;
  emit: Emitter<AnalyticsEventMap>['emit'];
  report: Reporter;
}

export type Delivery = ReturnType<typeof createDelivery>;

const isRetryable = (status: number) => status == 0 || status == 408 || status == 429 || status >= 500;

/**
 * The send loop. One pass holds the cross-tab lock, re-reads the shared queue and sends batches
 * until it is empty, a request fails (then waits with backoff) or the browser goes offline.
 */
export function createDelivery(options: AnalyticsOptions, d: DeliveryDeps) {
  const { queue, now, emit, report } = d;
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
  let stopped = false;

  const schedule = (ms: number) => {
    if (stopped || now() + ms >= due) return;
    clearTimeout(timer);
    due = now() + ms;
    timer = setTimeout(() => ((due = Infinity), void flush(false)), ms);
    // Node/SSR: a pending flush timer must not keep the process alive (call shutdown() to drain).
    (timer as { unref?: () => void }).unref?.();
  };

  // Sends one batch and settles it; returns the HTTP status (0: network error).
  const send = async (batch: QueueItem[]): Promise<number> => {
    let status = 0;
    let retryAfter: number | undefined;
    let cause: unknown;
    try {
      const res = await d.fetch!(d.url, {
        method: 'POST',
        headers: { 'Content-Type': 'application/json', Authorization: auth },
        body: batchBody(batch),
      });
      status = res.status;
      retryAfter = parseRetryAfter(res.headers.get('Retry-After'), now());
    } catch (err) {
      cause = err;
    }
    if (status >= 200 && status < 300) {
      attempt = 0;
      await queue.remove(batch);
      emit('delivered', { count: batch.length, messageIds: ids(batch) });
    } else if (isRetryable(status)) {
      attempt++;
      // The server's Retry-After wins over our backoff (both ways: longer or shorter).
      const wait = retryAfter ?? backoffDelay(attempt, retry.baseDelay ?? 1000, retry.maxDelay ?? 30_000, d.random);
      backoffUntil = now() + wait;
      schedule(wait);
      report('delivery', `Send failed (${status || 'network'}), retry in ${wait} ms`, cause, { status, retryIn: wait });
    } else if (status != 413 || batch.length < 2) {
      // 400 (the collector already kept the valid events), 401, 403, 404...: retrying cannot help.
      await queue.remove(batch);
      report('delivery', 'Batch rejected: HTTP ' + status, undefined, { status });
      emit('dropped', { reason: 'rejected', count: batch.length, messageIds: ids(batch), status });
    }
    return status;
  };

  const pass = async (force: boolean) => {
    if (!d.fetch || !d.online.isOnline()) return;
    if (!force && now() < backoffUntil) return schedule(backoffUntil - now());
    const got = await d.locks.request(lockName, async () => {
      await queue.sync();
      let maxCount = flushAt;
      while (!stopped && d.online.isOnline()) {
        const batch = takeBatch(queue.items, maxCount, maxBatchBytes);
        // Events other tabs store meanwhile go out with the next pass (theirs retry the lock).
        if (!batch.length) return;
        const status = await send(batch);
        if (status == 413 && batch.length > 1) {
          // Payload too large: resend in halves (halving the count halves the bytes too).
          maxCount = Math.ceil(batch.length / 2);
        } else if (isRetryable(status)) return;
      }
    });
    // Another tab holds the lock; if it stops before sending our events, try again later.
    if (!got && queue.items.length) schedule(flushInterval);
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
