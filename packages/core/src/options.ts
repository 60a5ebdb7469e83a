import type { RetryOptions } from './backoff';
import type { ConsentOptions } from './consent';
import type { SightlineError } from './errors';
import type { KeyValueStore } from './keyValueStore';
import type { LockManager } from './lockManager';
import type { OnlineManager } from './onlineManager';
import type { PageExitManager } from './pageExitManager';
import type { PrivacyOptions } from './privacy';
import type { QueueStorage } from './storage';
import type { BeaconLike, FetchLike } from './transport';
import type { Plugin } from './types';

/**
 * Replaceable environment: every browser signal and I/O goes through one of these, so tests
 * (and non-browser runtimes) can drive the SDK without a browser. Anything omitted uses the default.
 */
export interface Environment {
  /** @default globalThis.fetch */
  fetch?: FetchLike;
  /** Page-exit sender; `null` disables beacons (then `fetch` with `keepalive` is used). @default navigator.sendBeacon with a text/plain Blob */
  sendBeacon?: BeaconLike | null;
  /** @default navigator.onLine + online/offline events */
  online?: OnlineManager;
  /** @default pagehide + visibilitychange to hidden */
  pageExit?: PageExitManager;
  /** @default navigator.locks where present, else no lock (see `unstable_createLocalLockManager`) */
  locks?: LockManager;
  /** Ids, session and opt-out persistence. @default localStorage, else memory */
  kv?: KeyValueStore;
  /** @default Date.now */
  now?: () => number;
  /** Jitter source in [0, 1). @default Math.random */
  random?: () => number;
}

/** Options of `createAnalytics()`. */
export interface AnalyticsOptions {
  /** Project write key (Basic auth user; in the body of beacons). Required. */
  writeKey: string;
  /** Collector base URL; events go to `${host}/v1/batch`. `''` means the page's own origin. @default '' */
  host?: string;
  /** Events per batch; a full batch is sent at once. @default 20 */
  flushAt?: number;
  /** Longest wait (ms) between an event and its send attempt. @default 1000 */
  flushInterval?: number;
  /** Body size bound of one batch, below the collector's 500 KB limit. @default 450000 */
  maxBatchBytes?: number;
  /** Queue bound in events; the oldest are dropped beyond it (`dropped` event). @default 10000 */
  maxQueueEvents?: number;
  /** Queue bound in bytes of event JSON; the oldest are dropped beyond it. @default 5000000 */
  maxQueueBytes?: number;
  /**
   * `'auto'`: IndexedDB (database `sightline-<writeKey>`, store `events`), memory where it is
   * missing or fails; `'memory'`: never persist; or your own `QueueStorage`.
   * @default 'auto'
   */
  storage?: 'auto' | 'memory' | QueueStorage;
  /** @default { baseDelay: 1000, maxDelay: 30000 } */
  retry?: RetryOptions;
  /** @default { honorGlobalPrivacyControl: false } (no rules) */
  privacy?: PrivacyOptions;
  /** @default { categories: {} } */
  consent?: ConsentOptions;
  /** @default [] */
  plugins?: Plugin[];
  /** Log what happens to the console, prefixed `[sightline]`. @default false */
  debug?: boolean;
  /** Every runtime failure (also emitted as `error`). Never thrown. */
  onError?: (error: SightlineError) => void;
  /** Replace environment managers (tests, other runtimes). */
  env?: Environment;
}
